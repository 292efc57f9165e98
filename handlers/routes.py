"""The URL map: every path the server answers, in one place."""

import os

from handlers.accounts import HealthHandler, RegisterHandler
from settings import Settings

STATIC_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "static")


def build(settings: Settings) -> list:
    return [
        (r"/api/register/", RegisterHandler),
        (r"/api/health/", HealthHandler),
    ]
