"""The services one server process runs, built once and shared by every handler."""

import asyncio
from typing import Optional

from tornado.ioloop import PeriodicCallback

from auth.authentication import Authenticator
from auth.backend import TokenBackend
from auth.flush import flush_expired_tokens
from auth.passwords import PasswordHasher
from auth.service import TokenService
from auth.tokens import TokenCodec
from game import protocol
from game.game import Game
from game.results import ResultRecorder
from handlers.heartbeat import Heartbeat
from handlers.origins import OriginPolicy
from handlers.throttle import Throttles
from settings import Settings
from store.database import Store
from store.documents import UserId
from store.journal import ResultJournal


class Arena:
    """Settings, store, password hasher, token service and game, with their start and shutdown."""

    def __init__(self, settings: Settings, store: Store):
        self.settings = settings
        self.store = store
        self.hasher = PasswordHasher(settings.PASSWORD_TIME_COST, settings.PASSWORD_MEMORY_COST,
                                     settings.PASSWORD_PARALLELISM, settings.PASSWORD_WORKERS,
                                     settings.PASSWORD_QUEUE)
        self.codec = TokenCodec(settings.jwt, TokenBackend(settings.jwt))
        self.tokens = TokenService(settings.jwt, store, self.hasher, self.codec)
        self.authenticator = Authenticator(settings.jwt, self.tokens)
        results = ResultRecorder(store.record_game, settings.game.RESULT_RETRY_INTERVAL,
                                 ResultJournal(settings.RESULTS_JOURNAL), settings.MONGO_TIMEOUT)
        self.game = Game(settings.game, results)
        self.tokens.revocation_listeners.append(self._close_revoked)
        self.throttles = Throttles(settings)
        self.origins = OriginPolicy(settings.ALLOWED_ORIGINS)
        self.heartbeat = Heartbeat(settings.game.PING_INTERVAL, settings.game.PING_TIMEOUT,
                                   lambda socket: socket.close(protocol.CLOSE_SILENT_PEER, "ping_timeout"))
        self._flusher = PeriodicCallback(lambda: flush_expired_tokens(store), settings.TOKEN_FLUSH_INTERVAL * 1000)
        self.requests_in_flight = 0
        self.draining = False  # set at the first moment of a SIGTERM: readiness answers 503
        self._idle = asyncio.Event()
        self._idle.set()

    def _close_revoked(self, user_id: UserId, family: Optional[str]) -> None:
        """A user's tokens (or one login's, `family`) were revoked: their live socket closes with 4001."""
        session = self.game.sessions.get(user_id)
        if session is not None and (family is None or getattr(session, "token_family", None) == family):
            session.close(protocol.CLOSE_UNAUTHORIZED, "token_revoked")

    def start(self) -> None:
        """Start the background work: the game loop, and expiring token records in the embedded store."""
        self.game.start()
        if self.store.kind == "embedded":
            self._flusher.start()

    def request_started(self) -> None:
        self.requests_in_flight += 1
        self._idle.clear()

    def request_finished(self) -> None:
        self.requests_in_flight -= 1
        if not self.requests_in_flight:
            self._idle.set()

    async def shutdown(self) -> None:
        """Let in-flight requests finish (bounded by SHUTDOWN_TIMEOUT), then stop the game and the rest."""
        self.draining = True
        try:
            await asyncio.wait_for(self._idle.wait(), self.settings.SHUTDOWN_TIMEOUT)
        except asyncio.TimeoutError:
            pass
        await self.game.shutdown()
        for socket in list(self.heartbeat.sockets):  # those that never authenticated, too
            socket.close(protocol.CLOSE_GOING_AWAY, "server shutting down")
        self.heartbeat.stop()
        self._flusher.stop()
        self.hasher.shutdown()  # what still waits for hashing answers 503
