"""Protected endpoints read `Authorization: Bearer <access>` and answer SimpleJWT's exact 401s."""

import time

import pytest

from auth.service import password_digest
from tests.client import claims

gen_test = pytest.mark.gen_test
CHALLENGE = 'Bearer realm="api"'


async def me(api, header=None):
    return await api.get("/api/me/", headers={"Authorization": header} if header is not None else {})


@gen_test
async def test_no_header_is_not_provided(api):
    for method in ("GET", "POST"):
        path = "/api/me/" if method == "GET" else "/api/token/revoke-all/"
        response = await api.request(method, path)
        assert response.status == 401
        assert response.json == {"detail": "Authentication credentials were not provided."}
        assert response.headers["WWW-Authenticate"] == CHALLENGE


@gen_test
async def test_other_header_type_is_not_provided(api):
    tokens = await api.login()
    for header in (f"JWT {tokens['access']}", f"bearer {tokens['access']}", ""):
        response = await me(api, header)
        assert response.status == 401
        assert response.json == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer a b c"])
@gen_test
async def test_header_with_wrong_number_of_parts(api, header):
    response = await me(api, header)
    assert response.status == 401
    assert response.json == {"detail": "Authorization header must contain two space-delimited values",
                             "code": "bad_authorization_header"}
    assert response.headers["WWW-Authenticate"] == CHALLENGE


@gen_test
async def test_expired_access_token_lists_why(api, arena):
    tokens = await api.login()  # the first user of a fresh store has id 1
    now = time.time()
    expired = arena.codec.backend.encode({"token_type": "access", "user_id": "1", "jti": "x", "iat": now - 600,
                                          "exp": int(now - 300)})
    response = await me(api, f"Bearer {expired}")
    assert response.status == 401
    assert response.json == {"detail": "Given token not valid for any token type", "code": "token_not_valid",
                             "messages": [{"token_class": "AccessToken", "token_type": "access",
                                           "message": "Token is expired"}]}
    assert (await me(api, f"Bearer {tokens['access']}")).status == 200


@gen_test
async def test_refresh_token_is_not_an_access_token(api):
    tokens = await api.login()
    response = await me(api, f"Bearer {tokens['refresh']}")
    assert response.status == 401
    assert response.json["messages"] == [{"token_class": "AccessToken", "token_type": "access",
                                          "message": "Token has wrong type"}]


@gen_test
async def test_deleted_user(api, store):
    tokens = await api.login()
    await store.users.delete_one({"username": "alice"})
    response = await me(api, f"Bearer {tokens['access']}")
    assert response.status == 401
    assert response.json == {"detail": "User not found", "code": "user_not_found"}


@gen_test
async def test_inactive_user(api, store):
    tokens = await api.login()
    await store.users.update_one({"username": "alice"}, {"$set": {"is_active": False}})
    response = await me(api, f"Bearer {tokens['access']}")
    assert response.status == 401
    assert response.json == {"detail": "User is inactive", "code": "user_inactive"}


@pytest.mark.settings(jwt={"CHECK_USER_IS_ACTIVE": False})
@gen_test
async def test_inactive_user_allowed_when_check_is_off(api, store):
    tokens = await api.login()
    await store.users.update_one({"username": "alice"}, {"$set": {"is_active": False}})
    assert (await me(api, f"Bearer {tokens['access']}")).status == 200


@pytest.mark.settings(jwt={"CHECK_REVOKE_TOKEN": True})
@gen_test
async def test_password_change_revokes_earlier_tokens(api, store, arena):
    tokens = await api.login()
    user = await store.users.find_one({"username": "alice"})
    assert claims(tokens["access"])["hash_password"] == password_digest(user["password"])
    await store.users.update_one({"id": user["id"]}, {"$set": {"password": await arena.hasher.hash("new password!")}})
    response = await me(api, f"Bearer {tokens['access']}")
    assert response.status == 401
    assert response.json == {"detail": "The user's password has been changed.", "code": "password_changed"}
    response = await api.post("/api/token/refresh/", {"refresh": tokens["refresh"]})
    assert response.status == 401
    fresh = await api.post("/api/token/", {"username": "alice", "password": "new password!"})
    assert (await me(api, f"Bearer {fresh.json['access']}")).status == 200


@pytest.mark.settings(jwt={"CHECK_REVOKE_TOKEN": True})
@gen_test
async def test_password_change_stops_sliding_refresh_too(api, store, arena):
    await api.register()
    sliding = (await api.post("/api/token/sliding/", {"username": "alice", "password": "correct horse"})).json
    await store.users.update_one({"username": "alice"}, {"$set": {"password": await arena.hasher.hash("new password!")}})
    response = await api.post("/api/token/sliding/refresh/", {"token": sliding["token"]})
    assert response.status == 401
    assert response.json == {"detail": "The user's password has been changed.", "code": "password_changed"}


@pytest.mark.settings(jwt={"AUTH_HEADER_TYPES": ("JWT",), "AUTH_HEADER_NAME": "X-Token"})
@gen_test
async def test_header_name_and_types_from_settings(api):
    tokens = await api.login()
    response = await api.get("/api/me/", headers={"X-Token": f"JWT {tokens['access']}"})
    assert response.status == 200
    response = await api.get("/api/me/", headers={"Authorization": f"JWT {tokens['access']}"})
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == 'JWT realm="api"'


@pytest.mark.settings(jwt={"STATELESS_AUTHENTICATION": True})
@gen_test
async def test_stateless_authentication_reads_no_user(api, store, arena):
    tokens = await api.login()
    calls = []
    original = store.find_user

    async def counting_find_user(user_id):
        calls.append(user_id)
        return await original(user_id)

    store.find_user = counting_find_user
    authenticated = await arena.authenticator.authenticate(f"Bearer {tokens['access']}")
    user, token = authenticated
    assert (user.id, calls) == (1, [])
    assert token["token_type"] == "access"


@pytest.mark.settings(jwt={"AUTH_TOKEN_CLASSES": ("auth.tokens.AccessToken", "auth.tokens.SlidingToken")})
@gen_test
async def test_sliding_tokens_authenticate_when_configured(api):
    await api.register()
    sliding = await api.post("/api/token/sliding/", {"username": "alice", "password": "correct horse"})
    assert (await me(api, f"Bearer {sliding.json['token']}")).status == 200
    response = await me(api, "Bearer nonsense")
    assert [m["token_class"] for m in response.json["messages"]] == ["AccessToken", "SlidingToken"]
