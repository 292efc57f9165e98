"""Game results reach MongoDB exactly once: retried until written, kept on disk while they wait."""

import asyncio
import logging
from dataclasses import replace
from typing import Awaitable, Callable, Optional

from game import rating
from store.documents import GameResult, Rating, UserId
from store.journal import ResultJournal

log = logging.getLogger("arena.results")


def rating_first(write: Callable[[GameResult], Awaitable[None]],
                 ratings: Callable[[list[UserId]], Awaitable[dict[UserId, Rating]]]) -> Callable[[GameResult], Awaitable[None]]:
    """`write`, with a rated game's rating changes computed first from its humans' ratings as they stand
    (the first write of a game is the one applied, so a retry's own computation is simply unused)."""
    async def write_rated(result: GameResult) -> None:
        if result.rated and result.ranks and not result.rating_changes:
            standing = await ratings(list(result.ranks))
            result = replace(result, rating_changes=rating.changes(
                {user_id: (standing[user_id], rank) for user_id, rank in result.ranks.items()}))
        await write(result)
    return write_rated


class ResultRecorder:
    """Writes results with an idempotent `write`; a failed write is journaled and retried.

    Results journaled by an earlier run (one that stopped while MongoDB was away) are submitted again
    at `start`.
    """

    def __init__(self, write: Callable[[GameResult], Awaitable[None]], retry_interval: float,
                 journal: ResultJournal, deadline: float):
        self.write = write
        self.retry_interval = retry_interval
        self.journal = journal
        self.deadline = deadline  # how long the last attempt at shutdown may take
        self.pending: list[GameResult] = []
        self.written_listeners: list[Callable[[str], None]] = []  # called with each game id once written
        self._journaled: set[str] = set()
        self._task: Optional[asyncio.Task] = None
        self._flushing = asyncio.Lock()  # one pass at a time: a cancelled write may still finish

    def start(self) -> None:
        for result in self.journal.load():
            log.info("retrying game result %s kept from an earlier run", result.id, extra={"room": result.id})
            self._journaled.add(result.id)
            self.submit(result)

    def submit(self, result: GameResult) -> None:
        self.pending.append(result)
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._write_until_done())

    async def flush(self) -> bool:
        """Try each pending result once; True when none is left."""
        async with self._flushing:
            for result in list(self.pending):
                try:
                    await self.write(result)
                except Exception:
                    log.warning("could not write result of game %s; will retry", result.id, exc_info=True,
                                extra={"room": result.id})
                    self._keep(result)
                else:
                    self._written(result)
        return not self.pending

    def _written(self, result: GameResult) -> None:
        self.pending.remove(result)
        if result.id in self._journaled:
            self._journaled.discard(result.id)
            self.journal.discard(result.id)
        for listener in self.written_listeners:
            listener(result.id)

    def _keep(self, result: GameResult) -> None:
        if result.id not in self._journaled:
            self.journal.save(result)
            self._journaled.add(result.id)

    async def _write_until_done(self) -> None:
        while not await self.flush():
            await asyncio.sleep(self.retry_interval)

    async def drained(self) -> None:
        """Wait until every submitted result is written (or the retrying stops)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def close(self) -> None:
        """At shutdown: one last attempt, bounded; what is still pending stays journaled for the next start."""
        if self._task is not None:
            self._task.cancel()
        try:
            async with asyncio.timeout(self.deadline):
                await self.flush()
        except TimeoutError:
            pass
        for result in self.pending:
            self._keep(result)
            log.error("game result %s not written (score changes %s); kept in %s for the next start",
                      result.id, dict(result.score_changes), self.journal.directory, extra={"room": result.id})
