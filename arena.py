"""The services one server process runs, built once and shared by every handler."""

import asyncio
import logging
from typing import Optional

from tornado.ioloop import PeriodicCallback

from auth.authentication import Authenticator
from auth.backend import TokenBackend
from auth.extensions import resolve as resolve_extensions
from auth.flush import flush_expired_tokens
from auth.passwords import PasswordHasher
from auth.revocations import Revocation
from auth.service import TokenService
from auth.tokens import TokenCodec
from cluster.node import ClusterNode
from deadlines import Deadlines
from game import protocol
from game.game import Game
from game.replay import Viewings
from game.results import ResultRecorder, rating_first
from game.room import Session
from edge.heartbeat import Heartbeat
from edge.origins import OriginPolicy
from cluster.windows import RedisWindows
from edge.limits import Throttles
from edge.throttles import LocalWindows, Windows
from metrics import Metrics
from settings import Settings
from store.database import Store, StoreUnavailable
from store.journal import ResultJournal


log = logging.getLogger("arena")
SOCKET_DEADLINE_RESOLUTION = 0.25
THROTTLE_SWEEP, THROTTLE_SWEEP_EVERY = 10_000, 5.0  # expired throttle windows forgotten, at most this many a pass


class Arena:
    """Settings, store, password hasher, token service and game, with their start and shutdown."""

    def __init__(self, settings: Settings, store: Store):
        self.settings = settings
        self.metrics = Metrics(protocol.CLOSE_CODES)
        self.store = store
        store.metrics = self.metrics
        self.hasher = PasswordHasher(settings.PASSWORD_TIME_COST, settings.PASSWORD_MEMORY_COST,
                                     settings.PASSWORD_PARALLELISM, settings.PASSWORD_WORKERS,
                                     settings.PASSWORD_QUEUE, self.metrics, settings.ACCEPT_WEAK_LEGACY_HASHES,
                                     settings.PASSWORD_BUSY_SHARE, settings.PASSWORD_QUEUE_PER_CLIENT,
                                     settings.PASSWORD_FAILURE_SECONDS)
        extensions = resolve_extensions(settings.jwt)  # raises SettingsError naming a path that does not import
        self.codec = TokenCodec(settings.jwt, TokenBackend(settings.jwt, extensions.json_encoder))
        self.tokens = TokenService(settings.jwt, store, self.hasher, self.codec, extensions)
        self.authenticator = Authenticator(settings.jwt, self.tokens, extensions)
        results = ResultRecorder(rating_first(store.record_game, store.ratings), settings.game.RESULT_RETRY_INTERVAL,
                                 ResultJournal(settings.RESULTS_JOURNAL), settings.MONGO_TIMEOUT)
        self.game = Game(settings.game, results, metrics=self.metrics, spectate_delay=settings.SPECTATE_DELAY,
                         spectators_per_room=settings.SPECTATORS_PER_ROOM)
        self.viewings = Viewings()  # replays played for viewers (GET /api/games/{id}/replay/)
        self.tokens.revocation_listeners.append(self._close_revoked)
        self.origins = OriginPolicy(settings.ALLOWED_ORIGINS)
        self.deadlines = Deadlines(SOCKET_DEADLINE_RESOLUTION)  # sockets' token expiry and auth timeouts
        self.heartbeat = Heartbeat(settings.game.PING_INTERVAL, settings.game.PING_TIMEOUT,
                                   lambda socket: socket.close(protocol.CLOSE_SILENT_PEER, "ping_timeout"))
        self._flusher = PeriodicCallback(lambda: flush_expired_tokens(store), settings.TOKEN_FLUSH_INTERVAL * 1000)
        self.requests_in_flight = 0
        self.hashing_requests = 0  # of those, the ones that hash a password (logins, registrations…)
        self.other_requests_done = 0  # requests answered that hashed no password
        self._other_requests_seen = 0
        self.hasher.budget.contended = self._contended
        self.draining = False  # set at the first moment of a SIGTERM: readiness answers 503
        self.ready = True  # what readiness answered last (arena_ready; /metrics asks afresh before it answers)
        self._idle: Optional[asyncio.Event] = None  # made at shutdown, set when the last request is done
        self.cluster: Optional[ClusterNode] = None  # cluster mode (ARENA_REDIS_URL): one world over processes
        windows: Windows = LocalWindows()
        if settings.REDIS_URL:
            self.cluster = ClusterNode(settings, self.game, store, self._revoked_elsewhere, self.metrics)
            self.game.shared = self.cluster
            self.tokens.revocation_listeners.append(self.cluster.publish_revocation)
            windows = RedisWindows(self.cluster.link)  # limits hold across the processes
        self.throttles = Throttles(settings, windows)
        self._watch_levels()
        self._throttle_sweeper = PeriodicCallback(lambda: windows.sweep(THROTTLE_SWEEP), THROTTLE_SWEEP_EVERY * 1000)

    def _watch_levels(self) -> None:
        """The gauges Prometheus reads at scrape time (metrics.Metrics.watch)."""
        game, watch = self.game, self.metrics.watch
        watch("arena_rooms", "Rooms running", lambda: len(game.rooms))
        watch("arena_players", "Humans seated in running rooms", lambda: len(game.seats))
        watch("arena_bots", "Bots in running rooms", lambda: sum(len(room.bots) for room in list(game.rooms.values())))
        watch("arena_sockets_open", "WebSocket connections open", lambda: len(self.heartbeat.sockets))
        watch("arena_sockets_authenticated", "WebSocket connections with an authenticated user",
              lambda: len(game.sessions))
        watch("arena_queue_length", "Players waiting for a room", lambda: len(game.matchmaker.queue))
        watch("arena_password_hash_queue", "Password hashings and checks queued or running",
              lambda: self.hasher.queued)
        watch("arena_pending_game_results", "Finished games whose result MongoDB has not taken yet",
              lambda: len(game.results.pending))
        watch("arena_http_requests_in_flight", "HTTP requests being answered", lambda: self.requests_in_flight)
        watch("arena_ready", "1 while /api/health/ready answers 200 (store and Redis answer, not draining)",
              lambda: int(self.ready))
        if self.cluster is not None:
            watch("arena_redis_up", "1 while Redis answers (cluster mode)", lambda: int(self.cluster.available))

    def _close_revoked(self, revocation: Revocation) -> None:
        """A user's tokens (or one login's) were revoked: their live socket closes with 4001, unless it is
        the login the revocation keeps (the caller of a password change)."""
        session = self.game.session(revocation.user_id)
        if session is None or (revocation.keep is not None and session.token_family == revocation.keep):
            return
        if revocation.family is None or session.token_family == revocation.family:
            session.close(protocol.CLOSE_UNAUTHORIZED, "token_revoked")

    def _revoked_elsewhere(self, revocation: Revocation) -> None:
        """Another process revoked a user's tokens (or one login's): the same happens here."""
        self.tokens.note_revocation(revocation)
        self._close_revoked(revocation)

    async def join(self, session: Session) -> None:
        """An authenticated socket enters the game (through the cluster in cluster mode)."""
        if self.cluster is None:
            self.game.connect(session)
        else:
            await self.cluster.join(session)

    def leave(self, session: Session) -> None:
        """A socket closed: the game forgets it, and so does the cluster unless a newer socket took over."""
        if self.game.disconnect(session) and self.cluster is not None:
            self.cluster.leave(session.user_id)

    async def start_cluster(self) -> None:
        """Cluster mode: join the cluster (raises ClusterUnavailable when Redis does not answer)."""
        if self.cluster is not None:
            await self.cluster.start()

    def start(self) -> None:
        """Start the background work: the game loop, and expiring token records in the embedded store."""
        self.game.start()
        self._throttle_sweeper.start()
        if self.store.kind == "embedded":
            self._flusher.start()

    def request_started(self) -> None:
        self.requests_in_flight += 1

    def request_finished(self, hashed: bool = False) -> None:
        self.requests_in_flight -= 1
        if hashed:
            self.hashing_requests -= 1
        else:
            self.other_requests_done += 1
        if not self.requests_in_flight and self._idle is not None:
            self._idle.set()

    def _contended(self) -> bool:
        """Does anything besides password hashing want the loop: a running game, or requests that hash no
        password (answered since the last look, or waiting now)? If not, hashing has no budget to keep."""
        seen, self._other_requests_seen = self._other_requests_seen, self.other_requests_done
        return bool(self.game.rooms) or self.other_requests_done != seen or \
            self.requests_in_flight > self.hashing_requests

    async def readiness(self) -> dict:
        """What `/api/health/ready` answers (and `arena_ready` reports): "ready" when MongoDB answers,
        Redis answers (cluster mode) and the server is not stopping."""
        if self.draining:
            answer = {"status": "draining"}
        elif self.cluster is not None and not self.cluster.available:
            answer = {"status": "unavailable", "redis": "unavailable"}
        else:
            try:
                await self.store.ping()
                answer = {"status": "ready"}
            except StoreUnavailable:
                answer = {"status": "unavailable", "store": "unavailable"}
        self.ready = answer["status"] == "ready"
        return answer

    async def drain(self) -> None:
        """SIGTERM, before anything closes: readiness answers 503 `draining` for DRAIN_GRACE (a load balancer
        notices), sockets get `server_draining`, no new game starts here. Then running games move to
        another process (cluster mode) and queued players are sent to reconnect there; with one process
        they may finish, up to DRAIN_TIMEOUT."""
        self.draining = True
        self.ready = False
        self.game.drain()
        if self.cluster is not None:
            await self.cluster.begin_draining()
        await asyncio.sleep(self.settings.DRAIN_GRACE)
        if self.cluster is not None:
            await self.cluster.hand_off_rooms()
            self.game.close_queued(protocol.CLOSE_GOING_AWAY, "server draining")
        elif self.game.rooms:
            log.info("waiting up to %.0f s for %d running games to end", self.settings.DRAIN_TIMEOUT,
                     len(self.game.rooms))
            await self.game.rooms_ended(self.settings.DRAIN_TIMEOUT)

    async def shutdown(self) -> None:
        """Let in-flight requests finish (bounded by SHUTDOWN_TIMEOUT), then stop the game and the rest."""
        self.draining = True
        self._idle = asyncio.Event()
        if not self.requests_in_flight:
            self._idle.set()
        try:
            await asyncio.wait_for(self._idle.wait(), self.settings.SHUTDOWN_TIMEOUT)
        except asyncio.TimeoutError:
            pass
        await self.game.shutdown()
        for socket in list(self.heartbeat.sockets):  # those that never authenticated, too
            socket.close(protocol.CLOSE_GOING_AWAY, "server shutting down")
        self.heartbeat.stop()
        self._flusher.stop()
        self._throttle_sweeper.stop()
        self.hasher.shutdown()  # what still waits for hashing answers 503
        if self.cluster is not None:
            await self.cluster.close()
