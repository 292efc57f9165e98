"""Stored shapes that cross packages: users, the user id type, and a finished game's result."""

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any, Mapping, Optional

UserId = int  # Django-style integer ids; tokens carry them as strings (auth.tokens converts once)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class PublicUser:
    """What anyone may see of a user (`/api/me/`, the leaderboard)."""

    id: UserId
    username: str
    score: int
    date_joined: datetime
    last_login: Optional[datetime]

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> "PublicUser":
        return cls(document["id"], document["username"], document["score"], document["date_joined"],
                   document.get("last_login"))


@dataclass(frozen=True)
class User(PublicUser):
    """A stored account, as the server reads it (the `users` collection's documents hold a few more
    fields: the username's unique and look-alike keys, and what an import from Django kept)."""

    password: str  # the hash: Argon2id, or an imported Django hash until the first login here
    is_active: bool = True
    token_generation: int = 0  # every token of an older generation is revoked (revoke-all, a new password)

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> "User":
        return cls(document["id"], document["username"], document["score"], document["date_joined"],
                   document.get("last_login"), document["password"], document.get("is_active", False),
                   document.get("token_generation", 0))


@dataclass(frozen=True)
class PlayerResult:
    """One player at the end of a game; bots have negative ids."""

    id: UserId
    username: str
    bot: bool
    score: int
    alive: bool
    place: int = 0  # 1 for the winner (and bots left standing together); 0 in games recorded before places


@dataclass(frozen=True)
class GameResult:
    """A finished (or abandoned) game: written by the game, applied to scores by the store, read by the API."""

    id: str
    players: tuple[PlayerResult, ...]
    winner: Optional[UserId]
    started_at: datetime
    ended_at: datetime
    score_changes: Mapping[UserId, int]
    abandoned: bool = False
    rated: bool = True  # it could change scores (two humans played, not practice, not abandoned)
    practice: bool = False
    replay: Optional[bytes] = None  # game/replay.py's recording, compressed; read only by the replay endpoint

    def score_change(self, user_id: UserId) -> int:
        return self.score_changes.get(user_id, 0)

    def to_document(self) -> dict:
        """The MongoDB document; BSON keys are strings, so score changes are keyed by `str(user_id)`."""
        return {
            "_id": self.id,
            "players": [asdict(player) for player in self.players],
            "winner": self.winner,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "score_changes": {str(user_id): change for user_id, change in self.score_changes.items()},
            "abandoned": self.abandoned,
            "rated": self.rated,
            "practice": self.practice,
            **({"replay": self.replay} if self.replay is not None else {}),
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> "GameResult":
        return cls(
            id=document["_id"],
            players=tuple(PlayerResult(**player) for player in document["players"]),
            winner=document["winner"],
            started_at=document["started_at"],
            ended_at=document["ended_at"],
            score_changes={UserId(user_id): change for user_id, change in document["score_changes"].items()},
            abandoned=document.get("abandoned", False),
            rated=document.get("rated", bool(document["score_changes"])),
            practice=document.get("practice", False),
            replay=document.get("replay"),
        )
