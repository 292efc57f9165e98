"""Rooms moving between processes: a stopping process hands each running room, between two ticks, to a
live one; its players follow a redirect, and the game goes on there — the same room, positions, health
and result rules.

The move is one script (scripts.HAND_OFF): the room's record names one host at a time, so one process
runs the room, and its result is recorded once (the store applies a game id once, whoever writes it).
The new host adopts the room when the hand-off reaches its inbox, or as soon as one of its players
arrives, whichever is first.
"""

import json
import logging
from typing import Callable, Iterable

from cluster.link import ClusterUnavailable, RedisLink
from cluster.messages import Player, RoomRecord
from game import protocol
from game.game import Game

log = logging.getLogger("arena.cluster")
KEEP_SECONDS = 30.0  # how long a handed-off room waits for its new host to take it


class RoomMover:
    def __init__(self, link: RedisLink, instance: str, game: Game, url_of: Callable[[str], str],
                 candidates: Callable[[], Iterable[str]]):
        self.link = link
        self.instance = instance
        self.game = game
        self.url_of = url_of
        self.candidates = candidates  # live processes that take rooms, fewest rooms first

    async def hand_off_all(self) -> tuple[int, int]:
        """Every room this process runs, to another process: (moved, kept here)."""
        moved = kept = 0
        for room_id in self.game.running_rooms():
            if await self.hand_off(room_id):
                moved += 1
            else:
                kept += 1
        return moved, kept

    async def hand_off(self, room_id: str) -> bool:
        for target in self.candidates():
            watching = self.game.audience_of(room_id)
            state = self.game.release_room(room_id)
            if await self._move(room_id, target, state):
                url = self.url_of(target)
                for user_id in state["seated"]:
                    session = self.game.session(user_id)
                    if session is not None:
                        Game.send_elsewhere(session, url, room_id)
                for session in watching:  # spectators follow too, and ask to watch again there
                    Game.send_elsewhere(session, url, room_id)
                log.info("room %s handed off to %s", room_id, target, extra={"room": room_id})
                return True
            self.game.adopt_room(state)  # not moved: it goes on here
            for session in watching:  # they watched it from here: they reconnect and ask again
                session.close(protocol.CLOSE_GOING_AWAY, "server draining")
        return False

    async def _move(self, room_id: str, target: str, state: dict) -> bool:
        humans = tuple(Player(p["id"], p["username"], p["score"]) for p in state["match"]["players"] if not p["bot"])
        record = RoomRecord(target, humans, state["started_at"])
        try:
            return await self.link.hand_off(room_id, record, self.instance, json.dumps(state), state["seated"],
                                            int(KEEP_SECONDS * 1000))
        except ClusterUnavailable:  # it may have moved before the answer was lost: the record says
            try:
                moved = await self.link.room(room_id)
            except ClusterUnavailable:
                return False
            return moved is not None and moved.host == target

    async def adopt(self, room_id: str) -> bool:
        """Take and run a room handed off to this process; whether this process runs it now."""
        if self.game.runs(room_id):
            return True
        state = await self.link.take_handoff(room_id)
        if state is None:
            return False
        self.game.adopt_room(json.loads(state))
        log.info("room %s adopted", room_id, extra={"room": room_id})
        return True
