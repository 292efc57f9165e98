"""The game's wire format: close codes, event names, error codes, and how frames are encoded and read.

Shared by the WebSocket handler, the game and the tests; docs/protocol.md describes it for clients.
"""

import math
import unicodedata

import orjson

# Close codes: RFC 6455's that the server sees or sends, then the game's own (4000-4999).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001  # server shutdown
CLOSE_NO_STATUS = 1005  # the peer closed without a code
CLOSE_ABNORMAL = 1006  # the connection dropped without a close frame
CLOSE_INTERNAL_ERROR = 1011
CLOSE_TRY_AGAIN_LATER = 1013  # MongoDB did not answer while the token was checked
CLOSE_TOO_BIG = 1009  # a frame over GAME_MAX_MESSAGE_SIZE (Tornado closes with it)
CLOSE_UNAUTHORIZED = 4001  # no token, a bad token, a revoked token or user
CLOSE_REPLACED = 4002  # the same user connected again elsewhere
CLOSE_TOKEN_EXPIRED = 4003  # the access token expired and no refresh_token came in time
CLOSE_MOVED = 4004  # cluster mode: the room runs on another process; `redirect` says where
CLOSE_RATE_LIMITED = 4008  # more messages than GAME_MESSAGE_RATE/GAME_MESSAGE_BURST allow
CLOSE_SLOW_CONSUMER = 4009  # unsent output beyond GAME_MAX_PENDING_OUTPUT
CLOSE_SILENT_PEER = 4010  # nothing heard (not even a pong) for GAME_PING_TIMEOUT
CLOSE_CODES = frozenset({CLOSE_NORMAL, CLOSE_GOING_AWAY, CLOSE_NO_STATUS, CLOSE_ABNORMAL, CLOSE_TOO_BIG,
                         CLOSE_INTERNAL_ERROR, CLOSE_TRY_AGAIN_LATER, CLOSE_UNAUTHORIZED, CLOSE_REPLACED,
                         CLOSE_TOKEN_EXPIRED, CLOSE_MOVED, CLOSE_RATE_LIMITED, CLOSE_SLOW_CONSUMER, CLOSE_SILENT_PEER})

# Client → server events.
AUTH = "auth"
REFRESH_TOKEN = "refresh_token"
MOVE_TO = "move_to"
SHOOT_FIREBALL = "shoot_fireball"
BLINK = "blink"
MESSAGE = "message"
LEAVE = "leave"  # a player who is out leaves the room at once (their score change is final) and queues again
PRACTICE = "practice"  # a player waiting (not in a game) starts an unrated game against bots at once
SPECTATE = "spectate"  # watch a running game (`room`), its frames delayed; `leave` stops watching

# The rows of a `state` frame, field by field (docs/protocol.md; static/js/arena-client.js names them too).
PLAYER_ROW = ("id", "x", "y", "radius", "alive", "fireball_cooldown", "blink_cooldown", "connected", "hits")
FIREBALL_ROW = ("id", "x", "y", "owner")

# Server → client events.
WELCOME = "welcome"
QUEUED = "queued"
GAME_START = "game_start"
STATE = "state"
ATTACK = "attack"
DIED = "died"
GAME_OVER = "game_over"
ERROR = "error"
TOKEN_REFRESHED = "token_refreshed"
REDIRECT = "redirect"
SPECTATING = "spectating"  # you watch `room`, `delay` seconds behind its players
SERVER_DRAINING = "server_draining"  # the server is stopping: no new games here; reconnect when it closes

# Error codes of `error` events.
BAD_MESSAGE = "bad_message"
COOLDOWN = "cooldown"
DEAD = "dead"
STILL_ALIVE = "still_alive"  # `leave` while alive: closing the connection is how to forfeit
NOT_IN_GAME = "not_in_game"
IN_GAME = "in_game"  # `practice` or `spectate` while in a game: finish it (or leave it once out) first
SPECTATOR = "spectating"  # error code: an intent while watching: spectators do not act (`leave` stops watching)
NO_SUCH_GAME = "no_such_game"  # `spectate` of a room that does not run (any more)
SPECTATORS_FULL = "spectators_full"  # the room has ARENA_SPECTATORS_PER_ROOM spectators already
MATCHMAKING_UNAVAILABLE = "matchmaking_unavailable"  # cluster mode: Redis is away; you stay queued
STORE_UNAVAILABLE = "store_unavailable"  # also the reason of a 1013 close


def encode(event: dict) -> bytes:
    """A server → client frame's payload: the event as compact JSON."""
    return orjson.dumps(event)


def error_frame(code: str, detail: str) -> bytes:
    return encode({"event": ERROR, "code": code, "detail": detail})


TARGET_DECIMALS = 4  # targets are read to 1/10,000 of the map's height (a tenth of a pixel on a 900 px arena)


def read_target(frame: dict) -> dict:
    """`tx`, `ty` of a move, fireball or blink: finite numbers, rounded to TARGET_DECIMALS (so a replay
    records them in a few bytes). Raises ValueError saying what is wrong."""
    event = frame["event"]
    return {"tx": round(_coordinate(event, frame.get("tx")), TARGET_DECIMALS),
            "ty": round(_coordinate(event, frame.get("ty")), TARGET_DECIMALS)}


def read_room(frame: dict) -> dict:
    """`room` of a `spectate`: a room id (hex)."""
    room = frame.get("room")
    if not isinstance(room, str) or not 0 < len(room) <= 64 or any(c not in "0123456789abcdef" for c in room):
        raise ValueError("spectate needs the room id as a string")
    return {"room": room}


def read_text(frame: dict) -> dict:
    """A chat message's `text`, without control or bidirectional characters."""
    text = frame.get("text")
    if not isinstance(text, str):
        raise ValueError("message needs a string text")
    return {"text": _printable(text)}


# Bidirectional embeddings, overrides and isolates: they reorder what other players see.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _printable(text: str) -> str:
    """Chat text without control characters (newlines included) or bidirectional controls."""
    return "".join(char for char in text if char not in BIDI_CONTROLS and unicodedata.category(char) != "Cc")


def _coordinate(event: str, value: object) -> float:
    problem = ValueError(f"{event} needs finite numbers tx and ty")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise problem
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        raise problem from None
    if not math.isfinite(number):
        raise problem
    return number
