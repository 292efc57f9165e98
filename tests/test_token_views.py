"""SimpleJWT's view and integration tests, ported to HTTP against this server."""

import time

import pytest

from tests.client import claims

gen_test = pytest.mark.gen_test
INVALID = {"detail": "Token is invalid", "code": "token_not_valid"}
EXPIRED = {"detail": "Token is expired", "code": "token_not_valid"}
BLACKLISTED = {"detail": "Token is blacklisted", "code": "token_not_valid"}
NO_ACCOUNT = {"detail": "No active account found with the given credentials"}


def sign(arena, **payload) -> str:
    """A token signed with the server's key from exactly these claims."""
    return arena.codec.backend.encode(payload)


def pair_claims(token_type: str, user_id: str = "1", **extra) -> dict:
    now = time.time()
    return {"token_type": token_type, "user_id": user_id, "jti": "j" * 32, "iat": now, "exp": int(now + 300), **extra}


# Obtain pair

@gen_test
async def test_obtain_requires_fields(api):
    response = await api.post("/api/token/", {})
    assert response.status == 400
    assert response.json == {"username": ["This field is required."], "password": ["This field is required."]}


@gen_test
async def test_obtain_with_wrong_credentials_is_401(api):
    await api.register("alice", "correct horse")
    for body in ({"username": "alice", "password": "wrong horse"}, {"username": "nobody", "password": "x" * 9}):
        response = await api.post("/api/token/", body)
        assert response.status == 401
        assert response.json == NO_ACCOUNT
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


@gen_test
async def test_obtain_for_inactive_user_is_401(api, store):
    await api.register("alice", "correct horse")
    await store.users.update_one({"username": "alice"}, {"$set": {"is_active": False}})
    response = await api.post("/api/token/", {"username": "alice", "password": "correct horse"})
    assert response.status == 401 and response.json == NO_ACCOUNT


@gen_test
async def test_obtain_pair_returns_refresh_and_access(api, store):
    tokens = await api.login("alice")
    assert set(tokens) == {"refresh", "access"}
    refresh, access = claims(tokens["refresh"]), claims(tokens["access"])
    user = await store.users.find_one({"username": "alice"})
    assert refresh["token_type"] == "refresh" and access["token_type"] == "access"
    assert refresh["user_id"] == access["user_id"] == str(user["id"])
    assert refresh["exp"] - refresh["iat"] == pytest.approx(86400, abs=1)
    assert access["exp"] - access["iat"] == pytest.approx(300, abs=1)
    assert len(refresh["jti"]) == 32 and refresh["jti"] != access["jti"]
    assert await store.outstanding_tokens.find_one({"_id": refresh["jti"]}) is not None


@gen_test
async def test_username_is_matched_case_insensitively_at_login(api):
    await api.register("Alice", "correct horse")
    response = await api.post("/api/token/", {"username": "alice", "password": "correct horse"})
    assert response.status == 200


@gen_test
async def test_last_login_is_not_updated_by_default(api, store):
    await api.login("alice")
    assert (await store.users.find_one({"username": "alice"}))["last_login"] is None


@pytest.mark.settings(jwt={"UPDATE_LAST_LOGIN": True})
@gen_test
async def test_last_login_is_updated_when_enabled(api, store):
    tokens = await api.login("alice")
    user = await store.users.find_one({"username": "alice"})
    assert user["last_login"] is not None
    me = await api.get("/api/me/", token=tokens["access"])
    assert me.json["last_login"] is not None


# Refresh

@gen_test
async def test_refresh_requires_field(api):
    response = await api.post("/api/token/refresh/", {})
    assert response.status == 400 and response.json == {"refresh": ["This field is required."]}
    response = await api.post("/api/token/refresh/", {"refresh": ""})
    assert response.json == {"refresh": ["This field may not be blank."]}
    response = await api.post("/api/token/refresh/", {"refresh": None})
    assert response.json == {"refresh": ["This field may not be null."]}


@gen_test
async def test_refresh_with_garbage_is_401_invalid(api):
    response = await api.post("/api/token/refresh/", {"refresh": "garbage"})
    assert response.status == 401 and response.json == INVALID
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


@gen_test
async def test_refresh_with_expired_token_is_401(api, arena):
    await api.register("alice")
    token = sign(arena, **pair_claims("refresh", exp=int(time.time()) - 10))
    response = await api.post("/api/token/refresh/", {"refresh": token})
    assert response.status == 401 and response.json == EXPIRED


@gen_test
async def test_refresh_with_token_without_exp_is_401(api, arena):
    await api.register("alice")
    payload = pair_claims("refresh")
    del payload["exp"]
    response = await api.post("/api/token/refresh/", {"refresh": sign(arena, **payload)})
    assert response.status == 401
    assert response.json == {"detail": "Token has no 'exp' claim", "code": "token_not_valid"}


@pytest.mark.parametrize("payload, message", [
    ({"jti": None}, "Token has no id"),
    ({"token_type": None}, "Token has no type"),
    ({"token_type": "access"}, "Token has wrong type"),
])
@gen_test
async def test_refresh_checks_id_and_type(api, arena, payload, message):
    await api.register("alice")
    token_claims = {**pair_claims("refresh"), **payload}
    token_claims = {name: value for name, value in token_claims.items() if value is not None}
    response = await api.post("/api/token/refresh/", {"refresh": sign(arena, **token_claims)})
    assert response.status == 401
    assert response.json == {"detail": message, "code": "token_not_valid"}


@gen_test
async def test_refreshed_access_copies_custom_claims_with_exact_exp(api, arena, monkeypatch):
    await api.register("alice")
    refresh = sign(arena, **pair_claims("refresh", team="red", level=7))
    frozen = time.time()
    monkeypatch.setattr(arena.codec, "clock", lambda: frozen)
    response = await api.post("/api/token/refresh/", {"refresh": refresh})
    assert response.status == 200 and set(response.json) == {"access"}
    access = claims(response.json["access"])
    assert access["team"] == "red" and access["level"] == 7 and access["user_id"] == "1"
    assert access["token_type"] == "access" and access["jti"] != "j" * 32
    assert access["exp"] == int(frozen + 300)


@gen_test
async def test_refresh_for_inactive_user_is_401(api, store):
    tokens = await api.login("alice")
    await store.users.update_one({"username": "alice"}, {"$set": {"is_active": False}})
    response = await api.post("/api/token/refresh/", {"refresh": tokens["refresh"]})
    assert response.status == 401
    assert response.json == {"detail": "No active account found for the given token."}


@gen_test
async def test_refresh_for_deleted_user_is_401_not_500(api, store):
    tokens = await api.login("alice")
    await store.users.delete_one({"username": "alice"})
    response = await api.post("/api/token/refresh/", {"refresh": tokens["refresh"]})
    assert response.status == 401
    assert response.json == {"detail": "No active account found for the given token."}


# Verify

@gen_test
async def test_verify_requires_field(api):
    response = await api.post("/api/token/verify/", {})
    assert response.status == 400 and response.json == {"token": ["This field is required."]}


@gen_test
async def test_verify_accepts_any_token_type(api, arena):
    tokens = await api.login("alice")
    for token in (tokens["access"], tokens["refresh"], sign(arena, **pair_claims("anything"))):
        response = await api.post("/api/token/verify/", {"token": token})
        assert response.status == 200 and response.json == {}


@gen_test
async def test_verify_rejects_bad_and_expired_tokens(api, arena):
    response = await api.post("/api/token/verify/", {"token": "a.b.c"})
    assert response.status == 401 and response.json == INVALID
    expired = sign(arena, **pair_claims("access", exp=int(time.time()) - 1))
    response = await api.post("/api/token/verify/", {"token": expired})
    assert response.status == 401 and response.json == EXPIRED
    no_id = pair_claims("access")
    del no_id["jti"]
    response = await api.post("/api/token/verify/", {"token": sign(arena, **no_id)})
    assert response.json == {"detail": "Token has no id", "code": "token_not_valid"}


@gen_test
async def test_verify_honours_the_blacklist_without_rotation_settings(api):
    tokens = await api.login("alice")
    assert (await api.post("/api/token/blacklist/", {"refresh": tokens["refresh"]})).status == 200
    response = await api.post("/api/token/verify/", {"token": tokens["refresh"]})
    assert response.status == 401 and response.json == BLACKLISTED


# Blacklist

@gen_test
async def test_blacklist_then_refresh_is_401(api, store):
    tokens = await api.login("alice")
    response = await api.post("/api/token/blacklist/", {"refresh": tokens["refresh"]})
    assert response.status == 200 and response.json == {}
    assert await store.blacklisted_tokens.find_one({"_id": claims(tokens["refresh"])["jti"]}) is not None
    response = await api.post("/api/token/refresh/", {"refresh": tokens["refresh"]})
    assert response.status == 401 and response.json == BLACKLISTED
    response = await api.post("/api/token/blacklist/", {"refresh": tokens["refresh"]})
    assert response.status == 401 and response.json == BLACKLISTED


@gen_test
async def test_blacklist_requires_a_refresh_token(api):
    tokens = await api.login("alice")
    response = await api.post("/api/token/blacklist/", {"refresh": tokens["access"]})
    assert response.status == 401
    assert response.json == {"detail": "Token has wrong type", "code": "token_not_valid"}


# Sliding

@gen_test
async def test_sliding_obtain_and_use(api):
    await api.register("alice")
    response = await api.post("/api/token/sliding/", {"username": "alice", "password": "correct horse"})
    assert response.status == 200 and set(response.json) == {"token"}
    token = claims(response.json["token"])
    assert token["token_type"] == "sliding"
    assert token["refresh_exp"] - token["iat"] == pytest.approx(86400, abs=1)
    response = await api.post("/api/token/sliding/", {"username": "alice", "password": "nope nope"})
    assert response.status == 401 and response.json == NO_ACCOUNT


@gen_test
async def test_sliding_refresh_moves_exp_and_keeps_refresh_exp(api, arena, monkeypatch):
    await api.register("alice")
    now = time.time()
    token = sign(arena, **pair_claims("sliding", exp=int(now + 10), refresh_exp=int(now + 1000)))
    monkeypatch.setattr(arena.tokens, "clock", lambda: now + 5)
    response = await api.post("/api/token/sliding/refresh/", {"token": token})
    assert response.status == 200
    slid = claims(response.json["token"])
    assert slid["exp"] == int(now + 5 + 300)
    assert slid["refresh_exp"] == int(now + 1000)


@gen_test
async def test_sliding_refresh_errors(api, arena):
    await api.register("alice")
    now = time.time()
    missing = sign(arena, **pair_claims("sliding"))
    response = await api.post("/api/token/sliding/refresh/", {"token": missing})
    assert response.status == 401
    assert response.json == {"detail": "Token has no 'refresh_exp' claim", "code": "token_not_valid"}
    passed = sign(arena, **pair_claims("sliding", refresh_exp=int(now - 1)))
    response = await api.post("/api/token/sliding/refresh/", {"token": passed})
    assert response.json == {"detail": "Token 'refresh_exp' claim has expired", "code": "token_not_valid"}
    wrong_type = sign(arena, **pair_claims("refresh", refresh_exp=int(now + 100)))
    response = await api.post("/api/token/sliding/refresh/", {"token": wrong_type})
    assert response.json == {"detail": "Token has wrong type", "code": "token_not_valid"}


# The whole flow

@gen_test
async def test_obtain_use_refresh_use(api):
    tokens = await api.login("alice")
    me = await api.get("/api/me/", token=tokens["access"])
    assert me.status == 200 and me.json["username"] == "alice" and me.json["score"] == 1500
    assert set(me.json) == {"id", "username", "score", "rating", "rating_deviation", "date_joined", "last_login"}
    assert (me.json["rating"], me.json["rating_deviation"]) == (1000, 333)  # a new player: a wide uncertainty
    refreshed = await api.post("/api/token/refresh/", {"refresh": tokens["refresh"]})
    me = await api.get("/api/me/", token=refreshed.json["access"])
    assert me.status == 200 and me.json["username"] == "alice"


@gen_test
async def test_form_encoded_login_as_the_course_front_end_sends_it(api):
    await api.register("alice")
    response = await api.post("/api/token/", form={"username": "alice", "password": "correct horse"})
    assert response.status == 200 and set(response.json) == {"refresh", "access"}


@gen_test
async def test_a_token_verified_before_still_expires(api, monkeypatch):
    tokens = await api.login("alice")
    assert (await api.post("/api/token/verify/", {"token": tokens["access"]})).status == 200
    later = time.time() + 301
    monkeypatch.setattr("auth.backend.time.time", lambda: later)
    response = await api.post("/api/token/verify/", {"token": tokens["access"]})
    assert response.status == 401 and response.json == EXPIRED
