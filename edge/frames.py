"""Game frames written straight to a WebSocket's socket, each payload framed once per broadcast.

Tornado's `write_message` frames the payload and wraps every write in a new Task, and even the
stream's own `write` costs a Future and buffer bookkeeping (about 25 µs a frame, where the `send` is a
few): fanning snapshots out to thousands of sockets per second, that was most of a tick. So a frame
goes to the socket at once when nothing waits in the stream's buffer, and through the stream (which
keeps the order and waits for the socket) otherwise. A broadcast hands the same payload object to
every socket of a room in a row, so remembering the last payload framed turns N framings into one,
and frames sent together (welcome + queued) go out in one write.
"""

import struct
from typing import Callable

from tornado.iostream import IOStream, StreamClosedError
from tornado.websocket import WebSocketProtocol


def _frame(payload: bytes) -> bytes:
    """A text frame as a server sends it (RFC 6455 §5.2: final, unmasked, no extensions)."""
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 65536:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    return header + payload


class FrameWriter:
    """The only code that touches Tornado's private stream API (`WebSocketProtocol.stream`,
    `IOStream._write_buffer`).

    What it relies on from Tornado: `connection.stream` is the IOStream that Tornado's own frames go
    to, writes to it leave in call order, bytes not yet on the socket wait in its `_write_buffer` (so
    an empty buffer means a `send` now cannot overtake anything), its `socket` is None once closed, and
    with compression off (the handler's `get_compression_options` returns None) a text frame needs no
    per-connection state. A plain IOStream only: TLS streams keep their own state, and always go
    through the stream. What its callers promise: payloads are UTF-8 text, written from the IOLoop
    thread.
    """

    _last_payload: bytes = b""
    _last_frame: bytes = _frame(b"")

    def __init__(self, connection: WebSocketProtocol):
        self._stream = connection.stream
        self._direct = type(self._stream) is IOStream

    @classmethod
    def frame(cls, payload: bytes) -> bytes:
        if payload is not cls._last_payload:
            cls._last_payload, cls._last_frame = payload, _frame(payload)
        return cls._last_frame

    def write(self, payloads: tuple[bytes, ...], on_flushed: Callable[[int], None]) -> int:
        """Write the payloads as frames in one write; return how many bytes wait in our buffer.

        When bytes had to wait (the kernel's buffer was full), `on_flushed(size)` is called once they
        have left. A stream already closed takes nothing and returns 0.
        """
        data = self.frame(payloads[0]) if len(payloads) == 1 else b"".join(map(self.frame, payloads))
        stream = self._stream
        if self._direct and not stream._write_buffer:
            sock = stream.socket
            if sock is None:  # closed
                return 0
            try:
                sent = sock.send(data)
            except OSError:  # full (EAGAIN) or failing: the stream waits, or meets the error and closes
                sent = 0
            if sent == len(data):
                return 0
            data = data[sent:]
        try:
            written = stream.write(data)
        except StreamClosedError:
            return 0
        if written.done():
            return 0
        size = len(data)
        written.add_done_callback(lambda _: on_flushed(size))
        return size
