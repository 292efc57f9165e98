"""Games: the ones running now (`GET /api/games/live/`) and a finished game's replay
(`GET /api/games/{id}/replay/`)."""

from datetime import datetime, timezone

import tornado.web

from auth.users import isoformat
from game import replay
from handlers.authenticated import AuthenticatedHandler
from handlers.base import APIHandler, detail

LIVE_LIMIT = 100


class LiveGamesHandler(APIHandler):
    """`GET /api/games/live/?limit=N` → `{"results": [{"room", "players": [{"id", "username", "bot"}],
    "started_at", "spectators"}]}`, newest first: the games anyone may watch (cluster mode: on every
    process)."""

    async def get(self):
        limit = self.integer_query("limit", 20, 1, LIVE_LIMIT)
        cluster = self.arena.cluster
        rooms = await cluster.live_rooms(limit) if cluster is not None else self.arena.game.live_rooms(limit)
        self.write_json({"results": [{**room, "started_at": isoformat(datetime.fromtimestamp(room["started_at"],
                                                                                            timezone.utc))}
                                     for room in rooms]})


class ReplayHandler(AuthenticatedHandler):
    """`GET /api/games/{id}/replay/` (Bearer; any user may watch any finished game) → the recording
    (`seed`, `settings`, `players`, `inputs` by step) and `result`; `frames`: the game played again on
    the server, ready to draw (`null` for a game of older rules this server cannot play)."""

    @tornado.web.authenticated
    async def get(self, game_id: str):
        game = await self.arena.store.game(game_id)
        if game is None or game.replay is None:
            raise detail(404, "Not found.")
        recorded = replay.load(game.replay)
        try:
            frames = await self.arena.viewings.frames(recorded)
        except ValueError:
            frames = None
        self.write_json({"id": recorded["id"], "version": recorded["version"], "seed": recorded["seed"],
                         "tick_rate": recorded["settings"]["TICK_RATE"], "settings": recorded["settings"],
                         "practice": recorded["practice"], "players": recorded["players"],
                         "steps": recorded["steps"], "inputs": recorded["inputs"], "result": recorded["result"],
                         "frames": frames})
