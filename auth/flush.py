"""Delete expired token records: `python -m auth.flush` (SimpleJWT's `flushexpiredtokens`).

MongoDB's TTL indexes do this by themselves; the embedded store does not run TTL, so the server
calls `flush_expired_tokens` periodically there, and this command serves any store by hand.
"""

import asyncio
import sys

from store.connection import connect_store
from store.database import Store
from store.documents import utcnow
from settings import SettingsError, load_settings


FLUSH_SLICE = 200  # records of each kind per step; the IOLoop runs other work between steps


async def flush_expired_tokens(store: Store) -> int:
    """Remove outstanding, blacklisted and family records whose token has expired; return how many.

    Slice by slice, so a million expired records never stall the game loop.
    """
    now, total = utcnow(), 0
    while deleted := await store.delete_expired_tokens(now, FLUSH_SLICE):
        total += deleted
        await asyncio.sleep(0)
    return total


async def _main() -> int:
    settings = load_settings()
    store = await connect_store(settings)
    try:
        deleted = await flush_expired_tokens(store)
    finally:
        await store.close()
    print(f"deleted {deleted} expired token records")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(_main()))
    except SettingsError as exc:
        sys.exit(f"error: {exc}")
