"""Frames written to a socket (edge.frames): straight to the socket while nothing waits, through the
stream once something does, and always in order with what Tornado itself writes to the stream."""

import socket
import struct
from types import SimpleNamespace

import pytest
from tornado.iostream import IOStream

from edge.frames import FrameWriter


def frames_in(data: bytes) -> list[bytes]:
    """The payloads of a run of unmasked text frames; anything else in between as itself."""
    payloads, at = [], 0
    while at < len(data):
        if data[at] != 0x81:  # not one of ours: Tornado's own write, kept whole
            end = data.index(b"|", at) + 1
            payloads.append(data[at:end])
            at = end
            continue
        size, at = data[at + 1], at + 2
        if size == 126:
            size, at = struct.unpack("!H", data[at:at + 2])[0], at + 2
        payloads.append(data[at:at + size])
        at += size
    return payloads


def a_stream_pair(buffer: int) -> tuple[IOStream, socket.socket]:
    """A server-side stream whose peer does not read yet, both kernel buffers `buffer` bytes."""
    ours, peer = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, buffer)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer)
    return IOStream(ours), peer


async def read_all(peer: socket.socket, size: int) -> bytes:
    stream = IOStream(peer)
    data = await stream.read_bytes(size)
    stream.close()
    return data


@pytest.mark.gen_test(timeout=10)
async def test_frames_keep_their_order_with_the_streams_own_writes_when_the_socket_is_full():
    stream, peer = a_stream_pair(4096)
    writer = FrameWriter(SimpleNamespace(stream=stream))
    flushed, waiting, sent = [], 0, []
    n = 0
    while waiting == 0:  # straight to the socket until the kernel's buffer is full
        payload = b'{"n":%d,"pad":"%s"}' % (n, b"x" * 200)
        waiting = writer.write((payload,), flushed.append)
        sent.append(payload)
        n += 1
    stream.write(b"tornado's own|")  # a ping or a close frame, say: queued behind what waits
    sent.append(b"tornado's own|")
    for m in range(n, n + 50):  # something waits: these go through the stream, after it
        payload = b'{"n":%d}' % m
        waiting += writer.write((payload,), flushed.append)
        sent.append(payload)
    total = sum(len(FrameWriter.frame(p)) if not p.endswith(b"|") else len(p) for p in sent)
    received = await read_all(peer, total)
    assert frames_in(received) == sent
    assert sum(flushed) == waiting > 0  # every byte that waited was reported once it left
    stream.close()


@pytest.mark.gen_test(timeout=10)
async def test_a_closed_or_reset_stream_takes_nothing_and_raises_nothing():
    stream, peer = a_stream_pair(4096)
    writer = FrameWriter(SimpleNamespace(stream=stream))
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.close()  # the client went away
    for _ in range(3):
        assert writer.write((b'{"event":"state"}',), lambda size: None) == 0
    assert stream.closed()
    assert writer.write((b'{"event":"state"}',), lambda size: None) == 0
