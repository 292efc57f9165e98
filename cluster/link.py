"""The Redis connection of cluster mode: every command the cluster sends, each bounded by ARENA_REDIS_TIMEOUT.

Nothing else in the cluster package touches the Redis client: each method here is one command, one
pipeline or one script (cluster/scripts.py), named for what it does to the cluster's keys.
"""

import asyncio
from typing import Any, Awaitable, Iterable, Optional

import redis.asyncio as redis
from redis.exceptions import RedisError

from cluster import keys, messages
from cluster.messages import Message, Presence, QueueEntry, RoomRecord, Seat
from cluster.scripts import SCRIPTS
from game.matchmaker import Ticket
from store.documents import UserId


class ClusterUnavailable(RuntimeError):
    """Redis did not answer in time: matchmaking waits, games go on."""


class RedisLink:
    """Two clients on one Redis: commands, and blocking stream reads (which wait longer by design)."""

    def __init__(self, url: str, timeout: float, block_seconds: float):
        self.timeout = timeout
        self.block_seconds = block_seconds
        options = {"decode_responses": True, "socket_connect_timeout": timeout}
        self.client = redis.from_url(url, socket_timeout=timeout, **options)
        self.reader = redis.from_url(url, socket_timeout=timeout + block_seconds, **options)
        self.scripts = {name: self.client.register_script(source) for name, source in SCRIPTS.items()}

    async def call(self, command: Awaitable[Any], seconds: float = 0.0) -> Any:
        """Run one command (or pipeline, or script) within the timeout; ClusterUnavailable otherwise."""
        try:
            async with asyncio.timeout(self.timeout + seconds):
                return await command
        except (TimeoutError, RedisError, OSError) as exc:
            raise ClusterUnavailable(f"Redis did not answer: {exc or type(exc).__name__}") from exc

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

    async def is_alive(self, instance: str) -> bool:
        return bool(await self.call(self.client.exists(keys.alive(instance))))

    async def hold_lease(self, instance: str, milliseconds: int) -> bool:
        return bool(await self._script("lease", [keys.LEASE], [instance, milliseconds]))

    async def server_time(self) -> float:
        """Redis's clock, seconds since the epoch: the one clock every process's queue waits are read on."""
        seconds, micros = await self.call(self.client.time())
        return seconds + micros / 1_000_000

    # The queue

    async def add_ticket(self, ticket: Ticket, instance: str) -> float:
        """Queue the player at `instance`, or move their ticket there keeping its wait; the seconds waited so far."""
        return float(await self._script("add_ticket", [keys.QUEUE, keys.TICKETS],
                                        [ticket.user_id, ticket.username, ticket.score, instance]))

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
            [room_id, record.encode(), seat.encode(), *users]))

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
        pipe.set(keys.session(user_id), instance, get=True)
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
            pipe.set(keys.session(user_id), instance)
            pipe.sadd(keys.sessions(instance), user_id)
        for room_id, record in rooms.items():
            pipe.set(keys.room(room_id), record.encode(), nx=True)
            pipe.sadd(keys.rooms(instance), room_id)
        for user_id, seat in seats.items():
            pipe.set(keys.seat(user_id), seat.encode())
        await self.call(pipe.execute())

    # Rooms and processes

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

    async def forget_instance(self, instance: str, users: Iterable[UserId] = ()) -> None:
        """A process's presence, holdings and inbox go (it stopped, or was found dead); with `users`, the
        session keys it held too (a clean stop)."""
        pipe = self._pipeline()
        pipe.delete(keys.alive(instance), keys.sessions(instance), keys.rooms(instance), keys.inbox(instance))
        pipe.hdel(keys.INSTANCES, instance)
        for user_id in users:
            pipe.delete(keys.session(user_id))
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
        return await self.call(self.reader.xread(streams, block=int(self.block_seconds * 1000)), self.block_seconds)
