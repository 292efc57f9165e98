"""Fixtures: a fresh store and the same Application the server runs, on a real socket.

With MONGO_URL set every test uses a real MongoDB, in a database of its own that is dropped after.
`@pytest.mark.settings(jwt={...}, game={...}, NAME=value)` changes settings for one test.
"""

import os
import uuid

import pytest

from arena import Arena
from store.connection import connect_store
from edge.server import make_server
from server import make_app
from settings import load_settings
from tests.client import ApiClient

# Quick hashing, and no throttles: tests that are about throttling set their own rates.
TEST_SETTINGS = {"DATA_DIR": "", "PASSWORD_TIME_COST": 1, "PASSWORD_MEMORY_COST": 1024, "PASSWORD_FAILURE_SECONDS": 0.0,
                 "THROTTLE_LOGIN_USERNAME": "",
                  "THROTTLE_LOGIN_ADDRESS": "", "THROTTLE_PASSWORD_USER": "", "THROTTLE_PASSWORD_ADDRESS": "",
                  "THROTTLE_REGISTER_ADDRESS": "", "THROTTLE_SOCKET_ADDRESS": "", "THROTTLE_SOCKET_USER": ""}
BACKEND_VARIABLES = ("MONGO_URL", "ARENA_MONGO_DRIVER")  # the suite runs on whichever backend these name
TEST_ENV = {"SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs512-" * 2,
            "ARENA_DRAIN_GRACE": "0.2"}  # a stopping server's readiness 503 (tests of the drain set it longer)


def pytest_configure(config):
    config.addinivalue_line("markers", "settings(**overrides): settings for the test's server")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """`item.failed` for fixtures that leave evidence behind when their test fails."""
    report = (yield).get_result()
    if report.failed:
        item.failed = True


@pytest.fixture
def jwt_overrides():
    """JWT settings for one test; parametrize or override this fixture to change them."""
    return {}


@pytest.fixture
def settings(request, jwt_overrides, tmp_path):
    marker = request.node.get_closest_marker("settings")
    overrides = dict(marker.kwargs) if marker else {}
    overrides["jwt"] = {**overrides.get("jwt", {}), **jwt_overrides}
    env = {**TEST_ENV, **{name: os.environ[name] for name in BACKEND_VARIABLES if os.environ.get(name)}}
    journal = str(tmp_path / "pending-results")
    return load_settings(env, **{**TEST_SETTINGS, "RESULTS_JOURNAL": journal, **overrides})


@pytest.fixture
def store(io_loop, settings):
    db_name = f"arena_test_{uuid.uuid4().hex[:12]}"
    store = io_loop.run_sync(lambda: connect_store(settings, db_name))
    yield store
    io_loop.run_sync(lambda: store.client.drop_database(db_name))
    io_loop.run_sync(store.close)


@pytest.fixture
def arena(io_loop, settings, store):
    arena = Arena(settings, store)
    arena.start()
    yield arena
    io_loop.run_sync(arena.shutdown)


@pytest.fixture
def app(arena):
    return make_app(arena)


@pytest.fixture
def http_server(request, io_loop, _unused_port, app, settings):
    """pytest-tornado's fixture, but the server is built as server.py builds it (timeouts, caps)."""
    server = make_server(app, settings)
    server.add_socket(_unused_port[0])
    yield server
    server.stop()
    io_loop.run_sync(server.close_all_connections)


@pytest.fixture
def api(http_client, base_url):
    return ApiClient(http_client, base_url)
