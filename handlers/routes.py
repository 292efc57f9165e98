"""The URL map: every path the server answers, in one place."""

import os

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


def build(arena: Arena) -> list:
    """Every route, each handler given the arena it serves (Tornado's `initialize` arguments).

    `/metrics` is among them unless ARENA_METRICS_PORT gives it a port of its own (`metrics_routes`).
    """
    services = {"arena": arena}
    token_handlers = {path: import_string(getattr(arena.settings.jwt, setting)) for path, setting in TOKEN_PATHS.items()}
    metrics = {} if arena.settings.METRICS_PORT else {METRICS_PATH: MetricsHandler}
    return [
        *((path, handler, services) for path, handler in {**token_handlers, **ARENA_PATHS, **metrics}.items()),
        (r"/()", StaticHandler, {"path": STATIC_PATH, "default_filename": "index.html",
                                 "trust_proxy": arena.settings.TRUST_PROXY}),
    ]


def metrics_routes(arena: Arena) -> list:
    """The routes of the ARENA_METRICS_PORT listener: `/metrics` alone."""
    return [(METRICS_PATH, MetricsHandler, {"arena": arena})]
