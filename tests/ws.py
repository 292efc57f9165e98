"""A WebSocket game client for tests: connect with a token, send events, wait for events or the close."""

import base64
import os
from typing import Any, Optional

import orjson
from tornado.httpclient import HTTPRequest
from tornado.tcpclient import TCPClient
from tornado.websocket import websocket_connect


class GameClient:
    def __init__(self, connection):
        self.connection = connection
        self.events: list[dict] = []
        self.last_state: Optional[dict] = None

    @classmethod
    async def connect(cls, base_url: str, token: Optional[str] = None, headers: Optional[dict] = None,
                      path: str = "/wss/multiplayer/") -> "GameClient":
        url = base_url.replace("http://", "ws://") + path + (f"?token={token}" if token else "")
        return cls(await websocket_connect(HTTPRequest(url, headers=headers or {})))

    async def send(self, event: str, **fields: Any) -> None:
        await self.connection.write_message(orjson.dumps({"event": event, **fields}).decode())

    async def next_event(self) -> Optional[dict]:
        """The next frame as a dict, or None once the server has closed the socket."""
        message = await self.connection.read_message()
        if message is None:
            return None
        event = orjson.loads(message)
        self.events.append(event)
        if event.get("event") == "state":
            self.last_state = event
        return event

    async def wait_for(self, name: str) -> dict:
        """Read until an event called `name`; fails if the socket closes first."""
        while True:
            event = await self.next_event()
            assert event is not None, f"closed ({self.close_code}, {self.close_reason}) before {name!r}"
            if event["event"] == name:
                return event

    async def wait_closed(self) -> tuple[Optional[int], Optional[str]]:
        while await self.next_event() is not None:
            pass
        return self.close_code, self.close_reason

    @property
    def close_code(self) -> Optional[int]:
        return self.connection.close_code

    @property
    def close_reason(self) -> Optional[str]:
        return self.connection.close_reason

    def close(self) -> None:
        self.connection.close()


class RawSocket:
    """A WebSocket client that writes frames and never reads: a client that ignores the close frame."""

    def __init__(self, stream):
        self.stream = stream

    @classmethod
    async def connect(cls, base_url: str, token: str, path: str = "/wss/multiplayer/") -> "RawSocket":
        host, port = base_url.split("//")[1].split(":")
        stream = await TCPClient().connect(host, int(port))
        key = base64.b64encode(os.urandom(16)).decode()
        await stream.write((f"GET {path}?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                            ).encode())
        response = await stream.read_until(b"\r\n\r\n")
        assert response.startswith(b"HTTP/1.1 101"), response
        return cls(stream)

    async def send(self, event: str, **fields: Any) -> None:
        payload = orjson.dumps({"event": event, **fields})
        assert len(payload) < 126
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[n % 4] for n, byte in enumerate(payload))
        await self.stream.write(bytes((0x81, 0x80 | len(payload))) + mask + masked)

    def close(self) -> None:
        self.stream.close()
