"""Beyond SimpleJWT: race-free rotation, reuse detection, revoke-all, claims hooks, expiry of records."""

import asyncio
from datetime import timedelta

import pytest
from argon2 import PasswordHasher as Argon2Hasher

from auth import flush
from auth.flush import flush_expired_tokens
from store.documents import utcnow
from tests.client import claims

gen_test = pytest.mark.gen_test
BLACKLISTED = {"detail": "Token is blacklisted", "code": "token_not_valid"}
ROTATE = {"ROTATE_REFRESH_TOKENS": True}
ROTATE_AND_BLACKLIST = {"ROTATE_REFRESH_TOKENS": True, "BLACKLIST_AFTER_ROTATION": True}


def team_claims(user) -> dict:
    """A TOKEN_CLAIMS_HOOK: what every token of this user carries besides the standard claims."""
    return {"team": "blue", "name": user.username}


@pytest.mark.parametrize("jwt_overrides", [ROTATE])
@gen_test
async def test_rotation_returns_a_new_refresh_token(api, store, jwt_overrides):
    tokens = await api.login()
    response = await api.post("/api/token/refresh/", {"refresh": tokens["refresh"]})
    assert response.status == 200 and set(response.json) == {"access", "refresh"}
    new = claims(response.json["refresh"])
    assert new["jti"] != claims(tokens["refresh"])["jti"] and new["token_type"] == "refresh"
    assert await store.outstanding_tokens.count_documents({}) == 2
    # Without BLACKLIST_AFTER_ROTATION the old one stays usable, as in SimpleJWT.
    assert (await api.post("/api/token/refresh/", {"refresh": tokens["refresh"]})).status == 200


@pytest.mark.parametrize("jwt_overrides", [{**ROTATE_AND_BLACKLIST, "REUSE_DETECTION": False}])
@gen_test
async def test_rotation_with_blacklist_retires_the_old_token(api, store, jwt_overrides):
    tokens = await api.login()
    response = await api.post("/api/token/refresh/", {"refresh": tokens["refresh"]})
    assert response.status == 200
    assert (await api.post("/api/token/refresh/", {"refresh": tokens["refresh"]})).json == BLACKLISTED
    assert (await api.post("/api/token/verify/", {"token": tokens["refresh"]})).json == BLACKLISTED
    assert (await api.post("/api/token/verify/", {"token": response.json["access"]})).status == 200
    assert (await api.post("/api/token/refresh/", {"refresh": response.json["refresh"]})).status == 200


@pytest.mark.parametrize("jwt_overrides", [ROTATE_AND_BLACKLIST])
@gen_test
async def test_a_login_keeps_one_record_however_often_it_rotates(api, store, jwt_overrides):
    refresh = (await api.login())["refresh"]
    for _ in range(50):
        refresh = (await api.post("/api/token/refresh/", {"refresh": refresh})).json["refresh"]
    counts = [await records.count_documents({}) for records in
              (store.outstanding_tokens, store.blacklisted_tokens, store.token_families)]
    assert counts == [1, 0, 1]
    assert (await api.post("/api/token/refresh/", {"refresh": refresh})).status == 200


@pytest.mark.parametrize("jwt_overrides", [ROTATE_AND_BLACKLIST])
@gen_test
async def test_concurrent_rotation_has_exactly_one_winner(api, store, jwt_overrides):
    tokens = await api.login()
    # Hold both requests after their blacklist check so they race to the rotation itself.
    both_checked = asyncio.Barrier(2)
    check = store.token_standing

    async def racing_check(*args):
        standing = await check(*args)
        await both_checked.wait()
        return standing

    store.token_standing = racing_check
    responses = await asyncio.gather(*(api.post("/api/token/refresh/", {"refresh": tokens["refresh"]})
                                       for _ in range(2)))
    assert sorted(response.status for response in responses) == [200, 401]
    loser = next(response for response in responses if response.status == 401)
    assert loser.json == BLACKLISTED


@pytest.mark.parametrize("jwt_overrides", [ROTATE_AND_BLACKLIST])
@gen_test
async def test_reusing_a_rotated_token_revokes_its_family(api, jwt_overrides):
    tokens = await api.login()
    other_login = await api.post("/api/token/", {"username": "alice", "password": "correct horse"})
    rotated = await api.post("/api/token/refresh/", {"refresh": tokens["refresh"]})
    assert rotated.status == 200
    replay = await api.post("/api/token/refresh/", {"refresh": tokens["refresh"]})
    assert replay.status == 401 and replay.json == BLACKLISTED
    # The thief's (or the client's) newer token is gone too, but other logins are untouched.
    response = await api.post("/api/token/refresh/", {"refresh": rotated.json["refresh"]})
    assert response.status == 401 and response.json == BLACKLISTED
    assert (await api.post("/api/token/verify/", {"token": rotated.json["refresh"]})).status == 401
    assert (await api.post("/api/token/refresh/", {"refresh": other_login.json["refresh"]})).status == 200


@gen_test
async def test_revoke_all_logs_the_user_out_everywhere(api, store):
    first = await api.login("alice")
    second = (await api.post("/api/token/", {"username": "alice", "password": "correct horse"})).json
    await api.register("bob")
    bob = (await api.post("/api/token/", {"username": "bob", "password": "correct horse"})).json
    response = await api.post("/api/token/revoke-all/", token=first["access"])
    assert response.status == 200 and response.json == {}
    for tokens in (first, second):
        me = await api.get("/api/me/", token=tokens["access"])
        assert me.status == 401 and me.json["code"] == "token_not_valid"
        refresh = await api.post("/api/token/refresh/", {"refresh": tokens["refresh"]})
        assert refresh.status == 401 and refresh.json == BLACKLISTED
    assert (await api.get("/api/me/", token=bob["access"])).status == 200
    fresh = await api.post("/api/token/", {"username": "alice", "password": "correct horse"})
    assert (await api.get("/api/me/", token=fresh.json["access"])).status == 200


@gen_test
async def test_revoke_all_notifies_listeners(api, arena):
    tokens = await api.login()
    revoked = []
    arena.tokens.revocation_listeners.append(lambda revocation: revoked.append((revocation.user_id, revocation.family)))
    await api.post("/api/token/revoke-all/", token=tokens["access"])
    assert revoked == [(int(claims(tokens["access"])["user_id"]), None)]


@pytest.mark.parametrize("jwt_overrides", [{"TOKEN_CLAIMS_HOOK": "tests.test_token_lifecycle.team_claims"}])
@gen_test
async def test_claims_hook_adds_claims_to_every_token(api, arena, store, jwt_overrides):
    tokens = await api.login()
    for token in tokens.values():
        assert claims(token)["team"] == "blue" and claims(token)["name"] == "alice"
    user = await store.find_user_by_username("alice")
    issued = await arena.tokens.tokens_for_user(user, provider="github")
    assert claims(issued["access"])["provider"] == "github"
    assert (await api.get("/api/me/", token=issued["access"])).status == 200
    refreshed = await api.post("/api/token/refresh/", {"refresh": issued["refresh"]})
    assert claims(refreshed.json["access"])["provider"] == "github"


@gen_test
async def test_expired_token_records_are_flushed(api, store):
    tokens = await api.login()
    await api.post("/api/token/blacklist/", {"refresh": tokens["refresh"]})
    await api.login("bob")
    past = utcnow() - timedelta(seconds=1)
    jti = claims(tokens["refresh"])["jti"]
    await store.outstanding_tokens.update_one({"_id": jti}, {"$set": {"expires_at": past}})
    await store.blacklisted_tokens.update_one({"_id": jti}, {"$set": {"expires_at": past}})
    await flush_expired_tokens(store)  # on MongoDB its TTL monitor may have been first: either way, gone
    assert await store.outstanding_tokens.count_documents({}) == 1
    assert await store.blacklisted_tokens.count_documents({}) == 0


async def flush_counting_turns(store) -> tuple[int, int]:
    """Flush expired tokens: how many went, and how many turns the loop gave other work meanwhile."""
    others_ran = 0
    flushing = asyncio.ensure_future(flush_expired_tokens(store))
    while not flushing.done():
        others_ran += 1
        await asyncio.sleep(0)
    return await flushing, others_ran


@gen_test(timeout=30)
async def test_a_big_flush_runs_in_slices_that_let_other_work_run(store, monkeypatch):
    monkeypatch.setattr(flush, "FLUSH_SLICE", 50)
    past = utcnow() - timedelta(seconds=1)
    for n in range(300):
        await store.outstanding_tokens.insert_one({"_id": f"t{n}", "user_id": 1, "expires_at": past})
    removed, others_ran = await flush_counting_turns(store)
    assert removed in (0, 300)  # MongoDB's own TTL monitor may have been first
    assert await store.outstanding_tokens.count_documents({}) == 0
    assert others_ran >= 300 // 50


@gen_test
async def test_outdated_password_hash_is_upgraded_at_login(api, store, settings):
    await api.register()
    old_hash = Argon2Hasher(time_cost=2, memory_cost=2048, parallelism=1).hash("correct horse")
    await store.users.update_one({"username": "alice"}, {"$set": {"password": old_hash}})
    response = await api.post("/api/token/", {"username": "alice", "password": "correct horse"})
    assert response.status == 200
    upgraded = (await store.users.find_one({"username": "alice"}))["password"]
    assert upgraded != old_hash
    assert f"m={settings.PASSWORD_MEMORY_COST},t={settings.PASSWORD_TIME_COST}" in upgraded
    assert (await api.post("/api/token/", {"username": "alice", "password": "correct horse"})).status == 200


@pytest.mark.settings(PASSWORD_TIME_COST=4, PASSWORD_MEMORY_COST=65536, PASSWORD_WORKERS=1)
@pytest.mark.gen_test(timeout=60)
async def test_logins_do_not_block_the_ioloop(api):
    await api.register()
    logins = [asyncio.ensure_future(api.post("/api/token/", {"username": "alice", "password": "correct horse"}))
              for _ in range(4)]
    health = await api.get("/api/health/")
    assert health.status == 200
    assert not all(login.done() for login in logins), "health waited for the password hashing"
    assert [login.status for login in await asyncio.gather(*logins)] == [200] * 4


@gen_test(timeout=20)
async def test_a_flush_among_many_records_that_have_not_expired_lets_other_work_run(store):
    """The embedded store found the few expired records by scanning every one in one go (664 ms at
    300,000 records): a scan now yields to the loop between slices, as MongoDB's index makes it needless."""
    future = utcnow() + timedelta(days=1)
    for n in range(5000):
        await store.outstanding_tokens.insert_one({"_id": f"t{n}", "user_id": 1, "expires_at": future})
    removed, others_ran = await flush_counting_turns(store)
    assert removed == 0
    assert others_ran >= (3 if store.kind == "embedded" else 1)
