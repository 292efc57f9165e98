"""Players over real WebSockets: authentication, session life, limits, and whole games."""

import asyncio
import logging
import socket
import time

import jwt
import pytest
from pymongo.errors import AutoReconnect
from tornado.httpclient import HTTPClientError

from store.documents import GameResult
from tests.client import claims
from tests.ws import GameClient

QUICK = {"MATCH_INTERVAL": 0.05, "BOT_FILL_AFTER": 60, "AUTH_TIMEOUT": 0.3}
BOTS_AT_ONCE = {**QUICK, "BOT_FILL_AFTER": 0}
# One shot kills and the fireball crosses the map at once: a whole game takes a few ticks.
DEADLY = {**QUICK, "HITS_TO_KILL": 1, "FIREBALL_COOLDOWN": 0, "FIREBALL_SPEED": 30, "FIREBALL_RANGE": 3}


async def connected(api, base_url, username: str = "alice") -> tuple[GameClient, dict]:
    """A user logged in and connected, past `welcome`; with their tokens."""
    tokens = await api.login(username)
    client = await GameClient.connect(base_url, tokens["access"])
    await client.wait_for("welcome")
    return client, tokens


def assert_nobody_joined(arena):
    assert arena.game.matchmaker.queue == {} and arena.game.sessions == {}


@pytest.mark.settings(game=QUICK)
@pytest.mark.gen_test(timeout=10)
async def test_valid_token_gets_welcome_and_queue(api, base_url, arena):
    tokens = await api.login()
    client = await GameClient.connect(base_url, tokens["access"])
    welcome = await client.wait_for("welcome")
    assert welcome["user"] == {"id": 1, "username": "alice", "score": 1500}
    queued = await client.wait_for("queued")
    assert queued["waiting"] == 1
    assert list(arena.game.matchmaker.queue) == [1]


async def rejected(base_url, token) -> tuple:
    client = await GameClient.connect(base_url, token)
    return await client.wait_closed()


@pytest.mark.settings(game=QUICK)
@pytest.mark.gen_test(timeout=10)
async def test_rejections_close_4001_and_never_queue(api, base_url, arena, settings):
    tokens = await api.login()
    now = time.time()
    base = {"token_type": "access", "user_id": "1", "jti": "x", "iat": now}
    key = settings.jwt.SIGNING_KEY
    cases = {
        "garbage": ("garbage", "token_not_valid"),
        "expired": (jwt.encode({**base, "exp": int(now) - 5}, key, "HS256"), "token_expired"),
        "refresh token": (tokens["refresh"], "token_not_valid"),
        "wrong signature": (jwt.encode({**base, "exp": int(now) + 60}, "another-key" * 4, "HS256"), "token_not_valid"),
        "alg none": (jwt.encode({**base, "exp": int(now) + 60}, None, "none"), "token_not_valid"),
        "unknown user": (jwt.encode({**base, "user_id": "99", "exp": int(now) + 60}, key, "HS256"), "user_not_found"),
    }
    for name, (token, reason) in cases.items():
        assert await rejected(base_url, token) == (4001, reason), name
    assert_nobody_joined(arena)


@pytest.mark.settings(game=QUICK)
@pytest.mark.gen_test(timeout=10)
async def test_revoked_and_inactive_users_are_refused(api, base_url, arena, store):
    alice = await api.login("alice")
    await api.post("/api/token/revoke-all/", token=alice["access"])
    assert await rejected(base_url, alice["access"]) == (4001, "token_revoked")
    bob = await api.login("bob")
    await store.users.update_one({"username": "bob"}, {"$set": {"is_active": False}})
    assert await rejected(base_url, bob["access"]) == (4001, "user_inactive")
    assert_nobody_joined(arena)


@pytest.mark.settings(game=QUICK)
@pytest.mark.gen_test(timeout=10)
async def test_no_token_waits_for_an_auth_frame_then_gives_up(api, base_url, arena):
    tokens = await api.login()
    late = await GameClient.connect(base_url)
    assert await late.wait_closed() == (4001, "auth_timeout")
    prompt = await GameClient.connect(base_url)
    await prompt.send("auth", token=tokens["access"])
    assert (await prompt.wait_for("welcome"))["user"]["id"] == 1
    other = await GameClient.connect(base_url)
    await other.send("move_to", tx=0.1, ty=0.1)
    assert await other.wait_closed() == (4001, "auth_required")


@pytest.mark.settings(game=QUICK)
@pytest.mark.gen_test(timeout=10)
async def test_token_in_query_string_is_redacted_from_the_access_log(api, base_url, caplog):
    tokens = await api.login()
    with caplog.at_level(logging.INFO, logger="tornado.access"):
        client = await GameClient.connect(base_url, tokens["access"])
        await client.wait_for("welcome")
    logged = " ".join(record.getMessage() for record in caplog.records if record.name == "tornado.access")
    assert "/wss/multiplayer/?token=[redacted]" in logged
    assert tokens["access"] not in caplog.text


@pytest.mark.settings(game=QUICK)
@pytest.mark.gen_test(timeout=10)
async def test_origin_allow_list(api, base_url):
    tokens = await api.login()
    with pytest.raises(HTTPClientError) as refused:
        await GameClient.connect(base_url, tokens["access"], headers={"Origin": "http://evil.example"})
    assert refused.value.code == 403
    with pytest.raises(HTTPClientError) as refused:  # a local development page only when the operator asks
        await GameClient.connect(base_url, tokens["access"], headers={"Origin": "http://localhost:3000"})
    assert refused.value.code == 403


@pytest.mark.settings(game=QUICK, ALLOWED_ORIGINS=("http://localhost:*",))
@pytest.mark.gen_test(timeout=10)
async def test_local_development_origins_when_the_operator_allows_them(api, base_url):
    tokens = await api.login()
    local = await GameClient.connect(base_url, tokens["access"], headers={"Origin": "http://localhost:3000"})
    await local.wait_for("welcome")


@pytest.mark.settings(game=QUICK, ALLOWED_ORIGINS=("https://game.example",))
@pytest.mark.gen_test(timeout=10)
async def test_allowed_origins_from_settings(api, base_url):
    tokens = await api.login()
    client = await GameClient.connect(base_url, tokens["access"], headers={"Origin": "https://game.example"})
    await client.wait_for("welcome")


@pytest.mark.settings(game={**QUICK, "TOKEN_EXPIRY_GRACE": 0.2}, jwt={"ACCESS_TOKEN_LIFETIME": 2})
@pytest.mark.gen_test(timeout=15)
async def test_session_ends_4003_when_its_token_expires(api, base_url):
    client, tokens = await connected(api, base_url)
    assert await client.wait_closed() == (4003, "token_expired")
    assert time.time() >= claims(tokens["access"])["exp"] + 0.2


@pytest.mark.settings(game={**QUICK, "TOKEN_EXPIRY_GRACE": 0.2}, jwt={"ACCESS_TOKEN_LIFETIME": 2})
@pytest.mark.gen_test(timeout=15)
async def test_refresh_token_event_keeps_the_session_past_the_first_expiry(api, base_url, arena):
    tokens = await api.login()
    first_exp = claims(tokens["access"])["exp"]
    client = await GameClient.connect(base_url, tokens["access"])
    await client.wait_for("welcome")
    later = arena.codec.backend.encode({**claims(tokens["access"]), "jti": "later", "exp": first_exp + 2})
    await client.send("refresh_token", token="garbage")
    assert (await client.wait_for("error"))["code"] == "token_not_valid"
    await client.send("refresh_token", token=later)
    assert (await client.wait_for("token_refreshed"))["exp"] == first_exp + 2
    assert await client.wait_closed() == (4003, "token_expired")
    assert time.time() >= first_exp + 2 + 0.2


@pytest.mark.settings(game=QUICK)
@pytest.mark.gen_test(timeout=10)
async def test_revoke_all_closes_live_sockets(api, base_url, arena):
    client, tokens = await connected(api, base_url)
    await api.post("/api/token/revoke-all/", token=tokens["access"])
    assert await client.wait_closed() == (4001, "token_revoked")
    assert_nobody_joined(arena)


@pytest.mark.settings(game=QUICK)
@pytest.mark.gen_test(timeout=10)
async def test_deactivation_closes_live_sockets(api, base_url, arena):
    client, _ = await connected(api, base_url)
    await arena.tokens.deactivate_user(1)
    assert (await client.wait_closed())[0] == 4001


@pytest.mark.settings(game=QUICK)
@pytest.mark.gen_test(timeout=10)
async def test_new_connection_replaces_the_old(api, base_url, arena):
    tokens = await api.login()
    old = await GameClient.connect(base_url, tokens["access"])
    await old.wait_for("welcome")
    new = await GameClient.connect(base_url, tokens["access"])
    await new.wait_for("welcome")
    assert await old.wait_closed() == (4002, "replaced")
    assert arena.game.sessions[1] is not None and list(arena.game.matchmaker.queue) == [1]


@pytest.mark.settings(game=QUICK)
@pytest.mark.gen_test(timeout=10)
async def test_oversized_frame_closes_1009(api, base_url):
    client, _ = await connected(api, base_url)
    await client.send("message", text="x" * 5000)
    assert (await client.wait_closed())[0] == 1009


@pytest.mark.settings(game={**QUICK, "MESSAGE_RATE": 5, "MESSAGE_BURST": 10})
@pytest.mark.gen_test(timeout=10)
async def test_flooding_closes_4008(api, base_url):
    client, _ = await connected(api, base_url)
    for _ in range(30):
        await client.send("move_to", tx=0.5, ty=0.5)
    assert await client.wait_closed() == (4008, "rate_limited")


@pytest.mark.settings(game=BOTS_AT_ONCE)
@pytest.mark.gen_test(timeout=10)
async def test_bad_messages_get_an_error_and_the_session_continues(api, base_url):
    client, _ = await connected(api, base_url)
    await client.wait_for("game_start")
    await client.connection.write_message("not json")
    assert (await client.wait_for("error"))["code"] == "bad_message"
    await client.send("no_such_event")
    assert (await client.wait_for("error"))["code"] == "bad_message"
    for tx in ('"1"', "NaN", "1e400", "true", "null"):
        await client.connection.write_message('{"event": "move_to", "tx": %s, "ty": 0}' % tx)
        assert (await client.wait_for("error"))["code"] == "bad_message"
    await client.send("shoot_fireball", tx=0.5, ty=0.5)
    assert (await client.wait_for("error"))["code"] == "cooldown"
    await client.send("message", text="still here")
    assert (await client.wait_for("message"))["text"] == "still here"


@pytest.mark.settings(game=BOTS_AT_ONCE)
@pytest.mark.gen_test(timeout=10)
async def test_lone_player_gets_a_room_filled_with_bots(api, base_url):
    client, _ = await connected(api, base_url)
    start = await client.wait_for("game_start")
    assert start["you"] == 1 and start["tick_rate"] == 60
    assert start["map"] == {"width": pytest.approx(16 / 9), "height": 1.0}
    humans = [p for p in start["players"] if not p["bot"]]
    bots = [p for p in start["players"] if p["bot"]]
    assert [p["id"] for p in humans] == [1] and len(bots) == 2
    assert all(bot["id"] < 0 for bot in bots)
    state = await client.wait_for("state")
    assert sorted(row[0] for row in state["players"]) == sorted(p["id"] for p in start["players"])


@pytest.mark.settings(game=BOTS_AT_ONCE)
@pytest.mark.gen_test(timeout=10)
async def test_move_to_moves_the_player_in_the_server_state(api, base_url):
    client, _ = await connected(api, base_url)
    await client.wait_for("game_start")
    first = next(row for row in (await client.wait_for("state"))["players"] if row[0] == 1)
    target = (0.1 if first[1] > 0.9 else 1.7, first[2])
    await client.send("move_to", tx=target[0], ty=target[1])
    moved = first
    while abs(moved[1] - first[1]) < 0.05:
        moved = next(row for row in (await client.wait_for("state"))["players"] if row[0] == 1)
    assert (moved[1] - first[1]) * (target[0] - first[1]) > 0  # toward the target


async def players_in_a_room(api, base_url, *names: str) -> tuple[list[GameClient], list[dict]]:
    """The named users (ids 1, 2, … in order) connected, each past their `game_start` and each having
    moved once (so the game is rated); and their tokens."""
    clients, tokens = [], []
    for name in names:
        tokens.append(await api.login(name))
        clients.append(await GameClient.connect(base_url, tokens[-1]["access"]))
    for client in clients:
        await client.wait_for("game_start")
        await client.send("move_to", tx=0.9, ty=0.5)
    return clients, tokens


async def play_to_the_end(shooter: GameClient) -> dict:
    """The shooter (user 1) fires at someone still alive on every snapshot until the game is over."""
    event = shooter.last_state or await shooter.wait_for("state")
    while event["event"] != "game_over":
        if event["event"] == "state":
            alive = [row for row in event["players"] if row[4] and row[0] != 1]
            if alive:  # the last snapshot, sent just before game_over, may show none
                await shooter.send("shoot_fireball", tx=alive[0][1], ty=alive[0][2])
        event = await shooter.next_event()
        assert event is not None, (shooter.close_code, shooter.close_reason)
    return event


@pytest.mark.settings(game=DEADLY)
@pytest.mark.gen_test(timeout=20)
async def test_three_players_play_a_full_game_and_scores_are_stored(api, base_url, arena, store):
    clients, _ = await players_in_a_room(api, base_url, "alice", "bob", "carol")
    starts = [next(e for e in client.events if e["event"] == "game_start") for client in clients]
    assert len({start["room"] for start in starts}) == 1
    over = await play_to_the_end(clients[0])
    assert over["winner"] == 1 and over["scores"] == {"1": 10, "2": -5, "3": -5}
    for client in clients[1:]:
        assert (await client.wait_for("game_over"))["winner"] == 1
    assert any(e["event"] == "died" for e in clients[1].events)
    await arena.game.results.drained()
    scores = {user["username"]: user["score"] async for user in store.users.find({})}
    assert scores == {"alice": 1510, "bob": 1495, "carol": 1495}
    game = await store.games.find_one({"_id": starts[0]["room"]})
    assert game["winner"] == 1 and game["score_changes"] == {"1": 10, "2": -5, "3": -5}
    board = await api.get("/api/leaderboard/?limit=2")
    assert [(row["rank"], row["username"], row["score"]) for row in board.json["results"]] == [
        (1, "alice", 1510), (2, "bob", 1495)]
    mine = await api.get("/api/me/games/", token=(await api.post(
        "/api/token/", {"username": "bob", "password": "correct horse"})).json["access"])
    assert [(g["id"], g["score_change"], g["winner"]) for g in mine.json["results"]] == [(starts[0]["room"], -5, 1)]


@pytest.mark.settings(game=DEADLY)
@pytest.mark.gen_test(timeout=20)
async def test_results_survive_a_mongodb_outage_at_game_end(api, base_url, arena, store, monkeypatch):
    clients, _ = await players_in_a_room(api, base_url, "alice", "bob", "carol")
    attempts = []
    record = store.record_game

    async def flaky_record(game):
        attempts.append(game.id)
        if len(attempts) <= 2:
            raise AutoReconnect("MongoDB is down")
        await record(game)

    monkeypatch.setattr(arena.game.results, "write", flaky_record)
    monkeypatch.setattr(arena.game.results, "retry_interval", 0.05)
    await play_to_the_end(clients[0])
    await arena.game.results.drained()
    assert len(attempts) == 3
    await record(GameResult.from_document(await store.games.find_one({})))  # a repeated write, e.g. after a lost reply, changes nothing
    scores = {user["username"]: user["score"] async for user in store.users.find({})}
    assert scores == {"alice": 1510, "bob": 1495, "carol": 1495}
    assert await store.games.count_documents({}) == 1


@pytest.mark.settings(game={**QUICK, "ROOM_CAPACITY": 2})
@pytest.mark.gen_test(timeout=10)
async def test_reconnecting_mid_game_returns_to_the_same_seat(api, base_url, arena):
    (a, b), (_, bob) = await players_in_a_room(api, base_url, "alice", "bob")
    room = next(event for event in a.events if event["event"] == "game_start")["room"]
    b.close()
    dropped = await a.wait_for("state")
    while next(row for row in dropped["players"] if row[0] == 2)[7] != 0:
        dropped = await a.wait_for("state")
    back = await GameClient.connect(base_url, bob["access"])
    await back.wait_for("welcome")
    restart = await back.wait_for("game_start")
    assert restart["room"] == room and restart["you"] == 2
    state = await back.wait_for("state")
    assert next(row for row in state["players"] if row[0] == 2)[7] == 1


@pytest.mark.settings(game={**QUICK, "ROOM_CAPACITY": 2, "RECONNECT_GRACE": 0.3})
@pytest.mark.gen_test(timeout=10)
async def test_a_player_gone_past_the_grace_counts_as_dead(api, base_url, arena):
    (a, b), _ = await players_in_a_room(api, base_url, "alice", "bob")
    b.close()
    assert (await a.wait_for("died"))["player"] == 2
    over = await a.wait_for("game_over")
    assert over["winner"] == 1 and over["scores"] == {"1": 10, "2": -5}


@pytest.mark.settings(game={**BOTS_AT_ONCE, "MAX_PENDING_OUTPUT": 16 * 1024, "MESSAGE_RATE": 100000,
                            "MESSAGE_BURST": 100000})
@pytest.mark.gen_test(timeout=30)
async def test_a_client_that_does_not_read_is_closed_4009(api, base_url, arena):
    client, _ = await connected(api, base_url)
    await client.wait_for("game_start")
    # A slow network: small socket buffers on both ends, so unread output backs up in the server.
    client.connection.stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    arena.game.sessions[1].ws_connection.stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    # Chat echoes back to the sender; while the client sends and does not read, its output piles up.
    for _ in range(5000):
        await client.send("message", text="x" * 200)
        if 1 not in arena.game.sessions:
            break
    assert await client.wait_closed() == (4009, "slow_consumer")


@pytest.mark.settings(game=DEADLY)
@pytest.mark.gen_test(timeout=20)
async def test_graceful_shutdown_writes_pending_results(api, base_url, arena, store, monkeypatch):
    clients, _ = await players_in_a_room(api, base_url, "alice", "bob", "carol")
    mongodb_down = True
    record = store.record_game

    async def record_unless_down(game):
        if mongodb_down:
            raise ConnectionError("MongoDB is down")
        await record(game)

    monkeypatch.setattr(arena.game.results, "write", record_unless_down)
    await play_to_the_end(clients[0])
    assert len(arena.game.results.pending) == 1
    mongodb_down = False
    await arena.shutdown()
    scores = {user["username"]: user["score"] async for user in store.users.find({})}
    assert scores == {"alice": 1510, "bob": 1495, "carol": 1495}


@pytest.mark.settings(game=BOTS_AT_ONCE)
@pytest.mark.gen_test(timeout=10)
async def test_shutdown_abandons_running_games_without_score_changes(api, base_url, arena, store):
    tokens = await api.login()
    client = await GameClient.connect(base_url, tokens["access"])
    start = await client.wait_for("game_start")
    room = start["room"]
    await arena.shutdown()
    over = await client.wait_for("game_over")
    assert over == {"event": "game_over", "winner": None, "scores": {}, "abandoned": True, "rated": False,
                    "unrated": "abandoned", "places": {str(p["id"]): 0 for p in start["players"]}}
    assert await client.wait_closed() == (1001, "server shutting down")
    game = await store.games.find_one({"_id": room})
    assert game["abandoned"] is True and game["score_changes"] == {}
    assert (await store.users.find_one({"id": 1}))["score"] == 1500


@pytest.mark.settings(game=BOTS_AT_ONCE)
@pytest.mark.gen_test(timeout=10)
async def test_stats_show_rooms_players_and_tick_times(api, base_url):
    client, _ = await connected(api, base_url)
    await client.wait_for("game_start")
    first = (await client.wait_for("state"))["tick"]
    while (await client.wait_for("state"))["tick"] < first + 10:
        pass
    stats = (await api.get("/api/stats/?ticks=5")).json
    assert (stats["rooms"], stats["sessions"], stats["queued"]) == (1, 1, 0)
    assert stats["tick"] >= first + 10 and stats["tick_ms"]["count"] == 5
    assert stats["requests"] == 1  # this one
    assert 0 < stats["tick_ms"]["p50"] <= stats["tick_ms"]["p99"] <= stats["tick_ms"]["max"]


@pytest.mark.settings(game={**QUICK, "PING_INTERVAL": 0.1, "PING_TIMEOUT": 0.3})
@pytest.mark.gen_test(timeout=10)
async def test_pings_keep_a_quiet_client_and_a_silent_peer_is_dropped(api, base_url, arena, monkeypatch):
    alice, bob = await api.login("alice"), await api.login("bob")
    quiet = await GameClient.connect(base_url, alice["access"])  # reads and answers pings, sends nothing
    await quiet.wait_for("welcome")
    reading = asyncio.ensure_future(quiet.wait_closed())
    silent = await GameClient.connect(base_url, bob["access"])
    await silent.wait_for("welcome")
    # Bob's client stops answering pings (as a dead peer would).
    monkeypatch.setattr(silent.connection.protocol, "_handle_message",
                        lambda opcode, data: None if opcode == 0x9 else original(opcode, data))
    original = type(silent.connection.protocol)._handle_message.__get__(silent.connection.protocol)
    assert await silent.wait_closed() == (4010, "ping_timeout")
    assert 1 in arena.game.sessions and 2 not in arena.game.sessions
    assert not reading.done()


async def shoot_until_one_is_out(shooter: GameClient, targets: tuple[int, ...]) -> int:
    """The shooter fires at the first target on every snapshot until a snapshot shows one of the
    targets out (a shot may hit another on its way); that one's id."""
    while True:
        rows = {row[0]: row for row in (await shooter.wait_for("state"))["players"]}
        out = [target for target in targets if not rows[target][4]]
        if out:
            return out[0]
        await shooter.send("shoot_fireball", tx=rows[targets[0]][1], ty=rows[targets[0]][2])


@pytest.mark.settings(game={**DEADLY, "ROOM_CAPACITY": 3})
@pytest.mark.gen_test(timeout=20)
async def test_a_player_who_is_out_leaves_at_once_and_queues_again(api, base_url, arena):
    (a, b, c), _ = await players_in_a_room(api, base_url, "alice", "bob", "carol")
    await c.send("leave")
    assert (await c.wait_for("error"))["code"] == "still_alive"
    out_id = await shoot_until_one_is_out(a, (2, 3))
    out = {2: b, 3: c}[out_id]
    died = await out.wait_for("died")
    assert died == {"event": "died", "player": out_id, "place": 3, "by": died["by"]} and died["by"] in (1, 2, 3)
    await out.send("leave")
    queued = await out.wait_for("queued")
    assert queued["waiting"] == 1 and list(arena.game.matchmaker.queue) == [out_id]
    over = await play_to_the_end(a)
    assert over["scores"] == {"1": 10, "2": -5, "3": -5}  # the −5 of the one who left stands
    assert out_id not in arena.game.seats and list(arena.game.matchmaker.queue) == [out_id]


@pytest.mark.settings(game={**QUICK, "ROOM_CAPACITY": 2})
@pytest.mark.gen_test(timeout=10)
async def test_my_running_game_says_how_long_is_left_to_rejoin(api, base_url, arena):
    assert (await api.get("/api/me/game/", token=(await api.login("carol"))["access"])).json == {"game": None}
    (a, b), (alice, bob) = await players_in_a_room(api, base_url, "alice", "bob")
    room = next(event for event in a.events if event["event"] == "game_start")["room"]
    bob_id = next(event for event in b.events if event["event"] == "game_start")["you"]
    playing = await api.get("/api/me/game/", token=alice["access"])
    assert playing.json == {"game": {"room": room, "rejoin_within": None}}
    b.close()
    state = await a.wait_for("state")
    while next(row for row in state["players"] if row[0] == bob_id)[7] != 0:
        state = await a.wait_for("state")
    away = (await api.get("/api/me/game/", token=bob["access"])).json["game"]
    assert away["room"] == room and 0 < away["rejoin_within"] <= arena.settings.game.RECONNECT_GRACE


@pytest.mark.settings(game=QUICK)
@pytest.mark.gen_test(timeout=10)
async def test_an_event_that_is_not_a_string_is_an_unknown_event(api, base_url):
    """`{"event": {...}}` once crashed the socket's handler (a dict cannot be looked up in the intents)."""
    client, _ = await connected(api, base_url)
    for event in ({"move_to": 1}, ["move_to"], 7):
        await client.send(event)
        error = await client.wait_for("error")
        assert (error["code"], error["detail"]) == ("bad_message", "unknown event None")
    await client.send("message", text="still here")
    assert (await client.wait_for("error"))["code"] == "not_in_game"


@pytest.mark.settings(game={**DEADLY, "BOT_FILL_AFTER": 60, "BOT_HOLD_FIRE": 60})
@pytest.mark.gen_test(timeout=10)
async def test_practice_starts_a_game_against_bots_at_once_and_it_is_never_rated(api, base_url, arena, store):
    """Alone, every game waited for bots (10 s by default): `practice` starts one at once (issue 24)."""
    client, tokens = await connected(api, base_url)
    await client.wait_for("queued")
    asked = time.monotonic()
    await client.send("practice")
    start = await client.wait_for("game_start")
    assert time.monotonic() - asked < 1.0
    assert (start["practice"], start["rated"]) == (True, False)
    assert [p["bot"] for p in start["players"]] == [False, True, True]
    assert arena.game.matchmaker.queue == {}
    await client.send("practice")
    assert (await client.wait_for("error"))["code"] == "in_game"
    await client.send("move_to", tx=0.9, ty=0.5)
    over = await play_to_the_end(client)
    assert (over["winner"], over["rated"], over["unrated"], over["scores"]) == (1, False, "practice", {})
    assert over["places"]["1"] == 1
    games = (await api.get("/api/me/games/", token=tokens["access"])).json["results"]
    assert [(g["practice"], g["rated"], g["score_change"], g["place"]) for g in games] == [(True, False, 0, 1)]
    assert (await api.get("/api/me/", token=tokens["access"])).json["score"] == 1500


@pytest.mark.settings(game={**DEADLY, "ROOM_CAPACITY": 2})
@pytest.mark.gen_test(timeout=10)
async def test_game_start_and_game_over_say_whether_the_game_counts_and_why_not(api, base_url, arena):
    (alice, bob), _ = await players_in_a_room(api, base_url, "alice", "bob")
    start = alice.events[[e["event"] for e in alice.events].index("game_start")]
    assert (start["practice"], start["rated"], start["blink_range"], start["fireball_speed"]) == (False, True, 0.8, 30)
    over = await play_to_the_end(alice)
    assert (over["winner"], over["rated"], over["unrated"], over["scores"]) == (1, True, None, {"1": 10, "2": -5})
    assert over["places"] == {"1": 1, "2": 2}
