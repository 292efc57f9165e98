"""How much CPU password hashing may take now: all it can get while the IOLoop is not busy, a small share
while it is.

Two ways to go wrong, both seen on one shared core: hashing threads at normal priority take half the
core from a busy IOLoop (a login storm halved the token endpoints' rate), and hashing threads at a low
priority get almost nothing while another process keeps the core busy (a 25 ms login took seconds).
So the loop's demand decides: it is the time the IOLoop thread ran *or waited to run* over the last
window (Linux schedstat), which a loop held back by hashing still shows in full. The loop counts as busy
when that demand is high *and* something besides password hashing wants it (a running game, a request
that is not waiting for a hash): logins alone are never budgeted against themselves. While the loop is
not busy, hashing runs at normal priority with no budget, competing fairly with other processes; while
it is, hashing runs on niced threads and starts only while it has used less than `busy_share` of a core
over the last second.
"""

import threading
import time
from collections import deque
from typing import Callable, Optional

BUSY = 0.5  # the loop is busy when it ran or waited to run for this share of the window
SAMPLE_EVERY = 0.05  # seconds between readings of the loop's demand
WINDOW = 1.0  # seconds over which hashing's CPU use is counted against the budget


class LoopDemand:
    """The share of a core the IOLoop thread wanted since the last reading: run time plus run-queue wait.

    Built on the IOLoop thread. Without /proc (not Linux) it counts the run time only, through the
    thread's CPU clock: a loop held back by hashing then looks less busy than it is.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._schedstat = f"/proc/self/task/{threading.get_native_id()}/schedstat"
        self._cpu_clock = time.pthread_getcpuclockid(threading.get_ident()) if hasattr(time, "pthread_getcpuclockid") \
            else time.CLOCK_PROCESS_CPUTIME_ID
        self._last = (clock(), self._wanted())

    def _wanted(self) -> float:
        """Seconds the thread has run or waited to run since it started."""
        try:
            with open(self._schedstat, "rb") as stats:
                ran, waited, _ = stats.read().split()
            return (int(ran) + int(waited)) / 1e9
        except (OSError, ValueError):
            return time.clock_gettime(self._cpu_clock)

    def share(self) -> float:
        now, wanted = self.clock(), self._wanted()
        then, wanted_then = self._last
        self._last = (now, wanted)
        return (wanted - wanted_then) / max(now - then, 1e-9)


class HashingBudget:
    """Decides, job by job, whether hashing may start now and at which priority."""

    def __init__(self, busy_share: float, demand: Optional[LoopDemand] = None,
                 clock: Callable[[], float] = time.monotonic):
        self.busy_share = busy_share
        self.demand = demand or LoopDemand(clock)
        self.contended: Callable[[], bool] = lambda: True  # does anything besides hashing want the loop?
        self.clock = clock
        self.loop_busy = False
        self._sampled_at = float("-inf")
        self._spent: deque[tuple[float, float]] = deque()  # (finished at, CPU seconds) within the window
        self._spent_total = 0.0
        self.job_cost = 0.02  # CPU seconds of a hashing, a moving average (a login's Argon2id to start)

    def _sample(self, now: float) -> None:
        if now - self._sampled_at >= SAMPLE_EVERY:
            self.loop_busy = self.demand.share() >= BUSY and self.contended()
            self._sampled_at = now

    def _forget_old(self, now: float) -> None:
        while self._spent and self._spent[0][0] <= now - WINDOW:
            self._spent_total -= self._spent.popleft()[1]

    def wait(self, running: int) -> float:
        """Seconds before another hashing may start (0: now), given how many are running."""
        now = self.clock()
        self._sample(now)
        if not self.loop_busy:
            return 0.0
        self._forget_old(now)
        if self._spent_total + (running + 1) * self.job_cost <= self.busy_share * WINDOW:
            return 0.0
        if not running and not self._spent:  # a job dearer than the whole budget still gets its turn
            return 0.0
        freed_at = self._spent[0][0] + WINDOW if self._spent else now + SAMPLE_EVERY
        return max(SAMPLE_EVERY, min(freed_at - now, WINDOW))

    def spent(self, cpu_seconds: float) -> None:
        """A hashing finished after using `cpu_seconds` of CPU."""
        self._spent.append((self.clock(), cpu_seconds))
        self._spent_total += cpu_seconds
        self.job_cost += (cpu_seconds - self.job_cost) / 8
