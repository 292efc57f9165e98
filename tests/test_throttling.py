"""Failed logins and registrations are throttled as DRF throttles: 429, its message, Retry-After."""

import pytest

from edge.throttles import LocalWindows, Throttle, Throttled

gen_test = pytest.mark.gen_test
ALICE = {"username": "alice", "password": "correct horse"}
WRONG = {"username": "alice", "password": "wrong guess"}


def is_throttled(response, seconds: int) -> bool:
    return (response.status, response.json, response.headers.get("Retry-After")) == (
        429, {"detail": f"Request was throttled. Expected available in {seconds} seconds."}, str(seconds))


@pytest.mark.settings(THROTTLE_LOGIN_USERNAME="5/min")
@gen_test
async def test_guessing_one_accounts_password_is_throttled(api):
    await api.register()
    for _ in range(5):
        assert (await api.post("/api/token/", WRONG)).status == 401
    assert is_throttled(await api.post("/api/token/", WRONG), 60)
    assert is_throttled(await api.post("/api/token/", ALICE), 60)  # even the right password, for now
    assert is_throttled(await api.post("/api/token/sliding/", ALICE), 60)
    await api.register("bob")
    assert (await api.post("/api/token/", {"username": "BOB", "password": "correct horse"})).status == 200


@pytest.mark.settings(THROTTLE_LOGIN_USERNAME="5/min")
@gen_test
async def test_a_successful_login_resets_the_usernames_count(api):
    await api.register()
    for _ in range(4):
        assert (await api.post("/api/token/", WRONG)).status == 401
    assert (await api.post("/api/token/", ALICE)).status == 200
    for _ in range(4):
        assert (await api.post("/api/token/", WRONG)).status == 401
    assert (await api.post("/api/token/", ALICE)).status == 200


@pytest.mark.settings(THROTTLE_LOGIN_ADDRESS="3/min")
@gen_test
async def test_guessing_many_accounts_from_one_address_is_throttled(api):
    for name in ("ann", "ben", "cid"):
        assert (await api.post("/api/token/", {"username": name, "password": "wrong guess"})).status == 401
    assert is_throttled(await api.post("/api/token/", {"username": "dan", "password": "wrong guess"}), 60)


@pytest.mark.settings(THROTTLE_REGISTER_ADDRESS="2/hour")
@gen_test
async def test_registration_is_throttled_per_address(api):
    await api.register("ann")
    await api.register("ben")
    response = await api.post("/api/register/", {"username": "cid", "password": "correct horse"})
    assert is_throttled(response, 3600)


@pytest.mark.settings(THROTTLE_REGISTER_ADDRESS="1/hour", TRUST_PROXY=True)
@gen_test
async def test_behind_a_trusted_proxy_each_forwarded_address_has_its_own_limit(api):
    for address in ("203.0.113.7", "203.0.113.8"):
        response = await api.post("/api/register/", {"username": f"u{address[-1]}", "password": "correct horse"},
                                  headers={"X-Forwarded-For": f"10.0.0.1, {address}"})
        assert response.status == 201
    again = await api.post("/api/register/", {"username": "u9", "password": "correct horse"},
                           headers={"X-Real-IP": "203.0.113.7"})
    assert is_throttled(again, 3600)


@pytest.mark.settings(THROTTLE_REGISTER_ADDRESS="1/hour")
@gen_test
async def test_forwarded_headers_are_ignored_unless_the_proxy_is_trusted(api):
    await api.register("ann")
    response = await api.post("/api/register/", {"username": "ben", "password": "correct horse"},
                              headers={"X-Forwarded-For": "203.0.113.9"})
    assert is_throttled(response, 3600)


@gen_test
async def test_throttle_state_expires_and_is_bounded_in_bytes():
    now = [1000.0]
    windows = LocalWindows(clock=lambda: now[0], max_bytes=1000)
    limit = Throttle("2/min", windows)
    await limit.hit("a")
    await limit.hit("a")
    with pytest.raises(Throttled) as refused:
        await limit.hit("a")
    assert refused.value.seconds == 60
    now[0] += 60
    await limit.hit("a")  # the window has passed
    for key in "bcdef":
        await limit.hit(key * 100)
    assert windows.size <= 1000 and list(windows._windows)[-1] == "f" * 100  # the least recently used went
    now[0] += 61
    windows.sweep()  # nothing touched them: expired windows are forgotten anyway
    assert windows.size == 0 and not windows._windows
