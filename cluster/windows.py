"""Throttle windows in Redis, so a limit holds across every process of the cluster (edge.throttles.Windows).

While Redis does not answer, each process counts in its own memory (the limits then hold per process,
as without a cluster) rather than refusing every login or letting every guess through.
"""

import itertools
import secrets

from cluster.link import ClusterUnavailable, RedisLink
from edge.throttles import LocalWindows


class RedisWindows:
    def __init__(self, link: RedisLink):
        self.link = link
        self.fallback = LocalWindows()
        self._prefix = secrets.token_hex(6)
        self._events = itertools.count()

    async def hit(self, key: str, limit: int, period: float) -> float:
        try:
            return await self.link.hit_window(key, limit, period, f"{self._prefix}:{next(self._events)}")
        except ClusterUnavailable:
            return await self.fallback.hit(key, limit, period)

    async def count(self, key: str, period: float) -> int:
        try:
            return await self.link.count_window(key, period)
        except ClusterUnavailable:
            return await self.fallback.count(key, period)

    async def reset(self, key: str) -> None:
        try:
            await self.link.reset_window(key)
        except ClusterUnavailable:
            pass
        await self.fallback.reset(key)

    def sweep(self, most: int = 64) -> None:
        self.fallback.sweep(most)
