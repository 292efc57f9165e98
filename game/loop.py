"""The fixed-timestep loop ("Fix Your Timestep!"): one task steps every room by exactly 1/TICK_RATE."""

import asyncio
import itertools
import logging
import time
from collections import deque
from typing import Callable, Optional

from metrics import Metrics

log = logging.getLogger("arena.loop")
MAX_CATCH_UP = 5  # ticks run back-to-back after a stall before the backlog is dropped


def _percentile(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else 0.0


class FixedTimestepLoop:
    """Calls `step(dt, tick)` once per elapsed `dt`, whenever the IOLoop actually wakes it.

    An accumulator carries leftover time across wake-ups, so simulation results do not depend on
    scheduling jitter; after a long stall at most MAX_CATCH_UP ticks run and the rest is dropped.
    """

    def __init__(self, tick_rate: float, step: Callable[[float, int], None],
                 clock: Callable[[], float] = time.monotonic, metrics: Optional[Metrics] = None):
        self.dt = 1.0 / tick_rate
        self.metrics = metrics or Metrics()
        self.step = step
        self.clock = clock
        self.tick = 0
        self.tick_durations: deque[float] = deque(maxlen=100_000)  # seconds per tick, for benchmarks
        self._task = None
        self._summary_key: tuple[int, int] = (-1, 0)
        self._summary: dict = {}

    def durations_ms(self, count: int) -> dict:
        """Percentiles of the last `count` tick durations, in milliseconds; computed once per tick and count."""
        if self._summary_key != (self.tick, count):
            recent = sorted(itertools.islice(reversed(self.tick_durations), count))
            self._summary = {"count": len(recent), "p50": _percentile(recent, 50) * 1000,
                             "p99": _percentile(recent, 99) * 1000, "max": (recent[-1] if recent else 0.0) * 1000}
            self._summary_key = (self.tick, count)
        return self._summary

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def advance(self, elapsed: float, accumulator: float) -> float:
        """Run the ticks `elapsed` seconds owe; return the time left over for the next wake-up."""
        accumulator += elapsed
        ran = 0
        metrics = self.metrics
        while accumulator >= self.dt:
            if ran:
                metrics.ticks_late.inc()  # a wake-up owing two ticks or more: this one is a period late
            started = time.perf_counter()
            self.step(self.dt, self.tick)
            duration = time.perf_counter() - started
            self.tick_durations.append(duration)
            metrics.tick_seconds.observe(duration)
            self.tick += 1
            accumulator -= self.dt
            ran += 1
            if ran == MAX_CATCH_UP:
                metrics.ticks_dropped.inc(accumulator // self.dt)
                return accumulator % self.dt
        return accumulator

    async def _run(self) -> None:
        last = self.clock()
        accumulator = 0.0
        while True:
            await asyncio.sleep(max(0.0, self.dt - accumulator))
            now = self.clock()
            try:
                accumulator = self.advance(now - last, accumulator)
            except Exception:  # a bug in one tick must not stop every game for good
                log.exception("tick %d failed", self.tick)
                accumulator = 0.0
            last = now
