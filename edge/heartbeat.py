"""Pings for every game socket from one timer, instead of a task per connection.

Tornado's own pinging runs a task per connection (about 1.5 KiB each) and caps the pong timeout at
the ping interval. Here one PeriodicCallback walks the sockets in slices, so each is pinged once per
GAME_PING_INTERVAL with no stall when there are many, and a socket silent (no frame, no pong) for
GAME_PING_TIMEOUT is closed with 4010.
"""

import time
from typing import Callable, Protocol

from tornado.ioloop import PeriodicCallback
from tornado.websocket import WebSocketClosedError

SLICES = 50  # each ping interval is walked in this many steps


class Pingable(Protocol):
    last_heard: float

    def ping(self, data: bytes = b"") -> None: ...

    def close(self, code: int, reason: str) -> None: ...


class Heartbeat:
    """Watches sockets: `watch` when one opens, `forget` when it closes, `heard` on any frame or pong."""

    def __init__(self, interval: float, timeout: float, on_silent: Callable[[Pingable], None]):
        self.interval = interval
        self.timeout = timeout
        self.on_silent = on_silent
        self.sockets: dict[Pingable, None] = {}
        self._round: list[Pingable] = []
        self._timer = PeriodicCallback(self._step, interval / SLICES * 1000)

    def watch(self, socket: Pingable) -> None:
        socket.last_heard = time.monotonic()
        self.sockets[socket] = None
        if not self._timer.is_running():
            self._timer.start()

    def forget(self, socket: Pingable) -> None:
        self.sockets.pop(socket, None)

    def _step(self) -> None:
        if not self._round:
            self._round = list(self.sockets)
        count = max(1, -(-len(self._round) // SLICES)) if self._round else 0
        batch, self._round = self._round[:count], self._round[count:]
        now = time.monotonic()
        for socket in batch:
            if socket not in self.sockets:
                continue
            if now - socket.last_heard >= self.timeout:
                self.on_silent(socket)
            else:
                try:
                    socket.ping()
                except WebSocketClosedError:
                    self.forget(socket)

    def stop(self) -> None:
        self._timer.stop()
