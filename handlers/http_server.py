"""The HTTP server the app runs on: timeouts, connection caps, and an accept loop that survives EMFILE.

Tornado's own accept handler raises on EMFILE (too many open files): the IOLoop logs a traceback
and calls it again at once, spinning a core and flooding the log while real requests time out.
Here accepting pauses with a doubling backoff, logs once a pause, and the connections already open
keep being served. Connections beyond the caps (in all, and per peer address) are closed as they are
accepted, before any work.
"""

import errno
import logging
import socket
from typing import Any, Callable, Iterable

import tornado.httpserver
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream

from settings import Settings

log = logging.getLogger("arena.server")
OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
ACCEPT_BACKOFF = (0.05, 2.0)  # first and longest pause after running out of descriptors
ACCEPTS_PER_WAKEUP = 128


class ArenaHTTPServer(tornado.httpserver.HTTPServer):
    def initialize(self, *args: Any, max_connections: int = 0, max_connections_per_address: int = 0,
                   **kwargs: Any) -> None:
        super().initialize(*args, **kwargs)
        self.max_connections = max_connections
        self.max_connections_per_address = max_connections_per_address
        self.open_streams: dict[str, set[IOStream]] = {}  # by peer; closed ones are pruned lazily

    def add_sockets(self, sockets: Iterable[socket.socket]) -> None:
        for sock in sockets:
            self._sockets[sock.fileno()] = sock
            self._handlers[sock.fileno()] = _accept_with_backoff(sock, self._handle_connection)

    def _open(self, peer: str) -> set[IOStream]:
        streams = {stream for stream in self.open_streams.get(peer, ()) if not stream.closed()}
        if streams:
            self.open_streams[peer] = streams
        else:
            self.open_streams.pop(peer, None)
        return streams

    def _full(self, peer: str) -> bool:
        if self.max_connections_per_address and len(self._open(peer)) >= self.max_connections_per_address:
            return True
        if self.max_connections and sum(map(len, self.open_streams.values())) >= self.max_connections:
            return sum(len(self._open(other)) for other in list(self.open_streams)) >= self.max_connections
        return False

    def handle_stream(self, stream: IOStream, address: Any) -> None:
        peer = address[0] if isinstance(address, tuple) else ""
        if self._full(peer):
            stream.close()
            return
        self.open_streams.setdefault(peer, set()).add(stream)
        super().handle_stream(stream, address)


def _accept_with_backoff(sock: socket.socket, callback: Callable[[socket.socket, Any], None]) -> Callable[[], None]:
    """Like tornado.netutil.add_accept_handler, but out of file descriptors it stops listening for a
    while (logging once) instead of raising on every wake-up."""
    loop = IOLoop.current()
    state = {"removed": False, "pause": ACCEPT_BACKOFF[0]}

    def resume() -> None:
        if not state["removed"]:
            loop.add_handler(sock, accept, IOLoop.READ)

    def accept(fd: Any, events: int) -> None:
        for _ in range(ACCEPTS_PER_WAKEUP):
            try:
                connection, address = sock.accept()
            except (BlockingIOError, ConnectionAbortedError):
                return
            except OSError as exc:
                if exc.errno not in OUT_OF_DESCRIPTORS:
                    raise
                log.warning("cannot accept connections (%s): pausing %.2f s; open connections are still served",
                            exc.strerror, state["pause"])
                loop.remove_handler(sock)
                loop.call_later(state["pause"], resume)
                state["pause"] = min(state["pause"] * 2, ACCEPT_BACKOFF[1])
                return
            state["pause"] = ACCEPT_BACKOFF[0]
            callback(connection, address)

    def remove() -> None:
        if not state["removed"]:
            state["removed"] = True
            loop.remove_handler(sock)

    loop.add_handler(sock, accept, IOLoop.READ)
    return remove


def make_server(app: tornado.web.Application, settings: Settings) -> ArenaHTTPServer:
    """The server with every limit from the settings; `server.py` and the tests build it alike."""
    return ArenaHTTPServer(
        app,
        xheaders=False,  # handlers read proxy headers only with ARENA_TRUST_PROXY (handlers.base)
        max_body_size=settings.MAX_BODY_SIZE,
        idle_connection_timeout=settings.IDLE_TIMEOUT,  # also how long headers may take to arrive
        body_timeout=settings.BODY_TIMEOUT,
        max_connections=settings.MAX_CONNECTIONS,
        max_connections_per_address=0 if settings.TRUST_PROXY else settings.MAX_CONNECTIONS_PER_ADDRESS,
    )
