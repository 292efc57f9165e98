"""Request throttling as DRF's throttles do it: N requests per period per key, then 429 with Retry-After.

A throttle counts events in sliding windows, by key. One process keeps its windows in memory
(`LocalWindows`, bounded in bytes, expired keys swept without waiting to be touched); cluster mode keeps
them in Redis (cluster.windows), so a limit holds across every process. Keys are short and bounded:
usernames are hashed before they become keys, and IPv6 addresses count by their /64 network (one
host's whole allocation), so no client can make a key large or make itself many clients.
"""

import functools
import hashlib
import ipaddress
import math
import time
from collections import OrderedDict, deque
from typing import Callable, Optional, Protocol

from settings import parse_rate

MAX_BYTES = 16 * 1024 * 1024  # the in-memory windows' size at most; the least recently used go first
KEY_OVERHEAD = 200  # bytes a window costs besides its key and its timestamps (dict entry, deque)


class Throttled(Exception):
    """A key has used up its requests; the API answers 429 (edge.answers)."""

    def __init__(self, wait: float):
        super().__init__(wait)
        self.seconds = max(1, math.ceil(wait))

    @property
    def body(self) -> dict:
        """DRF's words."""
        unit = "second" if self.seconds == 1 else "seconds"
        return {"detail": f"Request was throttled. Expected available in {self.seconds} {unit}."}


@functools.lru_cache(maxsize=4096)
def address_key(address: str) -> str:
    """A client address as a throttle key: IPv4 as it is (an IPv4-mapped IPv6 one too), IPv6 by its /64."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return f"address:{address[:64]}"
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return f"address:{parsed.ipv4_mapped}"
        return f"address:{ipaddress.ip_network(f'{parsed}/64', strict=False).network_address}/64"
    return f"address:{parsed}"


def account_key(kind: str, name: str) -> str:
    """An account (a normalised username, a user id) as a throttle key of bounded size."""
    return f"{kind}:{hashlib.blake2b(name.encode('utf-8', 'surrogatepass'), digest_size=16).hexdigest()}"


class Windows(Protocol):
    """Sliding windows of counted events by key (`LocalWindows`, or Redis in cluster mode)."""

    async def hit(self, key: str, limit: int, period: float) -> float:
        """Count an event unless `limit` are already in the window: 0 when counted, else the seconds
        until the oldest leaves it."""

    async def count(self, key: str, period: float) -> int: ...

    async def reset(self, key: str) -> None: ...


class LocalWindows:
    """In-process windows: each key's recent event times, least recently counted first."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_bytes: int = MAX_BYTES):
        self.clock = clock
        self.max_bytes = max_bytes
        self.size = 0  # bytes held, estimated
        self._windows: OrderedDict[str, tuple[deque[float], float]] = OrderedDict()  # key -> (times, period)

    @staticmethod
    def _cost(key: str, times: deque) -> int:
        return KEY_OVERHEAD + len(key) + 8 * len(times)

    def _recent(self, key: str, now: float) -> Optional[deque]:
        window = self._windows.get(key)
        if window is None:
            return None
        times, period = window
        before = self._cost(key, times)
        while times and times[0] <= now - period:
            times.popleft()
        self.size -= before - self._cost(key, times)
        if not times:
            self._forget(key)
            return None
        return times

    def _forget(self, key: str) -> None:
        times, _ = self._windows.pop(key)
        self.size -= self._cost(key, times)

    async def hit(self, key: str, limit: int, period: float) -> float:
        now = self.clock()
        times = self._recent(key, now)
        if times is not None and len(times) >= limit:
            return times[0] + period - now
        if times is None:
            times = deque()
            self.size += self._cost(key, times)
        times.append(now)
        self.size += 8
        self._windows[key] = (times, period)
        self._windows.move_to_end(key)
        self.sweep()
        while self.size > self.max_bytes and self._windows:
            self._forget(next(iter(self._windows)))
        return 0.0

    async def count(self, key: str, period: float) -> int:
        times = self._recent(key, self.clock())
        return 0 if times is None else len(times)

    async def reset(self, key: str) -> None:
        if key in self._windows:
            self._forget(key)

    def sweep(self, most: int = 64) -> None:
        """Forget windows whose events have all expired, least recently counted first (their last
        event is the oldest), at most `most` a call: memory is given back without waiting for a touch."""
        now = self.clock()
        for key in list(self._windows)[:most]:
            if self._recent(key, now) is not None:
                break


class Throttle:
    """At most `rate` (DRF's syntax, `5/min`; empty: no limit) counted events per key."""

    def __init__(self, rate: str, windows: Windows):
        parsed = parse_rate(rate)
        self.limit, self.period = parsed if parsed else (0, 0.0)
        self.windows = windows

    async def hit(self, key: str) -> None:
        """An event that counts whether or not what it asks for succeeds: Throttled if the key has used
        up its events, else counted, before any work is done for it."""
        if self.limit:
            wait = await self.windows.hit(key, self.limit, self.period)
            if wait:
                raise Throttled(wait)

    async def count(self, key: str) -> int:
        return await self.windows.count(key, self.period) if self.limit else 0

    async def reset(self, key: str) -> None:
        if self.limit:
            await self.windows.reset(key)


class RateLimit:
    """A token bucket: `rate` messages per second on average, bursts of up to `burst`."""

    __slots__ = ("rate", "burst", "tokens", "updated")

    def __init__(self, rate: float, burst: int):
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


MAX_BUCKETS = 100_000


class RateLimits:
    """Token buckets by key (a user, an address), so a limit follows its owner across connections;
    the least recently used are dropped past MAX_BUCKETS (a dropped bucket starts full again)."""

    def __init__(self, rate: float, burst: int):
        self.rate = rate
        self.burst = burst
        self._buckets: OrderedDict[str, RateLimit] = OrderedDict()

    def allow(self, key: str) -> bool:
        bucket = self._buckets.pop(key, None) or RateLimit(self.rate, self.burst)
        self._buckets[key] = bucket
        if len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)
        return bucket.allow()
