"""Spectators of a room: they see what its players see, `delay` seconds late (a spectator cannot coach a
player), and never act. Frames wait in one queue per room, shared by its spectators; a spectator who
does not read is dropped like any slow consumer (the session's own limit), never waited on."""

from collections import deque
from typing import Optional

from game.room import Session


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
