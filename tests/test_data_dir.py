"""The embedded store keeps its data across restarts (ARENA_DATA_DIR): accounts, scores, games and token
records survive a restart and a kill -9, a write cut short never corrupts what was there, and a newcomer
who restarts `python server.py` stays logged in (issue 24)."""

import asyncio
import json
import os
import signal
import time
import urllib.error
import urllib.request

import pytest

from settings import load_settings
from store import durable
from store.connection import connect_store
from store.database import StoreUnavailable
from store.documents import GameResult, PlayerResult, utcnow
from tests.conftest import TEST_ENV, TEST_SETTINGS
from tests.test_server_process import LogReader, free_port, start_server

gen_test = pytest.mark.gen_test


def on_disk(folder) -> object:
    return load_settings(TEST_ENV, **{**TEST_SETTINGS, "DATA_DIR": str(folder)})


async def a_store_with_history(folder):
    """A store in `folder` with two users, a game between them and a token record; closed."""
    store = await connect_store(on_disk(folder))
    alice = await store.create_user("alice", "hash-a")
    bob = await store.create_user("bob", "hash-b")
    now = utcnow()
    await store.record_game(GameResult("g1", (PlayerResult(alice.id, "alice", False, 1500, True, 1),
                                              PlayerResult(bob.id, "bob", False, 1500, False, 2)),
                                       alice.id, now, now, {alice.id: 10, bob.id: -5}))
    await store.blacklist("jti-1", bob.id, now, "logout")
    await store.close()


@gen_test
async def test_what_the_store_held_is_there_after_a_restart(tmp_path):
    await a_store_with_history(tmp_path)
    store = await connect_store(on_disk(tmp_path))
    try:
        assert [(u.username, u.score) for u in await store.leaderboard(10)] == [("alice", 1510), ("bob", 1495)]
        assert [game.id for game in await store.recent_games(2, 5)] == ["g1"]
        assert (await store.token_standing("jti-1", None)).blacklist_reason == "logout"
        carol = await store.create_user("carol", "hash-c")  # ids go on; the unique index holds
        assert carol.id == 3
        with pytest.raises(Exception) as taken:
            await store.create_user("ALICE", "hash")
        assert type(taken.value).__name__ == "UsernameTaken"
    finally:
        await store.close()


@gen_test
async def test_a_record_cut_short_by_a_crash_loses_only_itself(tmp_path):
    await a_store_with_history(tmp_path)
    folder = tmp_path / "arena"
    segment = sorted(folder.glob("log-*.bson"))[-1]
    intact = segment.stat().st_size
    with open(segment, "ab") as handle:  # the crash came in the middle of writing the next record
        handle.write(durable.HEADER.pack(500, 0) + b"\x10\x00half a record")
    store = await connect_store(on_disk(tmp_path))
    try:
        assert {u.username for u in await store.leaderboard(10)} == {"alice", "bob"}
        assert segment.stat().st_size == intact  # cut back to the last whole record
        await store.create_user("carol", "hash-c")
    finally:
        await store.close()
    assert len(list(folder.glob("log-*.bson"))) >= 2  # new records went to a new segment
    store = await connect_store(on_disk(tmp_path))
    try:
        assert {u.username for u in await store.leaderboard(10)} == {"alice", "bob", "carol"}
    finally:
        await store.close()


@gen_test
async def test_the_log_is_folded_into_a_snapshot_and_nothing_is_lost(tmp_path, monkeypatch):
    monkeypatch.setattr(durable, "SNAPSHOT_MIN_BYTES", 2000)
    monkeypatch.setattr(durable, "FLUSH_SECONDS", 0.0)
    store = await connect_store(on_disk(tmp_path))
    for n in range(60):
        await store.create_user(f"user{n}", "x" * 100)
        await asyncio.sleep(0)  # let the flush run
    folder = tmp_path / "arena"
    while not list(folder.glob("snapshot-*.bson")) or list(folder.glob("*.tmp")):
        await asyncio.sleep(0.01)
    await store.create_user("last", "hash")
    await store.close()
    snapshots = list(folder.glob("snapshot-*.bson"))
    assert len(snapshots) == 1
    number = int(snapshots[0].stem.split("-")[1])
    assert all(int(path.stem.split("-")[1]) >= number for path in folder.glob("log-*.bson"))  # older ones gone
    store = await connect_store(on_disk(tmp_path))
    try:
        assert await store.users.count_documents({}) == 61 and (await store.find_user_by_username("last"))
    finally:
        await store.close()


@gen_test
async def test_two_servers_cannot_share_a_data_folder(tmp_path):
    store = await connect_store(on_disk(tmp_path))
    try:
        with pytest.raises(StoreUnavailable) as refused:
            await connect_store(on_disk(tmp_path))
        assert "ARENA_DATA_DIR" in str(refused.value) and "in use by another server process" in str(refused.value)
    finally:
        await store.close()


def call(port: int, method: str, path: str, body: dict | None = None, token: str = "") -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# The embedded store whatever the suite's backend: its data folder is what these tests are about.
NEWCOMER = {"ARENA_PASSWORD_TIME_COST": "1", "ARENA_PASSWORD_MEMORY_COST": "1024", "ARENA_THROTTLE_REGISTER_ADDRESS": "",
            "ARENA_DB": "arena", "MONGO_URL": ""}


def a_server(data_dir, **env) -> tuple[int, object, LogReader]:
    port = free_port()
    process = start_server("--port", str(port), env={**NEWCOMER, "ARENA_DATA_DIR": str(data_dir), **env})
    log = LogReader(process)
    log.wait_until_listening()
    return port, process, log


def test_a_newcomer_who_restarts_the_server_is_still_logged_in(tmp_path):
    """No SECRET_KEY, no MONGO_URL: `python server.py` twice. The account, its score and the refresh
    token the page kept all work after the restart."""
    data = tmp_path / "arena-data"
    port, process, log = a_server(data)
    try:
        assert call(port, "POST", "/api/register/", {"username": "newcomer", "password": "correct horse"})[0] == 201
        _, tokens = call(port, "POST", "/api/token/", {"username": "newcomer", "password": "correct horse"})
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    finally:
        process.kill()
    assert f"embedded, kept in {data}" in log.rest() and f"the key kept in {data / 'secret.key'}" in log.rest()
    assert oct((data / "secret.key").stat().st_mode & 0o777) == "0o600"
    port, process, log = a_server(data)
    try:
        status, refreshed = call(port, "POST", "/api/token/refresh/", {"refresh": tokens["refresh"]})
        assert status == 200, refreshed
        status, me = call(port, "GET", "/api/me/", token=refreshed["access"])
        assert (status, me["username"], me["score"]) == (200, "newcomer", 1500)
        assert call(port, "POST", "/api/token/", {"username": "newcomer", "password": "correct horse"})[0] == 200
    finally:
        process.kill()
        process.wait()


def test_a_kill_9_loses_at_most_the_last_second_and_the_data_still_opens(tmp_path):
    data = tmp_path / "arena-data"
    port, process, _ = a_server(data, SECRET_KEY=TEST_ENV["SECRET_KEY"])
    registered = []  # (username, when its 201 came)
    try:
        for n in range(150):
            status, _ = call(port, "POST", "/api/register/", {"username": f"player{n}", "password": "correct horse"})
            assert status == 201
            registered.append((f"player{n}", time.monotonic()))
        process.send_signal(signal.SIGKILL)  # right after the last 201: no clean stop
    finally:
        process.kill()
        process.wait()
    killed = time.monotonic()
    port, process, log = a_server(data, SECRET_KEY=TEST_ENV["SECRET_KEY"])
    try:
        for username, at in registered:
            status, _ = call(port, "POST", "/api/token/", {"username": username, "password": "correct horse"})
            assert status == 200 or killed - at < 1.0, (username, status)
        assert "Traceback" not in "".join(log.lines)
    finally:
        process.kill()
        process.wait()
    assert os.listdir(data / "arena")
