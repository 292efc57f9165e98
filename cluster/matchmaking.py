"""The cluster's matchmaker and janitor, run by whichever process holds the lease.

Correctness never depends on the lease: rooms are claimed by a script that takes every player or none,
so two matchmakers at once (a lease that changed hands mid-round) cannot seat anyone twice.
"""

import json
import logging
import uuid
from collections import Counter
from datetime import datetime, timezone
from typing import Callable

from cluster import keys
from cluster.link import RedisLink
from game.matchmaker import Matchmaker, Ticket
from settings import GameSettings
from store.database import Store
from store.documents import GameResult, PlayerResult, utcnow

log = logging.getLogger("arena.cluster")


def tickets_from(raw: dict[str, str]) -> dict[int, tuple[Ticket, str]]:
    """The shared queue as Tickets (waits on Redis's clock), each with the instance holding its player."""
    tickets = {}
    for user, encoded in raw.items():
        data = json.loads(encoded)
        tickets[int(user)] = (Ticket(int(user), data["username"], int(data["score"]), float(data["queued_at"])),
                              data["instance"])
    return tickets


class ClusterMatchmaker:
    def __init__(self, link: RedisLink, instance: str, settings: GameSettings, store: Store,
                 url_of: Callable[[str], str]):
        self.link = link
        self.instance = instance
        self.settings = settings
        self.store = store
        self.url_of = url_of  # an instance's public WebSocket URL
        self.lease_ms = int(max(3.0, 3 * settings.MATCH_INTERVAL) * 1000)

    async def holds_lease(self) -> bool:
        return bool(await self.link.call(self.link.script("lease", [keys.LEASE], [self.instance, self.lease_ms])))

    async def match_round(self) -> int:
        """Form every room the queue allows now (the same rules as one process); return how many."""
        client = self.link.client
        seconds, micros = await self.link.call(client.time())
        now = seconds + micros / 1_000_000
        queued = tickets_from(await self.link.call(client.hgetall(keys.TICKETS)))
        matchmaker = Matchmaker(self.settings)
        for ticket, _ in queued.values():
            matchmaker.add(ticket)
        rooms, bot_filled = matchmaker.match(now)
        formed = 0
        for group in rooms + bot_filled:
            instances = Counter(queued[ticket.user_id][1] for ticket in group)
            host = max(instances, key=lambda name: (instances[name], name == self.instance))
            if await self._claim(group, host, now, {t.user_id: queued[t.user_id][1] for t in group}):
                formed += 1
        return formed

    async def _claim(self, group: list[Ticket], host: str, now: float, instance_of: dict[int, str]) -> bool:
        room_id = uuid.uuid4().hex
        players = [[t.user_id, t.username, t.score] for t in group]
        document = keys.room_record(host, players, now)
        users = [t.user_id for t in group]
        claimed = await self.link.call(self.link.script(
            "claim", [keys.QUEUE, keys.TICKETS], [room_id, host, document, *users]))
        if not claimed:
            return False
        client = self.link.client
        pipe = client.pipeline(transaction=False)
        pipe.xadd(keys.inbox(host), {"type": "open_room", "room": room_id, "players": json.dumps(players)},
                  maxlen=keys.INBOX_KEPT, approximate=True)
        url = self.url_of(host)
        for user in users:
            if instance_of[user] != host:
                pipe.xadd(keys.inbox(instance_of[user]), {"type": "redirect", "user": user, "room": room_id, "url": url},
                          maxlen=keys.INBOX_KEPT, approximate=True)
        await self.link.call(pipe.execute())
        return True

    async def clean_up_dead(self, instances: dict[str, str]) -> None:
        """Processes whose heartbeat stopped: their players leave the queue, their rooms end as abandoned."""
        client = self.link.client
        for name in instances:
            if name != self.instance and not await self.link.call(client.exists(keys.alive(name))):
                log.warning("instance %s stopped answering: cleaning up after it", name)
                await self._clean_up(name)

    async def _clean_up(self, name: str) -> None:
        client = self.link.client
        for user, (_, instance) in tickets_from(await self.link.call(client.hgetall(keys.TICKETS))).items():
            if instance == name:
                await self.link.remove_ticket(user, name)
        for room_id in await self.link.call(client.smembers(keys.rooms(name))):
            await self._abandon(room_id, name)
        for user in await self.link.call(client.smembers(keys.sessions(name))):
            await self.link.release_session(int(user), name)
        pipe = client.pipeline(transaction=False)
        pipe.delete(keys.sessions(name), keys.rooms(name), keys.inbox(name))
        pipe.hdel(keys.INSTANCES, name)
        await self.link.call(pipe.execute())

    async def _abandon(self, room_id: str, host: str) -> None:
        """A room whose host died: recorded abandoned (no score change; once, whoever records it first)."""
        client = self.link.client
        encoded = await self.link.call(client.get(keys.room(room_id)))
        if encoded is not None:
            room = json.loads(encoded)
            await self.store.record_game(GameResult(
                id=room_id,
                players=tuple(PlayerResult(user, username, False, score, True) for user, username, score in room["players"]),
                winner=None, started_at=datetime.fromtimestamp(room["started_at"], timezone.utc), ended_at=utcnow(),
                score_changes={}, abandoned=True))
            for user, _, _ in room["players"]:
                await self.link.free_seat(user, room_id)
        await self.link.forget_room(room_id, host)
