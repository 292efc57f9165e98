"""What a player may ask for in a game: each intent's fields, read from its frame, and what it does to the
match, in one table. The socket, the game and the room dispatch through it, and a replay is exactly
these intents, tick by tick.
"""

from dataclasses import dataclass
from typing import Callable, Optional

from game import protocol
from game.protocol import read_room, read_target, read_text
from game.rules import Match

Payload = dict
Act = Callable[[Match, int, Payload], Optional[dict]]  # applied at a tick; returns the event to broadcast


@dataclass(frozen=True)
class Intent:
    read: Callable[[dict], Payload]  # the frame's fields, checked; ValueError says what is wrong
    act: Optional[Act]  # None: the game applies it at once, outside the match (leave)


def _move(match: Match, player_id: int, target: Payload) -> None:
    match.move_to(player_id, target["tx"], target["ty"])


def _shoot(match: Match, player_id: int, target: Payload) -> dict:
    ball = match.shoot_fireball(player_id, target["tx"], target["ty"])
    return {"event": protocol.SHOOT_FIREBALL, "player": player_id, "fireball": ball.id, **target}


def _blink(match: Match, player_id: int, target: Payload) -> None:
    match.blink(player_id, target["tx"], target["ty"])


def _chat(match: Match, player_id: int, message: Payload) -> dict:
    return match.chat(player_id, message["text"])


INTENTS: dict[str, Intent] = {
    protocol.MOVE_TO: Intent(read_target, _move),
    protocol.SHOOT_FIREBALL: Intent(read_target, _shoot),
    protocol.BLINK: Intent(read_target, _blink),
    protocol.MESSAGE: Intent(read_text, _chat),
    protocol.LEAVE: Intent(lambda frame: {}, None),  # a player who is out leaves the room and queues again
    protocol.PRACTICE: Intent(lambda frame: {}, None),  # a waiting player starts a game against bots at once
    protocol.SPECTATE: Intent(read_room, None),  # a player not in a game watches one, delayed
}


def act(match: Match, player_id: int, name: str, payload: Payload) -> Optional[dict]:
    """Apply a queued intent to the match; the event to broadcast, if any. Raises rules.Refused."""
    return INTENTS[name].act(match, player_id, payload)
