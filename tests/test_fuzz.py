"""Property-based bad input (hypothesis) against a running server: every JSON body the REST API takes
and every frame the socket takes. Always a 4xx JSON answer or an `error` event / 4xxx close; never a
500, a crashed loop or a dropped tick."""

import asyncio
import http.client
import json
import os

import orjson
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from tornado.websocket import WebSocketClosedError, websocket_connect

from tests.mongo_server import free_port
from tests.test_server_process import LogReader, start_server

EXAMPLES = int(os.environ.get("ARENA_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**30, max_value=10**60),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=50),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=5000),
    st.sampled_from(["\u202e", "\x00", "\ud7ff", "$ne", "{\"$gt\": \"\"}", "a" * 151]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                           max_size=4), max_leaves=20)
FIELDS = ["username", "password", "refresh", "token", "old_password", "new_password", "text", "tx", "ty", "event"]
bodies = st.one_of(values, st.dictionaries(st.sampled_from(FIELDS), values, max_size=4))
raw_bodies = st.one_of(bodies.map(lambda body: json.dumps(body, allow_nan=True).encode()),
                       st.binary(max_size=300), st.just(b"[" * 5000 + b"]" * 5000))
POSTS = ["/api/register/", "/api/token/", "/api/token/refresh/", "/api/token/verify/", "/api/token/blacklist/",
         "/api/token/sliding/", "/api/token/sliding/refresh/", "/api/password/change/", "/api/token/revoke-all/"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    process = start_server("--port", str(port), env={
        "SECRET_KEY": "fuzz-secret-key-long-enough-for-every-hmac-algorithm-x", "ARENA_PASSWORD_TIME_COST": "1",
        "ARENA_PASSWORD_MEMORY_COST": "1024", "ARENA_PASSWORD_FAILURE_SECONDS": "0",
        "ARENA_THROTTLE_LOGIN_USERNAME": "", "ARENA_THROTTLE_LOGIN_ADDRESS": "", "ARENA_THROTTLE_PASSWORD_USER": "",
        "ARENA_THROTTLE_PASSWORD_ADDRESS": "",
        "ARENA_THROTTLE_REGISTER_ADDRESS": "", "ARENA_THROTTLE_SOCKET_ADDRESS": "", "ARENA_THROTTLE_SOCKET_USER": "",
        "GAME_MESSAGE_RATE": "100000", "GAME_MESSAGE_BURST": "100000", "GAME_BOT_FILL_AFTER": "0",
        "ARENA_RESULTS_JOURNAL": str(tmp_path_factory.mktemp("journal"))})
    log = LogReader(process)
    log.wait_until_listening()
    yield port
    process.terminate()
    process.wait(timeout=15)
    text = log.rest()
    assert "Traceback" not in text, text


def call(port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> tuple[int, object]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, orjson.loads(payload) if payload else None


@pytest.fixture(scope="module")
def access(server):
    credentials = orjson.dumps({"username": "fuzzer", "password": "correct horse"})
    call(server, "POST", "/api/register/", credentials, {"Content-Type": "application/json"})
    return call(server, "POST", "/api/token/", credentials, {"Content-Type": "application/json"})[1]["access"]


@FUZZ
@given(path=st.sampled_from(POSTS), body=raw_bodies, with_token=st.booleans(),
       content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"]))
def test_any_body_gets_a_4xx_json_answer(server, access, path, body, with_token, content_type):
    headers = {"Content-Type": content_type, **({"Authorization": f"Bearer {access}"} if with_token else {})}
    status, payload = call(server, "POST", path, body, headers)
    assert 200 <= status < 500 and isinstance(payload, dict), (status, payload)


@FUZZ
@given(frames=st.lists(st.one_of(
    bodies.map(lambda body: json.dumps(body, allow_nan=True)),
    st.fixed_dictionaries({"event": st.sampled_from(["move_to", "shoot_fireball", "blink", "message", "auth",
                                                     "refresh_token", "nope"])}, optional={
        "tx": values, "ty": values, "text": values, "token": values}).map(lambda f: json.dumps(f, allow_nan=True)),
    st.binary(max_size=100)), min_size=1, max_size=8))
def test_any_frame_gets_an_error_event_or_a_close_never_a_crash(server, access, frames):
    async def play() -> tuple:
        connection = await websocket_connect(f"ws://127.0.0.1:{server}/wss/multiplayer/?token={access}")
        try:
            for frame in frames:
                await connection.write_message(frame, binary=isinstance(frame, bytes))
            await connection.write_message(orjson.dumps({"event": "nope"}).decode())
        except WebSocketClosedError:
            pass  # the server closed it (4008, 1009, …): the code says why
        while (message := await connection.read_message()) is not None:
            if orjson.loads(message).get("detail") == "unknown event 'nope'":
                connection.close()
                return None
        return connection.close_code

    code = asyncio.run(play())
    assert code is None or code in (1000, 1009) or 4000 <= code < 5000, code


def test_the_game_loop_kept_ticking_through_it_all(server, access):
    first = call(server, "GET", "/api/stats/")[1]["tick"]
    status, health = call(server, "GET", "/api/health/")
    assert status == 200 and health["status"] == "ok"
    assert call(server, "GET", "/api/stats/")[1]["tick"] >= first
