"""Every finished game can be replayed exactly (issue 25): games of many seeds played again from their
recordings reach the recorded winner, places and final rows bit for bit; stored replays of past games
keep replaying (a rules change that alters outcomes fails here); `GET /api/games/{id}/replay/`."""

import json
import random
from pathlib import Path

import pytest

from game import replay
from game.protocol import read_target
from game.room import Room
from settings import GameSettings
from tests.test_game_sessions import DEADLY, players_in_a_room, play_to_the_end

FIXTURES = Path(__file__).parent / "replays"
QUICK_RULES = GameSettings(BOT_HOLD_FIRE=0.5, FIREBALL_COOLDOWN=0.5, HITS_TO_KILL=2, RECONNECT_GRACE=2.0)


def played_room(seed: int, humans: int = 2, settings: GameSettings = QUICK_RULES, max_steps: int = 20_000,
                handoff_at: int = -1) -> tuple[Room, bytes]:
    """A room of `humans` scripted players (random moves, shots, blinks, chat, drops and returns) and
    bots, played to its end; and its replay as stored. With `handoff_at`, the room is exported and
    restored at that step, as a hand-off to another process does."""
    script = random.Random(seed * 7919)
    room = Room(f"room{seed}", settings, seed)
    for n in range(1, humans + 1):
        room.seat(None, n, f"human{n}", 1500)
    for n in range(1, 4 - humans):
        room.seat(None, -n, f"Robot {n}", 0, bot=True)
    dt = 1.0 / settings.TICK_RATE
    for step in range(max_steps):
        if step == handoff_at:
            room = Room.restore(json.loads(json.dumps(room.export())), settings, 0)
            for n in range(1, humans + 1):
                room.sessions[n] = None
        for player_id in range(1, humans + 1):
            roll = script.random()
            target = read_target({"event": "move_to", "tx": script.uniform(-0.2, 2.0), "ty": script.uniform(-0.2, 1.2)})
            if roll < 0.02:
                room.enqueue(player_id, "move_to", target)
            elif roll < 0.03:
                room.enqueue(player_id, "shoot_fireball", target)
            elif roll < 0.032:
                room.enqueue(player_id, "blink", target)
            elif roll < 0.033:
                room.enqueue(player_id, "message", {"text": "gg"})
            elif roll < 0.0335:
                room.detach(player_id)
            elif roll < 0.034 and room.sessions.get(player_id) is None:
                room.match.set_connected(player_id, True)
                room.recording.connection(player_id, replay.CONNECTED)
        room.step(dt, step)
        if room.match.over:
            break
    changes = room.match.score_changes()
    return room, replay.record(room.id, room.seed, settings, False, room.match, room.recording,
                               replay.result_of(room.match, False, changes))


async def replayed(stored: bytes) -> dict:
    document = replay.load(stored)
    again = replay.Replay(document)
    await again.run()
    return replay.result_of(again.match, document["result"]["abandoned"], again.match.score_changes())


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.gen_test(timeout=30)
async def test_a_game_played_again_from_its_recording_ends_exactly_as_it_did(seed):
    room, stored = played_room(seed, humans=1 + seed % 3)
    assert room.match.over
    assert await replayed(stored) == replay.load(stored)["result"]  # winner, places, final rows: bit for bit


@pytest.mark.gen_test(timeout=30)
async def test_a_game_handed_to_another_process_mid_way_replays_whole():
    room, stored = played_room(3, handoff_at=400)
    assert room.match.over and replay.load(stored)["steps"] > 400
    assert await replayed(stored) == replay.load(stored)["result"]


def test_a_two_minute_game_of_three_busy_humans_fits_in_20_kb():
    """The budget: a 2-minute, 3-player game whose humans act about five times a second each."""
    settings = GameSettings(HITS_TO_KILL=1000)  # nobody dies: the game lasts the two minutes
    script = random.Random(1)
    room = Room("long", settings, 1)
    for n in (1, 2, 3):
        room.seat(None, n, f"human{n}", 1500)
    for step in range(120 * 60):
        for player_id in (1, 2, 3):
            if script.random() < 5 / 60:
                room.enqueue(player_id, script.choice(("move_to", "move_to", "shoot_fireball", "blink")),
                             read_target({"event": "move_to", "tx": script.uniform(0, 1.7), "ty": script.uniform(0, 1)}))
        room.step(1 / 60, step)
    stored = replay.record(room.id, room.seed, settings, False, room.match, room.recording,
                           replay.result_of(room.match, False, {}))
    assert len(replay.load(stored)["inputs"]) > 1500
    assert len(stored) <= 20 * 1024, len(stored)


def fixtures() -> list[Path]:
    return sorted(FIXTURES.glob("*.json"))


@pytest.mark.parametrize("path", fixtures(), ids=lambda path: path.stem)
@pytest.mark.gen_test(timeout=30)
async def test_stored_replays_of_past_games_still_replay_exactly(path):
    """Replays recorded when these files were made. A change to the rules that alters a game's course
    fails here: raise RULES_VERSION, keep the old rules for old replays, and record new files."""
    document = json.loads(path.read_text())
    assert document["version"] <= replay.RULES_VERSION
    if document["version"] == replay.RULES_VERSION:
        again = replay.Replay(document)
        await again.run()
        assert replay.result_of(again.match, False, again.match.score_changes()) == document["result"]


def test_there_are_stored_replays_to_check():
    assert len(fixtures()) >= 3


@pytest.mark.settings(game={**DEADLY, "ROOM_CAPACITY": 2})
@pytest.mark.gen_test(timeout=15)
async def test_any_user_may_fetch_a_finished_games_replay_and_unknown_games_are_404(api, base_url, arena):
    (alice, bob), tokens = await players_in_a_room(api, base_url, "alice", "bob")
    start = next(event for event in alice.events if event["event"] == "game_start")
    over = await play_to_the_end(alice)
    carol = await api.login("carol")
    answer = await api.get(f"/api/games/{start['room']}/replay/", token=carol["access"])
    assert answer.status == 200, answer.json
    body = answer.json
    assert {"id", "seed", "tick_rate", "settings", "players", "inputs", "result"} <= body.keys()
    assert body["id"] == start["room"] and body["tick_rate"] == 60
    assert body["result"]["winner"] == over["winner"] and body["result"]["places"] == over["places"]
    assert [p["id"] for p in body["players"]] == [p["id"] for p in start["players"]]
    last = [frame for frame in body["frames"] if frame["event"] == "state"][-1]
    assert last["players"] == body["result"]["rows"]
    missing = await api.get("/api/games/0123abcd/replay/", token=carol["access"])
    assert (missing.status, missing.json) == (404, {"detail": "Not found."})
    assert (await api.get(f"/api/games/{start['room']}/replay/")).status == 401
    games = (await api.get("/api/me/games/", token=tokens[0]["access"])).json["results"]
    assert "replay" not in games[0]
