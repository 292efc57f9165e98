"""Everything processes tell each other through Redis, typed: each shape is encoded and decoded here only.

Messages travel on streams (a process's inbox, or the signals every process reads); records are the
values of keys (docs/cluster.md lists every key). A Redis value that does not decode raises ValueError.
"""

import json
from dataclasses import asdict, dataclass
from typing import Optional, Union

from game.matchmaker import Ticket
from store.documents import UserId


@dataclass(frozen=True)
class Player:
    """A human as the cluster carries them between processes."""

    id: UserId
    username: str
    score: int


@dataclass(frozen=True)
class OpenRoom:
    """To a room's host: start this room with these players (they are seated there)."""

    room: str
    players: tuple[Player, ...]


@dataclass(frozen=True)
class AdoptRoom:
    """To a room's new host: run it, from the state its old host handed off (keys.handoff)."""

    room: str


@dataclass(frozen=True)
class Redirect:
    """To the process holding a player's socket: their room runs at `url`."""

    user: UserId
    room: str
    url: str


@dataclass(frozen=True)
class CloseSession:
    """To the process holding a user's older socket: another process took the session."""

    user: UserId


@dataclass(frozen=True)
class Revoked:
    """To every process: a user's tokens (or one login's, `family`) were revoked by `origin`; the socket of
    the login `keep` stays open (auth.revocations.Revocation)."""

    user: UserId
    family: Optional[str]
    origin: str
    keep: Optional[str] = None


Message = Union[OpenRoom, AdoptRoom, Redirect, CloseSession, Revoked]
_KINDS = {"open_room": OpenRoom, "adopt_room": AdoptRoom, "redirect": Redirect, "close_session": CloseSession,
          "revoked": Revoked}
_NAMES = {kind: name for name, kind in _KINDS.items()}


def _players(players: tuple[Player, ...]) -> list[list]:
    return [[player.id, player.username, player.score] for player in players]


def encode(message: Message) -> dict[str, str]:
    """A stream entry's fields: `type` and the message's fields, as strings (the players as JSON rows)."""
    fields = {"type": _NAMES[type(message)]}
    for name in message.__dataclass_fields__:
        value = getattr(message, name)
        fields[name] = json.dumps(_players(value)) if name == "players" else "" if value is None else str(value)
    return fields


def decode(fields: dict[str, str]) -> Message:
    kind = _KINDS.get(fields.get("type", ""))
    if kind is None:
        raise ValueError(f"unknown message type {fields.get('type')!r}")
    if kind is OpenRoom:
        return OpenRoom(fields["room"], tuple(Player(*player) for player in json.loads(fields["players"])))
    if kind is AdoptRoom:
        return AdoptRoom(fields["room"])
    if kind is Redirect:
        return Redirect(int(fields["user"]), fields["room"], fields["url"])
    if kind is CloseSession:
        return CloseSession(int(fields["user"]))
    return Revoked(int(fields["user"]), fields.get("family") or None, fields["origin"], fields.get("keep") or None)


@dataclass(frozen=True)
class Seat:
    """`arena:seat:<user>`: the room a user holds a seat in, and the process running it."""

    room: str
    host: str

    def encode(self) -> str:
        return f"{self.room} {self.host}"

    @classmethod
    def decode(cls, value: str) -> "Seat":
        room, separator, host = value.partition(" ")
        if not separator:
            raise ValueError(f"not a seat: {value!r}")
        return cls(room, host)


@dataclass(frozen=True)
class RoomRecord:
    """`arena:room:<room>`: a running room's host, its humans, and when it started (epoch seconds)."""

    host: str
    players: tuple[Player, ...]
    started_at: float

    def encode(self) -> str:
        return json.dumps({"host": self.host, "players": _players(self.players), "started_at": self.started_at})

    @classmethod
    def decode(cls, value: str) -> "RoomRecord":
        data = json.loads(value)
        return cls(data["host"], tuple(Player(*player) for player in data["players"]), float(data["started_at"]))


@dataclass(frozen=True)
class QueueEntry:
    """`arena:tickets` → a waiting player's ticket (waits on Redis's clock) and the process holding them."""

    ticket: Ticket
    instance: str

    @classmethod
    def decode(cls, user: str, value: str) -> "QueueEntry":
        data = json.loads(value)
        return cls(Ticket(int(user), data["username"], int(data["score"]), float(data["queued_at"]),
                          float(data.get("mu", Ticket.mu)), float(data.get("sigma", Ticket.sigma))),
                   data["instance"])


@dataclass(frozen=True)
class Presence:
    """`arena:instances` → a process's public URL, what it holds, its last heartbeat (epoch seconds), and
    whether it is stopping (then it hosts no new room and takes no room handed off)."""

    url: str
    rooms: int
    sockets: int
    beat: float
    draining: bool = False

    def encode(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def decode(cls, value: str) -> "Presence":
        data = json.loads(value)
        return cls(data["url"], int(data.get("rooms", 0)), int(data.get("sockets", 0)), float(data.get("beat", 0)),
                   bool(data.get("draining", False)))
