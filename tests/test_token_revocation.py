"""Revocation that really revokes, in stateful and stateless mode: revoke-all racing refreshes,
logout and reuse detection ending a login's access tokens and sockets, integer `iat`/`exp`."""

import asyncio
import inspect
import random
from datetime import datetime, timezone

import pytest

from store.database import Store
from store.documents import GameResult, PlayerResult
from tests.client import claims
from tests.ws import GameClient

BLACKLISTED = {"detail": "Token is blacklisted", "code": "token_not_valid"}
QUICK = {"MATCH_INTERVAL": 0.05, "BOT_FILL_AFTER": 60}
BOTH_MODES = pytest.mark.parametrize("jwt_overrides", [
    {"STATELESS_AUTHENTICATION": False}, {"STATELESS_AUTHENTICATION": True}], ids=["stateful", "stateless"])
ROTATING_MODES = pytest.mark.parametrize("jwt_overrides", [
    {"ROTATE_REFRESH_TOKENS": True, "BLACKLIST_AFTER_ROTATION": True, "STATELESS_AUTHENTICATION": stateless}
    for stateless in (False, True)], ids=["stateful", "stateless"])


async def socket_welcomed(base_url, access: str) -> GameClient:
    client = await GameClient.connect(base_url, access)
    await client.wait_for("welcome")
    return client


@pytest.mark.gen_test
async def test_iat_and_exp_are_whole_seconds_like_simplejwt(api):
    tokens = await api.login()
    for name, lifetime in (("access", 300), ("refresh", 86400)):
        payload = claims(tokens[name])
        assert type(payload["iat"]) is int and type(payload["exp"]) is int
        assert payload["exp"] - payload["iat"] == lifetime


def suspend_every_store_call(monkeypatch, store: Store, rng: random.Random) -> None:
    """Every store call waits 0–2 ms before and after, as calls over a network to MongoDB do."""
    for name, method in inspect.getmembers(store, inspect.iscoroutinefunction):
        if name.startswith("_"):
            continue

        async def suspended(*args, method=method, **kwargs):
            await asyncio.sleep(rng.uniform(0, 0.002))
            result = await method(*args, **kwargs)
            await asyncio.sleep(rng.uniform(0, 0.002))
            return result

        monkeypatch.setattr(store, name, suspended)


@pytest.mark.parametrize("jwt_overrides", [
    {"ROTATE_REFRESH_TOKENS": True},
    {"ROTATE_REFRESH_TOKENS": True, "STATELESS_AUTHENTICATION": True},
    {"ROTATE_REFRESH_TOKENS": True, "BLACKLIST_AFTER_ROTATION": True},
], ids=["rotate", "rotate-stateless", "rotate-blacklist"])
@pytest.mark.gen_test(timeout=30)
async def test_nothing_issued_before_or_during_a_revoke_all_survives_it(api, store, monkeypatch, jwt_overrides):
    await api.register()
    logins = [(await api.post("/api/token/", {"username": "alice", "password": "correct horse"})).json
              for _ in range(4)]
    issued = [token for login in logins for token in login.values()]
    suspend_every_store_call(monkeypatch, store, random.Random(3))
    first_round = asyncio.Event()

    async def refresh_chain(refresh: str) -> None:
        for _ in range(25):
            response = await api.post("/api/token/refresh/", {"refresh": refresh})
            first_round.set()
            if response.status != 200:
                return
            issued.extend(response.json.values())
            refresh = response.json["refresh"]

    async def revoke_all() -> None:
        await first_round.wait()
        assert (await api.post("/api/token/revoke-all/", token=logins[0]["access"])).status in (200, 401)

    await asyncio.gather(*(refresh_chain(login["refresh"]) for login in logins), revoke_all())
    monkeypatch.undo()
    for token in issued:
        kind = claims(token)["token_type"]
        if kind == "refresh":
            response = await api.post("/api/token/refresh/", {"refresh": token})
            assert (response.status, response.json) == (401, BLACKLISTED)
        else:
            assert (await api.get("/api/me/", token=token)).status == 401


@BOTH_MODES
@pytest.mark.settings(game=QUICK)
@pytest.mark.gen_test(timeout=10)
async def test_revoke_all_closes_the_socket_and_refuses_every_old_token(api, base_url, jwt_overrides):
    tokens = await api.login()
    client = await socket_welcomed(base_url, tokens["access"])
    assert (await api.post("/api/token/revoke-all/", token=tokens["access"])).status == 200
    assert await client.wait_closed() == (4001, "token_revoked")
    assert (await api.post("/api/token/refresh/", {"refresh": tokens["refresh"]})).json == BLACKLISTED
    assert (await api.get("/api/me/", token=tokens["access"])).status == 401
    again = await GameClient.connect(base_url, tokens["access"])
    assert await again.wait_closed() == (4001, "token_revoked")


@BOTH_MODES
@pytest.mark.settings(game=QUICK)
@pytest.mark.gen_test(timeout=10)
async def test_logout_ends_that_logins_access_tokens_and_socket_only(api, base_url, jwt_overrides):
    tokens = await api.login()
    other = (await api.post("/api/token/", {"username": "alice", "password": "correct horse"})).json
    client = await socket_welcomed(base_url, tokens["access"])
    assert (await api.post("/api/token/blacklist/", {"refresh": tokens["refresh"]})).status == 200
    assert await client.wait_closed() == (4001, "token_revoked")
    me = await api.get("/api/me/", token=tokens["access"])
    assert me.status == 401 and me.json["messages"][0]["message"] == "Token is blacklisted"
    assert (await api.get("/api/me/", token=other["access"])).status == 200


@ROTATING_MODES
@pytest.mark.settings(game=QUICK)
@pytest.mark.gen_test(timeout=10)
async def test_reuse_detection_ends_the_familys_access_tokens_and_socket(api, base_url, jwt_overrides):
    tokens = await api.login()
    rotated = (await api.post("/api/token/refresh/", {"refresh": tokens["refresh"]})).json
    client = await socket_welcomed(base_url, rotated["access"])
    replay = await api.post("/api/token/refresh/", {"refresh": tokens["refresh"]})
    assert replay.json == BLACKLISTED
    assert await client.wait_closed() == (4001, "token_revoked")
    for access in (tokens["access"], rotated["access"]):
        assert (await api.get("/api/me/", token=access)).status == 401


@BOTH_MODES
@pytest.mark.gen_test
async def test_my_games_list_the_users_games_in_every_mode(api, store, jwt_overrides):
    tokens = await api.login()
    user_id = int(claims(tokens["access"])["user_id"])
    now = datetime.now(timezone.utc)
    await store.record_game(GameResult("g1", (PlayerResult(user_id, "alice", False, 1500, True),), user_id,
                                       now, now, {user_id: 10}))
    games = (await api.get("/api/me/games/", token=tokens["access"])).json["results"]
    assert [(game["id"], game["score_change"]) for game in games] == [("g1", 10)]
    assert (await api.get("/api/me/", token=tokens["access"])).json["score"] == 1510


@pytest.mark.gen_test(timeout=10)
async def test_a_revocation_whose_signal_was_lost_closes_the_socket_at_its_recheck(api, base_url, arena, store):
    """Cluster mode re-checks every socket's token (ARENA_CLUSTER_RECHECK) for revocations it never heard
    of, as when Redis was away: here the store alone knows of the revoke-all."""
    tokens = await api.login()
    client = await GameClient.connect(base_url, tokens["access"])
    await client.wait_for("welcome")
    await store.next_token_generation(1)  # revoked, and no listener told
    for session in arena.game.connected_sessions():
        await session.recheck()
    assert await client.wait_closed() == (4001, "token_revoked")


@BOTH_MODES
@pytest.mark.gen_test(timeout=10)
async def test_a_deactivated_user_is_refused_at_once_in_stateless_mode_too(api, arena, jwt_overrides):
    """Stateless Bearer checks read no user: a deactivation moves the user's generation in the same update,
    so the in-process revocation cache refuses their tokens at once instead of at expiry."""
    tokens = await api.login()
    assert (await api.get("/api/me/", token=tokens["access"])).status == 200
    await arena.tokens.deactivate_user(1)
    assert (await api.get("/api/me/", token=tokens["access"])).status == 401
