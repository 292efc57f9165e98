"""The in-process game: who is connected, who waits, which rooms run, and the loop that drives them.

The WebSocket handler talks to the game through `connect`, `handle` and `disconnect` with objects
that satisfy `room.Session`; the game knows nothing of HTTP or tokens.
"""

import asyncio
import itertools
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Optional, Protocol

from game import protocol, replay
from metrics import Metrics
from game.loop import FixedTimestepLoop
from game.matchmaker import Matchmaker, Ticket
from game.results import ResultRecorder
from game.protocol import encode, error_frame
from game.room import Room, Session
from game.spectators import Spectators
from settings import GameSettings
from store.documents import GameResult, PlayerResult, UserId, utcnow

log = logging.getLogger("arena.game")
BOT_NAMES = ("Robot Ada", "Robot Bix", "Robot Cog", "Robot Dot", "Robot Eve")
IN_GAME_ERROR = error_frame(protocol.IN_GAME, "you are in a game: finish it, or leave it once you are out")


@dataclass(frozen=True)
class Holdings:
    """What this process holds at one moment: connected users, running rooms (their humans as (id,
    username, score) and when they started, epoch seconds), seats by user, and who waits here."""

    users: list[UserId]
    rooms: dict[str, tuple[list[tuple[UserId, str, int]], float]]
    seats: dict[UserId, str]
    queued: list[Ticket]


class SharedQueue(Protocol):
    """Cluster mode's matchmaking, shared by every process (cluster/): it forms the rooms and calls
    `open_room` or `redirect` here. Without one, this process matches its own queue."""

    def add(self, ticket: Ticket) -> None: ...

    def remove(self, user_id: UserId) -> None: ...

    def waiting(self) -> int: ...

    def seat_freed(self, user_id: UserId, room_id: str) -> None: ...

    def room_over(self, room: Room) -> None: ...

    def practice(self, ticket: Ticket, room_id: str) -> None: ...

    def spectate(self, session: Session, room_id: str) -> None:
        """A room this process does not run: redirect the spectator to its host, or tell them it is gone."""

    def watchers(self, room_id: str, count: int) -> None:
        """How many watch a room here (the live list shows it on every process)."""


class Game:
    """Sessions, the matchmaking queue, running rooms and their results."""

    def __init__(self, settings: GameSettings, results: ResultRecorder,
                 rng: Optional[random.Random] = None, clock: Callable[[], float] = time.monotonic,
                 metrics: Optional[Metrics] = None, spectate_delay: float = 3.0, spectators_per_room: int = 50):
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.rng = rng or random.Random()
        self.clock = clock
        self.sessions: dict[UserId, Session] = {}
        self.seats: dict[UserId, Room] = {}
        self.rooms: dict[str, Room] = {}
        self.matchmaker = Matchmaker(settings)
        self.results = results
        self.loop = FixedTimestepLoop(settings.TICK_RATE, self.step, clock, self.metrics)
        self.ticks_per_snapshot = max(1, round(settings.TICK_RATE / settings.SNAPSHOT_RATE))
        self.ticks_per_match = max(1, round(settings.TICK_RATE * settings.MATCH_INTERVAL))
        self.accepting = True
        self.spectators = Spectators(spectate_delay, spectators_per_room, clock, self._watchers_counted)
        self._rooms_gone: Optional[asyncio.Event] = None  # while a drain waits for the last room to end
        self.shared: Optional[SharedQueue] = None  # set in cluster mode
        self._bot_ids = itertools.count(-1, -1)  # user ids are positive: bot ids never collide

    def start(self) -> None:
        self.loop.start()
        self.results.start()

    def stats(self, ticks: int) -> dict:
        """What an operator watches: rooms, sessions, the queue, and the last `ticks` tick durations."""
        return {"rooms": len(self.rooms), "sessions": len(self.sessions), "queued": len(self.matchmaker.queue),
                "tick": self.loop.tick, "tick_ms": self.loop.durations_ms(ticks)}

    # What the process holds (the cluster publishes it)

    def connected_sessions(self) -> list[Session]:
        """Every authenticated connection, as a list (a close during iteration changes nothing)."""
        return list(self.sessions.values())

    def session(self, user_id: UserId) -> Optional[Session]:
        return self.sessions.get(user_id)

    def queued(self) -> list[Ticket]:
        return list(self.matchmaker.queue.values())

    def is_queued(self, user_id: UserId) -> bool:
        return user_id in self.matchmaker.queue

    def is_seated(self, user_id: UserId) -> bool:
        return user_id in self.seats

    def runs(self, room_id: str) -> bool:
        return room_id in self.rooms

    def running_rooms(self) -> list[str]:
        return list(self.rooms)

    def holdings(self) -> "Holdings":
        return Holdings(users=list(self.sessions),
                        rooms={room.id: (room.roster(), room.started_at) for room in self.rooms.values()},
                        seats={user_id: room.id for user_id, room in self.seats.items()},
                        queued=self.queued())

    # Sessions

    def connect(self, session: Session, waited: float = 0.0) -> None:
        """An authenticated connection: replaces the user's previous one, rejoins a seat or queues
        (counting `waited` seconds already spent in the queue through another process)."""
        previous = self.sessions.get(session.user_id)
        self.sessions[session.user_id] = session
        if previous is not None and previous is not session:
            previous.close(protocol.CLOSE_REPLACED, "replaced")
        welcome = encode({"event": protocol.WELCOME, "user": {
            "id": session.user_id, "username": session.username, "score": session.score}})
        room = self.seats.get(session.user_id)
        if room is not None:
            room.attach(session, welcome)
            return
        if not self.accepting:
            session.send(welcome, encode({"event": protocol.SERVER_DRAINING}))
            session.close(protocol.CLOSE_GOING_AWAY, "server draining")
            return
        if session.user_id not in self.matchmaker.queue:
            self._queue(session, waited)
        session.send(welcome, self._queued_frame(session.user_id))

    def _queue(self, session: Session, waited: float = 0.0) -> None:
        ticket = Ticket(session.user_id, session.username, session.score, self.clock() - waited,
                        session.rating.mu, session.rating.sigma)
        self.matchmaker.add(ticket)
        if self.shared is not None:
            self.shared.add(ticket)

    def disconnect(self, session: Session) -> bool:
        """The connection is gone; if it was the user's current one, they leave the queue or go idle
        (and True: a replaced connection changes nothing)."""
        if self.sessions.get(session.user_id) is not session:
            return False  # replaced: the new connection owns the seat now
        del self.sessions[session.user_id]
        self.spectators.leave(session.user_id)
        if session.user_id in self.matchmaker.queue:
            self.matchmaker.remove(session.user_id)
            if self.shared is not None and self.accepting:  # draining: the ticket waits for them elsewhere
                self.shared.remove(session.user_id)
        room = self.seats.get(session.user_id)
        if room is not None:
            room.detach(session.user_id)
        return True

    def handle(self, session: Session, event: str, payload: dict) -> None:
        """A game intention from a client, applied at the next tick (`leave` at once)."""
        room = self.seats.get(session.user_id)
        if session.user_id in self.spectators:
            if event == protocol.LEAVE:
                self.spectators.leave(session.user_id)
                self._queue_again(session)
            else:
                session.send(error_frame(protocol.SPECTATOR, "spectators do not act; send leave to stop watching"))
        elif event == protocol.SPECTATE:
            self._spectate(session, room, payload["room"])
        elif event == protocol.PRACTICE:
            self._practice(session, room)
        elif room is None and event == protocol.LEAVE and session.user_id not in self.matchmaker.queue:
            self._queue_again(session)  # idle (a watched game ended): back to the queue
        elif room is None:
            session.send(error_frame(protocol.NOT_IN_GAME, "wait for game_start before playing"))
        elif event == protocol.LEAVE:
            self._leave_room(session, room)
        else:
            room.enqueue(session.user_id, event, payload)

    def _spectate(self, session: Session, seat: Optional[Room], room_id: str) -> None:
        """Watch a running room, its frames `spectate_delay` seconds late; out of the queue meanwhile."""
        if seat is not None:
            session.send(IN_GAME_ERROR)
            return
        room = self.rooms.get(room_id)
        if room is None:
            if self.shared is not None:
                self.shared.spectate(session, room_id)
            else:
                session.send(error_frame(protocol.NO_SUCH_GAME, "no game runs in that room"))
            return
        if self.spectators.full(room):
            session.send(error_frame(protocol.SPECTATORS_FULL, "this game has all the spectators it takes"))
            return
        self._unqueue(session.user_id)
        self.spectators.join(session, room)

    def _watchers_counted(self, room_id: str, count: int) -> None:
        if self.shared is not None:
            self.shared.watchers(room_id, count)

    def audience_of(self, room_id: str) -> list[Session]:
        room = self.rooms.get(room_id)
        return [] if room is None or room.audience is None else list(room.audience.sessions.values())

    def live_rooms(self, limit: int) -> list[dict]:
        """The rooms running here, newest first: who plays, since when, how many watch."""
        newest = sorted(self.rooms.values(), key=lambda room: room.started_at, reverse=True)[:limit]
        return [{"room": room.id, "started_at": room.started_at, "spectators": len(room.audience or ()),
                 "players": [{"id": p.id, "username": p.username, "bot": p.bot} for p in room.match.players.values()]}
                for room in newest]

    def _unqueue(self, user_id: UserId) -> None:
        if user_id in self.matchmaker.queue:
            self.matchmaker.remove(user_id)
            if self.shared is not None:
                self.shared.remove(user_id)

    def _queue_again(self, session: Session) -> None:
        if self.accepting and session.user_id not in self.matchmaker.queue:
            self._queue(session)
            session.send(self._queued_frame(session.user_id))

    def _practice(self, session: Session, room: Optional[Room]) -> None:
        """A game against bots, at once and unrated, in place of the player's wait (cluster mode: here,
        where the player is)."""
        if room is not None:
            session.send(IN_GAME_ERROR)
            return
        if not self.accepting:
            session.send(encode({"event": protocol.SERVER_DRAINING}))
            return
        ticket = self.matchmaker.queue.get(session.user_id) or Ticket(session.user_id, session.username,
                                                                      session.score, self.clock())
        room_id = uuid.uuid4().hex
        if self.shared is not None:
            self.shared.practice(ticket, room_id)
        self.open_room([ticket], room_id, practice=True)

    def _leave_room(self, session: Session, room: Room) -> None:
        """A player who is out leaves their room and queues again on the same connection."""
        if room.match.players[session.user_id].alive:
            session.send(error_frame(protocol.STILL_ALIVE, "only a player who is out can leave; "
                                                           "closing the connection forfeits"))
            return
        room.release(session.user_id)
        del self.seats[session.user_id]
        if self.shared is not None:
            self.shared.seat_freed(session.user_id, room.id)
        self._queue_again(session)

    def running_game(self, user_id: UserId) -> Optional[dict]:
        """The game the user is still alive in: its room, and the seconds left to rejoin it when no
        connection of theirs is in it (None while one is)."""
        room = self.seats.get(user_id)
        player = room.match.players[user_id] if room is not None else None
        if player is None or not player.alive:
            return None
        left = None if player.connected else self.settings.RECONNECT_GRACE - (room.match.time - player.disconnected_at)
        return {"room": room.id, "rejoin_within": None if left is None else round(max(0.0, left), 1)}

    # Matchmaking and rooms

    def _queued_frame(self, user_id: int) -> bytes:
        ticket = self.matchmaker.queue[user_id]
        waiting = len(self.matchmaker.queue) if self.shared is None else max(1, self.shared.waiting())
        return encode({"event": protocol.QUEUED, "waiting": waiting,
                       "waited": round(self.clock() - ticket.queued_at, 1),
                       "bots_after": self.settings.BOT_FILL_AFTER})

    def run_matchmaking(self) -> None:
        """Form rooms from this process's queue (in cluster mode the shared queue does), then tell
        whoever still waits how long they have."""
        if self.shared is None:
            rooms, bot_filled = self.matchmaker.match(self.clock())
            for group in rooms + bot_filled:
                self.open_room(group)
        for user_id in list(self.matchmaker.queue):  # a send may drop a slow consumer, leaving the queue
            session = self.sessions.get(user_id)
            if session is not None and user_id in self.matchmaker.queue:
                session.send(self._queued_frame(user_id))

    def open_room(self, tickets: list[Ticket], room_id: Optional[str] = None, practice: bool = False) -> Room:
        """A room for these players, filled up with bots. A player connected to another process (cluster
        mode) gets a seat with no connection: they have GAME_RECONNECT_GRACE to come and take it."""
        room = Room(room_id or uuid.uuid4().hex, self.settings, self.rng.getrandbits(63),
                    snapshot_phase=len(self.rooms) % self.ticks_per_snapshot, practice=practice)
        room.tick = self.loop.tick
        room.on_over = self._finish
        now = self.clock()
        for ticket in tickets:
            local = self.matchmaker.queue.get(ticket.user_id)
            self.metrics.queue_wait_seconds.observe(now - local.queued_at if local else 0.0)
            self.matchmaker.remove(ticket.user_id)
            session = self.sessions.get(ticket.user_id)
            room.seat(session, ticket.user_id, ticket.username, ticket.score)
            if session is None:  # connected to another process (cluster mode): on the way here
                room.await_arrival(ticket.user_id)
            self.seats[ticket.user_id] = room
        for name in self._bot_names(self.settings.ROOM_CAPACITY - len(tickets)):
            room.seat(None, next(self._bot_ids), name, 0, bot=True)
        self.rooms[room.id] = room
        for user_id in room.humans:
            session = room.sessions[user_id]
            if session is not None:
                session.send(room.game_start_frame(user_id), room.snapshot_frame(room.tick))
        return room

    def release_room(self, room_id: str) -> dict:
        """Stop running a room here (a hand-off in cluster mode): its state between two ticks. Its seats
        here go; its players' connections stay, to be sent where it runs next."""
        room = self.rooms.pop(room_id)
        for user_id in room.humans:
            self.seats.pop(user_id, None)
        self.spectators.room_gone(room)  # they follow the room (cluster.handoff), and ask to watch again there
        self._room_gone()
        return room.export()

    def adopt_room(self, state: dict) -> Room:
        """Run a room another process stopped running: the same match, the humans seated with no
        connection yet (each has GAME_RECONNECT_GRACE to come); one already here is attached at once."""
        if state["id"] in self.rooms:
            return self.rooms[state["id"]]
        room = Room.restore(state, self.settings, snapshot_phase=len(self.rooms) % self.ticks_per_snapshot)
        room.tick, room.on_over = self.loop.tick, self._finish
        self.rooms[room.id] = room
        for user_id in room.humans:
            self.seats[user_id] = room
            session = self.sessions.get(user_id)
            if session is None:
                room.detach(user_id)
            else:
                room.attach(session)
        return room

    def drain(self) -> None:
        """The server is stopping: no new games; everyone connected is told."""
        self.accepting = False
        frame = encode({"event": protocol.SERVER_DRAINING})
        for session in self.connected_sessions():
            session.send(frame)

    async def rooms_ended(self, timeout: float) -> bool:
        """Wait, up to `timeout` seconds, until no room runs here (they end, or move); whether none does."""
        if self.rooms:
            self._rooms_gone = asyncio.Event()
            try:
                await asyncio.wait_for(self._rooms_gone.wait(), timeout)
            except asyncio.TimeoutError:
                pass
            self._rooms_gone = None
        return not self.rooms

    def _room_gone(self) -> None:
        if not self.rooms and self._rooms_gone is not None:
            self._rooms_gone.set()

    def close_queued(self, code: int, reason: str) -> None:
        """Close the connections of everyone still waiting for a room (they reconnect elsewhere)."""
        for ticket in self.queued():
            session = self.sessions.get(ticket.user_id)
            if session is not None:
                session.close(code, reason)

    def redirect(self, user_id: UserId, url: str, room_id: str) -> None:
        """Cluster mode: the user's room runs on another process; their connection here is told where
        (unless they started a game here meanwhile: a practice game that raced the matchmaker)."""
        if user_id in self.seats:
            return
        self.matchmaker.remove(user_id)
        session = self.sessions.get(user_id)
        if session is not None:
            self.send_elsewhere(session, url, room_id)

    @staticmethod
    def send_elsewhere(session: Session, url: str, room_id: str) -> None:
        """`redirect` to the process at `url`, then close 4004: the client reconnects there."""
        session.send(encode({"event": protocol.REDIRECT, "url": url, "room": room_id}))
        session.close(protocol.CLOSE_MOVED, "moved")

    def _bot_names(self, count: int) -> list[str]:
        """Distinct names for `count` bots: the robots' names, numbered once they run out."""
        names = self.rng.sample(BOT_NAMES, min(count, len(BOT_NAMES)))
        return names + [f"Robot {n}" for n in range(len(BOT_NAMES) + 1, count + 1)]

    def step(self, dt: float, tick: int) -> None:
        """One tick of every room, the snapshots due this tick, and matchmaking once a MATCH_INTERVAL.

        A room whose step fails is abandoned (its players get `game_over`); the others play on.
        """
        snapshot_slot = tick % self.ticks_per_snapshot
        for room in list(self.rooms.values()):
            try:
                room.step(dt, tick)
                if room.snapshot_phase == snapshot_slot and room.id in self.rooms:
                    room.broadcast(room.snapshot_frame(tick))
            except Exception:
                log.exception("room %s failed; abandoning its game", room.id, extra={"room": room.id})
                if room.id in self.rooms:
                    self._finish(room, abandoned=True)
            self.spectators.send_due(room)
        self.spectators.end_epilogues()
        if tick % self.ticks_per_match == 0 and self.accepting:
            try:
                self.run_matchmaking()
            except Exception:  # the rooms have had their tick; matchmaking tries again next round
                log.exception("matchmaking failed at tick %d", tick)

    def _finish(self, room: Room, abandoned: bool = False) -> None:
        """Game over: tell the players, free their seats, and record the result (once)."""
        match = room.match
        changes = {} if abandoned else match.score_changes()
        unrated = "abandoned" if abandoned else match.unrated_reason()
        places = match.places()
        recorded = replay.record(room.id, room.seed, self.settings, match.practice, match, room.recording,
                                 replay.result_of(match, abandoned, changes))
        room.broadcast(room.snapshot_frame(room.tick))
        room.broadcast(encode({"event": protocol.GAME_OVER, "winner": None if abandoned else match.winner,
                               "scores": {str(uid): change for uid, change in changes.items()},
                               "abandoned": abandoned, "rated": unrated is None, "unrated": unrated,
                               "places": {str(uid): place for uid, place in places.items()}}))
        del self.rooms[room.id]
        for user_id in room.humans:
            self.seats.pop(user_id, None)
        self.spectators.room_over(room)
        self._room_gone()
        if self.shared is not None:
            self.shared.room_over(room)
        self.results.submit(GameResult(
            id=room.id,
            players=tuple(PlayerResult(p.id, p.username, p.bot, p.score, p.alive, p.place)
                          for p in match.players.values()),
            winner=None if abandoned else match.winner,
            started_at=datetime.fromtimestamp(room.started_at, timezone.utc),
            ended_at=utcnow(),
            score_changes=changes,
            abandoned=abandoned,
            rated=unrated is None,
            practice=match.practice,
            replay=recorded,
            ranks=match.human_ranks() if unrated is None else {},
        ))

    async def shutdown(self) -> None:
        """Stop matchmaking, abandon running games without score changes, write results, close sockets."""
        self.accepting = False
        await self.loop.stop()
        for room in list(self.rooms.values()):
            self._finish(room, abandoned=True)
        for session in list(self.sessions.values()):
            session.close(protocol.CLOSE_GOING_AWAY, "server shutting down")
        await self.results.close()
