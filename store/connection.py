"""Connecting to MongoDB, or to the embedded store when no URL is given; the client is the only choice."""

import re

from pymongo.errors import PyMongoError

from store.database import Store, StoreUnavailable
from store.embedded import EmbeddedClient


def mask_url(url: str) -> str:
    """`mongodb://user:secret@host` → `mongodb://user:***@host`, for logs."""
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", url)


async def connect_store(mongo_url: str, db_name: str, timeout: float) -> Store:
    """Connect to MongoDB at `mongo_url`, or to the embedded in-memory store when it is empty.

    A given URL that does not answer raises StoreUnavailable: never a silent fallback to memory.
    """
    if mongo_url:
        from motor.motor_asyncio import AsyncIOMotorClient

        client = AsyncIOMotorClient(mongo_url, tz_aware=True,
                                    serverSelectionTimeoutMS=int(timeout * 1000))
        store = Store(client, db_name, "mongodb", timeout)
    else:
        store = Store(EmbeddedClient(), db_name, "embedded", timeout)
    try:
        await store.ping()
        await store.create_indexes()
    except (StoreUnavailable, PyMongoError) as exc:
        store.close()
        raise StoreUnavailable(f"cannot use MongoDB at {mask_url(mongo_url)}: {exc}") from exc
    return store


def describe_store(store_kind: str, mongo_url: str) -> str:
    if store_kind == "mongodb":
        return mask_url(mongo_url)
    return "embedded (in-memory, data is lost on exit)"

