"""Cluster mode: several `server.py` processes, one Redis, one MongoDB, one game world."""

import asyncio
import inspect
import json
import signal
import time

import pytest
from pymongo import MongoClient
from tornado.httpclient import AsyncHTTPClient

from tests.client import ApiClient
from tests.cluster_harness import Cluster, NginxProxy, mongo_for_cluster, require_nginx, require_redis
from tests.test_server_process import free_port
from tests.ws import GameClient


@pytest.fixture(scope="module")
def mongo_url():
    url, server = mongo_for_cluster()
    yield url
    if server is not None:
        server.stop()


@pytest.fixture
def cluster_env():
    """Settings of the test's processes (`cluster_test` sets them)."""
    return {}


def cluster_test(timeout: float = 60, **env: str):
    """A test of processes started with `env` (settings as environment variables), bounded in time."""
    def decorate(test):
        return pytest.mark.parametrize("cluster_env", [env])(pytest.mark.gen_test(timeout=timeout)(test))
    return decorate


@pytest.fixture
def cluster(request, capsys, mongo_url, cluster_env):
    require_redis()
    made = Cluster(mongo_url, **cluster_env)
    yield made
    made.stop()
    if getattr(request.node, "failed", False):
        with capsys.disabled():  # the processes' own account, in CI's output
            for name, process in made.processes.items():
                print(f"\n--- log of {name} (last 80 lines) ---\n" + "".join(process.log.lines[-80:]))
    with MongoClient(mongo_url) as client:
        client.drop_database(made.database)


def api(process) -> ApiClient:
    return ApiClient(AsyncHTTPClient(), process.url)


async def player(process, username: str) -> tuple[GameClient, dict]:
    """A new user, logged in through `process` and connected to it, past `welcome`."""
    tokens = await api(process).login(username)
    client = await GameClient.connect(process.url, tokens["access"])
    await client.wait_for("welcome")
    return client, tokens


async def until_in_game(client: GameClient, tokens: dict) -> tuple[GameClient, dict, list[dict]]:
    """Follow redirects (4004) until the player's `game_start`; the connection, the game_start and the
    redirects seen."""
    redirects = []
    while True:
        event = await client.next_event()
        if event is None:
            assert client.close_code == 4004 and redirects, (client.close_code, client.close_reason)
            url = redirects[-1]["url"].replace("ws://", "http://").removesuffix("/wss/multiplayer/")
            client = await GameClient.connect(url, tokens["access"])
            continue
        if event["event"] == "redirect":
            redirects.append(event)
        if event["event"] == "game_start":
            await client.wait_for("state")
            return client, event, redirects


async def alice_and_bob_in_a_room(first, second) -> tuple[GameClient, dict, dict, GameClient]:
    """alice through `first` and bob through `second`, both past the game_start of their room: alice's
    socket, her tokens and her game_start, and bob's socket."""
    (alice, alice_tokens), (bob, bob_tokens) = await player(first, "alice"), await player(second, "bob")
    alice, start, _ = await until_in_game(alice, alice_tokens)
    bob, _, _ = await until_in_game(bob, bob_tokens)
    return alice, alice_tokens, start, bob


def state_of(cluster) -> dict:
    """The cluster's Redis keys, decoded, for assertions."""
    client = cluster.redis.client()
    return {"tickets": {int(k): json.loads(v) for k, v in client.hgetall("arena:tickets").items()},
            "instances": sorted(client.hkeys("arena:instances"))}


async def eventually(condition, seconds: float = 8.0, step: float = 0.05):
    """Poll a condition (plain or async) on a deadline: process-level effects have no event to wait on."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(step)


@cluster_test(GAME_ROOM_CAPACITY="3")
async def test_players_on_three_processes_play_in_one_room(cluster):
    a, b, c = cluster.start("a", "b", "c")
    joined = [await player(process, name) for process, name in ((a, "alice"), (b, "bob"), (c, "carol"))]
    games = [await until_in_game(client, tokens) for client, tokens in joined]
    rooms = {start["room"] for _, start, _ in games}
    assert len(rooms) == 1
    assert sorted(len(redirects) for _, _, redirects in games) == [0, 1, 1]  # two players moved to the host
    assert all({p["bot"] for p in start["players"]} == {False} for _, start, _ in games)

    async def cluster_stats():  # each process's picture is the one its last heartbeat read
        stats = (await api(a).get("/api/stats/")).json["cluster"]
        return stats if {"a", "b", "c"} <= {entry["instance"] for entry in stats["instances"]} else None

    stats = await eventually(cluster_stats)
    assert stats["instance"] == "a" and stats["redis"] == "ok" and isinstance(stats["queue"], int)


def set_score(cluster, username: str, score: int) -> None:
    with MongoClient(cluster.mongo_url) as client:
        client[cluster.database]["users"].update_one({"username": username}, {"$set": {"score": score}})


@cluster_test(GAME_ROOM_CAPACITY="2", GAME_MATCH_BY="score", GAME_MATCH_WINDOW_PER_SECOND="50")
async def test_the_score_window_holds_across_processes(cluster):
    a, b = cluster.start("a", "b")
    for name, score in (("alice", 1500), ("bob", 2500), ("carol", 1520)):
        await api(a).register(name)
        set_score(cluster, name, score)
    alice_tokens, bob_tokens = await api(a).tokens("alice"), await api(b).tokens("bob")
    alice = await GameClient.connect(a.url, alice_tokens["access"])
    bob = await GameClient.connect(b.url, bob_tokens["access"])
    for _ in range(6):  # a few match rounds: 1,000 points apart stay apart for 20 s
        await alice.wait_for("queued")
    assert "game_start" not in [e["event"] for e in alice.events + bob.events]
    carol_tokens = await api(b).tokens("carol")
    carol = await GameClient.connect(b.url, carol_tokens["access"])
    (_, start_a, _), (_, start_c, _) = [await until_in_game(alice, alice_tokens),
                                        await until_in_game(carol, carol_tokens)]
    assert start_a["room"] == start_c["room"]
    assert sorted(p["username"] for p in start_a["players"]) == ["alice", "carol"]


@cluster_test(GAME_ROOM_CAPACITY="3", GAME_BOT_FILL_AFTER="0.5")
async def test_bots_fill_a_room_for_whoever_waits(cluster):
    _, b = cluster.start("a", "b")
    client, tokens = await player(b, "bob")
    _, start, redirects = await until_in_game(client, tokens)
    assert redirects == [] and [p["bot"] for p in start["players"]].count(True) == 2


@cluster_test(GAME_ROOM_CAPACITY="2")
async def test_a_new_socket_elsewhere_replaces_the_queued_one_and_keeps_the_wait(cluster):
    a, b = cluster.start("a", "b")
    first, tokens = await player(a, "alice")
    for _ in range(3):
        queued = await first.wait_for("queued")
    queued_at = state_of(cluster)["tickets"][1]["queued_at"]
    second = await GameClient.connect(b.url, tokens["access"])
    await second.wait_for("welcome")
    assert await first.wait_closed() == (4002, "replaced")
    again = await second.wait_for("queued")
    assert again["waited"] >= queued["waited"]
    ticket = state_of(cluster)["tickets"][1]
    assert (ticket["instance"], ticket["queued_at"]) == ("b", queued_at)


@cluster_test(GAME_ROOM_CAPACITY="2")
async def test_mid_game_a_socket_through_another_process_is_sent_to_the_room_and_replaces_the_old(cluster):
    a, b = cluster.start("a", "b")
    alice, alice_tokens, start, bob = await alice_and_bob_in_a_room(a, b)
    host = cluster.redis.client().get("arena:seat:1").split()[1]
    other = b if host == "a" else a
    again = await GameClient.connect(other.url, alice_tokens["access"])
    again, restart, redirects = await until_in_game(again, alice_tokens)
    assert restart["room"] == start["room"] and len(redirects) == 1
    assert await alice.wait_closed() == (4002, "replaced")


@cluster_test(GAME_ROOM_CAPACITY="3")
async def test_practice_runs_where_the_player_is_and_a_reconnection_through_another_process_finds_it(cluster):
    a, b = cluster.start("a", "b")
    alice, tokens = await player(b, "alice")
    await eventually(lambda: 1 in state_of(cluster)["tickets"])
    await alice.send("practice")
    start = await alice.wait_for("game_start")
    assert start["practice"] and not start["rated"]
    await eventually(lambda: cluster.redis.client().get("arena:seat:1") == f"{start['room']} b")
    assert 1 not in state_of(cluster)["tickets"]
    alice.close()
    again = await GameClient.connect(a.url, tokens["access"])
    _, restart, redirects = await until_in_game(again, tokens)
    assert restart["room"] == start["room"] and [r["url"] for r in redirects] == [b.public_url]


@cluster_test(GAME_ROOM_CAPACITY="2", ARENA_SPECTATE_DELAY="0.2")
async def test_a_game_on_another_process_is_listed_and_its_spectator_is_sent_there(cluster):
    a, b = cluster.start("a", "b")
    alice, alice_tokens, start, bob = await alice_and_bob_in_a_room(b, b)
    live = await eventually(lambda: _live(a))
    assert [(room["room"], sorted(p["username"] for p in room["players"])) for room in live] == [
        (start["room"], ["alice", "bob"])]
    carol, carol_tokens = await player(a, "carol")
    await carol.send("spectate", room=start["room"])
    redirect = await carol.wait_for("redirect")
    assert redirect["url"] == b.public_url and await carol.wait_closed() == (4004, "moved")
    carol = await GameClient.connect(b.url, carol_tokens["access"])
    await carol.wait_for("welcome")
    await carol.send("spectate", room=start["room"])
    assert (await carol.wait_for("spectating"))["room"] == start["room"]
    await carol.wait_for("state")
    await eventually(lambda: _watched(a, start["room"]))


async def _live(process) -> list:
    return (await api(process).get("/api/games/live/")).json["results"]


async def _watched(process, room: str) -> bool:
    return [entry["spectators"] for entry in await _live(process) if entry["room"] == room] == [1]


@cluster_test(GAME_ROOM_CAPACITY="2")
async def test_revoke_all_on_one_process_closes_the_socket_on_another_within_a_second(cluster):
    a, b = cluster.start("a", "b")
    client, tokens = await player(b, "alice")
    await client.wait_for("queued")
    started = time.monotonic()
    assert (await api(a).post("/api/token/revoke-all/", token=tokens["access"])).status == 200
    assert await client.wait_closed() == (4001, "token_revoked")
    assert time.monotonic() - started < 1.0


@cluster_test(GAME_ROOM_CAPACITY="2")
async def test_a_dropped_player_comes_back_through_any_process_to_the_same_room(cluster):
    a, b = cluster.start("a", "b")
    alice, alice_tokens, start, bob = await alice_and_bob_in_a_room(a, b)
    for process in (a, b):  # through each process in turn: the host, and the other one
        alice.close()
        back = await GameClient.connect(process.url, alice_tokens["access"])
        alice, restart, _ = await until_in_game(back, alice_tokens)
        assert restart["room"] == start["room"] and restart["you"] == start["you"]


@cluster_test(GAME_ROOM_CAPACITY="2")
async def test_a_killed_process_leaves_no_ghost_in_the_queue(cluster):
    a, b = cluster.start("a", "b")
    await player(a, "alice")
    await eventually(lambda: 1 in state_of(cluster)["tickets"])
    a.signal(signal.SIGKILL)
    a.wait()
    await eventually(lambda: state_of(cluster)["tickets"] == {} and state_of(cluster)["instances"] == ["b"])
    bob, _ = await player(b, "bob")
    for _ in range(5):
        await bob.wait_for("queued")  # alone: nobody to be matched with
    assert "game_start" not in [event["event"] for event in bob.events]


@cluster_test(GAME_ROOM_CAPACITY="2", GAME_BOT_FILL_AFTER="0.3")
async def test_a_killed_host_s_game_is_recorded_abandoned_once_and_other_rooms_play_on(cluster):
    a, b = cluster.start("a", "b")
    alice, alice_tokens = await player(a, "alice")
    alice, start_a, _ = await until_in_game(alice, alice_tokens)
    bob, bob_tokens = await player(b, "bob")  # alice is in a game already: bob gets a bot of his own
    bob, start_b, _ = await until_in_game(bob, bob_tokens)
    assert start_a["room"] != start_b["room"]
    a.signal(signal.SIGKILL)
    a.wait()
    with MongoClient(cluster.mongo_url) as client:
        games = client[cluster.database]["games"]
        await eventually(lambda: games.find_one({"_id": start_a["room"]}))
        recorded = list(games.find({"_id": start_a["room"]}))
        assert len(recorded) == 1 and recorded[0]["abandoned"] and recorded[0]["score_changes"] == {}
        assert client[cluster.database]["users"].find_one({"username": "alice"})["score"] == 1500
    tick = (await bob.wait_for("state"))["tick"]
    assert (await bob.wait_for("state"))["tick"] > tick  # bob's room on b never noticed
    assert cluster.redis.client().get("arena:seat:1") is None


@cluster_test(GAME_ROOM_CAPACITY="2")
async def test_sigterm_sends_queued_players_elsewhere_with_their_wait(cluster):
    a, b = cluster.start("a", "b")
    alice, tokens = await player(a, "alice")
    await eventually(lambda: 1 in state_of(cluster)["tickets"])
    queued_at = state_of(cluster)["tickets"][1]["queued_at"]
    a.signal(signal.SIGTERM)
    await alice.wait_for("server_draining")
    assert await alice.wait_closed() == (1001, "server draining")
    again = await GameClient.connect(b.url, tokens["access"])
    assert (await again.wait_for("queued"))["waited"] > 0
    assert a.wait() == 0
    ticket = state_of(cluster)["tickets"][1]
    assert (ticket["instance"], ticket["queued_at"]) == ("b", queued_at)
    await eventually(lambda: state_of(cluster)["instances"] == ["b"])  # once a's heartbeat lapses


@cluster_test(GAME_ROOM_CAPACITY="2", GAME_BOT_FILL_AFTER="0.3")
async def test_a_redis_restart_loses_nothing_of_record_and_matching_resumes(cluster):
    a, b = cluster.start("a", "b")
    alice, alice_tokens = await player(a, "alice")
    alice, start, _ = await until_in_game(alice, alice_tokens)
    cluster.redis.stop()
    tick = (await alice.wait_for("state"))["tick"]
    assert (await alice.wait_for("state"))["tick"] > tick  # the game goes on without Redis
    bob_tokens = await api(b).login("bob")
    bob = await GameClient.connect(b.url, bob_tokens["access"])
    assert (await bob.wait_for("error"))["code"] == "matchmaking_unavailable"
    cluster.redis.start()  # empty: everything Redis held is gone
    _, bob_start, _ = await until_in_game(bob, bob_tokens)  # bob is matched (with a bot) once Redis is back
    client = cluster.redis.client()
    await eventually(lambda: client.get("arena:seat:1") == f"{start['room']} a" and
                     sorted(client.hkeys("arena:instances")) == ["a", "b"])


DEADLY = {"GAME_ROOM_CAPACITY": "2", "GAME_HITS_TO_KILL": "1", "GAME_FIREBALL_COOLDOWN": "0",
          "GAME_FIREBALL_SPEED": "30", "GAME_FIREBALL_RANGE": "3"}


@cluster_test(**DEADLY)
async def test_a_result_is_written_exactly_once_when_the_host_dies_right_after_game_over(cluster):
    a, b = cluster.start("a", "b")
    alice, alice_tokens, start, bob = await alice_and_bob_in_a_room(a, a)
    me = start["you"]
    for client in (alice, bob):
        await client.send("move_to", tx=0.9, ty=0.5)  # both played: the game is rated
    event = await alice.wait_for("state")
    while event["event"] != "game_over":
        if event["event"] == "state":
            others = [row for row in event["players"] if row[0] != me and row[4]]
            if others:
                await alice.send("shoot_fireball", tx=others[0][1], ty=others[0][2])
        event = await alice.next_event()
    a.signal(signal.SIGKILL)  # right after game_over: the result may or may not have reached MongoDB
    a.wait()
    await eventually(lambda: cluster.redis.client().get(f"arena:room:{start['room']}") is None)
    cluster.processes.pop("a")
    cluster.start("a")  # back, with its journal: whatever it kept is written again
    with MongoClient(cluster.mongo_url) as client:
        db = client[cluster.database]
        games = list(db["games"].find({"_id": start["room"]}))
        assert len(games) == 1
        changes = {int(user): change for user, change in games[0]["score_changes"].items()}
        assert games[0]["abandoned"] == (changes == {})
        scores = {user["id"]: user["score"] for user in db["users"].find()}
        assert scores == {user: 1500 + changes.get(user, 0) for user in scores}  # applied once, or not at all


@pytest.mark.gen_test(timeout=30)
async def test_cluster_mode_refuses_to_start_without_redis(mongo_url, tmp_path):
    from tests.cluster_harness import ArenaProcess, CLUSTER_ENV

    with pytest.raises(RuntimeError) as refused:
        ArenaProcess("lonely", {**CLUSTER_ENV, "MONGO_URL": mongo_url,
                                "ARENA_REDIS_URL": f"unix://{tmp_path}/no-redis.sock"})
    assert "ARENA_REDIS_URL: cluster mode cannot start" in str(refused.value)


@cluster_test(GAME_ROOM_CAPACITY="3", ARENA_TRUST_PROXY="true", timeout=90)
async def test_a_smoke_test_through_nginx_with_the_shipped_configuration(cluster):
    require_nginx()
    names = ("a", "b", "c", "d")
    ports = [free_port() for _ in names]
    proxy = NginxProxy(cluster.directory, ports)
    try:
        for name, port in zip(names, ports):
            cluster.env["ARENA_PUBLIC_URL"] = f"ws://127.0.0.1:{proxy.port}/p/{name}/wss/multiplayer/"
            cluster.start_on(name, port)
        front = ApiClient(AsyncHTTPClient(), proxy.url)
        page = await AsyncHTTPClient().fetch(proxy.url + "/")
        assert b"Tornado Arena" in page.body and page.headers["X-Request-ID"]
        joined = []
        for name in ("alice", "bob", "carol"):  # round-robin: each may land on another process
            tokens = await front.login(name)
            client = await GameClient.connect(proxy.url, tokens["access"])
            await client.wait_for("welcome")
            joined.append((client, tokens))
        games = [await until_in_game(client, tokens) for client, tokens in joined]
        assert len({start["room"] for _, start, _ in games}) == 1
        for _, _, redirects in games:
            assert all(r["url"].startswith(f"ws://127.0.0.1:{proxy.port}/p/") for r in redirects)
        missing = await AsyncHTTPClient().fetch(proxy.url + "/p/zz/api/health/live", raise_error=False)
        assert missing.code == 404  # only the listed processes: not an open proxy
        for path in ("/metrics", "/p/a/metrics", "/p/b//metrics", "/p/c/%6Detrics"):  # Prometheus scrapes the processes
            hidden = await AsyncHTTPClient().fetch(proxy.url + path, raise_error=False)
            assert hidden.code == 404, path
        assert (await AsyncHTTPClient().fetch(f"{cluster['a'].url}/metrics")).code == 200
    finally:
        proxy.stop()
