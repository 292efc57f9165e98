"""One process's part in the cluster: its presence, its inbox, one session per user, the shared queue.

The game calls the SharedQueue methods synchronously; each becomes a bounded Redis command run in the
background, and a failed one marks the node dirty, so the next heartbeat re-asserts everything this
process holds (also what a Redis restart lost).
"""

import asyncio
import logging
import time
from typing import Awaitable, Callable, Coroutine, Optional

from auth.revocations import Revocation
from cluster import keys, messages
from cluster.handoff import RoomMover
from cluster.link import ClusterUnavailable, RedisLink
from cluster.matchmaking import ClusterMatchmaker
from cluster.messages import AdoptRoom, CloseSession, OpenRoom, Player, Presence, Redirect, Revoked, RoomRecord, Seat
from game import protocol
from game.game import Game
from game.matchmaker import Ticket
from game.protocol import error_frame
from game.room import Room, Session
from metrics import Metrics
from settings import Settings
from store.database import Store, StoreUnavailable
from store.documents import UserId

log = logging.getLogger("arena.cluster")
RENEWALS_PER_LIFETIME = 4  # the keys a process owns are renewed this often within their lifetime
LAPSED_AFTER_BEATS = 2.5  # a process this many heartbeats silent is sent no player (long before the janitor)
RETRIES_KEPT = 10_000  # failed clean-ups kept for another try; past that the oldest are left to key lifetimes


def key_lifetime(settings: Settings) -> float:
    """Seconds the keys a process owns (sessions, seats, room records) outlive their last renewal: long
    enough that no heartbeat hiccup loses them, short enough that a key nobody owns goes soon."""
    return max(60.0, 12 * settings.CLUSTER_DEAD_AFTER)


class ClusterNode:
    """Implements game.game.SharedQueue; `join` and `leave` wrap the game's connect and disconnect."""

    def __init__(self, settings: Settings, game: Game, store: Store,
                 on_revoked: Callable[[Revocation], None], metrics: Optional[Metrics] = None):
        self.settings = settings
        self.game = game
        self.instance = settings.INSTANCE
        self.url = settings.PUBLIC_URL
        self.on_revoked = on_revoked  # a revocation made by another process
        lifetime = key_lifetime(settings)
        self.link = RedisLink(settings.REDIS_URL, settings.REDIS_TIMEOUT, 1.0, lifetime, metrics)
        dead_after_ms = int(settings.CLUSTER_DEAD_AFTER * 1000)
        self.fresh_ms = max(1, dead_after_ms - int(LAPSED_AFTER_BEATS * settings.CLUSTER_HEARTBEAT * 1000))
        self.matchmaker = ClusterMatchmaker(self.link, self.instance, settings.game, store, self.url_of,
                                            self.fresh_ms)
        self.mover = RoomMover(self.link, self.instance, game, self.url_of, self._hosts)
        self.instances: dict[str, Presence] = {}
        self.queue_length = 0
        self.available = True
        self.draining = False  # stopping: hosts no new room, takes no room handed off
        self.dirty = True  # re-assert everything at the next heartbeat
        self._renew_every = max(1, round(lifetime / RENEWALS_PER_LIFETIME / settings.CLUSTER_HEARTBEAT))
        self._beats = 0
        self._retries: list[Callable[[], Awaitable]] = []  # clean-ups that failed, tried again at each heartbeat
        self._tasks: set[asyncio.Task] = set()
        self._by_user: dict[UserId, asyncio.Task] = {}  # each user's latest cluster work (see _for_user)
        self._loops: list[asyncio.Task] = []
        self._stream_ids: dict[str, str] = {}
        game.results.written_listeners.append(self.result_written)

    # Start and stop

    async def start(self) -> None:
        """Raises ClusterUnavailable when Redis does not answer: cluster mode does not start without it."""
        await self.link.ping()
        await self.matchmaker.clean_up(self.instance)  # what an earlier run under this name left (a crash)
        for stream in (keys.inbox(self.instance), keys.SIGNALS):
            self._stream_ids[stream] = await self.link.last_id(stream)
        await self.heartbeat()
        self._loops = [asyncio.ensure_future(loop()) for loop in (self._beat, self._read, self._match, self._recheck)]

    async def begin_draining(self) -> None:
        """At SIGTERM: the cluster learns at once that this process takes no new room (its queued players
        keep their tickets, and their wait, until they reconnect elsewhere)."""
        self.draining = True
        await self._quietly(self.heartbeat())

    async def hand_off_rooms(self) -> None:
        """Every room running here goes to a live process, its players redirected there."""
        started = time.perf_counter()
        try:
            moved, kept = await self.mover.hand_off_all()
        except ClusterUnavailable:
            self._unavailable()
            return
        if moved or kept:
            log.info("handed off %d rooms in %.0f ms; %d stay here (no process could take them)", moved,
                     1000 * (time.perf_counter() - started), kept)

    async def close(self) -> None:
        """The last step of a stop. The tickets of players sent away while draining stay, so each keeps
        their wait when they reconnect elsewhere; when this process's heartbeat lapses, the janitor
        removes whatever is left (its presence says draining meanwhile: nothing is sent here)."""
        for task in self._loops:
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=self.settings.REDIS_TIMEOUT * 2)
        await self.link.close()

    # SharedQueue (called by the game)

    def add(self, ticket: Ticket) -> None:
        self._for_user(ticket.user_id, lambda: self.link.add_ticket(ticket, self.instance))

    def remove(self, user_id: UserId) -> None:
        self._for_user(user_id, lambda: self.link.remove_ticket(user_id, self.instance), retry=True)

    def waiting(self) -> int:
        return self.queue_length

    def seat_freed(self, user_id: UserId, room_id: str) -> None:
        self._for_user(user_id, lambda: self.link.free_seat(user_id, room_id), retry=True)

    def practice(self, ticket: Ticket, room_id: str) -> None:
        """The player's practice room runs here: the cluster takes them out of the queue and seats them
        in it (so a reconnection through any process finds it)."""
        record = RoomRecord(self.instance, (Player(ticket.user_id, ticket.username, ticket.score),), time.time())
        self._for_user(ticket.user_id, lambda: self.link.seat_alone(room_id, record, ticket.user_id))

    def room_over(self, room: Room) -> None:
        """The players are free at once; the room's record stays until its result is in MongoDB
        (`result_written`), so if this process dies first, the janitor records the game."""
        for user_id in room.humans:
            self.seat_freed(user_id, room.id)

    def result_written(self, room_id: str) -> None:
        self._clean_up(lambda: self.link.forget_room(room_id, self.instance))

    # Sessions

    async def join(self, session: Session) -> None:
        """An authenticated socket: it becomes the user's one session in the cluster (an older one
        anywhere closes with 4002), goes to the process running their room, or joins the queue here."""
        user_id = session.user_id
        elsewhere, waited = None, 0.0
        try:
            previous, seat = await self.link.take_session(user_id, self.instance)
            if seat is not None and not self.game.runs(seat.room):
                seat = await self._still_running(user_id, seat)
            if seat is not None and seat.host != self.instance:
                elsewhere = seat
            elif seat is None and not self.game.is_seated(user_id):
                # Queued elsewhere: the ticket (and its wait) moves here before the old socket closes.
                ticket = Ticket(user_id, session.username, session.score, 0.0, session.rating.mu, session.rating.sigma)
                waited = await self.link.add_ticket(ticket, self.instance)
            if previous and previous != self.instance:
                await self.link.send((previous, CloseSession(user_id)))
        except ClusterUnavailable:
            self._unavailable()
        if session.closed:
            return
        if elsewhere is not None:
            Game.send_elsewhere(session, self.url_of(elsewhere.host), elsewhere.room)
            return
        self.game.connect(session, waited)
        if not self.available and self.game.is_queued(user_id):
            session.send(error_frame(protocol.MATCHMAKING_UNAVAILABLE,
                                     "matchmaking is unavailable for now; you stay queued"))

    async def _still_running(self, user_id: UserId, seat: Seat) -> Optional[Seat]:
        """The user's seat, if its room still runs: here (a room handed to this process is adopted now), or
        on a live process. Else the seat is freed (the room's result is the janitor's) and None: the
        player queues here rather than follow a redirect to a dead process."""
        if seat.host == self.instance:
            if await self.mover.adopt(seat.room):
                return seat
            await self.matchmaker.abandon(seat.room, self.instance)  # handed here, but its state was lost
        elif await self.link.living([seat.host], self.fresh_ms):
            if seat.host not in self.instances:  # started since our last heartbeat: its URL, now
                presence = await self.link.presence(seat.host)
                if presence is not None:
                    self.instances[seat.host] = presence
                    return seat
            else:
                return seat
        log.info("user %s's seat in room %s on %s is gone: they queue here", user_id, seat.room, seat.host)
        await self.link.free_seat(user_id, seat.room)
        return None

    def leave(self, user_id: UserId) -> None:
        """The user's socket here closed: the cluster forgets it, unless a newer one elsewhere took over."""
        self._for_user(user_id, lambda: self.link.release_session(user_id, self.instance), retry=True)

    def publish_revocation(self, revocation: Revocation) -> None:
        self._spawn(self.link.publish(Revoked(revocation.user_id, revocation.family, self.instance, revocation.keep)))

    def url_of(self, instance: str) -> str:
        presence = self.instances.get(instance)
        return self.url if instance == self.instance or presence is None else presence.url

    def watchers(self, room_id: str, count: int) -> None:
        self._spawn(self.link.set_watchers(room_id, count))

    def spectate(self, session: Session, room_id: str) -> None:
        self._spawn(self._spectate_elsewhere(session, room_id))

    async def _spectate_elsewhere(self, session: Session, room_id: str) -> None:
        """A spectator of a room another live process runs is redirected there (they ask again there)."""
        record = await self.link.room(room_id)
        if record is None or record.host == self.instance or not await self.link.living([record.host], self.fresh_ms):
            session.send(error_frame(protocol.NO_SUCH_GAME, "no game runs in that room"))
        elif not session.closed:
            Game.send_elsewhere(session, self.url_of(record.host), room_id)

    async def live_rooms(self, limit: int) -> list[dict]:
        """The rooms running on every process, newest first (those elsewhere list their humans only)."""
        here = self.game.live_rooms(limit)
        known = {room["room"] for room in here}
        elsewhere = [{"room": room_id, "started_at": record.started_at, "spectators": watchers,
                      "players": [{"id": p.id, "username": p.username, "bot": False} for p in record.players]}
                     for room_id, record, watchers in await self.link.live_rooms(
                         name for name, presence in self.instances.items() if name != self.instance)
                     if room_id not in known]
        return sorted(here + elsewhere, key=lambda room: room["started_at"], reverse=True)[:limit]

    def _hosts(self) -> list[str]:
        """The other processes that may take a room, fewest rooms first (the hand-off checks each is alive)."""
        takers = [(presence.rooms, name) for name, presence in self.instances.items()
                  if name != self.instance and not presence.draining]
        return [name for _, name in sorted(takers)]

    def stats(self) -> dict:
        now = time.time()
        return {"instance": self.instance, "redis": "ok" if self.available else "unavailable",
                "draining": self.draining,
                "queue": self.queue_length,
                "instances": [{"instance": name, "url": info.url, "rooms": info.rooms, "sockets": info.sockets,
                               "last_heartbeat": round(now - info.beat, 1)}
                              for name, info in sorted(self.instances.items())]}

    # Background work

    async def heartbeat(self) -> None:
        """Presence, the cluster's picture, re-assertion after a failure or data loss, and the janitor."""
        held = self.game.holdings()
        presence = Presence(self.url, len(held.rooms), len(held.users), time.time(), self.draining)
        was_alive, self.instances, self.queue_length = await self.link.beat(
            self.instance, presence, int(self.settings.CLUSTER_DEAD_AFTER * 1000))
        if not was_alive or self.dirty:
            await self._reassert()
        elif self._beats % self._renew_every == 0:
            await self.link.renew(held.users, held.rooms, held.seats)
        self._beats += 1
        if not self.available:
            log.info("Redis answers again: matchmaking resumes")
        self.available = True
        await self._retry_clean_ups()
        if await self.matchmaker.holds_lease():
            await self.matchmaker.clean_up_dead(self.instances)

    async def _reassert(self) -> None:
        """Everything this process holds, written again: after Redis lost it, nothing of record is lost."""
        held = self.game.holdings()
        rooms = {room_id: RoomRecord(self.instance, tuple(Player(*human) for human in humans), started_at)
                 for room_id, (humans, started_at) in held.rooms.items()}
        seats = {user_id: Seat(room_id, self.instance) for user_id, room_id in held.seats.items()}
        await self.link.reassert(self.instance, held.users, rooms, seats)
        now = self.game.clock()
        for ticket in held.queued:  # with the wait so far: the queue's promise (bots after N s) holds
            await self.link.add_ticket(ticket, self.instance, now - ticket.queued_at)
        self.dirty = False

    async def _retry_clean_ups(self) -> None:
        """Clean-ups that failed while Redis was away, tried again (each leaves the list when it succeeds)."""
        while self._retries:
            await self._retries[0]()
            self._retries.pop(0)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.settings.CLUSTER_HEARTBEAT)
            await self._quietly(self.heartbeat())

    async def _match(self) -> None:
        while True:
            await asyncio.sleep(self.settings.game.MATCH_INTERVAL)
            if self.available:
                await self._quietly(self._match_if_leader())

    async def _recheck(self) -> None:
        """Every ARENA_CLUSTER_RECHECK each live socket's token is checked again, so a revocation signal
        lost with a Redis outage still ends its session within that time."""
        while True:
            await asyncio.sleep(self.settings.CLUSTER_RECHECK)
            try:
                for session in self.game.connected_sessions():
                    await session.recheck()
            except StoreUnavailable:
                pass  # the store is away: try again next time

    async def _match_if_leader(self) -> None:
        if await self.matchmaker.holds_lease():
            await self.matchmaker.match_round(self.instances)

    async def _read(self) -> None:
        """The inbox (rooms to open, players to redirect, sessions replaced) and everyone's revocations."""
        while True:
            try:
                answer = await self.link.read(dict(self._stream_ids))
            except ClusterUnavailable:
                self._unavailable()
                await asyncio.sleep(self.settings.CLUSTER_HEARTBEAT)
                continue
            for stream, entries in answer or ():
                for entry_id, fields in entries:
                    self._stream_ids[stream] = entry_id
                    try:
                        self._handle(messages.decode(fields))
                    except Exception:
                        log.exception("cluster message %s failed", fields.get("type"))

    def _handle(self, message: messages.Message) -> None:
        game = self.game
        if isinstance(message, AdoptRoom):
            self._spawn(self.mover.adopt(message.room))
        elif isinstance(message, OpenRoom):
            if not game.runs(message.room):
                game.open_room([Ticket(p.id, p.username, p.score, 0.0) for p in message.players], message.room)
        elif isinstance(message, Redirect):
            game.redirect(message.user, message.url, message.room)
        elif isinstance(message, CloseSession):
            self._spawn(self._close_if_replaced(message.user))
        elif isinstance(message, Revoked) and message.origin != self.instance:
            self.on_revoked(Revocation(message.user, message.family, message.keep))

    async def _close_if_replaced(self, user_id: UserId) -> None:
        """Another process took the user's session: close ours, unless the user has meanwhile come back
        here (a redirect can outrun this message), which made this process the owner again."""
        session = self.game.session(user_id)
        if session is not None and await self.link.session_holder(user_id) != self.instance:
            session.close(protocol.CLOSE_REPLACED, "replaced")

    # Failures

    def _unavailable(self) -> None:
        if self.available:
            log.warning("Redis does not answer: matchmaking waits, running games go on")
        self.available = False
        self.dirty = True

    async def _quietly(self, work: Coroutine) -> None:
        try:
            await work
        except ClusterUnavailable:
            self._unavailable()
        except Exception:
            log.exception("cluster work failed")

    def _clean_up(self, work: Callable[[], Awaitable]) -> None:
        """A clean-up (a ticket, seat, session or room record to remove) run now; if Redis does not answer,
        it is kept and tried again at each heartbeat until it succeeds."""
        self._spawn(self._run(work, retry=True))

    def _for_user(self, user_id: UserId, work: Callable[[], Awaitable], retry: bool = False) -> None:
        """Run `work` after the user's earlier cluster work has finished: one user's queue, seat and
        session changes reach Redis in the order they happened (a re-queue never overtakes the free seat
        before it, a practice seat never a ticket still on its way)."""
        before = self._by_user.get(user_id)

        async def in_order() -> None:
            if before is not None:
                await asyncio.wait([before])
            await self._run(work, retry)

        task = self._spawn(in_order())
        self._by_user[user_id] = task
        task.add_done_callback(lambda done: self._by_user.get(user_id) is done and self._by_user.pop(user_id))

    async def _run(self, work: Callable[[], Awaitable], retry: bool) -> None:
        try:
            await work()
        except ClusterUnavailable:
            if retry:
                self._retries.append(work)
                del self._retries[:-RETRIES_KEPT]
            raise

    def _spawn(self, work: Coroutine) -> asyncio.Task:
        task = asyncio.ensure_future(self._quietly(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
