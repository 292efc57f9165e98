"""The cluster's matchmaker and janitor, run by whichever process holds the lease.

Correctness never depends on the lease: rooms are claimed by a script that takes every player or none,
so two matchmakers at once (a lease that changed hands mid-round) cannot seat anyone twice.
"""

import logging
import uuid
from collections import Counter
from datetime import datetime, timezone
from typing import Callable

from cluster.link import RedisLink
from cluster.messages import OpenRoom, Player, Presence, QueueEntry, Redirect, RoomRecord
from game.matchmaker import Matchmaker, Ticket
from settings import GameSettings
from store.database import Store
from store.documents import GameResult, PlayerResult, utcnow

log = logging.getLogger("arena.cluster")


class ClusterMatchmaker:
    def __init__(self, link: RedisLink, instance: str, settings: GameSettings, store: Store,
                 url_of: Callable[[str], str], fresh_ms: int = 1):
        self.link = link
        self.fresh_ms = fresh_ms  # a process whose heartbeat is older is not sent players (RedisLink.living)
        self.instance = instance
        self.settings = settings
        self.store = store
        self.url_of = url_of  # an instance's public WebSocket URL
        self.lease_ms = int(max(3.0, 3 * settings.MATCH_INTERVAL) * 1000)

    async def holds_lease(self) -> bool:
        return await self.link.hold_lease(self.instance, self.lease_ms)

    async def match_round(self, instances: dict[str, Presence]) -> int:
        """Form every room the queue allows now (the same rules as one process); return how many.

        Only players queued on a live process that is not stopping are matched: one whose process died
        would be seated and never come (`instances` is the cluster's picture, liveness is asked afresh).
        """
        now = await self.link.server_time()
        entries = await self.link.queue()
        open_to_play = await self.link.living({entry.instance for entry in entries} - {
            name for name, presence in instances.items() if presence.draining}, self.fresh_ms)
        queued = {entry.ticket.user_id: entry for entry in entries if entry.instance in open_to_play}
        matchmaker = Matchmaker(self.settings)
        for entry in queued.values():
            matchmaker.add(entry.ticket)
        rooms, bot_filled = matchmaker.match(now)
        formed = 0
        for group in rooms + bot_filled:
            if await self._claim(group, now, queued):
                formed += 1
        return formed

    async def _claim(self, group: list[Ticket], now: float, queued: dict[int, QueueEntry]) -> bool:
        """A room on the process holding most of the group (this one on a tie); the others are redirected."""
        instances = Counter(queued[ticket.user_id].instance for ticket in group)
        host = max(instances, key=lambda name: (instances[name], name == self.instance))
        room_id = uuid.uuid4().hex
        players = tuple(Player(t.user_id, t.username, t.score) for t in group)
        if not await self.link.claim(room_id, RoomRecord(host, players, now), [t.user_id for t in group]):
            return False
        url = self.url_of(host)
        await self.link.send((host, OpenRoom(room_id, players)),
                             *((queued[t.user_id].instance, Redirect(t.user_id, room_id, url))
                               for t in group if queued[t.user_id].instance != host))
        return True

    async def clean_up_dead(self, instances: dict[str, Presence]) -> None:
        """Processes whose heartbeat stopped: their players leave the queue, their rooms end as abandoned."""
        for name in instances:
            if name != self.instance and not await self.link.is_alive(name):
                log.warning("instance %s stopped answering: cleaning up after it", name)
                await self.clean_up(name)

    async def clean_up(self, name: str) -> None:
        """Everything a process that is gone left: its queued players, rooms (abandoned), sessions, presence."""
        for entry in await self.link.queue():
            if entry.instance == name:
                await self.link.remove_ticket(entry.ticket.user_id, name)
        rooms, users = await self.link.held_by(name)
        for room_id in rooms:
            await self.abandon(room_id, name)
        for user_id in users:
            await self.link.release_session(user_id, name)
        await self.link.forget_instance(name)

    async def abandon(self, room_id: str, host: str) -> None:
        """A room whose host died (or lost it): recorded abandoned (no score change; once, whoever records it
        first), unless it has moved to another host."""
        record = await self.link.room(room_id)
        if record is not None and record.host != host:
            return
        if record is not None:
            await self.store.record_game(GameResult(
                id=room_id,
                players=tuple(PlayerResult(p.id, p.username, False, p.score, True) for p in record.players),
                winner=None, started_at=datetime.fromtimestamp(record.started_at, timezone.utc), ended_at=utcnow(),
                score_changes={}, abandoned=True, rated=False))
            for player in record.players:
                await self.link.free_seat(player.id, room_id)
        await self.link.forget_room(room_id, host)
