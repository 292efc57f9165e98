"""What an operator's machines look at: liveness, readiness (503 from the first moment of stopping),
and a request id on every answer and in the access log."""

import asyncio
import logging

import orjson
import pytest

from logs import JsonFormatter, TextFormatter

from tests.test_password_queue import block_hashing, until  # noqa: F401 (a fixture)
from tests.test_store_faults import hang

gen_test = pytest.mark.gen_test


@gen_test
async def test_live_and_ready_when_all_is_well(api):
    live = await api.get("/api/health/live")
    assert (live.status, live.json) == (200, {"status": "ok"})
    ready = await api.get("/api/health/ready")
    assert (ready.status, ready.json) == (200, {"status": "ready"})


@pytest.mark.settings(MONGO_TIMEOUT=0.3)
@gen_test
async def test_not_ready_while_mongodb_does_not_answer_but_still_live(api, store, monkeypatch):
    hang(monkeypatch, store.db, "command")
    ready = await api.get("/api/health/ready")
    assert (ready.status, ready.json) == (503, {"status": "unavailable", "store": "unavailable"})
    assert (await api.get("/api/health/live")).status == 200


@pytest.mark.settings(PASSWORD_WORKERS=1, SHUTDOWN_TIMEOUT=5)
@gen_test(timeout=10)
async def test_not_ready_from_the_first_moment_of_stopping(api, arena, block_hashing):  # noqa: F811
    await api.register()
    release = block_hashing(arena)
    login = asyncio.ensure_future(api.post("/api/token/", {"username": "alice", "password": "correct horse"}))
    await until(lambda: arena.hasher.queued == 1)
    stopping = asyncio.ensure_future(arena.shutdown())  # waits for the login in flight
    ready = await api.get("/api/health/ready")
    assert (ready.status, ready.json) == (503, {"status": "draining"})
    release.set()
    assert (await login).status == 200
    await stopping


@gen_test
async def test_every_answer_has_a_request_id_that_the_access_log_shows(api, http_client, base_url, caplog):
    caplog.set_level(logging.INFO, logger="tornado.access")
    answers = [await api.get("/api/leaderboard/"), await api.get("/api/nowhere/"),
               await api.post("/api/token/", {"username": "x", "password": "y"})]
    page = await http_client.fetch(base_url + "/")
    ids = [answer.headers["X-Request-ID"] for answer in answers] + [page.headers["X-Request-ID"]]
    assert len(set(ids)) == 4 and all(len(found) == 32 for found in ids)
    for found in ids:
        assert f"[{found}]" in caplog.text


@pytest.mark.parametrize("trusted", [pytest.param(True, marks=pytest.mark.settings(TRUST_PROXY=True)), False])
@gen_test
async def test_a_proxys_request_id_is_kept_only_when_the_proxy_is_trusted(api, trusted):
    sent = await api.get("/api/health/live", headers={"X-Request-ID": "lb-42.a"})
    assert (sent.headers["X-Request-ID"] == "lb-42.a") is trusted
    odd = await api.get("/api/health/live", headers={"X-Request-ID": "bad id!"})
    assert odd.headers["X-Request-ID"] != "bad id!"


def test_control_characters_a_client_chose_are_escaped_in_both_log_formats():
    """A close reason (or a request target) with a newline and an ANSI escape forged a log line of its
    own; a C1 control reached both formats. Every field is written with them escaped."""
    forged = "bye\nWARNING arena: admin logged in \x1b[31m\x85\u202e"
    record = logging.LogRecord("arena.socket", logging.INFO, __file__, 1, "socket closed %s %s", (4001, forged), None)
    record.close_reason = forged
    text = TextFormatter().format(record)
    assert "\n" not in text and "\x1b" not in text and "\x85" not in text and "\u202e" not in text
    assert "bye\\nWARNING arena: admin logged in \\x1b[31m\\x85\\u202e" in text
    line = orjson.loads(JsonFormatter().format(record))
    for value in (line["message"], line["close_reason"]):
        assert not any(char in value for char in "\n\x1b\x85\u202e")


@pytest.mark.gen_test
async def test_probes_are_logged_at_debug_and_requests_at_info(http_client, base_url, caplog):
    """An orchestrator polling health every second and Prometheus scraping filled the INFO log."""
    with caplog.at_level(logging.DEBUG, logger="tornado.access"):
        for path in ("/api/health/live", "/api/health/ready", "/api/health/", "/metrics", "/api/leaderboard/"):
            assert (await http_client.fetch(base_url + path)).code == 200
    levels = {record.getMessage().split()[2]: record.levelname for record in caplog.records
              if record.name == "tornado.access"}
    assert levels == {"/api/health/live": "DEBUG", "/api/health/ready": "DEBUG", "/api/health/": "DEBUG",
                      "/metrics": "DEBUG", "/api/leaderboard/": "INFO"}
