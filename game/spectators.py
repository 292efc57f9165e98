"""Spectators of a room: they see what its players see, `delay` seconds late (a spectator cannot coach a
player), and never act. Frames wait in one queue per room, shared by its spectators; a spectator who
does not read is dropped like any slow consumer (the session's own limit), never waited on."""

from collections import deque
from typing import Callable, Optional

from game import protocol
from game.protocol import encode
from game.room import Room, Session


class Audience:
    def __init__(self, delay: float):
        self.delay = delay
        self.sessions: dict[int, Session] = {}
        self._waiting: deque[tuple[float, bytes]] = deque()  # (due at, frame), oldest first

    def __len__(self) -> int:
        return len(self.sessions)

    def add(self, session: Session, *first: bytes) -> None:
        """A new spectator: `first` (what the room looks like) at once, the room's frames from now on, late."""
        self.sessions[session.user_id] = session
        if first:
            session.send(*first)

    def remove(self, user_id: int) -> Optional[Session]:
        return self.sessions.pop(user_id, None)

    def record(self, frame: bytes, now: float) -> None:
        self._waiting.append((now + self.delay, frame))

    def flush(self, now: float) -> None:
        """Send every frame now due, in order, to every spectator."""
        due = []
        while self._waiting and self._waiting[0][0] <= now:
            due.append(self._waiting.popleft()[1])
        if due:
            for session in list(self.sessions.values()):
                session.send(*due)

    @property
    def caught_up(self) -> bool:
        return not self._waiting


class Spectators:
    """Who watches which room on this process: joining (capped per room), leaving, the delayed frames
    sent each tick, and a finished room's epilogue (its spectators get the frames still due, then watch
    nothing). `counted(room_id, spectators)` hears every change of a room's count (cluster mode shares it)."""

    def __init__(self, delay: float, per_room: int, clock: Callable[[], float],
                 counted: Callable[[str, int], None]):
        self.delay = delay
        self.per_room = per_room
        self.clock = clock
        self.counted = counted
        self.watching: dict[int, Room] = {}  # who watches which room
        self._epilogues: list[Room] = []  # finished rooms whose spectators still get their delayed frames

    def __contains__(self, user_id: int) -> bool:
        return user_id in self.watching

    def full(self, room: Room) -> bool:
        return room.audience is not None and len(room.audience) >= self.per_room

    def join(self, session: Session, room: Room) -> None:
        """`session` watches `room` from now on: `spectating` and the room's description at once."""
        if room.audience is None:
            room.audience, room.clock = Audience(self.delay), self.clock
        self.watching[session.user_id] = room
        self.counted(room.id, len(room.audience) + 1)
        room.audience.add(session, encode({"event": protocol.SPECTATING, "room": room.id, "delay": self.delay}),
                          room.game_start_frame(None))

    def leave(self, user_id: int) -> None:
        room = self.watching.pop(user_id, None)
        if room is not None and room.audience is not None:
            room.audience.remove(user_id)
            self.counted(room.id, len(room.audience))

    def room_gone(self, room: Room) -> None:
        """The room runs elsewhere now (a hand-off): its spectators stop here, and ask to watch it there."""
        for user_id in list(room.audience.sessions if room.audience is not None else ()):
            self.leave(user_id)

    def room_over(self, room: Room) -> None:
        if room.audience is not None:
            self._epilogues.append(room)

    def send_due(self, room: Room) -> None:
        """The room's frames whose delay has passed, to its spectators (each tick)."""
        if room.audience is not None:
            room.audience.flush(self.clock())

    def end_epilogues(self) -> None:
        """Finished rooms' spectators get the frames still due; once caught up, they watch no more."""
        for room in list(self._epilogues):
            room.audience.flush(self.clock())
            if room.audience.caught_up:
                self._epilogues.remove(room)
                for user_id in list(room.audience.sessions):
                    self.leave(user_id)
