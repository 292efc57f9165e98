"""Game frames written straight to a WebSocket's stream, each payload framed once per broadcast.

Tornado's `write_message` frames the payload and wraps every write in a new Task; fanning snapshots
out to hundreds of sockets per tick, that is most of a tick. A broadcast hands the same payload
object to every socket of a room in a row, so remembering the last payload framed turns N framings
into one, and frames sent together (welcome + queued) go out in one write.
"""

import struct
from typing import Callable

from tornado.iostream import StreamClosedError
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
    """The only code that touches Tornado's private WebSocket API (`WebSocketProtocol.stream`).

    What it relies on from Tornado: `connection.stream` is the IOStream that Tornado's own frames go
    to, writes to it leave in call order, and with compression off (the handler's
    `get_compression_options` returns None) a text frame needs no per-connection state.
    What its callers promise: payloads are UTF-8 text, written from the IOLoop thread.
    """

    _last_payload: bytes = b""
    _last_frame: bytes = _frame(b"")

    def __init__(self, connection: WebSocketProtocol):
        self._stream = connection.stream

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
        try:
            written = self._stream.write(data)
        except StreamClosedError:
            return 0
        if written.done():
            return 0
        size = len(data)
        written.add_done_callback(lambda _: on_flushed(size))
        return size
