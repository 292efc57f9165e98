"""A MongoDB that fails or hangs: every request answers 503 within ARENA_MONGO_TIMEOUT, never hangs or 500s.

These wrap the store's collections (on whichever backend the suite runs); test_mongo_frozen.py
freezes a real MongoDB-protocol server process.
"""

import asyncio

import pytest
from pymongo.errors import AutoReconnect

from tests.ws import GameClient

UNAVAILABLE = {"detail": "Service temporarily unavailable."}
FAST_DEADLINE = pytest.mark.settings(MONGO_TIMEOUT=0.3)


def hang(monkeypatch, collection, method: str) -> None:
    """The collection's `method` never answers, as a frozen MongoDB."""
    async def never(*args, **kwargs):
        await asyncio.Event().wait()

    monkeypatch.setattr(collection, method, never)


def fail(monkeypatch, collection, method: str) -> None:
    async def refused(*args, **kwargs):
        raise AutoReconnect("connection refused")

    monkeypatch.setattr(collection, method, refused)


@FAST_DEADLINE
@pytest.mark.parametrize("fault", [hang, fail])
@pytest.mark.gen_test(timeout=5)
async def test_rest_calls_answer_503_when_mongodb_hangs_or_fails(api, store, fault, monkeypatch):
    tokens = await api.login()
    fault(monkeypatch, store.users, "find_one")
    calls = {
        "login": api.post("/api/token/", {"username": "alice", "password": "correct horse"}),
        "refresh": api.post("/api/token/refresh/", {"refresh": tokens["refresh"]}),
        "me": api.get("/api/me/", token=tokens["access"]),
        "register": api.post("/api/register/", {"username": "bob", "password": "correct horse"}),
    }
    for name, call in calls.items():
        response = await call
        assert (name, response.status, response.json) == (name, 503, UNAVAILABLE)


@FAST_DEADLINE
@pytest.mark.gen_test(timeout=5)
async def test_health_says_unavailable_when_mongodb_hangs(api, store, monkeypatch):
    hang(monkeypatch, store.db, "command")
    response = await api.get("/api/health/")
    assert response.status == 503
    assert response.json["status"] == "degraded" and response.json["store"] == "unavailable"


@FAST_DEADLINE
@pytest.mark.gen_test(timeout=5)
async def test_a_socket_whose_token_cannot_be_checked_closes_1013(api, base_url, arena, store, monkeypatch):
    tokens = await api.login()
    hang(monkeypatch, store.users, "find_one")
    client = await GameClient.connect(base_url, tokens["access"])
    assert await client.wait_closed() == (1013, "store_unavailable")
    assert arena.game.sessions == {}


@FAST_DEADLINE
@pytest.mark.gen_test(timeout=5)
async def test_a_registration_cut_short_leaves_no_half_written_user(api, store, monkeypatch):
    hang(monkeypatch, store.users, "insert_one")
    response = await api.post("/api/register/", {"username": "bob", "password": "correct horse"})
    assert response.status == 503
    monkeypatch.undo()
    assert await store.users.count_documents({}) == 0
    assert (await api.post("/api/register/", {"username": "bob", "password": "correct horse"})).status == 201
