"""Stored shapes that cross packages: users, the user id type, and a finished game's result."""

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar, Mapping, Optional

UserId = int  # Django-style integer ids; tokens carry them as strings (auth.tokens converts once)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Rating:
    """A user's skill rating (game/rating.py rates games): OpenSkill's mu and sigma, a new player's at
    first. Players see `shown`, a conservative estimate mapped to a familiar range, DISPLAY_BASE +
    DISPLAY_SCALE × (mu − 3 sigma) (1000 at first, climbing once the system is sure), and `deviation`,
    DISPLAY_SCALE × sigma; both are linear in mu and sigma, so changes apply as increments."""

    mu: float = 25.0
    sigma: float = 25.0 / 3.0
    DISPLAY_BASE: ClassVar[float] = 1000.0
    DISPLAY_SCALE: ClassVar[float] = 40.0

    @property
    def shown(self) -> float:
        return self.DISPLAY_BASE + self.DISPLAY_SCALE * (self.mu - 3 * self.sigma)

    @property
    def deviation(self) -> float:
        return self.DISPLAY_SCALE * self.sigma

    def fields(self) -> dict:
        """As stored on a user: `rating_mu`, `rating_sigma`, and `rating` (shown: what the leaderboard sorts)."""
        return {"rating_mu": self.mu, "rating_sigma": self.sigma, "rating": self.shown}

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> "Rating":
        return cls(document.get("rating_mu", cls.mu), document.get("rating_sigma", cls.sigma))


@dataclass(frozen=True)
class PublicUser:
    """What anyone may see of a user (`/api/me/`, the leaderboard)."""

    id: UserId
    username: str
    score: int
    date_joined: datetime
    last_login: Optional[datetime]
    rating: Rating

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> "PublicUser":
        return cls(document["id"], document["username"], document["score"], document["date_joined"],
                   document.get("last_login"), Rating.of(document))


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
                   document.get("last_login"), Rating.of(document), document["password"],
                   document.get("is_active", False), document.get("token_generation", 0))


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
    ranks: Mapping[UserId, int] = field(default_factory=dict)  # humans' ranks among humans (rated games)
    rating_changes: Mapping[UserId, tuple[float, float]] = field(default_factory=dict)  # mu, sigma increments

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
            "ranks": {str(user_id): rank for user_id, rank in self.ranks.items()},
            "rating_changes": {str(user_id): list(change) for user_id, change in self.rating_changes.items()},
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
            ranks={UserId(user_id): rank for user_id, rank in document.get("ranks", {}).items()},
            rating_changes={UserId(user_id): tuple(change)
                            for user_id, change in document.get("rating_changes", {}).items()},
        )
