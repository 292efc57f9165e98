"""Connecting to MongoDB with the chosen driver, or to the embedded store when no URL is given.

The client is the only thing that differs between backends: motor's `AsyncIOMotorClient` (the
default; MongoDB ends its critical fixes on 2027-05-14) or PyMongo's own `AsyncMongoClient`, both
with every operation bounded by ARENA_MONGO_TIMEOUT.
"""

import os
import re
from typing import Any, Optional

from pymongo.errors import PyMongoError

from settings import Settings
from store.database import Store, StoreUnavailable
from store.durable import DataDirInUse
from store.embedded import EmbeddedClient


def mask_url(url: str) -> str:
    """`mongodb://user:secret@host` → `mongodb://user:***@host`, for logs."""
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", url)


def mongo_client(url: str, driver: str, timeout: float) -> Any:
    """A client whose every operation, connection and server selection gives up after `timeout` seconds."""
    milliseconds = max(1, int(timeout * 1000))
    options = {"tz_aware": True, "timeoutMS": milliseconds, "serverSelectionTimeoutMS": milliseconds,
               "connectTimeoutMS": milliseconds, "socketTimeoutMS": milliseconds}
    if driver == "pymongo":
        from pymongo import AsyncMongoClient

        return AsyncMongoClient(url, **options)
    from motor.motor_asyncio import AsyncIOMotorClient

    return AsyncIOMotorClient(url, **options)


async def connect_store(settings: Settings, db_name: Optional[str] = None) -> Store:
    """Connect to MongoDB at MONGO_URL, or to the embedded in-memory store when it is empty.

    A given URL that does not answer raises StoreUnavailable: never a silent fallback to memory.
    """
    url, timeout = settings.MONGO_URL, settings.MONGO_TIMEOUT
    if url:
        store = Store(mongo_client(url, settings.MONGO_DRIVER, timeout), db_name or settings.DB, "mongodb",
                      settings.MONGO_DRIVER, timeout)
    else:
        try:
            client = EmbeddedClient(settings.DATA_DIR or None)
            store = Store(client, db_name or settings.DB, "embedded", "embedded", timeout)
        except (DataDirInUse, OSError) as exc:
            raise StoreUnavailable(f"ARENA_DATA_DIR: cannot use {os.path.abspath(settings.DATA_DIR)}: {exc}") from None
    try:
        await store.ping()
        await store.create_indexes()
    except (StoreUnavailable, PyMongoError) as exc:
        await store.close()
        raise StoreUnavailable(f"cannot use MongoDB at {mask_url(url)}: {exc}") from exc
    return store


def describe_store(store: Store, settings: Settings) -> str:
    """The store as the start-up line names it (with where its data lives)."""
    if store.kind == "mongodb":
        return f"{mask_url(settings.MONGO_URL)} (driver {store.driver})"
    if settings.DATA_DIR:
        return f"embedded, kept in {os.path.abspath(settings.DATA_DIR)}"
    return "embedded (in-memory, data is lost on exit)"
