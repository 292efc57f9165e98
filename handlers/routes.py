"""The URL map: every path the server answers, in one place.

Every path is exact, so the table is a dict: a request finds its handler with one lookup instead of
matching the routes' patterns one after another (the game socket was the thirteenth).
"""

import os
from typing import Any

import tornado.web
from tornado.httputil import HTTPMessageDelegate, HTTPServerRequest

from auth.imports import import_string
from handlers.accounts import HealthHandler, LiveHandler, ReadyHandler, RegisterHandler
from handlers.game_socket import GameSocketHandler
from handlers.leaderboard import LeaderboardHandler, MyGamesHandler
from handlers.me import MeHandler, MyGameHandler, PasswordChangeHandler
from handlers.metrics import MetricsHandler
from handlers.openapi import SchemaHandler
from handlers.static import StaticHandler
from handlers.stats import StatsHandler
from handlers.tokens import RevokeAllHandler
from arena import Arena

STATIC_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "static")

# SimpleJWT's paths, served by the handler class its *_SERIALIZER setting names.
TOKEN_PATHS = {
    r"/api/token/": "TOKEN_OBTAIN_SERIALIZER",
    r"/api/token/refresh/": "TOKEN_REFRESH_SERIALIZER",
    r"/api/token/verify/": "TOKEN_VERIFY_SERIALIZER",
    r"/api/token/blacklist/": "TOKEN_BLACKLIST_SERIALIZER",
    r"/api/token/sliding/": "SLIDING_TOKEN_OBTAIN_SERIALIZER",
    r"/api/token/sliding/refresh/": "SLIDING_TOKEN_REFRESH_SERIALIZER",
}


# Every path that serves the arena's services, besides SimpleJWT's token paths above.
ARENA_PATHS = {
    r"/api/register/": RegisterHandler,
    r"/api/health/": HealthHandler,
    r"/api/health/live": LiveHandler,
    r"/api/health/ready": ReadyHandler,
    r"/api/stats/": StatsHandler,
    r"/api/schema/": SchemaHandler,
    r"/api/token/revoke-all/": RevokeAllHandler,
    r"/api/me/": MeHandler,
    r"/api/password/change/": PasswordChangeHandler,
    r"/api/me/games/": MyGamesHandler,
    r"/api/me/game/": MyGameHandler,
    r"/api/leaderboard/": LeaderboardHandler,
    r"/wss/multiplayer/": GameSocketHandler,
}


METRICS_PATH = r"/metrics"


def paths(arena: Arena) -> dict[str, type]:
    """Every exact path and the handler class serving it (the token paths' classes from their settings)."""
    token_handlers = {path: import_string(getattr(arena.settings.jwt, setting)) for path, setting in TOKEN_PATHS.items()}
    metrics = {} if arena.settings.METRICS_PORT else {METRICS_PATH: MetricsHandler}
    return {**token_handlers, **ARENA_PATHS, **metrics}


class ArenaApplication(tornado.web.Application):
    """Tornado's Application whose exact paths are found by one dict lookup before any pattern is tried
    (the page at `/`, static files, and the 404 handler for everything else)."""

    def __init__(self, arena: Arena, **settings: Any):
        self.exact_paths = paths(arena)
        self.services = {"arena": arena}
        page = (r"/()", StaticHandler, {"path": STATIC_PATH, "default_filename": "index.html",
                                        "trust_proxy": arena.settings.TRUST_PROXY})
        super().__init__([page], static_path=STATIC_PATH, static_handler_class=StaticHandler,
                         static_handler_args={"trust_proxy": arena.settings.TRUST_PROXY}, **settings)

    def find_handler(self, request: HTTPServerRequest, **kwargs: Any) -> HTTPMessageDelegate:
        handler = self.exact_paths.get(request.path)
        if handler is not None:
            return self.get_handler_delegate(request, handler, self.services)
        return super().find_handler(request, **kwargs)


def metrics_routes(arena: Arena) -> list:
    """The routes of the ARENA_METRICS_PORT listener: `/metrics` alone."""
    return [(METRICS_PATH, MetricsHandler, {"arena": arena})]
