"""Many deadlines on one timer: the bound on every MongoDB query and on every HTTP request's headers and body.

A timer per wait (`asyncio.timeout`, Tornado's `gen.with_timeout`) costs 5–8 µs to set up and tear down;
on a request that does three queries that is a tenth of its time. Here a deadline is an entry in the
slot of its expiry time (slots `resolution` seconds wide, a timing wheel): watching and forgetting are
two dict operations, and one timer, running only while something is watched, fires the slots that have
passed. A deadline fires up to `resolution` late, never early.
"""

import asyncio
import heapq
import math
from typing import Callable

Expiry = Callable[[], None]


class Deadline:
    """What `Deadlines.watch` returns: hand it back to `forget` once the wait is over."""

    __slots__ = ("slot", "on_expiry")

    def __init__(self, slot: int, on_expiry: Expiry):
        self.slot = slot
        self.on_expiry = on_expiry


class Deadlines:
    def __init__(self, resolution: float):
        self.resolution = resolution
        self._slots: dict[int, dict[Deadline, None]] = {}
        self._order: list[int] = []  # slot numbers with entries, a heap
        self._timer: asyncio.TimerHandle | None = None
        self._timer_slot = 0  # the slot the timer is set for

    def watch(self, seconds: float, on_expiry: Expiry) -> Deadline:
        """Call `on_expiry()` once `seconds` have passed, unless forgotten first (on the event loop)."""
        loop = asyncio.get_running_loop()
        slot = math.ceil((loop.time() + seconds) / self.resolution)
        deadline = Deadline(slot, on_expiry)
        entries = self._slots.get(slot)
        if entries is None:
            entries = self._slots[slot] = {}
            heapq.heappush(self._order, slot)
        entries[deadline] = None
        if self._timer is None or slot < self._timer_slot:
            self._schedule(loop)
        return deadline

    def forget(self, deadline: Deadline) -> None:
        entries = self._slots.get(deadline.slot)
        if entries is not None:
            entries.pop(deadline, None)

    def __len__(self) -> int:
        return sum(map(len, self._slots.values()))

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        """The timer, set for the earliest slot with entries (none when nothing is watched)."""
        if self._timer is not None:
            self._timer.cancel()
        while self._order and not self._slots[self._order[0]]:  # slots emptied by `forget`
            del self._slots[heapq.heappop(self._order)]
        self._timer = None
        if self._order:
            self._timer_slot = self._order[0]
            self._timer = loop.call_at(self._timer_slot * self.resolution, self._fire)

    def _fire(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self._order and self._order[0] * self.resolution <= now:
            slot = heapq.heappop(self._order)
            entries = self._slots[slot]
            while entries:  # an expiry may forget another deadline of this slot, or watch a new one
                deadline, _ = entries.popitem()
                deadline.on_expiry()
            del self._slots[slot]
        self._schedule(loop)
