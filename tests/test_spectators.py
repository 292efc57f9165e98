"""Spectating (issue 25): the live list, a spectator who sees a game `ARENA_SPECTATE_DELAY` seconds
late, never acts, is capped per room, and leaves when they like; in cluster mode, wherever the room runs."""

import time

import pytest

from tests.test_game_sessions import DEADLY, connected, play_to_the_end, players_in_a_room
from tests.ws import GameClient

WATCHED = {"game": {**DEADLY, "ROOM_CAPACITY": 2}, "SPECTATE_DELAY": 0.5, "SPECTATORS_PER_ROOM": 1}


@pytest.mark.settings(**WATCHED)
@pytest.mark.gen_test(timeout=15)
async def test_a_spectator_sees_the_game_late_cannot_act_and_gets_its_end(api, base_url, arena):
    (alice, bob), _ = await players_in_a_room(api, base_url, "alice", "bob")
    start = next(event for event in alice.events if event["event"] == "game_start")
    live = (await api.get("/api/games/live/")).json["results"]
    assert [(room["room"], room["spectators"]) for room in live] == [(start["room"], 0)]
    assert [p["username"] for p in live[0]["players"]] == ["alice", "bob"]

    carol, _ = await connected(api, base_url, "carol")
    await carol.send("spectate", room=start["room"])
    watching = await carol.wait_for("spectating")
    asked = time.monotonic()
    assert watching == {"event": "spectating", "room": start["room"], "delay": 0.5}
    described = await carol.wait_for("game_start")
    assert described["you"] is None and described["room"] == start["room"]
    await carol.wait_for("state")
    assert time.monotonic() - asked >= 0.45  # what the players saw half a second ago, no sooner
    await carol.send("move_to", tx=0.5, ty=0.5)
    assert (await carol.wait_for("error"))["code"] == "spectating"
    assert (await api.get("/api/games/live/")).json["results"][0]["spectators"] == 1

    dave, _ = await connected(api, base_url, "dave")
    await dave.send("spectate", room=start["room"])
    assert (await dave.wait_for("error"))["code"] == "spectators_full"
    await alice.send("spectate", room=start["room"])
    assert (await alice.wait_for("error"))["code"] == "in_game"
    await dave.send("spectate", room="abc123")
    assert (await dave.wait_for("error"))["code"] == "no_such_game"

    over = await play_to_the_end(alice)
    assert await carol.wait_for("game_over") == over  # the same end, late
    await carol.send("leave")
    assert (await carol.wait_for("queued"))["event"] == "queued"
    assert arena.game.spectators.watching == {}


@pytest.mark.settings(**WATCHED)
@pytest.mark.gen_test(timeout=15)
async def test_leave_stops_watching_and_queues_again(api, base_url, arena):
    (alice, bob), _ = await players_in_a_room(api, base_url, "alice", "bob")
    room = next(event for event in alice.events if event["event"] == "game_start")["room"]
    carol, _ = await connected(api, base_url, "carol")
    await carol.send("spectate", room=room)
    await carol.wait_for("spectating")
    await carol.send("leave")
    await carol.wait_for("queued")
    assert arena.game.spectators.watching == {} and 3 in arena.game.matchmaker.queue
    assert (await api.get("/api/games/live/")).json["results"][0]["spectators"] == 0
