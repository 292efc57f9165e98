"""A real MongoDB-protocol server of the test's own, frozen with SIGSTOP: nothing hangs, nothing is lost.

Runs with both drivers. The server is SecantusDB (tests/mongo_server.py), whatever MONGO_URL says,
since only a process the test owns can be frozen.
"""

import signal
import threading
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import orjson
import pytest

from arena import Arena
from settings import load_settings
from store.documents import GameResult, PlayerResult
from tests.conftest import TEST_SETTINGS, TEST_ENV
from tests.mongo_server import MongoServer, free_port, require_server
from tests.test_server_process import start_server, wait_until_listening

MONGO_TIMEOUT = 0.5
UNAVAILABLE = {"detail": "Service temporarily unavailable."}


@pytest.fixture(params=["motor", "pymongo"])
def driver(request) -> str:
    """Each test names it: pytest-tornado builds the app on demand, out of pytest's parametrize reach."""
    return request.param


@pytest.fixture
def own_mongo():
    require_server()
    server = MongoServer()
    yield server
    server.stop()


@pytest.fixture
def settings(own_mongo, driver, tmp_path):
    """Every fixture of conftest (store, arena, app, api) then runs against the test's own server."""
    env = {**TEST_ENV, "MONGO_URL": own_mongo.url, "ARENA_MONGO_DRIVER": driver}
    return load_settings(env, **TEST_SETTINGS, MONGO_TIMEOUT=MONGO_TIMEOUT,
                         RESULTS_JOURNAL=str(tmp_path / "pending-results"))


@pytest.mark.gen_test(timeout=15)
async def test_requests_answer_503_while_mongodb_is_frozen_and_recover_after(api, own_mongo, driver):
    await api.register()
    own_mongo.freeze()
    response = await api.post("/api/token/", {"username": "alice", "password": "correct horse"})
    assert (response.status, response.json) == (503, UNAVAILABLE)
    health = await api.get("/api/health/")
    assert health.status == 503 and health.json["store"] == "unavailable"
    own_mongo.thaw()
    response = await api.post("/api/token/", {"username": "alice", "password": "correct horse"})
    assert response.status == 200 and set(response.json) == {"refresh", "access"}


def a_result(game_id: str, user_id: int) -> GameResult:
    now = datetime.now(timezone.utc)
    return GameResult(id=game_id, players=(PlayerResult(user_id, "alice", False, 1500, True),), winner=user_id,
                      started_at=now, ended_at=now, score_changes={user_id: 10})


@pytest.mark.gen_test(timeout=20)
async def test_a_result_mongodb_did_not_take_waits_on_disk_for_the_next_start(
        api, arena, settings, store, own_mongo, driver, caplog):
    user_id = (await api.register()).json["id"]
    own_mongo.freeze()
    arena.game.results.submit(a_result("g1", user_id))
    await arena.shutdown()  # bounded although MongoDB hangs
    kept = Path(settings.RESULTS_JOURNAL) / "g1.json"
    assert kept.exists()
    assert "game result g1 not written (score changes {1: 10})" in caplog.text
    own_mongo.thaw()

    restarted = Arena(settings, store)
    restarted.start()
    await restarted.game.results.drained()
    assert (await store.users.find_one({"id": user_id}))["score"] == 1510
    assert (await store.games.find_one({"_id": "g1"}))["score_changes"] == {"1": 10}
    assert not kept.exists()
    await restarted.shutdown()


def post_json(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=orjson.dumps(body), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, orjson.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, orjson.loads(error.read())


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return orjson.loads(response.read())


def test_sigterm_while_mongodb_is_frozen_answers_in_flight_requests_and_exits(own_mongo, driver, tmp_path):
    port = free_port()
    # The drain (3 s) outlasts MongoDB's deadline (1 s): the in-flight login's 503 comes while draining,
    # however late a busy machine runs the timers.
    process = start_server("--port", str(port), env={
        **TEST_ENV, "MONGO_URL": own_mongo.url, "ARENA_MONGO_DRIVER": driver, "ARENA_MONGO_TIMEOUT": "1",
        "ARENA_SHUTDOWN_TIMEOUT": "3", "ARENA_RESULTS_JOURNAL": str(tmp_path), "ARENA_PASSWORD_TIME_COST": "1",
        "ARENA_PASSWORD_MEMORY_COST": "1024"})
    try:
        wait_until_listening(process)
        base = f"http://127.0.0.1:{port}"
        assert post_json(base + "/api/register/", {"username": "alice", "password": "correct horse"})[0] == 201
        own_mongo.freeze()
        answers = []
        login = threading.Thread(target=lambda: answers.append(
            post_json(base + "/api/token/", {"username": "alice", "password": "correct horse"})))
        login.start()
        while get_json(base + "/api/stats/")["requests"] < 2:  # the login waits on MongoDB (+ this request)
            pass
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=20)
        login.join()
    finally:
        process.kill()
    assert process.returncode == 0, log
    assert answers == [(503, UNAVAILABLE)]
    assert "stopped" in log
