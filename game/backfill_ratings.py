"""`python -m game.backfill_ratings`: every user's skill rating computed afresh from the stored games.

The rated games are read oldest first and rated as they were played; users who played none get a new
player's rating. Running it again gives the same ratings (it starts from scratch every time), so it is
safe to repeat; run it while no server records games (or run it again after), since a game recorded
meanwhile is overwritten by the recomputation. Games recorded before ranks were kept are ranked by their
score changes (the winner first, everyone who lost points next, tied).
"""

import asyncio
import sys

from game import rating
from settings import SettingsError, load_settings
from store.connection import connect_store
from store.database import Store, StoreUnavailable
from store.documents import GameResult, Rating, UserId


def ranks_of(game: GameResult) -> dict[UserId, int]:
    if game.ranks:
        return dict(game.ranks)
    return {user_id: 1 if change > 0 else 2 for user_id, change in game.score_changes.items()}


async def backfill(store: Store) -> tuple[int, int]:
    """(games rated, users rated)."""
    ratings: dict[UserId, Rating] = {}
    games = 0
    async for game in store.games_in_order():
        ranks = ranks_of(game)
        if not game.rated or game.abandoned or len(ranks) < 2:
            continue
        games += 1
        for user_id, (mu, sigma) in rating.changes({u: (ratings.get(u, Rating()), r) for u, r in ranks.items()}).items():
            before = ratings.get(user_id, Rating())
            ratings[user_id] = Rating(before.mu + mu, before.sigma + sigma)
    await store.set_ratings(ratings)
    return games, len(ratings)


async def run() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    store = await connect_store(settings)
    try:
        games, users = await backfill(store)
    finally:
        await store.close()
    print(f"rated {games} games: {users} users have a rating from them, every other user a new player's")
    return 0


def main() -> int:
    try:
        return asyncio.run(run())
    except StoreUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
