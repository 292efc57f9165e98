"""`POST /api/password/change/`: the old password proves it is you; every other session ends."""

import pytest

from tests.client import claims
from tests.ws import GameClient

CHANGE = "/api/password/change/"
QUICK = {"MATCH_INTERVAL": 0.05, "BOT_FILL_AFTER": 60}


@pytest.mark.gen_test
async def test_wrong_old_password_or_a_weak_new_one_is_a_field_error(api):
    tokens = await api.login()
    response = await api.post(CHANGE, {"old_password": "nope nope", "new_password": "a fine new one"},
                              token=tokens["access"])
    assert (response.status, response.json) == (
        400, {"old_password": ["Your old password was entered incorrectly. Please enter it again."]})
    response = await api.post(CHANGE, {"old_password": "correct horse", "new_password": "password"},
                              token=tokens["access"])
    assert (response.status, response.json) == (400, {"new_password": ["This password is too common."]})
    response = await api.post(CHANGE, {"old_password": "correct horse"}, token=tokens["access"])
    assert (response.status, response.json) == (400, {"new_password": ["This field is required."]})
    assert (await api.post(CHANGE, {"old_password": "correct horse", "new_password": "x"})).status == 401
    assert (await api.post("/api/token/", {"username": "alice", "password": "correct horse"})).status == 200


@pytest.mark.parametrize("jwt_overrides", [{"STATELESS_AUTHENTICATION": False}, {"STATELESS_AUTHENTICATION": True},
                                           {"CHECK_REVOKE_TOKEN": True}], ids=["stateful", "stateless", "revoke-claim"])
@pytest.mark.settings(game=QUICK)
@pytest.mark.gen_test(timeout=10)
async def test_a_change_ends_every_other_session_and_keeps_this_one(api, base_url, jwt_overrides):
    tokens = await api.login()
    other_login = await api.tokens()
    sliding = (await api.post("/api/token/sliding/", {"username": "alice", "password": "correct horse"})).json
    elsewhere = await GameClient.connect(base_url, other_login["access"])
    await elsewhere.wait_for("welcome")
    response = await api.post(CHANGE, {"old_password": "correct horse", "new_password": "a fine new one"},
                              token=tokens["access"])
    assert response.status == 200 and response.json["detail"] == "New password has been saved."
    assert await elsewhere.wait_closed() == (4001, "token_revoked")
    assert (await api.get("/api/me/", token=tokens["access"])).status == 401
    assert (await api.post("/api/token/refresh/", {"refresh": tokens["refresh"]})).status == 401
    assert (await api.post("/api/token/sliding/refresh/", {"token": sliding["token"]})).status == 401
    assert (await api.get("/api/me/", token=response.json["access"])).status == 200
    assert claims(response.json["refresh"])["user_id"] == claims(tokens["refresh"])["user_id"]
    assert (await api.post("/api/token/", {"username": "alice", "password": "correct horse"})).status == 401
    assert (await api.post("/api/token/", {"username": "alice", "password": "a fine new one"})).status == 200


@pytest.mark.settings(game=QUICK)
@pytest.mark.gen_test(timeout=10)
async def test_the_changing_logins_own_socket_carries_on_with_the_new_pair(api, base_url):
    """README: the new pair carries this session on. The socket of the login that changed the password
    stays open; it is handed the new access token as any renewal would be."""
    tokens = await api.login()
    here = await GameClient.connect(base_url, tokens["access"])
    await here.wait_for("welcome")
    response = await api.post(CHANGE, {"old_password": "correct horse", "new_password": "a fine new one"},
                              token=tokens["access"])
    await here.send("refresh_token", token=response.json["access"])
    assert (await here.wait_for("token_refreshed"))["exp"] == claims(response.json["access"])["exp"]
    assert here.close_code is None
