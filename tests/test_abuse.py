"""Hostile clients: nothing one client does degrades the others, crashes a tick or answers 500."""

import pytest

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
