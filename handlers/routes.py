"""The URL map: every path the server answers, in one place.

Every path is exact, so the table is a dict: a request finds its handler with one lookup instead of
matching the routes' patterns one after another (the game socket was the thirteenth).
"""

import os
from typing import Any

import tornado.web
from tornado.httputil import HTTPMessageDelegate, HTTPServerRequest

from auth.extensions import import_named
from handlers.accounts import HealthHandler, LiveHandler, ReadyHandler, RegisterHandler
from handlers.game_socket import GameSocketHandler
from handlers.games import LiveGamesHandler, ReplayHandler
from handlers.leaderboard import LeaderboardHandler, MyGamesHandler
from handlers.me import MeHandler, MyGameHandler, PasswordChangeHandler
from handlers.metrics import MetricsHandler
from handlers.openapi import SchemaHandler
from handlers.static import StaticHandler
from handlers.stats import StatsHandler
from handlers.tokens import (RevokeAllHandler, TokenBlacklistHandler, TokenObtainPairHandler,
                             TokenObtainSlidingHandler, TokenRefreshHandler, TokenRefreshSlidingHandler,
                             TokenVerifyHandler)
from settings import SettingsError
from arena import Arena

STATIC_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "static")

# Every path the server answers besides `/` and static files, and the class serving it.
PATHS = {
    "/api/token/": TokenObtainPairHandler,
    "/api/token/refresh/": TokenRefreshHandler,
    "/api/token/verify/": TokenVerifyHandler,
    "/api/token/blacklist/": TokenBlacklistHandler,
    "/api/token/sliding/": TokenObtainSlidingHandler,
    "/api/token/sliding/refresh/": TokenRefreshSlidingHandler,
    "/api/token/revoke-all/": RevokeAllHandler,
    "/api/register/": RegisterHandler,
    "/api/health/": HealthHandler,
    "/api/health/live": LiveHandler,
    "/api/health/ready": ReadyHandler,
    "/api/stats/": StatsHandler,
    "/api/schema/": SchemaHandler,
    "/api/me/": MeHandler,
    "/api/password/change/": PasswordChangeHandler,
    "/api/me/games/": MyGamesHandler,
    "/api/me/game/": MyGameHandler,
    "/api/leaderboard/": LeaderboardHandler,
    "/api/games/live/": LiveGamesHandler,
    "/wss/multiplayer/": GameSocketHandler,
    "/metrics": MetricsHandler,  # on its own port instead with ARENA_METRICS_PORT
}
# Paths with a part that varies, as OpenAPI names them, with the pattern Tornado routes them by.
PATTERNS = {"/api/games/{id}/replay/": (r"/api/games/([0-9a-f]{1,64})/replay/", ReplayHandler)}
METRICS_PATH = "/metrics"
# SimpleJWT's settings that pick the class serving a token path: a subclass of the one above (say, one
# that adds claims), named by import path as in SIMPLE_JWT.
SERIALIZER_SETTINGS = {
    "/api/token/": "TOKEN_OBTAIN_SERIALIZER",
    "/api/token/refresh/": "TOKEN_REFRESH_SERIALIZER",
    "/api/token/verify/": "TOKEN_VERIFY_SERIALIZER",
    "/api/token/blacklist/": "TOKEN_BLACKLIST_SERIALIZER",
    "/api/token/sliding/": "SLIDING_TOKEN_OBTAIN_SERIALIZER",
    "/api/token/sliding/refresh/": "SLIDING_TOKEN_REFRESH_SERIALIZER",
}


def paths(arena: Arena) -> dict[str, type]:
    """The path table as this server runs it: the *_SERIALIZER settings' classes imported (once, at
    start; SettingsError names a setting that does not import or does not name a subclass), and
    `/metrics` left out when it has a port of its own."""
    table = dict(PATHS)
    for path, setting in SERIALIZER_SETTINGS.items():
        chosen = import_named(f"JWT_{setting}", getattr(arena.settings.jwt, setting))
        if not (isinstance(chosen, type) and issubclass(chosen, PATHS[path])):
            raise SettingsError(f"JWT_{setting}: {chosen!r} is not a subclass of {PATHS[path].__qualname__}")
        table[path] = chosen
    if arena.settings.METRICS_PORT:
        del table[METRICS_PATH]
    return table


class ArenaApplication(tornado.web.Application):
    """Tornado's Application whose exact paths are found by one dict lookup before any pattern is tried
    (the page at `/`, static files, and the 404 handler for everything else)."""

    def __init__(self, arena: Arena, **settings: Any):
        self.exact_paths = paths(arena)
        self.services = {"arena": arena}
        page = (r"/()", StaticHandler, {"path": STATIC_PATH, "default_filename": "index.html",
                                        "trust_proxy": arena.settings.TRUST_PROXY})
        varying = [(pattern, handler, self.services) for pattern, handler in PATTERNS.values()]
        super().__init__([page, *varying], static_path=STATIC_PATH, static_handler_class=StaticHandler,
                         static_handler_args={"trust_proxy": arena.settings.TRUST_PROXY}, **settings)

    def find_handler(self, request: HTTPServerRequest, **kwargs: Any) -> HTTPMessageDelegate:
        handler = self.exact_paths.get(request.path)
        if handler is not None:
            return self.get_handler_delegate(request, handler, self.services)
        return super().find_handler(request, **kwargs)


def metrics_routes(arena: Arena) -> list:
    """The routes of the ARENA_METRICS_PORT listener: `/metrics` alone."""
    return [(METRICS_PATH, MetricsHandler, {"arena": arena})]
