"""`/wss/multiplayer/`: the game's WebSocket.

Lifecycle, in the order Tornado guarantees:
1. `check_origin` — browsers must come from an allowed origin; native clients send no Origin.
2. `open` — authenticate by `?token=<access>` (or wait GAME_AUTH_TIMEOUT for an `auth` frame); any
   failure closes with 4001 and the player never joins.
3. join — `Game.connect` sends `welcome`, replaces an older connection of the user (4002), and
   queues the player or puts them back in their seat.
4. play — `on_message` rate-limits, parses, and hands intentions to the game; `refresh_token`
   extends the session past the first token's expiry (else 4003 after a grace).
5. leave — `on_close` (or our own `close`) tells the game, which keeps a running game's seat for
   GAME_RECONNECT_GRACE. Meanwhile the Heartbeat pings every GAME_PING_INTERVAL and drops a peer
   silent for GAME_PING_TIMEOUT with 4010.
"""

import logging
import time
from typing import Any, Optional

import orjson
import tornado.websocket

from arena import Arena
from deadlines import Deadline
from auth.errors import AuthFailure, ExpiredTokenError, TokenError
from auth.tokens import FAMILY_CLAIM, Token
from game import protocol
from game.intents import INTENTS
from game.protocol import error_frame
from edge.auth_failures import refusal
from handlers.base import client_address
from edge.frames import FrameWriter
from edge.request_ids import HEADER, request_id
from edge.answers import answer_throttled
from edge.throttles import Throttled
from logs import REDACTED
from store.database import StoreUnavailable
from store.documents import Rating

log = logging.getLogger("arena.socket")


class GameSocketHandler(tornado.websocket.WebSocketHandler):
    """One player's connection; also the `Session` the game sends frames to."""

    user_id: Optional[int] = None
    username = ""
    score = 0
    rating = Rating()
    _closed = False
    _pending_output = 0
    _writer: Optional[FrameWriter] = None
    token_family: Optional[str] = None  # the login this socket's token descends from
    access_token = ""  # the latest access token the client sent, re-checked in cluster mode
    _auth_timer: Optional[Deadline] = None
    _expiry_timer: Optional[Deadline] = None
    last_heard = 0.0

    def initialize(self, arena: Arena) -> None:
        self.arena = arena
        self.address = client_address(self.request, arena.settings.TRUST_PROXY)

    async def get(self, *args: Any, **kwargs: Any) -> None:
        """The upgrade request: connection attempts per address are throttled before any work."""
        try:
            await self.arena.throttles.socket_from(self.address)
        except Throttled as exc:
            answer_throttled(self, exc)
            return
        self.set_header(HEADER, request_id(self.request, self.arena.settings.TRUST_PROXY))
        await super().get(*args, **kwargs)

    def check_origin(self, origin: str) -> bool:
        return self.arena.origins.allows(origin, self.request.headers.get("Host", ""))

    def get_compression_options(self) -> None:
        return None  # deflate costs CPU per frame, breaks encode-once fan-out, and FrameWriter relies on it off

    async def open(self) -> None:
        game = self.arena.settings.game
        self.arena.heartbeat.watch(self)
        token = self.get_query_argument("token", None)
        if token:
            self._forget_query_token(token)
            await self._authenticate(token)
        else:
            self._auth_timer = self.arena.deadlines.watch(
                game.AUTH_TIMEOUT, lambda: self.close(protocol.CLOSE_UNAUTHORIZED, "auth_timeout"))

    def _forget_query_token(self, token: str) -> None:
        """Keep no copy of the token in the request once read: secrets live no longer than needed.

        The access log has already been written (Tornado logs the handshake before `open`).
        """
        request = self.request
        request.uri = request.uri.replace(token, REDACTED)
        request.query = request.query.replace(token, REDACTED)
        request.query_arguments.pop("token", None)
        request.arguments.pop("token", None)

    async def _check(self, raw: Any) -> tuple[dict, Token]:
        """The user of an access token sent by the client; raises AuthFailure."""
        if not isinstance(raw, str):
            raise TokenError()
        return await self.arena.authenticator.authenticate_access_token(raw)

    async def _authenticate(self, raw: Any) -> None:
        try:
            user, token = await self._check(raw)
        except AuthFailure as exc:
            refused = refusal(exc)
            self.close(refused.close_code, refused.close_reason)
            return
        except StoreUnavailable:
            self.close(protocol.CLOSE_TRY_AGAIN_LATER, protocol.STORE_UNAVAILABLE)
            return
        if self._closed:
            return
        try:
            await self.arena.throttles.socket_for(user.id)
        except Throttled:
            self.close(protocol.CLOSE_RATE_LIMITED, "too_many_connections")
            return
        self.user_id, self.username, self.score, self.rating = user.id, user.username, user.score, user.rating
        self.token_family, self.access_token = token.get(FAMILY_CLAIM), raw
        self._follow_expiry(token)
        await self.arena.join(self)

    def _follow_expiry(self, token: Token) -> None:
        """Close with 4003 once this token is expired and the grace has passed without a refresh."""
        if self._expiry_timer is not None:
            self.arena.deadlines.forget(self._expiry_timer)
        delay = token["exp"] - time.time() + self.arena.settings.game.TOKEN_EXPIRY_GRACE
        self._expiry_timer = self.arena.deadlines.watch(
            max(0.0, delay), lambda: self.close(protocol.CLOSE_TOKEN_EXPIRED, "token_expired"))

    async def _refresh(self, raw: Any) -> None:
        try:
            user, token = await self._check(raw)
            if user.id != self.user_id:
                raise TokenError("Token is for another user")
        except AuthFailure as exc:
            self.send(error_frame(refusal(exc).close_reason, exc.detail))
            return
        except StoreUnavailable:
            self.send(error_frame(protocol.STORE_UNAVAILABLE, "the token could not be checked now; send it again"))
            return
        self.token_family, self.access_token = token.get(FAMILY_CLAIM), raw
        self._follow_expiry(token)
        self.send(orjson.dumps({"event": protocol.TOKEN_REFRESHED, "exp": token["exp"]}))

    async def recheck(self) -> None:
        """Check the latest access token again (cluster mode, every ARENA_CLUSTER_RECHECK), so a revocation
        whose signal was lost with a Redis outage still closes the socket (4001). Raises StoreUnavailable."""
        try:
            await self.arena.authenticator.authenticate_access_token(self.access_token)
        except ExpiredTokenError:
            pass  # the expiry timer (4003) deals with it
        except AuthFailure as exc:
            refused = refusal(exc)
            self.close(refused.close_code, refused.close_reason)

    @property
    def closed(self) -> bool:
        return self._closed

    def on_pong(self, data: bytes) -> None:
        self.last_heard = time.monotonic()

    async def on_message(self, message: Any) -> None:
        if self._closed:
            return  # the server has closed this socket: what the peer sends until it notices is ignored
        self.last_heard = time.monotonic()
        # The limit belongs to the user (before authentication, to the address), not the connection.
        owner = f"user:{self.user_id}" if self.user_id is not None else f"address:{self.address}"
        if not self.arena.throttles.frames.allow(owner):
            self.close(protocol.CLOSE_RATE_LIMITED, "rate_limited")
            return
        try:
            frame = orjson.loads(message)
        except orjson.JSONDecodeError:
            self.send(error_frame(protocol.BAD_MESSAGE, "frames must be JSON objects"))
            return
        event = frame.get("event") if isinstance(frame, dict) else None
        if not isinstance(event, str):
            event = None  # `{"event": {...}}` is no event either
        if self.user_id is None:
            if event == protocol.AUTH:
                self.arena.deadlines.forget(self._auth_timer)
                await self._authenticate(frame.get("token"))
            else:
                self.close(protocol.CLOSE_UNAUTHORIZED, "auth_required")
            return
        if event == protocol.REFRESH_TOKEN:
            await self._refresh(frame.get("token"))
        elif event in INTENTS:
            try:
                payload = INTENTS[event].read(frame)
            except ValueError as exc:
                self.send(error_frame(protocol.BAD_MESSAGE, str(exc)))
                return
            self.arena.game.handle(self, event, payload)
        else:
            self.send(error_frame(protocol.BAD_MESSAGE, f"unknown event {event!r}"))

    def send(self, *payloads: bytes) -> None:
        """Send text frames (edge.frames); a client that lets GAME_MAX_PENDING_OUTPUT pile up is dropped.
        Every snapshot of every room passes here: it is kept to what it must do."""
        connection = self.ws_connection
        if self._closed or connection is None or connection.is_closing():
            return
        arena = self.arena
        if self._pending_output > arena.settings.game.MAX_PENDING_OUTPUT:
            arena.metrics.slow_consumers.inc()
            self.close(protocol.CLOSE_SLOW_CONSUMER, "slow_consumer")
            return
        writer = self._writer
        if writer is None:
            writer = self._writer = FrameWriter(connection)
        self._pending_output += writer.write(payloads, self._sent)
        metrics = arena.metrics
        metrics.frames_sent += len(payloads)
        metrics.bytes_sent += len(payloads[0]) if len(payloads) == 1 else sum(map(len, payloads))

    def _sent(self, size: int) -> None:
        self._pending_output -= size

    def close(self, code: Optional[int] = None, reason: Optional[str] = None) -> None:
        """Leave the game at once (a revoked user must not wait for the peer's close reply), then close."""
        if not self._closed:
            self._leave(code, reason)
            super().close(code, reason)

    def on_close(self) -> None:
        if not self._closed:
            self._leave(self.close_code, self.close_reason)  # the peer's; None when the connection dropped

    def _log_close(self, code: Optional[int], reason: Optional[str]) -> None:
        """Count the close by code and log it with who was playing where."""
        self.arena.metrics.socket_closed(code)
        if log.isEnabledFor(logging.INFO):
            room = self.arena.game.seats.get(self.user_id) if self.user_id is not None else None
            log.info("socket closed %s %s (user %s)", code, reason or "", self.user_id, extra={
                "close_code": code, "close_reason": reason, "user_id": self.user_id,
                "room": room.id if room is not None else None, "address": self.address,
                "request_id": request_id(self.request, self.arena.settings.TRUST_PROXY)})

    def _leave(self, code: Optional[int], reason: Optional[str]) -> None:
        self._closed = True
        self._log_close(code, reason)
        for timer in (self._auth_timer, self._expiry_timer):
            if timer is not None:
                self.arena.deadlines.forget(timer)
        self.arena.heartbeat.forget(self)
        if self.user_id is not None:
            self.arena.leave(self)
