"""Game results are applied to scores exactly once, whenever and however often they are written."""

from datetime import datetime, timezone

import pytest
from pymongo.errors import AutoReconnect

from store.documents import GameResult, PlayerResult


def a_game(game_id: str, changes: dict[int, int]) -> GameResult:
    now = datetime.now(timezone.utc)
    players = tuple(PlayerResult(user_id, f"p{user_id}", False, 1500, True) for user_id in changes)
    return GameResult(game_id, players, next(iter(changes)), now, now, changes)


async def scores(store) -> dict:
    return {user["username"]: user["score"] async for user in store.users.find({})}


@pytest.mark.gen_test(timeout=30)
async def test_a_result_retried_after_many_newer_games_is_applied_once(api, store):
    await api.register("alice")
    await api.register("bob")
    late = a_game("late", {1: 10, 2: -5})
    await store.record_game(late)
    for n in range(60):
        await store.record_game(a_game(f"g{n}", {1: 1, 2: -1}))
    await store.record_game(late)  # e.g. retried after a lost reply
    assert await scores(store) == {"alice": 1570, "bob": 1435}
    assert not (await store.users.find_one({"id": 1})).get("pending_games")  # no history kept per user


@pytest.mark.parametrize("failing_write", [1, 2, 3, 4])
@pytest.mark.gen_test(timeout=10)
async def test_a_result_cut_short_is_finished_by_a_later_abandoned_record_of_the_same_game(
        api, store, monkeypatch, failing_write):
    """A cluster host dies while applying its result; the janitor's "abandoned" for that game finishes
    applying the first result instead of leaving it half done."""
    await api.register("alice")
    await api.register("bob")
    writes = []
    update = store.users.update_one

    async def counted(*args, **kwargs):
        writes.append(1)
        if len(writes) == failing_write:
            raise AutoReconnect("the process died here")
        return await update(*args, **kwargs)

    monkeypatch.setattr(store.users, "update_one", counted)
    with pytest.raises(Exception):
        await store.record_game(a_game("g", {1: 10, 2: -5}))
    abandoned = GameResult("g", a_game("g", {1: 0, 2: 0}).players, None, datetime.now(timezone.utc),
                           datetime.now(timezone.utc), {}, abandoned=True)
    await store.record_game(abandoned)
    assert await scores(store) == {"alice": 1510, "bob": 1495}
    assert (await store.games.find_one({"_id": "g"}))["unapplied"] == []


@pytest.mark.parametrize("failing_write", [1, 2, 3, 4])
@pytest.mark.gen_test(timeout=10)
async def test_a_write_cut_short_anywhere_is_finished_by_the_retry(api, store, monkeypatch, failing_write):
    await api.register("alice")
    await api.register("bob")
    writes = []
    for collection in (store.users, store.games):
        update = collection.update_one

        async def counted(*args, update=update, **kwargs):
            writes.append(1)
            if len(writes) == failing_write:
                raise AutoReconnect("connection lost")
            return await update(*args, **kwargs)

        monkeypatch.setattr(collection, "update_one", counted)
    game = a_game("g", {1: 10, 2: -5})
    with pytest.raises(Exception):
        await store.record_game(game)
    await store.record_game(game)
    assert await scores(store) == {"alice": 1510, "bob": 1495}
