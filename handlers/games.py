"""Games: a finished game's replay (`GET /api/games/{id}/replay/`)."""

import tornado.web

from game import replay
from handlers.authenticated import AuthenticatedHandler
from handlers.base import detail


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
