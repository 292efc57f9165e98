"""WebSocket text frames as a server sends them (RFC 6455 §5.2: final, unmasked), framed once per payload.

A broadcast hands the same payload object to every socket of a room in a row, so remembering the
last payload framed turns N framings into one.
"""

import struct

_last_payload: bytes = b""
_last_frame: bytes = b"\x81\x00"


def text(payload: bytes) -> bytes:
    global _last_payload, _last_frame
    if payload is not _last_payload:
        size = len(payload)
        if size < 126:
            header = bytes((0x81, size))
        elif size < 65536:
            header = struct.pack("!BBH", 0x81, 126, size)
        else:
            header = struct.pack("!BBQ", 0x81, 127, size)
        _last_payload, _last_frame = payload, header + payload
    return _last_frame
