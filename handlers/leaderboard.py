"""Scores: the public leaderboard and the caller's recent games."""

from dataclasses import asdict

import tornado.web

from auth.users import isoformat, public_user
from handlers.authenticated import AuthenticatedHandler
from handlers.base import APIHandler, FieldErrors
from store.database import LEADERBOARD_ORDERS, LEADERBOARD_SIZE

MAX_LIMIT = LEADERBOARD_SIZE


class LeaderboardHandler(APIHandler):
    """`GET /api/leaderboard/?limit=N&order=score|rating` → `{"results": [{"rank", "id", "username", "score",
    "rating", ...}]}`, by score (the default) or by skill rating."""

    async def get(self):
        order = self.get_query_argument("order", "score")
        if order not in LEADERBOARD_ORDERS:
            raise FieldErrors({"order": [f'"{order}" is not a valid choice.']})
        users = await self.arena.store.leaderboard(self.integer_query("limit", 10, 1, MAX_LIMIT), order)
        self.write_json({"results": [{"rank": rank, **public_user(user)} for rank, user in enumerate(users, 1)]})


class MyGamesHandler(AuthenticatedHandler):
    """`GET /api/me/games/?limit=N` (Bearer) → the caller's most recent games, newest first."""

    @tornado.web.authenticated
    async def get(self):
        user_id = self.current_user.id
        games = await self.arena.store.recent_games(user_id, self.integer_query("limit", 20, 1, MAX_LIMIT))
        self.write_json({"results": [{
            "id": game.id,
            "started_at": isoformat(game.started_at),
            "ended_at": isoformat(game.ended_at),
            "players": [asdict(player) for player in game.players],
            "winner": game.winner,
            "score_change": game.score_change(user_id),
            "place": next((player.place for player in game.players if player.id == user_id), 0),
            "abandoned": game.abandoned,
            "rated": game.rated,
            "practice": game.practice,
        } for game in games]})
