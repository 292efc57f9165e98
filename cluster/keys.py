"""Every Redis key and stream of cluster mode, with its type and lifetime (docs/cluster.md lists them)."""

PREFIX = "arena:"
QUEUE = PREFIX + "queue"  # ZSET user id -> queued at (Redis TIME, s); while the player waits
TICKETS = PREFIX + "tickets"  # HASH user id -> messages.QueueEntry JSON; while waiting
INSTANCES = PREFIX + "instances"  # HASH instance -> messages.Presence JSON; until the process is gone
LEASE = PREFIX + "matchmaker"  # STRING: the instance holding the matchmaking lease; PX a few match intervals
SIGNALS = PREFIX + "signals"  # STREAM of messages.Revoked, read by every process; capped at SIGNALS_KEPT
SIGNALS_KEPT = 10_000
INBOX_KEPT = 10_000


def alive(instance: str) -> str:
    """STRING "1" with PX ARENA_CLUSTER_DEAD_AFTER, renewed every heartbeat: gone means the process is."""
    return f"{PREFIX}alive:{instance}"


def inbox(instance: str) -> str:
    """STREAM of messages (OpenRoom, Redirect, CloseSession) for one process; capped at INBOX_KEPT."""
    return f"{PREFIX}inbox:{instance}"


def session(user_id: int) -> str:
    """STRING: the instance holding the user's socket; deleted when it closes."""
    return f"{PREFIX}session:{user_id}"


def sessions(instance: str) -> str:
    """SET of user ids connected to one process, to clean up after it dies."""
    return f"{PREFIX}sessions:{instance}"


def seat(user_id: int) -> str:
    """STRING (messages.Seat): the user holds a seat in that room on that process, until the game ends."""
    return f"{PREFIX}seat:{user_id}"


def room(room_id: str) -> str:
    """STRING (messages.RoomRecord) of a running room, until its result is written."""
    return f"{PREFIX}room:{room_id}"


def watchers(room_id: str) -> str:
    """STRING: how many watch a room (its host sets it; PX the key lifetime; deleted at 0)."""
    return f"{PREFIX}watchers:{room_id}"


def handoff(room_id: str) -> str:
    """STRING: a room's state handed off by its old host, until its new host takes it (PX a few seconds)."""
    return f"{PREFIX}handoff:{room_id}"


def rooms(instance: str) -> str:
    """SET of the room ids a process hosts."""
    return f"{PREFIX}rooms:{instance}"


def throttle(key: str) -> str:
    """ZSET of a throttle's events (id -> ms on Redis's clock) in its sliding window; PX the window's period."""
    return f"{PREFIX}throttle:{key}"
