"""Every setting of Tornado Arena, declared once with its default and read from the environment.

Server settings are `ARENA_<NAME>` (plus `MONGO_URL`, `SECRET_KEY`), JWT settings `JWT_<NAME>` with
SimpleJWT's `SIMPLE_JWT` names and defaults, game settings `GAME_<NAME>`. Durations are seconds,
booleans `true`/`false`, tuples comma-separated. `load_settings()` validates everything and raises
`SettingsError` naming the offending setting, so a bad configuration stops the server at start.
"""

import dataclasses
import logging
import math
import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Mapping, Optional


HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
MIN_SECRET_BYTES = 32  # an HMAC key shorter than the hash it keys can be guessed offline from one token
ASYMMETRIC_ALGORITHMS = (
    "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA",
)
ALGORITHMS = HMAC_ALGORITHMS + ASYMMETRIC_ALGORITHMS
MONGO_DRIVERS = ("motor", "pymongo")
EVENT_LOOPS = ("auto", "uvloop", "asyncio")
LOG_FORMATS = ("text", "json")


class SettingsError(ValueError):
    """A setting has a value the server cannot run with; the message names the setting."""


@dataclass(frozen=True)
class JWTSettings:
    """SimpleJWT's `SIMPLE_JWT` keys with its defaults; the import strings name this project's equivalents.

    Every field's type is declared: the environment is read as that type, and validation normalises
    what callers may pass in other forms (a lifetime or LEEWAY as seconds or a timedelta).
    """

    ACCESS_TOKEN_LIFETIME: timedelta = timedelta(minutes=5)
    REFRESH_TOKEN_LIFETIME: timedelta = timedelta(days=1)
    ROTATE_REFRESH_TOKENS: bool = False
    BLACKLIST_AFTER_ROTATION: bool = False
    UPDATE_LAST_LOGIN: bool = False
    ALGORITHM: str = "HS256"
    SIGNING_KEY: Optional[str] = None  # from SECRET_KEY, or generated per run
    VERIFYING_KEY: str = ""
    AUDIENCE: Optional[str] = None
    ISSUER: Optional[str] = None
    JSON_ENCODER: Optional[str] = None  # import string (or the class itself)
    JWK_URL: Optional[str] = None
    LEEWAY: float = 0.0  # seconds; SimpleJWT also takes a timedelta
    AUTH_HEADER_TYPES: tuple[str, ...] = ("Bearer",)
    AUTH_HEADER_NAME: str = "Authorization"
    USER_ID_FIELD: str = "id"
    USER_ID_CLAIM: str = "user_id"
    USER_AUTHENTICATION_RULE: str = "auth.service.default_user_authentication_rule"
    AUTH_TOKEN_CLASSES: tuple[str, ...] = ("auth.tokens.AccessToken",)
    TOKEN_TYPE_CLAIM: str = "token_type"
    TOKEN_USER_CLASS: str = "auth.users.TokenUser"
    JTI_CLAIM: str = "jti"
    SLIDING_TOKEN_REFRESH_EXP_CLAIM: str = "refresh_exp"
    SLIDING_TOKEN_LIFETIME: timedelta = timedelta(minutes=5)
    SLIDING_TOKEN_REFRESH_LIFETIME: timedelta = timedelta(days=1)
    # The *_SERIALIZER settings pick the handler class serving each token endpoint (handlers.routes).
    TOKEN_OBTAIN_SERIALIZER: str = "handlers.tokens.TokenObtainPairHandler"
    TOKEN_REFRESH_SERIALIZER: str = "handlers.tokens.TokenRefreshHandler"
    TOKEN_VERIFY_SERIALIZER: str = "handlers.tokens.TokenVerifyHandler"
    TOKEN_BLACKLIST_SERIALIZER: str = "handlers.tokens.TokenBlacklistHandler"
    SLIDING_TOKEN_OBTAIN_SERIALIZER: str = "handlers.tokens.TokenObtainSlidingHandler"
    SLIDING_TOKEN_REFRESH_SERIALIZER: str = "handlers.tokens.TokenRefreshSlidingHandler"
    CHECK_USER_IS_ACTIVE: bool = True
    CHECK_REVOKE_TOKEN: bool = False
    REVOKE_TOKEN_CLAIM: str = "hash_password"
    # Beyond SimpleJWT.
    BLACKLIST_ENABLED: bool = True  # SimpleJWT's token_blacklist app, always installed here
    REUSE_DETECTION: Optional[bool] = None  # None: on when ROTATE_REFRESH_TOKENS and BLACKLIST_AFTER_ROTATION
    EXTRA_VERIFYING_KEYS: tuple[str, ...] = ()  # older keys still accepted: a signing key rotates without logouts
    SIGNING_KEY_ID: Optional[str] = None  # `kid` header written into issued tokens
    JWKS_CACHE_SECONDS: float = 300.0
    JWKS_REFETCH_INTERVAL: float = 5.0  # an unknown kid refetches the JWKS at most this often
    TOKEN_CLAIMS_HOOK: Optional[str] = None  # import string of f(user) -> dict of extra claims for every login
    STATELESS_AUTHENTICATION: bool = False  # protected handlers build a TokenUser from claims, no DB read


_JWT_LIFETIMES = (
    "ACCESS_TOKEN_LIFETIME", "REFRESH_TOKEN_LIFETIME",
    "SLIDING_TOKEN_LIFETIME", "SLIDING_TOKEN_REFRESH_LIFETIME",
)


@dataclass(frozen=True)
class GameSettings:
    """The rules' numbers (units: map heights, seconds, per second, bytes) and the loop's pace."""

    TICK_RATE: float = 60.0
    SNAPSHOT_RATE: float = 20.0
    ROOM_CAPACITY: int = 3
    MATCH_INTERVAL: float = 1.0
    MATCH_WINDOW_PER_SECOND: float = 50.0  # matching by score: points of difference accepted per second waited
    MATCH_BY: str = "rating"  # "rating" (skill, OpenSkill) or "score" (the course's points)
    RATING_WINDOW: float = 100.0  # matching by rating: difference accepted at once (shown-rating units)...
    RATING_WINDOW_PER_SECOND: float = 20.0  # ...widening with each second waited...
    RATING_WINDOW_PER_DEVIATION: float = 1.0  # ...and with the players' uncertainty (a newcomer's is wide)
    BOT_FILL_AFTER: float = 10.0
    BOT_HOLD_FIRE: float = 4.0
    RECONNECT_GRACE: float = 20.0
    MAP_WIDTH: float = 16 / 9
    MAP_HEIGHT: float = 1.0
    PLAYER_RADIUS: float = 0.05
    PLAYER_SPEED: float = 0.15
    FIREBALL_RADIUS: float = 0.01
    FIREBALL_SPEED: float = 0.5
    FIREBALL_RANGE: float = 1.0
    FIREBALL_COOLDOWN: float = 3.0
    BLINK_RANGE: float = 0.8
    BLINK_COOLDOWN: float = 5.0
    HIT_DAMAGE: float = 0.01
    HITS_TO_KILL: int = 4
    KNOCKBACK_SPEED: float = 1.0
    KNOCKBACK_FRICTION: float = 0.9
    HIT_SPEED_FACTOR: float = 0.8
    CHAT_MAX_LENGTH: int = 200
    WIN_SCORE: int = 10
    LOSS_SCORE: int = -5
    TOKEN_EXPIRY_GRACE: float = 5.0
    AUTH_TIMEOUT: float = 5.0
    MESSAGE_RATE: float = 60.0
    MESSAGE_BURST: int = 120
    MAX_MESSAGE_SIZE: int = 4096
    MAX_PENDING_OUTPUT: int = 256 * 1024
    PING_INTERVAL: float = 10.0
    PING_TIMEOUT: float = 30.0
    RESULT_RETRY_INTERVAL: float = 1.0


@dataclass(frozen=True)
class Settings:
    """The whole configuration: server fields, the `jwt` settings and the `game` settings."""

    HOST: str = "127.0.0.1"
    PORT: int = 8888
    MONGO_URL: str = ""
    DB: str = "arena"
    MONGO_TIMEOUT: float = 2.0  # seconds any MongoDB operation may take (timeoutMS), at start and after
    MONGO_DRIVER: str = "motor"  # or "pymongo": PyMongo's own AsyncMongoClient (motor's successor)
    RESULTS_JOURNAL: str = "pending-results"  # directory keeping game results MongoDB has not taken yet
    DATA_DIR: str = "arena-data"  # the embedded store's folder (kept across restarts); empty: in memory only
    LOG_LEVEL: str = "info"
    LOG_FORMAT: str = "text"  # or "json": one JSON object per line
    EVENT_LOOP: str = "auto"  # "uvloop" (libuv's loop, faster), "asyncio", or "auto": uvloop where it installs
    METRICS_PORT: int = 0  # 0: /metrics on the API port; else only on this port (same ARENA_HOST)
    ALLOWED_ORIGINS: tuple[str, ...] = ()  # besides the server's own origin (e.g. http://localhost:* in development)
    MAX_BODY_SIZE: int = 64 * 1024
    IDLE_TIMEOUT: float = 10.0  # seconds a connection may sit idle, or take to send its headers
    BODY_TIMEOUT: float = 10.0  # seconds a request body may take to arrive
    MAX_CONNECTIONS: int = 10_000  # open HTTP and WebSocket connections in all; more are closed at once
    MAX_CONNECTIONS_PER_ADDRESS: int = 256  # per peer address (not applied behind a trusted proxy)
    SHUTDOWN_TIMEOUT: float = 5.0  # seconds in-flight requests may take to finish once the server stops
    DRAIN_GRACE: float = 3.0  # seconds a stopping server answers readiness 503 before closing anything
    SPECTATE_DELAY: float = 3.0  # seconds spectators see a game behind its players (no coaching)
    SPECTATORS_PER_ROOM: int = 50  # more are refused (error spectators_full)
    DRAIN_TIMEOUT: float = 60.0  # one process (no Redis): seconds running games may take to finish when it stops
    TOKEN_FLUSH_INTERVAL: float = 3600.0  # embedded store only: MongoDB's TTL indexes do it there
    PASSWORD_TIME_COST: int = 3  # Argon2id, OWASP's second recommended configuration
    PASSWORD_MEMORY_COST: int = 12288  # KiB
    PASSWORD_PARALLELISM: int = 1
    PASSWORD_WORKERS: int = 2  # threads hashing passwords off the IOLoop
    PASSWORD_BUSY_SHARE: float = 0.08  # share of a core hashing may use while the IOLoop is busy
    ACCEPT_WEAK_LEGACY_HASHES: bool = False  # imported Django md5/sha1/unsalted hashes may log in
    PASSWORD_QUEUE: int = 64  # hashings waiting or running at most; past that, logins get 503 at once
    PASSWORD_QUEUE_PER_CLIENT: int = 4  # of those, for one address or one account at most (then 503 for it)
    PASSWORD_FAILURE_SECONDS: float = 0.5  # a wrong password is answered no sooner (whatever the stored hash)
    # DRF-style rates ("5/min", "100/hour"; empty: no limit), answered with 429 and Retry-After.
    THROTTLE_LOGIN_USERNAME: str = "5/min"  # login attempts per username; a success resets it
    THROTTLE_LOGIN_ADDRESS: str = "30/min"  # login attempts per client address, successes included
    THROTTLE_PASSWORD_USER: str = "5/min"  # password change attempts per user (old password guesses); a success resets it
    THROTTLE_PASSWORD_ADDRESS: str = "30/min"  # password change attempts per client address
    THROTTLE_REGISTER_ADDRESS: str = "20/hour"  # registrations per client address
    THROTTLE_SOCKET_ADDRESS: str = "120/min"  # game socket connections per client address
    THROTTLE_SOCKET_USER: str = "30/min"  # game socket connections per user
    TRUST_PROXY: bool = False  # take the client address from X-Real-IP / X-Forwarded-For
    # Cluster mode (docs/cluster.md): set REDIS_URL and run several processes as one game world.
    REDIS_URL: str = ""
    INSTANCE: str = ""  # this process's name in the cluster; default host:port
    PUBLIC_URL: str = ""  # the WebSocket URL clients reach this process at; default ws://HOST:PORT/wss/multiplayer/
    REDIS_TIMEOUT: float = 1.0  # seconds any Redis command may take
    CLUSTER_HEARTBEAT: float = 1.0  # seconds between a process's presence updates
    CLUSTER_DEAD_AFTER: float = 5.0  # a process silent this long is gone: its queue entries and rooms are cleaned up
    CLUSTER_RECHECK: float = 30.0  # seconds between re-checks of every live socket's token (bounds a lost signal)
    SECRET_KEY_GENERATED: bool = False
    SECRET_KEY_FILE: str = ""  # with no SECRET_KEY and the embedded store on disk: where the generated key is kept
    jwt: JWTSettings = field(default_factory=JWTSettings)
    game: GameSettings = field(default_factory=GameSettings)

    @property
    def store_kind(self) -> str:
        return "mongodb" if self.MONGO_URL else "embedded"


def _cluster_settings(settings: Settings) -> Settings:
    """Cluster mode's refusals (one line naming the setting) and its defaults."""
    if not settings.MONGO_URL:
        raise SettingsError("ARENA_REDIS_URL: cluster mode needs MONGO_URL (the embedded store lives in one process)")
    if settings.SECRET_KEY_GENERATED:
        raise SettingsError("ARENA_REDIS_URL: cluster mode needs SECRET_KEY (a random per-run key differs per process)")
    if not settings.CLUSTER_HEARTBEAT < settings.CLUSTER_DEAD_AFTER:
        raise SettingsError("ARENA_CLUSTER_DEAD_AFTER: must be longer than ARENA_CLUSTER_HEARTBEAT")
    return dataclasses.replace(
        settings, INSTANCE=settings.INSTANCE or f"{settings.HOST}:{settings.PORT}",
        PUBLIC_URL=settings.PUBLIC_URL or f"ws://{settings.HOST}:{settings.PORT}/wss/multiplayer/")


RATE_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> Optional[tuple[int, float]]:
    """DRF's rate syntax: `5/min`, `100/hour`, `10/s`… → (requests, seconds); empty → no limit."""
    if not rate:
        return None
    count, _, period = rate.partition("/")
    if not count.isdigit() or int(count) < 1 or not period or period[0] not in RATE_PERIODS:
        raise ValueError(f"{rate!r} is not a rate like 5/min")
    return int(count), RATE_PERIODS[period[0]]


def parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise SettingsError(f"{name}: expected true or false, got {raw!r}")


def _parse(name: str, raw: str, kind: Any) -> Any:
    """Parse an environment string as the setting's declared type."""
    try:
        if kind is bool:
            return parse_bool(name, raw)
        if kind == Optional[bool]:
            return None if not raw.strip() else parse_bool(name, raw)
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is timedelta:
            return timedelta(seconds=float(raw))
        if kind == tuple[str, ...]:
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        if kind == Optional[str]:
            return raw or None
    except (ValueError, OverflowError):
        raise SettingsError(f"{name}: cannot read {raw!r} as {getattr(kind, '__name__', kind)}") from None
    return raw


def _from_env(cls, prefix: str, env: Mapping[str, str], overrides: Mapping[str, Any]):
    """An instance of the settings dataclass `cls`: defaults, then `prefix + NAME` variables, then overrides."""
    names = {f.name: f for f in dataclasses.fields(cls) if f.name.isupper()}
    unknown = set(overrides) - set(names)
    if unknown:
        raise SettingsError(f"{prefix}{sorted(unknown)[0]}: unknown setting")
    values = {name: _parse(prefix + name, env[prefix + name], f.type)
              for name, f in names.items() if prefix + name in env}
    return cls(**{**values, **overrides})


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _as_tuple(value: Any) -> tuple:
    return (value,) if isinstance(value, str) else tuple(value)


def _validate_jwt(jwt: JWTSettings) -> JWTSettings:
    """The JWT settings checked, with lifetimes as timedeltas, LEEWAY as seconds and tuples as tuples."""
    if jwt.ALGORITHM not in ALGORITHMS:
        raise SettingsError(
            f"JWT_ALGORITHM: unknown algorithm {jwt.ALGORITHM!r} (one of {', '.join(ALGORITHMS)})")
    normalised: dict[str, Any] = {}
    for name in _JWT_LIFETIMES:
        lifetime = timedelta(seconds=_seconds(getattr(jwt, name)))
        if lifetime.total_seconds() <= 0:
            raise SettingsError(f"JWT_{name}: lifetime must be positive")
        normalised[name] = lifetime
    normalised["LEEWAY"] = _seconds(jwt.LEEWAY)
    if not 0 <= normalised["LEEWAY"] < math.inf:
        raise SettingsError("JWT_LEEWAY: must be a finite, non-negative number of seconds")
    if jwt.ALGORITHM in ASYMMETRIC_ALGORITHMS:
        if not jwt.SIGNING_KEY:
            raise SettingsError(f"JWT_SIGNING_KEY: {jwt.ALGORITHM} needs a private signing key")
        if not jwt.VERIFYING_KEY and not jwt.JWK_URL:
            raise SettingsError(
                f"JWT_VERIFYING_KEY: {jwt.ALGORITHM} needs a public verifying key (or JWT_JWK_URL)")
    if jwt.USER_ID_FIELD != "id":
        raise SettingsError(f"JWT_USER_ID_FIELD: {jwt.USER_ID_FIELD!r} is not supported: users are identified by "
                            "their integer id here (keep the default 'id'; JWT_USER_ID_CLAIM names the claim)")
    for name in ("AUTH_HEADER_TYPES", "EXTRA_VERIFYING_KEYS", "AUTH_TOKEN_CLASSES"):
        normalised[name] = _as_tuple(getattr(jwt, name))
    if not normalised["AUTH_HEADER_TYPES"]:
        raise SettingsError("JWT_AUTH_HEADER_TYPES: at least one header type is needed")
    return dataclasses.replace(jwt, **normalised)


MATCH_BY = ("rating", "score")


def _validate_game(game: GameSettings) -> None:
    if game.MATCH_BY not in MATCH_BY:
        raise SettingsError(f"GAME_MATCH_BY: {game.MATCH_BY!r} is not one of {', '.join(MATCH_BY)}")
    for f in dataclasses.fields(game):
        value = getattr(game, f.name)
        if f.name in ("LOSS_SCORE", "MATCH_BY"):
            continue
        if not math.isfinite(value) or value < 0:
            raise SettingsError(f"GAME_{f.name}: must be a finite, non-negative number")
    for name in ("TICK_RATE", "SNAPSHOT_RATE", "ROOM_CAPACITY", "MATCH_INTERVAL", "HITS_TO_KILL",
                 "MESSAGE_RATE", "MESSAGE_BURST", "MAX_MESSAGE_SIZE", "MAP_WIDTH", "MAP_HEIGHT"):
        if getattr(game, name) <= 0:
            raise SettingsError(f"GAME_{name}: must be positive")
    if game.ROOM_CAPACITY < 2:
        raise SettingsError("GAME_ROOM_CAPACITY: a room needs at least 2 players")


SECRET_KEY_NAME = "secret.key"


def keep_generated_key(settings: Settings) -> Settings:
    """No SECRET_KEY, and the embedded store keeps its data on disk: the generated key is kept there too
    (created once, readable by this user only), so tokens survive a restart as the accounts do."""
    if not settings.SECRET_KEY_GENERATED or settings.MONGO_URL or not settings.DATA_DIR:
        return settings
    path = os.path.join(settings.DATA_DIR, SECRET_KEY_NAME)
    try:
        os.makedirs(settings.DATA_DIR, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            with open(path, encoding="utf-8") as handle:
                key = handle.read().strip()
        else:
            key = settings.jwt.SIGNING_KEY
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(key + "\n")
    except OSError as exc:
        raise SettingsError(f"ARENA_DATA_DIR: cannot keep the generated signing key in {path}: {exc.strerror}") from None
    if len(key.encode()) < MIN_SECRET_BYTES:
        raise SettingsError(f"ARENA_DATA_DIR: {path} holds a key shorter than {MIN_SECRET_BYTES} bytes")
    return dataclasses.replace(settings, jwt=dataclasses.replace(settings.jwt, SIGNING_KEY=key), SECRET_KEY_FILE=path)


def load_settings(env: Optional[Mapping[str, str]] = None, *, jwt: Optional[Mapping[str, Any]] = None,
                  game: Optional[Mapping[str, Any]] = None, **server: Any) -> Settings:
    """Read settings from `env` (default: the process environment), apply keyword overrides, validate.

    Keyword overrides are how tests and `server.py`'s command line change single settings.
    """
    env = os.environ if env is None else env
    jwt_settings = _from_env(JWTSettings, "JWT_", env, jwt or {})
    generated = False
    if not jwt_settings.SIGNING_KEY:
        if env.get("SECRET_KEY"):
            jwt_settings = dataclasses.replace(jwt_settings, SIGNING_KEY=env["SECRET_KEY"])
        elif jwt_settings.ALGORITHM in HMAC_ALGORITHMS:
            jwt_settings = dataclasses.replace(jwt_settings, SIGNING_KEY=secrets.token_urlsafe(48))
            generated = True
    jwt_settings = _validate_jwt(jwt_settings)
    if jwt_settings.ALGORITHM in HMAC_ALGORITHMS and len(jwt_settings.SIGNING_KEY.encode()) < MIN_SECRET_BYTES:
        source = "JWT_SIGNING_KEY" if env.get("JWT_SIGNING_KEY") or (jwt or {}).get("SIGNING_KEY") else "SECRET_KEY"
        raise SettingsError(f"{source}: must be at least {MIN_SECRET_BYTES} bytes (make one with: python -c "
                            "'import secrets; print(secrets.token_urlsafe(48))')")
    game_settings = _from_env(GameSettings, "GAME_", env, game or {})
    _validate_game(game_settings)
    server_env = dict(env)
    if "MONGO_URL" in env:
        server_env["ARENA_MONGO_URL"] = env["MONGO_URL"]
    settings = _from_env(Settings, "ARENA_", server_env, server)
    settings = dataclasses.replace(settings, jwt=jwt_settings, game=game_settings, SECRET_KEY_GENERATED=generated)
    for name in ("PORT", "METRICS_PORT"):
        if not 0 <= getattr(settings, name) <= 65535:
            raise SettingsError(f"ARENA_{name}: {getattr(settings, name)} is not a TCP port")
    if settings.REDIS_URL:
        settings = _cluster_settings(settings)
    if settings.LOG_FORMAT not in LOG_FORMATS:
        raise SettingsError(f"ARENA_LOG_FORMAT: {settings.LOG_FORMAT!r} is not one of {', '.join(LOG_FORMATS)}")
    for name in ("THROTTLE_LOGIN_USERNAME", "THROTTLE_LOGIN_ADDRESS", "THROTTLE_PASSWORD_USER",
                 "THROTTLE_PASSWORD_ADDRESS", "THROTTLE_REGISTER_ADDRESS", "THROTTLE_SOCKET_ADDRESS",
                 "THROTTLE_SOCKET_USER"):
        try:
            parse_rate(getattr(settings, name))
        except ValueError as exc:
            raise SettingsError(f"ARENA_{name}: {exc}") from None
    if settings.EVENT_LOOP not in EVENT_LOOPS:
        raise SettingsError(f"ARENA_EVENT_LOOP: {settings.EVENT_LOOP!r} is not one of {', '.join(EVENT_LOOPS)}")
    if settings.MONGO_DRIVER not in MONGO_DRIVERS:
        raise SettingsError(f"ARENA_MONGO_DRIVER: {settings.MONGO_DRIVER!r} is not one of {', '.join(MONGO_DRIVERS)}")
    if not 0 < settings.MONGO_TIMEOUT < math.inf:
        raise SettingsError("ARENA_MONGO_TIMEOUT: must be a positive number of seconds")
    if not 0 < settings.PASSWORD_BUSY_SHARE <= 1:
        raise SettingsError("ARENA_PASSWORD_BUSY_SHARE: must be a share of a core, above 0 and at most 1")
    if settings.LOG_LEVEL.upper() not in logging.getLevelNamesMapping():
        raise SettingsError(f"ARENA_LOG_LEVEL: unknown level {settings.LOG_LEVEL!r}")
    return settings
