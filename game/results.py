"""Game results reach MongoDB exactly once: kept in memory and retried until written."""

import asyncio
import logging
from typing import Awaitable, Callable, Optional

from store.documents import GameResult

log = logging.getLogger("arena.results")


class ResultRecorder:
    """Writes results with an idempotent `write`; a failed write stays pending and is retried."""

    def __init__(self, write: Callable[[GameResult], Awaitable[None]], retry_interval: float):
        self.write = write
        self.retry_interval = retry_interval
        self.pending: list[GameResult] = []
        self._task: Optional[asyncio.Task] = None

    def submit(self, result: GameResult) -> None:
        self.pending.append(result)
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._write_until_done())

    async def flush(self) -> bool:
        """Try each pending result once; True when none is left."""
        for result in list(self.pending):
            try:
                await self.write(result)
            except Exception:
                log.warning("could not write result of game %s; will retry", result.id, exc_info=True)
            else:
                self.pending.remove(result)
        return not self.pending

    async def _write_until_done(self) -> None:
        while not await self.flush():
            await asyncio.sleep(self.retry_interval)

    async def drained(self) -> None:
        """Wait until every submitted result is written (or the retrying stops)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def close(self) -> None:
        """At shutdown: one last attempt for what is pending, then stop retrying."""
        if self._task is not None:
            self._task.cancel()
        await self.flush()
        if self.pending:
            log.error("%d game results could not be written before shutdown", len(self.pending))
