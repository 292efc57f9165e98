"""Password guesses as an attacker makes them: bursts, floods of one's own account, many addresses, long
names, a stolen token guessing the old password, and the owner who must still get in (issue 22)."""

import asyncio
import time

import pytest

from tests.test_password_queue import block_hashing, until  # noqa: F401 (a fixture)

gen_test = pytest.mark.gen_test
ALICE = {"username": "alice", "password": "correct horse"}
WRONG = {"username": "alice", "password": "wrong guess"}
THROTTLED = 429


def from_address(address: str) -> dict:
    return {"X-Real-IP": address}


async def statuses(*requests) -> list[int]:
    return sorted(response.status for response in await asyncio.gather(*requests))


@pytest.mark.settings(THROTTLE_LOGIN_USERNAME="5/min", PASSWORD_QUEUE_PER_CLIENT=20)
@gen_test(timeout=10)
async def test_a_burst_of_guesses_at_one_account_is_counted_before_any_is_checked(api):
    await api.register()
    results = await statuses(*(api.post("/api/token/", WRONG) for _ in range(20)))
    assert results == [401] * 5 + [THROTTLED] * 15


@pytest.mark.settings(THROTTLE_LOGIN_ADDRESS="5/min", PASSWORD_QUEUE_PER_CLIENT=20)
@gen_test(timeout=10)
async def test_a_burst_of_names_from_one_address_is_counted_before_any_is_checked(api):
    results = await statuses(*(api.post("/api/token/", {"username": f"user{n}", "password": "wrong guess"})
                               for n in range(20)))
    assert results == [401] * 5 + [THROTTLED] * 15


@pytest.mark.settings(THROTTLE_LOGIN_ADDRESS="3/min")
@gen_test
async def test_successful_logins_count_against_their_address_too(api):
    await api.register()
    for _ in range(3):
        assert (await api.post("/api/token/", ALICE)).status == 200
    assert (await api.post("/api/token/", ALICE)).status == THROTTLED


@pytest.mark.settings(PASSWORD_WORKERS=1, PASSWORD_QUEUE=8, PASSWORD_QUEUE_PER_CLIENT=3, TRUST_PROXY=True)
@gen_test(timeout=10)
async def test_one_client_flooding_its_own_account_leaves_the_others_logging_in(api, arena, block_hashing):
    await api.register("mallory")
    await api.register("alice")
    release = block_hashing(arena)
    mallory = {"username": "mallory", "password": "correct horse"}
    flood = [asyncio.ensure_future(api.post("/api/token/", mallory, headers=from_address("198.51.100.66")))
             for _ in range(12)]
    await until(lambda: sum(f.done() for f in flood) == 9)  # beyond its share: 503 at once
    alice = asyncio.ensure_future(api.post("/api/token/", ALICE, headers=from_address("203.0.113.5")))
    await until(lambda: arena.hasher.queued == 4)
    release.set()
    assert (await alice).status == 200
    assert sorted(response.status for response in await asyncio.gather(*flood)) == [200] * 3 + [503] * 9


@pytest.mark.settings(THROTTLE_LOGIN_USERNAME="5/min", TRUST_PROXY=True)
@gen_test
async def test_someone_elses_wrong_guesses_do_not_lock_the_owner_out(api):
    await api.register()
    for _ in range(5):
        assert (await api.post("/api/token/", WRONG, headers=from_address("198.51.100.66"))).status == 401
    assert (await api.post("/api/token/", ALICE, headers=from_address("198.51.100.66"))).status == THROTTLED
    assert (await api.post("/api/token/", WRONG, headers=from_address("198.51.100.67"))).status == 401
    assert (await api.post("/api/token/", WRONG, headers=from_address("198.51.100.67"))).status == THROTTLED
    assert (await api.post("/api/token/", ALICE, headers=from_address("203.0.113.5"))).status == 200


@pytest.mark.settings(THROTTLE_LOGIN_ADDRESS="2/min", TRUST_PROXY=True)
@gen_test
async def test_an_ipv6_network_counts_as_one_address(api):
    for host in ("2001:db8:1:2::1", "2001:db8:1:2:ffff::7"):
        assert (await api.post("/api/token/", WRONG, headers=from_address(host))).status == 401
    assert (await api.post("/api/token/", WRONG, headers=from_address("2001:db8:1:2::99"))).status == THROTTLED
    assert (await api.post("/api/token/", WRONG, headers=from_address("2001:db8:1:3::1"))).status == 401


@gen_test
async def test_a_username_longer_than_djangos_is_a_field_error_and_never_a_throttle_key(api, arena):
    response = await api.post("/api/token/", {"username": "\ufdfa" * 151, "password": "x"})
    assert (response.status, response.json) == (400, {"username": ["Ensure this field has no more than 150 characters."]})
    await api.post("/api/token/", {"username": "\ufdfa" * 150, "password": "x"})
    assert all(len(key) < 150 for key in arena.throttles.windows._windows)


@pytest.mark.settings(THROTTLE_PASSWORD_USER="3/min")
@gen_test
async def test_guessing_the_old_password_with_a_stolen_token_is_throttled(api):
    tokens = await api.login()
    for _ in range(3):
        response = await api.post("/api/password/change/", {"old_password": "guess!", "new_password": "a fine new one"},
                                  token=tokens["access"])
        assert response.status == 400
    response = await api.post("/api/password/change/", {"old_password": "correct horse",
                                                        "new_password": "a fine new one"}, token=tokens["access"])
    assert response.status == THROTTLED


@pytest.mark.settings(PASSWORD_FAILURE_SECONDS=0.3)
@gen_test(timeout=20)
async def test_a_wrong_password_takes_as_long_whatever_the_stored_hash(api, store):
    """An unknown user, an unusable hash, a weak one and ours: each failure is answered no sooner than
    ARENA_PASSWORD_FAILURE_SECONDS after its check began (a 1-iteration PBKDF2 failed in 2 ms)."""
    await api.register()
    for name, stored in (("weak", "pbkdf2_sha256$1$salt$AAAA"), ("unusable", "!")):
        await api.register(name)
        await store.users.update_one({"username": name}, {"$set": {"password": stored}})
    for username in ("alice", "nobody", "weak", "unusable"):
        started = time.perf_counter()
        assert (await api.post("/api/token/", {"username": username, "password": "wrong guess"})).status == 401
        assert time.perf_counter() - started >= 0.3, username
