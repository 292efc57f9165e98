"""Skill ratings (issue 25): rated games move every human's rating by place, once; `/api/me/` and the
leaderboard show it, `?order=rating` sorts by it, and `python -m game.backfill_ratings` recomputes it."""

import os
import subprocess
import sys

import pytest

from game import backfill_ratings
from store.documents import GameResult, PlayerResult, Rating, utcnow
from tests.test_game_sessions import DEADLY, play_to_the_end, players_in_a_room
from tests.test_server_process import ROOT

gen_test = pytest.mark.gen_test


@pytest.mark.settings(game={**DEADLY, "ROOM_CAPACITY": 2})
@gen_test(timeout=15)
async def test_a_rated_game_moves_both_ratings_by_place_and_the_leaderboard_sorts_by_it(api, base_url, arena):
    (alice, bob), tokens = await players_in_a_room(api, base_url, "alice", "bob")
    over = await play_to_the_end(alice)
    assert over["rated"] and over["winner"] == 1
    await arena.game.results.drained()
    me = [(await api.get("/api/me/", token=t["access"])).json for t in tokens]
    assert me[0]["rating"] > 1000 and me[1]["rating"] < me[0]["rating"]  # the winner's climbs past the loser's
    assert me[0]["rating_deviation"] < 333 and me[1]["rating_deviation"] < 333  # both better known now
    board = (await api.get("/api/leaderboard/?order=rating")).json["results"]
    assert [row["username"] for row in board[:2]] == ["alice", "bob"]
    assert [row["rating"] for row in board[:2]] == [me[0]["rating"], me[1]["rating"]]
    bad = await api.get("/api/leaderboard/?order=height")
    assert (bad.status, bad.json) == (400, {"order": ['"height" is not a valid choice.']})


def a_game(game_id: str, ranks: dict[int, int], minute: int) -> GameResult:
    now = utcnow().replace(minute=minute)
    return GameResult(game_id, tuple(PlayerResult(u, f"u{u}", False, 1500, r == 1) for u, r in ranks.items()),
                      min(ranks, key=ranks.get), now, now, {u: 10 if r == 1 else -5 for u, r in ranks.items()},
                      ranks=ranks, rating_changes={})


@gen_test(timeout=15)
async def test_a_game_applied_twice_moves_ratings_once_and_the_backfill_recomputes_them_the_same(store):
    for name in ("u1", "u2", "u3"):
        await store.create_user(name, "hash")
    from game.results import rating_first
    write = rating_first(store.record_game, store.ratings)
    games = [a_game("g1", {1: 1, 2: 2, 3: 3}, 1), a_game("g2", {2: 1, 1: 2}, 2)]
    for game in games:
        await write(game)
    await write(games[0])  # a retry of a game already recorded: nothing more
    live = await store.ratings([1, 2, 3])
    assert live[1].shown > live[3].shown and live[1] != Rating()
    await backfill_ratings.backfill(store)
    again = await store.ratings([1, 2, 3])
    assert {u: (round(r.mu, 9), round(r.sigma, 9)) for u, r in again.items()} == \
        {u: (round(r.mu, 9), round(r.sigma, 9)) for u, r in live.items()}
    await backfill_ratings.backfill(store)  # idempotent
    assert await store.ratings([1, 2, 3]) == again


@gen_test(timeout=30)
async def test_the_backfill_command_rates_the_stored_games(tmp_path):
    """`python -m game.backfill_ratings` on the embedded store's data folder (MongoDB works the same)."""
    from settings import load_settings
    from store.connection import connect_store
    from tests.conftest import TEST_ENV, TEST_SETTINGS
    settings = load_settings(TEST_ENV, **{**TEST_SETTINGS, "DATA_DIR": str(tmp_path)})
    store = await connect_store(settings)
    for name in ("u1", "u2"):
        await store.create_user(name, "hash")
    await store.record_game(a_game("g1", {1: 1, 2: 2}, 1))  # recorded before ratings: no rating changes
    await store.close()
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("ARENA_", "MONGO_URL"))}
    result = subprocess.run([sys.executable, "-m", "game.backfill_ratings"], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, env={**environment, "ARENA_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("rated 1 games: 2 users")
    store = await connect_store(settings)
    try:
        ratings = await store.ratings([1, 2])
        assert ratings[1].shown > ratings[2].shown
    finally:
        await store.close()
