"""The URL map: every path the server answers, in one place."""

import os

from auth.imports import import_string
from handlers.accounts import HealthHandler, LiveHandler, ReadyHandler, RegisterHandler
from handlers.game_socket import GameSocketHandler
from handlers.leaderboard import LeaderboardHandler, MyGamesHandler
from handlers.me import MeHandler, PasswordChangeHandler
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


def build(arena: Arena) -> list:
    """Every route, each handler given the arena it serves (Tornado's `initialize` arguments)."""
    services = {"arena": arena}
    token_handlers = ((path, import_string(getattr(arena.settings.jwt, setting))) for path, setting in TOKEN_PATHS.items())
    return [
        (r"/api/register/", RegisterHandler, services),
        (r"/api/health/", HealthHandler, services),
        (r"/api/health/live", LiveHandler, services),
        (r"/api/health/ready", ReadyHandler, services),
        (r"/api/stats/", StatsHandler, services),
        (r"/api/schema/", SchemaHandler, services),
        *((path, handler, services) for path, handler in token_handlers),
        (r"/api/token/revoke-all/", RevokeAllHandler, services),
        (r"/api/me/", MeHandler, services),
        (r"/api/password/change/", PasswordChangeHandler, services),
        (r"/api/me/games/", MyGamesHandler, services),
        (r"/api/leaderboard/", LeaderboardHandler, services),
        (r"/wss/multiplayer/", GameSocketHandler, services),
        (r"/()", StaticHandler, {"path": STATIC_PATH, "default_filename": "index.html",
                                 "trust_proxy": arena.settings.TRUST_PROXY}),
    ]
