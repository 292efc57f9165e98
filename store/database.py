"""The collections and every query: users, token records and game results.

Queries use only the API that motor's `AsyncIOMotorClient` shares with `pymongo.AsyncMongoClient`
and with the embedded store (store.embedded), so the backend is a choice of client and nothing else.
"""

import asyncio
import functools
import inspect
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import AsyncIterator, Any, Optional

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import ConnectionFailure, DuplicateKeyError, PyMongoError

from deadlines import Deadlines
from metrics import Metrics
from store.documents import GameResult, PublicUser, Rating, User, UserId, utcnow

INITIAL_SCORE = 1500
LEADERBOARD_SIZE = 100  # the most any request may ask for
LEADERBOARD_SECONDS = 2.0
DEADLINE_RESOLUTION = 0.05  # a query that MongoDB does not answer is given up at most this late
IMPORTED_PASSWORD = "imported.password"  # the Django hash in an imported user's snapshot (auth.import_django)
COUNTER_TRIES = 5  # asks for the next user id before giving up (only a racing first registration retries)
PUBLIC_USER_FIELDS = {"_id": 0, "id": 1, "username": 1, "score": 1, "date_joined": 1, "last_login": 1,
                      "rating_mu": 1, "rating_sigma": 1}
LEADERBOARD_ORDERS = ("score", "rating")  # the score (the course's +10/−5, the default) or the skill rating


@dataclass(frozen=True, slots=True)
class TokenStanding:
    """What the store holds against a token: see `Store.token_standing`."""

    blacklist_reason: Optional[str]
    family: Optional[dict]  # `current` and `revoked`
    user: Optional[User]
    generation: Optional[int]  # the user's token generation; None when there is no such user


class StoreUnavailable(RuntimeError):
    """MongoDB did not answer in time or cannot be reached: the caller answers 503, nothing is half-done."""


class UsernameTaken(ValueError):
    """Another user already has this username (compared case-insensitively)."""


class UserIdTaken(ValueError):
    """Another user already has this id."""


def username_key(username: str) -> str:
    """The form under which usernames are unique: `Alice` and `alice` are one user."""
    return unicodedata.normalize("NFKC", username).casefold()


class _Wait:
    """One query's wait: when its deadline passes, its task is cancelled (as `asyncio.timeout` does)."""

    __slots__ = ("task", "cancelling", "expired")

    def __init__(self) -> None:
        self.task = asyncio.current_task()
        self.cancelling = self.task.cancelling()
        self.expired = False

    def __call__(self) -> None:
        self.expired = True
        self.task.cancel()

    def timed_out(self) -> bool:
        """After a CancelledError: was it this deadline's (and no one else's) cancellation?"""
        return self.expired and self.task.uncancel() <= self.cancelling


def bounded(query):
    """Give a query ARENA_MONGO_TIMEOUT in all, and report a MongoDB that does not answer as StoreUnavailable.

    The driver's own timeoutMS bounds each operation; this bounds the whole query (several operations,
    or a driver stuck where timeoutMS does not reach), so no caller ever waits longer. The deadline is
    an entry on the store's shared timer (deadlines.Deadlines), not a timer of its own.
    """
    operation = query.__name__

    @functools.wraps(query)
    async def run(self: "Store", *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        failed = False
        wait = _Wait()
        deadline = self.deadlines.watch(self.timeout, wait)
        try:
            return await query(self, *args, **kwargs)
        except asyncio.CancelledError as exc:
            if not wait.timed_out():
                raise
            failed = True
            raise StoreUnavailable("MongoDB did not answer in time") from exc
        except PyMongoError as exc:
            failed = True
            if isinstance(exc, ConnectionFailure) or exc.timeout:
                raise StoreUnavailable(f"MongoDB is unavailable: {exc}") from exc
            raise
        finally:
            self.deadlines.forget(deadline)
            self.metrics.store_operation(operation, time.perf_counter() - started, failed)
    return run


class Store:
    """Collections and queries of Tornado Arena; built by `store.connection.connect_store`."""

    def __init__(self, client: Any, db_name: str, kind: str, driver: str, timeout: float,
                 metrics: Optional[Metrics] = None):
        self.client = client
        self.metrics = metrics or Metrics()  # the Arena's, once it adopts the store
        self.kind = kind  # "mongodb" or "embedded"
        self.driver = driver  # "motor", "pymongo" or "embedded"
        self.timeout = timeout
        self.deadlines = Deadlines(min(DEADLINE_RESOLUTION, timeout / 10))
        self._leaderboards: dict[str, tuple[float, list[PublicUser]]] = {}  # order -> (read at, the top)
        db = client[db_name]
        self.db = db
        self.users = db["users"]
        self.counters = db["counters"]
        self.outstanding_tokens = db["outstanding_tokens"]
        self.blacklisted_tokens = db["blacklisted_tokens"]
        self.token_families = db["token_families"]
        self.games = db["games"]

    @bounded
    async def ping(self) -> None:
        """Raise StoreUnavailable unless MongoDB answers within the timeout."""
        await self.db.command("ping")

    @bounded
    async def create_indexes(self) -> None:
        await self.users.create_index("username_key", unique=True)
        await self.users.create_index("id", unique=True)
        await self.users.create_index("username_skeleton")
        await self.users.create_index([("score", DESCENDING), ("id", ASCENDING)])
        await self.users.create_index([("rating", DESCENDING), ("id", ASCENDING)])
        for records in (self.outstanding_tokens, self.blacklisted_tokens, self.token_families):
            await records.create_index("expires_at", expireAfterSeconds=0)
        await self.outstanding_tokens.create_index("user_id")
        await self.outstanding_tokens.create_index("family")
        await self.games.create_index([("players.id", ASCENDING), ("ended_at", DESCENDING)])

    async def close(self) -> None:
        """Close the client (motor closes at once; PyMongo's async client awaits, bounded like a query)."""
        closing = self.client.close()
        if inspect.isawaitable(closing):
            try:
                async with asyncio.timeout(self.timeout):
                    await closing
            except TimeoutError:
                pass

    # Users

    async def _next_user_id(self) -> int:
        """The next user id. The first registrations may race to create the counter: the losers of that
        race (a duplicate key, or no document back) simply ask again."""
        for _ in range(COUNTER_TRIES):
            try:
                counter = await self.counters.find_one_and_update(
                    {"_id": "user_id"}, {"$inc": {"value": 1}}, upsert=True,
                    return_document=ReturnDocument.AFTER)
            except DuplicateKeyError:
                continue
            if counter is not None:
                return counter["value"]
        raise StoreUnavailable("the user id counter could not be advanced")

    @bounded
    async def create_user(self, username: str, password_hash: str, **fields: Any) -> User:
        """Insert a new user; raises UsernameTaken. The document is complete or absent."""
        key = username_key(username)
        if await self.users.find_one({"username_key": key}, {"_id": 1}):
            raise UsernameTaken(username)
        user = {
            "id": await self._next_user_id(),
            "username": username,
            "username_key": key,
            "password": password_hash,
            "is_active": True,
            "date_joined": utcnow(),
            "last_login": None,
            "score": INITIAL_SCORE,
            **Rating().fields(),
            **fields,
        }
        try:
            await self.users.insert_one(user)
        except DuplicateKeyError:
            raise UsernameTaken(username) from None
        return User.from_document(user)

    @bounded
    async def find_user_by_username(self, username: str) -> Optional[User]:
        document = await self.users.find_one({"username_key": username_key(username)})
        return None if document is None else User.from_document(document)

    @bounded
    async def username_skeleton_taken(self, skeleton: str) -> bool:
        """Is there a user whose username looks like one with this TS #39 skeleton (auth.lookalikes)?"""
        return await self.users.find_one({"username_skeleton": skeleton}, {"_id": 1}) is not None

    @bounded
    async def find_user(self, user_id: UserId) -> Optional[User]:
        document = await self.users.find_one({"id": user_id})
        return None if document is None else User.from_document(document)

    @bounded
    async def user_record(self, user_id: UserId) -> Optional[dict]:
        """The user's stored document as it is, every field (the Django importer compares them by name)."""
        return await self.users.find_one({"id": user_id})

    @bounded
    async def update_user(self, user_id: UserId, **fields: Any) -> None:
        await self.users.update_one({"id": user_id}, {"$set": fields})

    @bounded
    async def update_password_hash(self, user_id: UserId, old_hash: str, new_hash: str) -> None:
        """Replace a hash only if it is still the one verified (a concurrent change wins). An imported
        user's Django hash is dropped from the import's snapshot too: none is kept once ours replaces it."""
        await self.users.update_one({"id": user_id, "password": old_hash},
                                    {"$set": {"password": new_hash}, "$unset": {IMPORTED_PASSWORD: ""}})

    @bounded
    async def change_password(self, user_id: UserId, old_hash: str, new_hash: str) -> bool:
        """Set a new password and move to the next token generation, in one update; False if the
        password changed meanwhile (the caller verified an old one)."""
        result = await self.users.update_one({"id": user_id, "password": old_hash},
                                             {"$set": {"password": new_hash}, "$inc": {"token_generation": 1},
                                              "$unset": {IMPORTED_PASSWORD: ""}})
        return result.matched_count == 1

    @bounded
    async def leaderboard(self, limit: int, order: str = "score") -> list[PublicUser]:
        """The top `limit` (at most LEADERBOARD_SIZE) active users by `order` (LEADERBOARD_ORDERS), from
        its index, read at most once per LEADERBOARD_SECONDS and after every game this process records."""
        read_at, top = self._leaderboards.get(order, (0.0, []))
        if time.monotonic() - read_at > LEADERBOARD_SECONDS:
            cursor = self.users.find({"is_active": True}, PUBLIC_USER_FIELDS)
            top = [PublicUser.from_document(user) async for user in
                   cursor.sort([(order, DESCENDING), ("id", ASCENDING)]).limit(LEADERBOARD_SIZE)]
            self._leaderboards[order] = (time.monotonic(), top)
        return top[:limit]

    @bounded
    async def ratings(self, user_ids: list[UserId]) -> dict[UserId, Rating]:
        """The users' ratings as they stand (a new player's for one who has none yet)."""
        found = {user["id"]: Rating.of(user) async for user in
                 self.users.find({"id": {"$in": user_ids}}, {"id": 1, "rating_mu": 1, "rating_sigma": 1})}
        return {user_id: found.get(user_id, Rating()) for user_id in user_ids}

    # Imports (auth.import_django): whole documents, each written in one operation

    @bounded
    async def insert_user(self, user: dict) -> None:
        """Insert a complete user document with its own id; raises UserIdTaken or UsernameTaken."""
        try:
            await self.users.insert_one(dict(user))
        except DuplicateKeyError:
            if await self.users.find_one({"id": user["id"]}, {"_id": 1}):
                raise UserIdTaken(user["id"]) from None
            raise UsernameTaken(user["username"]) from None

    @bounded
    async def update_user_if(self, user_id: UserId, expected: dict, changes: dict) -> bool:
        """Set `changes` while the user's fields still hold the `expected` values (scalars); False if
        they no longer do. Raises UsernameTaken when the change renames the user onto a taken name."""
        try:
            result = await self.users.update_one({"id": user_id, **expected}, {"$set": changes})
        except DuplicateKeyError:
            raise UsernameTaken(changes.get("username", "")) from None
        return result.matched_count == 1

    @bounded
    async def keep_user_ids_above(self, user_id: UserId) -> None:
        """Users registered from now on get ids above `user_id` (ids are never reused)."""
        await self.counters.update_one({"_id": "user_id"}, {"$max": {"value": user_id}}, upsert=True)

    @bounded
    async def save_token_record(self, record: dict) -> str:
        """Insert or update an outstanding token record by `_id`: "created", "updated" or "unchanged"."""
        result = await self.outstanding_tokens.update_one({"_id": record["_id"]}, {"$set": record}, upsert=True)
        return "created" if result.upserted_id is not None else "updated" if result.modified_count else "unchanged"

    @bounded
    async def token_record(self, record_id: str) -> Optional[dict]:
        return await self.outstanding_tokens.find_one({"_id": record_id})

    # Token records

    @bounded
    async def add_outstanding_token(self, record: dict) -> None:
        await self.outstanding_tokens.insert_one(record)

    @bounded
    async def blacklist(self, jti: str, user_id: UserId, expires_at: datetime, reason: str) -> bool:
        """Blacklist a jti atomically; False when it already was (the caller lost a race or replayed)."""
        try:
            await self.blacklisted_tokens.insert_one(
                {"_id": jti, "user_id": user_id, "expires_at": expires_at, "reason": reason,
                 "blacklisted_at": utcnow()})
        except DuplicateKeyError:
            return False
        return True

    @bounded
    async def token_standing(self, jti: Optional[str], family: Optional[str], user_id: Optional[UserId] = None,
                             whole_user: bool = True) -> "TokenStanding":
        """What every token check reads, in one query: why the jti is blacklisted, its family's record
        (`current`, `revoked`) and, given `user_id`, the user (or, not `whole_user`, their token generation)."""
        blacklisted = jti and await self.blacklisted_tokens.find_one({"_id": jti}, {"reason": 1})
        record = await self.token_families.find_one({"_id": family}, {"current": 1, "revoked": 1}) if family else None
        user = generation = None
        if user_id is not None:
            found = await self.users.find_one({"id": user_id}, None if whole_user else {"token_generation": 1})
            if found is not None:
                user = User.from_document(found) if whole_user else None
                generation = found.get("token_generation", 0)
        return TokenStanding(blacklisted["reason"] if blacklisted else None, record, user, generation)

    @bounded
    async def start_family(self, family: str, user_id: UserId, jti: str, expires_at: datetime) -> None:
        """A login's family record: which of its refresh tokens is the current one (rotation)."""
        await self.token_families.insert_one(
            {"_id": family, "user_id": user_id, "current": jti, "revoked": False, "expires_at": expires_at})

    @bounded
    async def rotate_family(self, family: str, old_jti: str, new_jti: str, expires_at: datetime) -> bool:
        """Make `new_jti` the family's current token if `old_jti` still is (atomic: concurrent rotations
        of one token have one winner) and forget the old token's record. False: `old_jti` was not current.
        """
        result = await self.token_families.update_one(
            {"_id": family, "current": old_jti, "revoked": False},
            {"$set": {"current": new_jti}, "$max": {"expires_at": expires_at}})
        if result.matched_count != 1:
            return False
        await self.outstanding_tokens.delete_one({"_id": old_jti})
        return True

    @bounded
    async def family(self, family: str) -> Optional[dict]:
        return await self.token_families.find_one({"_id": family}, {"current": 1, "revoked": 1})

    @bounded
    async def revoke_family(self, family: str, user_id: UserId, expires_at: datetime) -> None:
        await self.token_families.update_one(
            {"_id": family},
            {"$set": {"user_id": user_id, "revoked": True, "revoked_at": utcnow()}, "$max": {"expires_at": expires_at}},
            upsert=True)

    @bounded
    async def next_token_generation(self, user_id: UserId) -> None:
        """Move the user to a new token generation: every token issued before stops working (revoke-all)."""
        await self.users.update_one({"id": user_id}, {"$inc": {"token_generation": 1}})

    @bounded
    async def deactivate_user(self, user_id: UserId) -> None:
        """Inactive, and every token issued so far revoked (the next generation), in one update."""
        await self.users.update_one({"id": user_id}, {"$set": {"is_active": False}, "$inc": {"token_generation": 1}})

    @bounded
    async def token_generation(self, user_id: UserId) -> int:
        user = await self.users.find_one({"id": user_id}, {"token_generation": 1})
        return (user or {}).get("token_generation", 0)

    @bounded
    async def revoked_families(self) -> list[str]:
        return [record["_id"] async for record in self.token_families.find({"revoked": True}, {"_id": 1})]

    @bounded
    async def delete_expired_tokens(self, now: datetime, limit: int) -> int:
        """Delete up to `limit` expired token records of each kind (what MongoDB's TTL monitor does by
        itself; the embedded store needs it done), so a caller can flush in slices between ticks."""
        deleted = 0
        for records in (self.outstanding_tokens, self.blacklisted_tokens, self.token_families):
            expired = [record["_id"] async for record in
                       records.find({"expires_at": {"$lt": now}}, {"_id": 1}).limit(limit)]
            if expired:
                deleted += (await records.delete_many({"_id": {"$in": expired}})).deleted_count
        return deleted

    # Games

    @bounded
    async def record_game(self, result: GameResult) -> None:
        """Write a game result and apply its score changes exactly once, however often it is retried.

        The game document lists the users not yet applied (`unapplied`). For each: (1) the score
        changes only if the user holds no marker for this game, and the marker is set in the same
        update; (2) the user leaves the game's `unapplied`; (3) the marker goes. A crash between any
        two steps is finished by the retry without applying anything twice, and no per-user history
        grows: a marker lives only while its game is being applied.

        The first result written for a game id is the one applied: a later one (say, the cluster's
        "abandoned" for a host that died while applying its result) finishes applying the first.
        """
        self._leaderboards.clear()
        players = {*result.score_changes, *result.rating_changes}
        try:
            await self.games.insert_one({**result.to_document(), "unapplied": list(players)})
        except DuplicateKeyError:
            pass
        game = await self.games.find_one({"_id": result.id}, {"unapplied": 1, "score_changes": 1, "rating_changes": 1})
        unapplied = set(game.get("unapplied", ()))
        scores = {int(user_id): change for user_id, change in game.get("score_changes", {}).items()}
        ratings = {int(user_id): change for user_id, change in game.get("rating_changes", {}).items()}
        for user_id in {*scores, *ratings}:
            if user_id in unapplied:
                increments = {"score": scores.get(user_id, 0)}
                if user_id in ratings:
                    mu, sigma = ratings[user_id]
                    await self.users.update_one({"id": user_id, "rating_mu": None}, {"$set": Rating().fields()})
                    increments.update(rating_mu=mu, rating_sigma=sigma,
                                      rating=Rating.DISPLAY_SCALE * (mu - 3 * sigma))
                await self.users.update_one({"id": user_id, "pending_games": {"$ne": result.id}},
                                            {"$inc": increments, "$push": {"pending_games": result.id}})
                await self.games.update_one({"_id": result.id}, {"$pull": {"unapplied": user_id}})
            await self.users.update_one({"id": user_id}, {"$pull": {"pending_games": result.id}})

    @bounded
    async def game(self, game_id: str) -> Optional[GameResult]:
        """A recorded game with its replay; None for an unknown (or unfinished) game."""
        document = await self.games.find_one({"_id": game_id})
        return None if document is None else GameResult.from_document(document)

    async def games_in_order(self) -> AsyncIterator[GameResult]:
        """Every recorded game, oldest first, without replays (game.backfill_ratings reads them)."""
        async for document in self.games.find({}, {"replay": 0}).sort("ended_at", ASCENDING):
            yield GameResult.from_document(document)

    async def set_ratings(self, ratings: dict[UserId, Rating]) -> None:
        """Every user's rating set: the given ones, a new player's for the rest (a command's work, each
        write bounded by the client's timeoutMS)."""
        await self.users.update_many({}, {"$set": Rating().fields()})
        for user_id, rating in ratings.items():
            await self.users.update_one({"id": user_id}, {"$set": rating.fields()})

    @bounded
    async def recent_games(self, user_id: UserId, limit: int) -> list[GameResult]:
        cursor = self.games.find({"players.id": user_id}, {"replay": 0})
        return [GameResult.from_document(game) async for game in cursor.sort("ended_at", DESCENDING).limit(limit)]
