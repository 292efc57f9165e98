"""Hostile clients: nothing one client does degrades the others, crashes a tick or answers 500."""

import pytest
from tornado.httpclient import HTTPClientError

from tests.test_game_sessions import DEADLY, play_to_the_end
from tests.ws import GameClient, RawSocket

gen_test = pytest.mark.gen_test
QUICK = {"MATCH_INTERVAL": 0.05, "BOT_FILL_AFTER": 60, "ROOM_CAPACITY": 2}


@pytest.mark.parametrize("query, errors", [
    ("/api/leaderboard/?limit=²", {"limit": ["A valid integer is required."]}),
    ("/api/leaderboard/?limit=" + "9" * 4300, {"limit": ["String value too large."]}),
    ("/api/leaderboard/?limit=0", {"limit": ["Ensure this value is greater than or equal to 1."]}),
    ("/api/leaderboard/?limit=101", {"limit": ["Ensure this value is less than or equal to 100."]}),
    ("/api/stats/?ticks=①", {"ticks": ["A valid integer is required."]}),
    ("/api/stats/?ticks=100000", {"ticks": ["Ensure this value is less than or equal to 3600."]}),
    ("/api/stats/?ticks=-5", {"ticks": ["Ensure this value is greater than or equal to 1."]}),
])
@gen_test
async def test_bad_query_parameters_are_field_errors_not_500s(api, query, errors):
    response = await api.get(query)
    assert (response.status, response.json) == (400, errors)


@pytest.mark.settings(game=QUICK)
@gen_test(timeout=10)
async def test_a_socket_the_server_closed_acts_no_more(api, base_url, arena):
    alice = await api.login("alice")
    bob = await api.login("bob")
    a = await RawSocket.connect(base_url, alice["access"])  # reads nothing, so it never sees a close
    b = await GameClient.connect(base_url, bob["access"])
    await b.wait_for("game_start")
    assert (await api.post("/api/token/revoke-all/", token=alice["access"])).status == 200
    for _ in range(10):
        await a.send("message", text="ghost")
    await a.send("message", text="last")
    await b.send("message", text="marker")
    said = [(await b.wait_for("message"))["text"]]
    while said[-1] != "marker":
        said.append((await b.wait_for("message"))["text"])
    assert said == ["marker"]
    a.close()


@pytest.mark.settings(game={**QUICK, "MESSAGE_RATE": 0.5, "MESSAGE_BURST": 6})
@gen_test(timeout=10)
async def test_the_frame_limit_follows_the_user_across_reconnects(api, base_url):
    tokens = await api.login()
    first = await GameClient.connect(base_url, tokens["access"])
    await first.wait_for("queued")
    for _ in range(4):
        await first.send("move_to", tx=0.5, ty=0.5)
    await first.wait_for("error")
    second = await GameClient.connect(base_url, tokens["access"])  # replaces the first
    await second.wait_for("welcome")
    for _ in range(4):
        await second.send("move_to", tx=0.5, ty=0.5)
    assert await second.wait_closed() == (4008, "rate_limited")


@pytest.mark.settings(THROTTLE_SOCKET_ADDRESS="3/min")
@gen_test(timeout=10)
async def test_connection_attempts_per_address_are_throttled_before_the_upgrade(api, base_url):
    tokens = await api.login()
    for _ in range(3):
        (await GameClient.connect(base_url, tokens["access"])).close()
    with pytest.raises(HTTPClientError) as refused:
        await GameClient.connect(base_url, tokens["access"])
    assert refused.value.code == 429 and refused.value.response.headers["Retry-After"] == "60"


@pytest.mark.settings(THROTTLE_SOCKET_USER="2/min")
@gen_test(timeout=10)
async def test_connections_per_user_are_throttled(api, base_url):
    tokens = await api.login()
    for _ in range(2):
        client = await GameClient.connect(base_url, tokens["access"])
        await client.wait_for("welcome")
    third = await GameClient.connect(base_url, tokens["access"])
    assert await third.wait_closed() == (4008, "too_many_connections")


@pytest.mark.settings(game=DEADLY)
@gen_test(timeout=20)
async def test_beating_accounts_that_never_play_earns_nothing(api, base_url, arena, store):
    clients = []
    for name in ("farmer", "idle1", "idle2"):
        clients.append(await GameClient.connect(base_url, (await api.login(name))["access"]))
    for client in clients:
        await client.wait_for("game_start")
    over = await play_to_the_end(clients[0])
    assert over["winner"] == 1 and over["scores"] == {}
    await arena.game.results.drained()
    assert {user["username"]: user["score"] async for user in store.users.find({})} == {
        "farmer": 1500, "idle1": 1500, "idle2": 1500}


@gen_test(timeout=30)
async def test_the_leaderboard_is_read_from_the_store_once_however_often_it_is_asked(api, store, monkeypatch):
    for name in ("ann", "ben", "cid"):
        await api.register(name)
    reads = []
    find = store.users.find
    monkeypatch.setattr(store.users, "find", lambda *args, **kwargs: reads.append(1) or find(*args, **kwargs))
    boards = [(await api.get(f"/api/leaderboard/?limit={n % 3 + 1}")).json["results"] for n in range(30)]
    assert [len(board) for board in boards[:3]] == [1, 2, 3]
    assert [row["username"] for row in boards[2]] == ["ann", "ben", "cid"]
    assert len(reads) == 1
