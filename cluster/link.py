"""The Redis connection of cluster mode: every command bounded by ARENA_REDIS_TIMEOUT, and the scripts
that make queue changes atomic (so correctness never depends on which process runs them)."""

import asyncio
from typing import Any, Awaitable

import redis.asyncio as redis
from redis.exceptions import RedisError

from cluster import keys
from game.matchmaker import Ticket


class ClusterUnavailable(RuntimeError):
    """Redis did not answer in time: matchmaking waits, games go on."""


# Queue a player, or (already queued elsewhere: a takeover) move their ticket here, keeping their wait;
# returns the seconds waited so far.
ADD_TICKET = """
local now = redis.call('TIME')
local at = tonumber(now[1]) + tonumber(now[2]) / 1000000
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing then
  local ticket = cjson.decode(existing)
  ticket.instance = ARGV[4]
  redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(ticket))
  return tostring(at - ticket.queued_at)
end
redis.call('ZADD', KEYS[1], at, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode({username = ARGV[2], score = tonumber(ARGV[3]),
                                                    instance = ARGV[4], queued_at = at}))
return "0"
"""

# Take a player's ticket out, only if it is still this instance's (a takeover may have moved it).
REMOVE_TICKET = """
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing and cjson.decode(existing).instance == ARGV[2] then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
return 0
"""

# Form a room: every player must still be queued; all leave the queue and get their seat, or nothing
# happens. Two matchmakers racing can never put a player in two rooms or create a room twice.
CLAIM = f"""
for i = 4, #ARGV do
  if not redis.call('HGET', KEYS[2], ARGV[i]) then return 0 end
end
if redis.call('EXISTS', '{keys.PREFIX}room:' .. ARGV[1]) == 1 then return 0 end
for i = 4, #ARGV do
  redis.call('HDEL', KEYS[2], ARGV[i])
  redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('SET', '{keys.PREFIX}seat:' .. ARGV[i], ARGV[1] .. ' ' .. ARGV[2])
end
redis.call('SET', '{keys.PREFIX}room:' .. ARGV[1], ARGV[3])
redis.call('SADD', '{keys.PREFIX}rooms:' .. ARGV[2], ARGV[1])
return 1
"""

# Take or renew the matchmaking lease.
LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

# Delete a key only while it holds the given value (or, with ARGV[2] = "prefix", starts with it).
DELETE_IF = """
local value = redis.call('GET', KEYS[1])
if value and (value == ARGV[1] or (ARGV[2] == 'prefix' and string.sub(value, 1, #ARGV[1]) == ARGV[1])) then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisLink:
    """Two clients on one Redis: commands, and blocking stream reads (which wait longer by design)."""

    def __init__(self, url: str, timeout: float, block_seconds: float):
        self.timeout = timeout
        self.block_seconds = block_seconds
        options = {"decode_responses": True, "socket_connect_timeout": timeout}
        self.client = redis.from_url(url, socket_timeout=timeout, **options)
        self.reader = redis.from_url(url, socket_timeout=timeout + block_seconds, **options)
        self.scripts = {name: self.client.register_script(source) for name, source in
                        {"add": ADD_TICKET, "remove": REMOVE_TICKET, "claim": CLAIM, "lease": LEASE,
                         "delete_if": DELETE_IF}.items()}

    async def call(self, command: Awaitable[Any], seconds: float = 0.0) -> Any:
        """Run one command (or pipeline, or script) within the timeout; ClusterUnavailable otherwise."""
        try:
            async with asyncio.timeout(self.timeout + seconds):
                return await command
        except (TimeoutError, RedisError, OSError) as exc:
            raise ClusterUnavailable(f"Redis did not answer: {exc or type(exc).__name__}") from exc

    def script(self, name: str, keys_: list[str], args: list[Any]) -> Awaitable[Any]:
        return self.scripts[name](keys=keys_, args=args)

    async def add_ticket(self, ticket: Ticket, instance: str) -> float:
        """Queue the player at `instance`, or move their ticket there keeping its wait; the seconds waited so far."""
        return float(await self.call(self.script(
            "add", [keys.QUEUE, keys.TICKETS], [ticket.user_id, ticket.username, ticket.score, instance])))

    async def remove_ticket(self, user_id: int, instance: str) -> None:
        """The player leaves the queue, if their ticket is still `instance`'s (a takeover may have moved it)."""
        await self.call(self.script("remove", [keys.QUEUE, keys.TICKETS], [user_id, instance]))

    async def free_seat(self, user_id: int, room_id: str) -> None:
        """The user's seat goes, if it is still in this room."""
        await self.call(self.script("delete_if", [keys.seat(user_id)], [f"{room_id} ", "prefix"]))

    async def release_session(self, user_id: int, instance: str) -> None:
        """The user's session key goes, if it still names this instance (a newer socket elsewhere keeps it)."""
        await self.call(self.script("delete_if", [keys.session(user_id)], [instance, "exact"]))

    async def forget_room(self, room_id: str, host: str) -> None:
        pipe = self.client.pipeline(transaction=False)
        pipe.delete(keys.room(room_id))
        pipe.srem(keys.rooms(host), room_id)
        await self.call(pipe.execute())

    async def read(self, streams: dict[str, str]) -> list:
        """New entries of the streams after the given ids, waiting up to block_seconds for some."""
        return await self.call(self.reader.xread(streams, block=int(self.block_seconds * 1000)), self.block_seconds)

    async def close(self) -> None:
        for client in (self.client, self.reader):
            try:
                await asyncio.wait_for(client.aclose(), self.timeout)
            except (TimeoutError, RedisError, OSError):
                pass
