"""The Redis connection of cluster mode: every command the cluster sends, each bounded by ARENA_REDIS_TIMEOUT.

Nothing else in the cluster package touches the Redis client: each method here is one command, one
pipeline or one script (cluster/scripts.py), named for what it does to the cluster's keys.
"""

import asyncio
import time
from typing import Any, Awaitable, Iterable, Optional

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError, RedisError

from cluster import keys, messages
from cluster.messages import Message, Presence, QueueEntry, RoomRecord, Seat
from cluster.scripts import SCRIPTS
from game.matchmaker import Ticket
from metrics import Metrics
from store.documents import UserId

HEALTH_CHECK_SECONDS = 10  # a pooled connection idle longer is pinged before use (a Redis restart closed it)


class ClusterUnavailable(RuntimeError):
    """Redis did not answer in time: matchmaking waits, games go on."""


class RedisLink:
    """Two clients on one Redis: commands, and blocking stream reads (which wait longer by design)."""

    def __init__(self, url: str, timeout: float, block_seconds: float, lifetime: float,
                 metrics: Optional[Metrics] = None):
        self.timeout = timeout
        self.lifetime_ms = int(lifetime * 1000)  # of the keys a process owns and renews (sessions, seats, rooms)
        self.block_seconds = block_seconds
        self.metrics = metrics or Metrics()
        # A connection Redis closed (a restart) is reconnected and the command sent again, within the
        # timeout; a command that timed out is not (it may have run).
        retry = Retry(ExponentialWithJitterBackoff(cap=timeout / 4, base=0.01), 2,
                      supported_errors=(RedisConnectionError,))
        options = {"decode_responses": True, "socket_connect_timeout": timeout, "retry": retry,
                   "health_check_interval": HEALTH_CHECK_SECONDS}
        self.client = redis.from_url(url, socket_timeout=timeout, **options)
        self.reader = redis.from_url(url, socket_timeout=timeout + block_seconds, **options)
        self.scripts = {name: self.client.register_script(source) for name, source in SCRIPTS.items()}

    async def call(self, command: Awaitable[Any], blocking: float = 0.0) -> Any:
        """Run one command (or pipeline, or script) within the timeout (plus `blocking` seconds for a read
        that waits by design); ClusterUnavailable otherwise."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout + blocking):
                answer = await command
        except (TimeoutError, RedisError, OSError) as exc:
            self.metrics.redis_errors += 1
            raise ClusterUnavailable(f"Redis did not answer: {exc or type(exc).__name__}") from exc
        if not blocking:
            self.metrics.redis_seconds.observe(time.perf_counter() - started)
        return answer

    async def _script(self, name: str, keys_: list[str], args: list[Any]) -> Any:
        return await self.call(self.scripts[name](keys=keys_, args=args))

    def _pipeline(self):
        return self.client.pipeline(transaction=False)

    async def close(self) -> None:
        for client in (self.client, self.reader):
            try:
                await asyncio.wait_for(client.aclose(), self.timeout)
            except (TimeoutError, RedisError, OSError):
                pass

    # Presence

    async def ping(self) -> None:
        await self.call(self.client.ping())

    async def beat(self, instance: str, presence: Presence, dead_after_ms: int) -> tuple[bool, dict[str, Presence], int]:
        """Renew this process's presence; whether it was still alive before, every process's presence,
        and the queue's length."""
        pipe = self._pipeline()
        pipe.set(keys.alive(instance), "1", px=dead_after_ms, get=True)
        pipe.hset(keys.INSTANCES, instance, presence.encode())
        pipe.hgetall(keys.INSTANCES)
        pipe.zcard(keys.QUEUE)
        was_alive, _, everyone, queue_length = await self.call(pipe.execute())
        return was_alive is not None, {name: Presence.decode(value) for name, value in everyone.items()}, queue_length

    async def presence(self, instance: str) -> Optional[Presence]:
        value = await self.call(self.client.hget(keys.INSTANCES, instance))
        return None if value is None else Presence.decode(value)

    async def is_alive(self, instance: str) -> bool:
        return bool(await self.call(self.client.exists(keys.alive(instance))))

    async def hold_lease(self, instance: str, milliseconds: int) -> bool:
        return bool(await self._script("lease", [keys.LEASE], [instance, milliseconds]))

    async def server_time(self) -> float:
        """Redis's clock, seconds since the epoch: the one clock every process's queue waits are read on."""
        seconds, micros = await self.call(self.client.time())
        return seconds + micros / 1_000_000

    # The queue

    async def add_ticket(self, ticket: Ticket, instance: str, waited: float = 0.0) -> float:
        """Queue the player at `instance` (having waited `waited` seconds already), or move their ticket
        there keeping its wait; the seconds waited so far."""
        return float(await self._script("add_ticket", [keys.QUEUE, keys.TICKETS],
                                        [ticket.user_id, ticket.username, ticket.score, instance, max(0.0, waited),
                                         ticket.mu, ticket.sigma]))

    async def remove_ticket(self, user_id: UserId, instance: str) -> None:
        """The player leaves the queue, if their ticket is still `instance`'s (a takeover may have moved it)."""
        await self._script("remove_ticket", [keys.QUEUE, keys.TICKETS], [user_id, instance])

    async def queue(self) -> list[QueueEntry]:
        return [QueueEntry.decode(user, value) for user, value in (await self.call(self.client.hgetall(keys.TICKETS))).items()]

    async def claim(self, room_id: str, record: RoomRecord, users: list[UserId]) -> bool:
        """Seat every one of `users` in the room on its host, taking them out of the queue, or nobody."""
        seat = Seat(room_id, record.host)
        return bool(await self._script(
            "claim", [keys.QUEUE, keys.TICKETS, keys.room(room_id), keys.rooms(record.host), *map(keys.seat, users)],
            [room_id, record.encode(), seat.encode(), self.lifetime_ms, *users]))

    async def seat_alone(self, room_id: str, record: RoomRecord, user_id: UserId) -> None:
        """Seat one player in a room of their own on `record.host` (a practice game), out of the queue."""
        await self._script("seat_alone", [keys.QUEUE, keys.TICKETS, keys.room(room_id), keys.rooms(record.host),
                                          keys.seat(user_id)],
                           [room_id, record.encode(), Seat(room_id, record.host).encode(), user_id, self.lifetime_ms])

    # Throttles (cluster.windows)

    async def hit_window(self, key: str, limit: int, period: float, event: str) -> float:
        """Count `event` in the throttle window `key` unless full: 0, else the seconds until one leaves."""
        return await self._script("hit_window", [keys.throttle(key)], [limit, int(period * 1000), event]) / 1000

    async def count_window(self, key: str, period: float) -> int:
        return await self._script("count_window", [keys.throttle(key)], [int(period * 1000)])

    async def reset_window(self, key: str) -> None:
        await self.call(self.client.delete(keys.throttle(key)))

    # Sessions and seats

    async def take_session(self, user_id: UserId, instance: str) -> tuple[Optional[str], Optional[Seat]]:
        """Make this process the holder of the user's one session; the process that held it before, and
        the user's seat."""
        pipe = self._pipeline()
        pipe.set(keys.session(user_id), instance, get=True, px=self.lifetime_ms)
        pipe.sadd(keys.sessions(instance), user_id)
        pipe.get(keys.seat(user_id))
        previous, _, seat = await self.call(pipe.execute())
        return previous, Seat.decode(seat) if seat else None

    async def session_holder(self, user_id: UserId) -> Optional[str]:
        return await self.call(self.client.get(keys.session(user_id)))

    async def release_session(self, user_id: UserId, instance: str) -> None:
        """The user's session goes from `instance`, unless a newer socket elsewhere holds it now."""
        await self._script("delete_if", [keys.session(user_id)], [instance, "exact"])
        await self.call(self.client.srem(keys.sessions(instance), user_id))

    async def free_seat(self, user_id: UserId, room_id: str) -> None:
        """The user's seat goes, if it is still in this room."""
        await self._script("delete_if", [keys.seat(user_id)], [f"{room_id} ", "prefix"])

    async def reassert(self, instance: str, users: Iterable[UserId], rooms: dict[str, RoomRecord],
                       seats: dict[UserId, Seat]) -> None:
        """Write again everything this process holds (after a failure, or a Redis restart that lost it)."""
        pipe = self._pipeline()
        for user_id in users:
            pipe.set(keys.session(user_id), instance, px=self.lifetime_ms)
            pipe.sadd(keys.sessions(instance), user_id)
        for room_id, record in rooms.items():
            pipe.set(keys.room(room_id), record.encode(), nx=True, px=self.lifetime_ms)
            pipe.sadd(keys.rooms(instance), room_id)
        for user_id, seat in seats.items():
            pipe.set(keys.seat(user_id), seat.encode(), px=self.lifetime_ms)
        await self.call(pipe.execute())

    async def renew(self, users: Iterable[UserId], rooms: Iterable[str], seated: Iterable[UserId]) -> None:
        """Renew the lifetime of what a process holds: its users' sessions, its rooms' records and seats."""
        owned = [*map(keys.session, users), *map(keys.room, rooms), *map(keys.seat, seated)]
        if owned:
            await self._script("renew", owned, [self.lifetime_ms])

    # Rooms and processes

    async def hand_off(self, room_id: str, record: RoomRecord, old_host: str, state: str, seated: list[UserId],
                       keep_ms: int) -> bool:
        """Move a running room to `record.host` (see scripts.HAND_OFF); False if it did not move."""
        new_host = record.host
        fields = [item for pair in messages.encode(messages.AdoptRoom(room_id)).items() for item in pair]
        return bool(await self._script(
            "hand_off", [keys.room(room_id), keys.rooms(old_host), keys.rooms(new_host), keys.handoff(room_id),
                         keys.alive(new_host), keys.inbox(new_host), *map(keys.seat, seated)],
            [room_id, old_host, record.encode(), state, keep_ms, Seat(room_id, new_host).encode(), keys.INBOX_KEPT,
             self.lifetime_ms, *fields]))

    async def take_handoff(self, room_id: str) -> Optional[str]:
        """A room's handed-off state, taken (nobody else can take it again); None if there is none."""
        return await self.call(self.client.getdel(keys.handoff(room_id)))

    async def living(self, instances: Iterable[str], fresh_ms: int) -> set[str]:
        """Those of the processes that beat recently: their alive key has at least `fresh_ms` left (each
        beat sets it to the full CLUSTER_DEAD_AFTER), on Redis's clock, whatever the processes' clocks say."""
        names = list(instances)
        pipe = self._pipeline()
        for name in names:
            pipe.pttl(keys.alive(name))
        return {name for name, left in zip(names, await self.call(pipe.execute())) if left >= fresh_ms}

    async def set_watchers(self, room_id: str, count: int) -> None:
        if count:
            await self.call(self.client.set(keys.watchers(room_id), count, px=self.lifetime_ms))
        else:
            await self.call(self.client.delete(keys.watchers(room_id)))

    async def live_rooms(self, instances: Iterable[str]) -> list[tuple[str, RoomRecord, int]]:
        """Every room the processes host: its id, record and how many watch it."""
        pipe = self._pipeline()
        for instance in instances:
            pipe.smembers(keys.rooms(instance))
        room_ids = sorted({room for rooms in await self.call(pipe.execute()) for room in rooms})
        if not room_ids:
            return []
        pipe = self._pipeline()
        for room_id in room_ids:
            pipe.get(keys.room(room_id))
            pipe.get(keys.watchers(room_id))
        answers = await self.call(pipe.execute())
        return [(room_id, RoomRecord.decode(record), int(watchers or 0))
                for room_id, record, watchers in zip(room_ids, answers[::2], answers[1::2]) if record]

    async def room(self, room_id: str) -> Optional[RoomRecord]:
        value = await self.call(self.client.get(keys.room(room_id)))
        return None if value is None else RoomRecord.decode(value)

    async def forget_room(self, room_id: str, host: str) -> None:
        pipe = self._pipeline()
        pipe.delete(keys.room(room_id))
        pipe.srem(keys.rooms(host), room_id)
        await self.call(pipe.execute())

    async def held_by(self, instance: str) -> tuple[list[str], list[UserId]]:
        """The rooms a process hosts and the users connected to it."""
        pipe = self._pipeline()
        pipe.smembers(keys.rooms(instance))
        pipe.smembers(keys.sessions(instance))
        rooms, users = await self.call(pipe.execute())
        return list(rooms), [int(user) for user in users]

    async def forget_instance(self, instance: str) -> None:
        """A process found gone: its presence, holdings and inbox go."""
        pipe = self._pipeline()
        pipe.delete(keys.alive(instance), keys.sessions(instance), keys.rooms(instance), keys.inbox(instance))
        pipe.hdel(keys.INSTANCES, instance)
        await self.call(pipe.execute())

    # Messages

    async def send(self, *deliveries: tuple[str, Message]) -> None:
        """Each message to its process's inbox (`(instance, message)`), in one round trip."""
        pipe = self._pipeline()
        for instance, message in deliveries:
            pipe.xadd(keys.inbox(instance), messages.encode(message), maxlen=keys.INBOX_KEPT, approximate=True)
        await self.call(pipe.execute())

    async def publish(self, message: Message) -> None:
        """A message every process reads (the signals stream)."""
        await self.call(self.client.xadd(keys.SIGNALS, messages.encode(message), maxlen=keys.SIGNALS_KEPT,
                                         approximate=True))

    async def last_id(self, stream: str) -> str:
        """The id of a stream's newest entry (or 0-0): a reader starts after it."""
        newest = await self.call(self.client.xrevrange(stream, count=1))
        return newest[0][0] if newest else "0-0"

    async def read(self, streams: dict[str, str]) -> list:
        """New entries of the streams after the given ids, waiting up to block_seconds for some."""
        return await self.call(self.reader.xread(streams, block=int(self.block_seconds * 1000)),
                               blocking=self.block_seconds)
