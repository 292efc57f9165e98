"""The HTTP server the app runs on: timeouts, connection caps, and an accept loop that survives EMFILE.

Headers (and a kept-alive connection's wait for its next request) get ARENA_IDLE_TIMEOUT, a body
ARENA_BODY_TIMEOUT; both are entries on one shared timer (deadlines.Deadlines) instead of Tornado's
`gen.with_timeout` per request and per body, which cost a tenth of a small request's time. A body
declared larger than ARENA_MAX_BODY_SIZE is answered 413 here, before a byte of it is read, so the
handlers need not stream bodies (which costs two turns of the event loop per request).

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
from tornado import httputil
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream

from deadlines import Deadline, Deadlines
from edge.answers import API_HEADERS, JSON, too_large
from edge.request_ids import HEADER, new_request_id
from settings import Settings

log = logging.getLogger("arena.server")
access_log = logging.getLogger("tornado.access")
OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
ACCEPT_BACKOFF = (0.05, 2.0)  # first and longest pause after running out of descriptors
ACCEPTS_PER_WAKEUP = 128
DEADLINE_RESOLUTION = 0.25  # a connection past its deadline is closed at most this late


class _Deadlined(httputil.HTTPMessageDelegate):
    """One request on its way in: its connection closes if the headers, then the body, take too long,
    and a body declared larger than the server takes is refused before it is read."""

    __slots__ = ("delegate", "connection", "server", "deadline", "refused")

    def __init__(self, delegate: httputil.HTTPMessageDelegate, connection: httputil.HTTPConnection,
                 server: "ArenaHTTPServer"):
        self.delegate = delegate
        self.connection = connection
        self.server = server
        self.deadline: Deadline | None = server.deadlines.watch(server.header_timeout, connection.close)
        self.refused = False

    def _forget(self) -> None:
        if self.deadline is not None:
            self.server.deadlines.forget(self.deadline)
            self.deadline = None

    def headers_received(self, start_line: Any, headers: httputil.HTTPHeaders) -> Any:
        self._forget()
        declared = headers.get("Content-Length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.server.max_body_size):
            self.refused = True
            del headers["Content-Length"]  # Tornado reads none of it; the connection closes after the answer
            self.server.refuse_body(self.connection, start_line, headers)
            return None
        if declared is not None or "Transfer-Encoding" in headers:  # a body follows
            self.deadline = self.server.deadlines.watch(self.server.body_timeout, self.connection.close)
        return self.delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Any:
        return self.delegate.data_received(chunk)

    def finish(self) -> None:
        self._forget()
        if not self.refused:
            self.delegate.finish()

    def on_connection_close(self) -> None:
        self._forget()
        if not self.refused:
            self.delegate.on_connection_close()


class ArenaHTTPServer(tornado.httpserver.HTTPServer):
    def initialize(self, *args: Any, max_connections: int = 0, max_connections_per_address: int = 0,
                   header_timeout: float = 3600.0, body_timeout: float = 3600.0, trust_proxy: bool = False,
                   **kwargs: Any) -> None:
        super().initialize(*args, **kwargs)
        # Tornado's own per-request timers off: the shared deadlines below bound headers and bodies.
        self.conn_params.header_timeout = self.conn_params.body_timeout = None
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.max_body_size = self.conn_params.max_body_size or 0
        self.trust_proxy = trust_proxy
        self.deadlines = Deadlines(DEADLINE_RESOLUTION)
        self.max_connections = max_connections
        self.max_connections_per_address = max_connections_per_address
        self.open_streams: dict[str, set[IOStream]] = {}  # by peer; closed ones are pruned lazily

    def start_request(self, server_conn: object, request_conn: httputil.HTTPConnection) -> httputil.HTTPMessageDelegate:
        return _Deadlined(super().start_request(server_conn, request_conn), request_conn, self)

    def refuse_body(self, connection: httputil.HTTPConnection, start_line: Any, headers: httputil.HTTPHeaders) -> None:
        """413 in DRF's words with the API's headers; the connection closes once it is written (its
        body is never read)."""
        given = headers.get(HEADER, "") if self.trust_proxy else ""
        rid = new_request_id(given)
        body = too_large(self.max_body_size)
        answer = httputil.HTTPHeaders({"Content-Type": JSON, **API_HEADERS, HEADER: rid, "Content-Length": str(len(body)),
                                       "Connection": "close"})
        connection.write_headers(httputil.ResponseStartLine("HTTP/1.1", 413, "Payload Too Large"), answer, body)
        connection.finish()
        access_log.warning("413 %s %s (body refused unread) [%s]", start_line.method, start_line.path.split("?")[0],
                           rid, extra={"request_id": rid, "status": 413, "method": start_line.method,
                                       "path": start_line.path.split("?")[0]})

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
        header_timeout=settings.IDLE_TIMEOUT,  # also how long a kept-alive connection may wait idle
        body_timeout=settings.BODY_TIMEOUT,
        max_connections=settings.MAX_CONNECTIONS,
        max_connections_per_address=0 if settings.TRUST_PROXY else settings.MAX_CONNECTIONS_PER_ADDRESS,
        trust_proxy=settings.TRUST_PROXY,
    )
