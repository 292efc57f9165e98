"""Request throttling as DRF's throttles do it: N requests per period per key, then 429 with Retry-After.

Each key keeps the times of its recent counted requests (at most N), so memory is bounded by the
number of keys, and that is bounded too: the least recently seen keys are dropped first, and a key
whose requests have all left the window is forgotten.
"""

import math
import time
from collections import OrderedDict, deque
from typing import Callable, Optional

from settings import Settings, parse_rate

MAX_KEYS = 100_000


class Throttled(Exception):
    """A key has used up its requests; the API answers 429 (handlers.base)."""

    def __init__(self, wait: float):
        super().__init__(wait)
        self.seconds = math.ceil(wait)

    @property
    def body(self) -> dict:
        """DRF's words."""
        unit = "second" if self.seconds == 1 else "seconds"
        return {"detail": f"Request was throttled. Expected available in {self.seconds} {unit}."}


class Throttle:
    """At most `limit` counted requests per `period` seconds for each key."""

    def __init__(self, rate: str, clock: Callable[[], float] = time.monotonic):
        parsed = parse_rate(rate)
        self.limit, self.period = parsed if parsed else (0, 0.0)
        self.clock = clock
        self._history: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> Optional[deque]:
        history = self._history.get(key)
        if history is None:
            return None
        while history and history[0] <= now - self.period:
            history.popleft()
        if not history:
            del self._history[key]
            return None
        return history

    def check(self, *keys: str) -> None:
        """Raise Throttled if any key has used up its requests."""
        if not self.limit:
            return
        now = self.clock()
        for key in keys:
            history = self._recent(key, now)
            if history is not None and len(history) >= self.limit:
                raise Throttled(history[0] + self.period - now)

    def count(self, *keys: str) -> None:
        if not self.limit:
            return
        now = self.clock()
        for key in keys:
            history = self._recent(key, now) or deque(maxlen=self.limit)
            history.append(now)
            self._history[key] = history
            self._history.move_to_end(key)
        while len(self._history) > MAX_KEYS:
            self._history.popitem(last=False)

    def hit(self, key: str) -> None:
        """A request that counts whether or not it succeeds: Throttled if the key has none left, else counted."""
        self.check(key)
        self.count(key)

    def reset(self, key: str) -> None:
        self._history.pop(key, None)


class Throttles:
    """The server's throttles: failed logins per username and per address, registrations per address,
    game socket connections per address and per user, and game frames per user (or address)."""

    def __init__(self, settings: Settings):
        self.login_username = Throttle(settings.THROTTLE_LOGIN_USERNAME)
        self.login_address = Throttle(settings.THROTTLE_LOGIN_ADDRESS)
        self.register_address = Throttle(settings.THROTTLE_REGISTER_ADDRESS)
        self.socket_address = Throttle(settings.THROTTLE_SOCKET_ADDRESS)
        self.socket_user = Throttle(settings.THROTTLE_SOCKET_USER)
        self.frames = RateLimits(settings.game.MESSAGE_RATE, settings.game.MESSAGE_BURST)


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


class RateLimits:
    """Token buckets by key (a user, an address), so a limit follows its owner across connections;
    the least recently used are dropped past MAX_KEYS (a dropped bucket starts full again)."""

    def __init__(self, rate: float, burst: int):
        self.rate = rate
        self.burst = burst
        self._buckets: OrderedDict[str, RateLimit] = OrderedDict()

    def allow(self, key: str) -> bool:
        bucket = self._buckets.pop(key, None) or RateLimit(self.rate, self.burst)
        self._buckets[key] = bucket
        if len(self._buckets) > MAX_KEYS:
            self._buckets.popitem(last=False)
        return bucket.allow()
