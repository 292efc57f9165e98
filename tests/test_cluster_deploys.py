"""Deploys and crashes cost no one a game (issue 23): a stopping process hands its rooms to another, a
rolling restart behind nginx ends every game with a real winner, a killed process's players are neither
seated nor sent to it, and a Redis restart leaves nothing behind."""

import asyncio
import math
import random
import signal
import time

from pymongo import MongoClient
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.websocket import WebSocketClosedError

from tests.cluster_harness import NginxProxy, require_nginx
from tests.test_cluster import (  # noqa: F401 (fixtures)
    DEADLY, api, cluster, cluster_env, cluster_test, eventually, mongo_url, player, state_of, until_in_game)
from tests.test_server_process import free_port
from tests.ws import GameClient

ID, X, Y, ALIVE, HITS = 0, 1, 2, 4, 8  # a player row's fields (docs/protocol.md)


def http_url(ws_url: str) -> str:
    return ws_url.replace("ws://", "http://").removesuffix("/wss/multiplayer/")


def row(state: dict, player_id: int) -> list:
    return next(entry for entry in state["players"] if entry[ID] == player_id)


async def until_still(client: GameClient, ids: list[int]) -> dict:
    """The first `state` in which none of these players moved since the one before."""
    before = await client.wait_for("state")
    while True:
        after = await client.wait_for("state")
        if all(row(before, i)[X:Y + 1] == row(after, i)[X:Y + 1] for i in ids):
            return after
        before = after


async def shoot_until_over(client: GameClient, me: int) -> dict:
    """Fire at the nearest other player alive until `game_over`."""
    event = await client.wait_for("state")
    while event["event"] != "game_over":
        if event["event"] == "state":
            mine = row(event, me)
            others = [r for r in event["players"] if r[ID] != me and r[ALIVE]]
            if others and mine[ALIVE]:
                target = min(others, key=lambda r: math.dist(r[X:Y + 1], mine[X:Y + 1]))
                await client.send("shoot_fireball", tx=target[X], ty=target[Y])
        event = await client.next_event()
        assert event is not None, (client.close_code, client.close_reason)
    return event


def recorded_games(cluster) -> list[dict]:
    with MongoClient(cluster.mongo_url) as client:
        return list(client[cluster.database]["games"].find())


def scores(cluster) -> dict[str, int]:
    with MongoClient(cluster.mongo_url) as client:
        return {user["username"]: user["score"] for user in client[cluster.database]["users"].find()}


@cluster_test(ARENA_DRAIN_GRACE="0.5", **DEADLY)
async def test_a_stopping_process_hands_its_game_to_another_where_it_goes_on_and_ends_once(cluster):
    a, b = cluster.start("a", "b")
    (alice, alice_tokens), (bob, bob_tokens) = await player(a, "alice"), await player(a, "bob")
    alice, start, _ = await until_in_game(alice, alice_tokens)
    bob, _, _ = await until_in_game(bob, bob_tokens)
    assert cluster.redis.client().get("arena:seat:1") == f"{start['room']} a"
    ids = [p["id"] for p in start["players"]]
    for client, x in ((alice, 0.4), (bob, 1.3)):
        await client.send("move_to", tx=x, ty=0.5)  # both play: the game is rated
    before = await until_still(alice, ids)
    a.signal(signal.SIGTERM)
    for client in (alice, bob):
        await client.wait_for("server_draining")
    readiness = await api(a).get("/api/health/ready")
    assert (readiness.status, readiness.json) == (503, {"status": "draining"})
    last_on_a = time.monotonic()
    moved = []
    for client, tokens in ((alice, alice_tokens), (bob, bob_tokens)):
        moved.append(await until_in_game(client, tokens))
    (alice, restart, redirects), (bob, _, _) = moved
    print(f"\nhand-off: {1000 * (time.monotonic() - last_on_a):.0f} ms from server_draining+grace to play on b")
    assert [http_url(r["url"]) for r in redirects] == [b.url] and restart["room"] == start["room"]
    after = alice.last_state
    for i in ids:  # the same positions and health, on another process
        assert row(after, i)[X:Y + 1] == row(before, i)[X:Y + 1] and row(after, i)[HITS] == row(before, i)[HITS]
    assert a.wait() == 0
    over = await shoot_until_over(alice, start["you"])
    assert over["winner"] in ids and not over["abandoned"]
    await eventually(lambda: len(recorded_games(cluster)) == 1)
    game = recorded_games(cluster)[0]
    assert game["_id"] == start["room"] and not game["abandoned"] and game["winner"] == over["winner"]
    await eventually(lambda: sorted(scores(cluster).values()) == [1495, 1510])


@cluster_test(ARENA_TRUST_PROXY="true", ARENA_DRAIN_GRACE="0.5", timeout=180, **DEADLY)
async def test_a_rolling_restart_behind_nginx_ends_every_game_with_a_real_winner(cluster):
    """docs/operations.md's runbook, done: three processes restarted one at a time while two games run."""
    require_nginx()
    names = ("a", "b", "c")
    ports = [free_port() for _ in names]
    proxy = NginxProxy(cluster.directory, ports)

    def start(name: str, port: int) -> None:
        cluster.env["ARENA_PUBLIC_URL"] = f"ws://127.0.0.1:{proxy.port}/p/{name}/wss/multiplayer/"
        cluster.start_on(name, port)

    failures, starts, fight = [], {}, asyncio.Event()

    async def send(client: GameClient, event: str, **fields) -> None:
        try:
            await client.send(event, **fields)
        except WebSocketClosedError:
            pass  # closed by the server meanwhile (a redirect): its close comes next

    async def play(username: str) -> dict:
        """A client as the browser's: follow redirects, reconnect through the front when closed, move once
        per room it reaches, fire once told to (the first player of a room); the `game_over` it ends on."""
        tokens = await api(cluster[names[0]]).login(username)
        url = proxy.url
        while True:
            try:
                client = await GameClient.connect(url, tokens["access"])
            except HTTPClientError as exc:
                failures.append((username, exc.code))
                url = proxy.url
                continue
            redirect, me, shooter = None, None, False
            while (event := await client.next_event()) is not None:
                if event["event"] == "redirect":
                    redirect = event["url"]
                elif event["event"] == "game_start":
                    me = event["you"]
                    shooter = me == min(p["id"] for p in event["players"])  # one fires: no mutual kill, a winner
                    starts.setdefault(username, event["room"])
                    await send(client, "move_to", tx=random.uniform(0.3, 1.4), ty=random.uniform(0.2, 0.8))
                elif event["event"] == "state" and fight.is_set() and shooter:
                    mine = row(event, me)
                    others = [r for r in event["players"] if r[ID] != me and r[ALIVE]]
                    if others and mine[ALIVE]:
                        target = min(others, key=lambda r: math.dist(r[X:Y + 1], mine[X:Y + 1]))
                        await send(client, "shoot_fireball", tx=target[X], ty=target[Y])
                elif event["event"] == "game_over":
                    client.close()
                    return event
            url = http_url(redirect) if client.close_code == 4004 and redirect else proxy.url

    try:
        for name, port in zip(names, ports):
            start(name, port)
        players = [asyncio.ensure_future(play(name)) for name in ("alice", "bob", "carol", "dave")]
        await eventually(lambda: len(starts) == 4, seconds=20)
        assert len(set(starts.values())) == 2
        for name, port in zip(names, ports):  # one at a time, as the runbook says
            cluster[name].signal(signal.SIGTERM)
            assert cluster[name].wait(30) == 0
            start(name, port)
        assert all(not task.done() for task in players)  # every game outlived three restarts
        fight.set()
        overs = await asyncio.gather(*players)
    finally:
        proxy.stop()
    assert failures == []  # no handshake saw a 5xx (or any refusal)
    assert all(over["winner"] is not None and not over["abandoned"] for over in overs), overs
    await eventually(lambda: len(recorded_games(cluster)) == 2)
    games = recorded_games(cluster)
    assert sorted(g["_id"] for g in games) == sorted(set(starts.values())) and not any(g["abandoned"] for g in games)
    await eventually(lambda: sorted(scores(cluster).values()) == [1495, 1495, 1510, 1510])


@cluster_test(GAME_ROOM_CAPACITY="2", ARENA_CLUSTER_DEAD_AFTER="10")
async def test_a_player_queued_on_a_killed_process_is_never_seated(cluster):
    a, b = cluster.start("a", "b")
    await player(a, "alice")
    await eventually(lambda: 1 in state_of(cluster)["tickets"])
    a.signal(signal.SIGKILL)
    a.wait()
    bob, _ = await player(b, "bob")  # long before the janitor takes alice's ticket out (10 s)
    await eventually(lambda: cluster.redis.client().get("arena:matchmaker") == "b")  # b matches now
    for _ in range(10):
        await bob.wait_for("queued")
    assert "game_start" not in [event["event"] for event in bob.events]
    assert 1 in state_of(cluster)["tickets"]  # still there: the janitor has not run, the matchmaker said no


@cluster_test(GAME_ROOM_CAPACITY="2", GAME_RECONNECT_GRACE="20", ARENA_CLUSTER_DEAD_AFTER="10")
async def test_the_players_of_a_killed_host_are_not_sent_to_it_and_lose_nothing(cluster):
    a, b = cluster.start("a", "b")
    (alice, alice_tokens), (bob, bob_tokens) = await player(a, "alice"), await player(a, "bob")
    _, start, _ = await until_in_game(alice, alice_tokens)
    await until_in_game(bob, bob_tokens)
    a.signal(signal.SIGKILL)
    a.wait()
    killed = time.monotonic()
    while True:  # as the browser's client: a redirect that fails falls back to where it came from
        again = await GameClient.connect(b.url, alice_tokens["access"])
        event = await again.next_event()
        if event["event"] != "redirect":
            break
        await again.wait_closed()
    assert event["event"] == "welcome" and (await again.next_event())["event"] == "queued"
    assert time.monotonic() - killed < 2  # a's heartbeat lapsed (0.5 s here), long before the janitor's 10 s
    await eventually(lambda: [g["_id"] for g in recorded_games(cluster)] == [start["room"]], seconds=15)
    assert recorded_games(cluster)[0]["abandoned"] and scores(cluster) == {"alice": 1500, "bob": 1500}


OWNED_WITHOUT_LIFETIME = ("arena:instances", "arena:queue", "arena:tickets", "arena:signals", "arena:rooms:",
                          "arena:sessions:", "arena:inbox:")  # removed by their process, or by the janitor


@cluster_test(**DEADLY)
async def test_a_redis_restart_leaves_no_key_behind_and_keeps_the_queue_s_wait(cluster):
    a, b = cluster.start("a", "b")
    (alice, alice_tokens), (bob, bob_tokens) = await player(a, "alice"), await player(a, "bob")
    _, start, _ = await until_in_game(alice, alice_tokens)
    await until_in_game(bob, bob_tokens)
    for client in (alice, bob):
        await client.send("move_to", tx=0.9, ty=0.5)
    carol, _ = await player(b, "carol")  # waits alone: bots only after a minute
    await eventually(lambda: 3 in state_of(cluster)["tickets"])
    queued_at = state_of(cluster)["tickets"][3]["queued_at"]
    redis = cluster.redis.client()
    cluster.redis.stop()

    async def unready():
        answer = await api(a).get("/api/health/ready")
        metrics = (await AsyncHTTPClient().fetch(a.url + "/metrics")).body.decode()
        return answer.status == 503 and answer.json == {"status": "unavailable", "redis": "unavailable"} and \
            "arena_redis_up 0.0" in metrics and "arena_ready 0.0" in metrics

    await eventually(unready)
    cluster.redis.start()  # empty
    await eventually(lambda: redis.get("arena:seat:1") == f"{start['room']} a" and 3 in state_of(cluster)["tickets"])
    seen = {process: len(process.log.lines) for process in (a, b)}
    assert abs(state_of(cluster)["tickets"][3]["queued_at"] - queued_at) < 1.0  # the wait goes on
    assert (await api(a).get("/api/health/ready")).status == 200
    assert "arena_redis_up 1.0" in (await AsyncHTTPClient().fetch(a.url + "/metrics")).body.decode()
    over = await shoot_until_over(alice, start["you"])
    assert not over["abandoned"]
    await eventually(lambda: redis.get("arena:seat:1") is None and redis.get("arena:seat:2") is None)
    for key in redis.scan_iter("arena:*"):
        assert redis.pttl(key) > 0 or key.startswith(OWNED_WITHOUT_LIFETIME), key
    for process, first in seen.items():
        assert not any("Redis does not answer" in line for line in process.log.lines[first:])
