"""A room: one match, the sessions seated in it, the intentions queued since the last tick."""

import random
import time
from typing import Any, Callable, Optional, Protocol

from game import protocol, stepping
from game.protocol import encode, error_frame
from game.replay import AWAITED, CONNECTED, DISCONNECTED, Recording
from game.rules import Match, Refused
from settings import GameSettings
from store.documents import Rating


class Session(Protocol):
    """An authenticated connection, as the game and the cluster see it (the WebSocket handler is one)."""

    user_id: int
    username: str
    score: int
    rating: Rating  # as it stood when the connection authenticated
    closed: bool  # the connection is gone or closing
    token_family: Optional[str]  # the login its token descends from: revoking that login closes it

    def send(self, *payloads: bytes) -> None:
        """Send each payload as one frame, in order (together, when the connection can)."""

    def close(self, code: int, reason: str) -> None: ...

    async def recheck(self) -> None:
        """Check its token again; a revoked one closes the connection."""


class Room:
    """Steps its match with the queued intentions and tells its players what happened."""

    def __init__(self, room_id: str, settings: GameSettings, seed: int, snapshot_phase: int = 0,
                 match: Optional[Match] = None, practice: bool = False):
        self.id = room_id
        self.settings = settings
        self.seed = seed  # the room's own random source: spawns and bots play out the same from the same seed
        self.match = match or Match(settings, random.Random(seed), practice=practice)
        self.rng = self.match.rng
        self.sessions: dict[int, Optional[Session]] = {}
        self.bots: list[int] = []
        self.inputs: list[tuple[int, str, dict]] = []
        self.recording = Recording()  # what a replay needs (game/replay.py)
        self.audience = None  # game.spectators.Audience once someone watches
        self.clock: Callable[[], float] = time.monotonic  # the game's clock (spectators' delay runs on it)
        self.snapshot_phase = snapshot_phase  # rooms send snapshots on different ticks, spreading the work
        self.started_at = time.time()
        self.tick = 0  # the loop's tick at the last step, stamped on snapshots
        self.on_over: Callable[["Room"], Any] = lambda room: None

    def export(self) -> dict:
        """The room's whole state between two ticks, as JSON-able data: what a hand-off carries to the
        process that runs it next (its players reconnect there)."""
        return {"id": self.id, "seed": self.seed, "started_at": self.started_at, "bots": self.bots,
                "seated": self.humans, "inputs": self.inputs, "match": self.match.export(),
                "recording": self.recording.export()}

    @classmethod
    def restore(cls, data: dict, settings: GameSettings, snapshot_phase: int) -> "Room":
        """A room exported by another process, its humans seated with no connection yet."""
        room = cls(data["id"], settings, data["seed"], snapshot_phase, Match.restore(settings, data["match"]))
        room.started_at, room.bots = data["started_at"], list(data["bots"])
        room.inputs = [tuple(entry) for entry in data["inputs"]]
        room.sessions = dict.fromkeys(data["seated"])
        room.recording = Recording(data["recording"]["steps"], data["recording"]["events"])
        return room

    def seat(self, session: Optional[Session], player_id: int, username: str, score: int, bot: bool = False) -> None:
        self.match.add_player(player_id, username, score, bot)
        if bot:
            self.bots.append(player_id)
        else:
            self.sessions[player_id] = session

    @property
    def humans(self) -> list[int]:
        return list(self.sessions)

    def roster(self) -> list[tuple[int, str, int]]:
        """Every human who played in the room (those who left too), as (id, username, score)."""
        return [(p.id, p.username, p.score) for p in self.match.players.values() if not p.bot]

    def attach(self, session: Session, *before: bytes) -> None:
        """A seated player's (new) connection: after `before`, they get the full picture again."""
        self.sessions[session.user_id] = session
        self.match.set_connected(session.user_id, True)
        self.recording.connection(session.user_id, CONNECTED)
        session.send(*before, self.game_start_frame(session.user_id), self.snapshot_frame(self.tick))

    def release(self, player_id: int) -> None:
        """A player who is out leaves: no more frames, no seat; their result still counts."""
        del self.sessions[player_id]

    def detach(self, player_id: int) -> None:
        self.sessions[player_id] = None
        if not self.match.over:
            self.match.set_connected(player_id, False)
            self.recording.connection(player_id, DISCONNECTED)

    def await_arrival(self, player_id: int) -> None:
        """A human seated while connected to another process: on the way (rules.Match.await_arrival)."""
        self.sessions[player_id] = None
        self.match.await_arrival(player_id)
        self.recording.connection(player_id, AWAITED)

    def game_start_frame(self, player_id: Optional[int]) -> bytes:
        s = self.settings
        players = [{"id": p.id, "username": p.username, "score": p.score, "bot": p.bot}
                   for p in self.match.players.values()]
        match = self.match
        return encode({"event": protocol.GAME_START, "room": self.id, "you": player_id, "players": players,
                       "practice": match.practice, "rated": not match.practice and len(self.sessions) >= 2,
                       "map": {"width": s.MAP_WIDTH, "height": s.MAP_HEIGHT}, "tick_rate": s.TICK_RATE,
                       "snapshot_rate": s.SNAPSHOT_RATE, "speed": s.PLAYER_SPEED, "hits_to_kill": s.HITS_TO_KILL,
                       "radius": s.PLAYER_RADIUS, "blink_range": s.BLINK_RANGE, "fireball_speed": s.FIREBALL_SPEED,
                       "fireball_range": s.FIREBALL_RANGE, "fireball_cooldown": s.FIREBALL_COOLDOWN,
                       "blink_cooldown": s.BLINK_COOLDOWN})

    def broadcast(self, frame: bytes) -> None:
        for session in self.sessions.values():
            if session is not None:
                session.send(frame)
        if self.audience is not None:
            self.audience.record(frame, self.clock())

    def enqueue(self, player_id: int, event: str, payload: dict) -> None:
        self.inputs.append((player_id, event, payload))

    def step(self, dt: float, tick: int) -> None:
        """Apply the queued intentions, let bots think, advance the match by `dt`, report events."""
        self.tick = tick
        inputs, self.inputs = self.inputs, []
        if inputs:
            self.recording.intents(inputs)
        outcomes, happened = stepping.step(self.match, self.bots, self.rng, inputs, dt)
        self.recording.steps += 1
        for player_id, outcome in outcomes:
            if isinstance(outcome, Refused):
                session = self.sessions.get(player_id)
                if session is not None:
                    session.send(error_frame(outcome.code, outcome.detail))
            else:
                self.broadcast(encode(outcome))
        for event in happened:
            self.broadcast(encode(event))
        if self.match.over:
            self.on_over(self)

    def snapshot_frame(self, tick: int) -> bytes:
        """The state encoded once; the same bytes go to every player of the room."""
        return encode(self.match.snapshot(tick))
