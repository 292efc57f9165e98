"""`GET /metrics`: Prometheus's text format, and the counters move with what players and clients do."""

import asyncio
import json
import os
import re

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from tornado.httpclient import AsyncHTTPClient
from tornado.testing import bind_unused_port

from edge.server import make_server
from server import make_metrics_app
from tests.test_store_faults import fail
from tests.ws import GameClient

QUEUE_ONLY = {"MATCH_INTERVAL": 0.05, "BOT_FILL_AFTER": 60, "ROOM_CAPACITY": 2}
BOTS_AT_ONCE = {"MATCH_INTERVAL": 0.05, "BOT_FILL_AFTER": 0, "ROOM_CAPACITY": 3}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPLOY_DOCUMENTS = ("docs/operations.md", "deploy/grafana-dashboard.json", "deploy/arena-alerts.yml")


async def scrape(api) -> dict:
    """Every sample, keyed `name{label="value",...}` as Prometheus shows it (labels sorted)."""
    response = await api.http_client.fetch(api.base_url + "/metrics")
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return parse(response.body.decode())


def parse(text: str) -> dict:
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{key}="{value}"' for key, value in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


def moved(before: dict, after: dict, name: str) -> float:
    return after.get(name, 0) - before.get(name, 0)


async def until(condition, api) -> dict:
    """Scrape until `condition(samples)` holds (the server finishes a close after the client's)."""
    async with asyncio.timeout(5):
        while not condition(samples := await scrape(api)):
            await asyncio.sleep(0.01)
    return samples


@pytest.mark.gen_test(timeout=10)
async def test_logins_and_token_operations_are_counted_by_outcome(api):
    before = await scrape(api)
    tokens = await api.login()  # registers alice, then logs in
    await api.post("/api/token/", {"username": "alice", "password": "wrong horse"})
    await api.post("/api/token/", {"username": "alice"})
    await api.post("/api/token/refresh/", {"refresh": tokens["refresh"]})
    await api.post("/api/token/refresh/", {"refresh": "not.a.token"})
    await api.post("/api/token/verify/", {"token": tokens["access"]})
    after = await scrape(api)
    assert moved(before, after, 'arena_logins_total{outcome="success"}') == 1
    assert moved(before, after, 'arena_logins_total{outcome="invalid_credentials"}') == 1
    assert moved(before, after, 'arena_logins_total{outcome="bad_request"}') == 1
    operations = 'arena_token_operations_total{{endpoint="{}",outcome="{}"}}'
    assert moved(before, after, operations.format("obtain", "issued")) == 1
    assert moved(before, after, operations.format("refresh", "refreshed")) == 1
    assert moved(before, after, operations.format("refresh", "token_not_valid")) == 1
    assert moved(before, after, operations.format("verify", "verified")) == 1
    assert moved(before, after, 'arena_password_hash_seconds_count{operation="hash"}') == 1
    assert moved(before, after, 'arena_password_hash_seconds_count{operation="verify"}') == 2
    assert moved(before, after, 'arena_store_operation_seconds_count{operation="create_user"}') == 1
    assert after["arena_password_hash_queue"] == 0


@pytest.mark.settings(game=QUEUE_ONLY)
@pytest.mark.gen_test(timeout=10)
async def test_sockets_queue_and_closes_are_counted(api, base_url):
    before = await scrape(api)
    tokens = await api.login()
    client = await GameClient.connect(base_url, tokens["access"])
    await client.wait_for("queued")
    queued = await scrape(api)
    assert (queued["arena_sockets_open"], queued["arena_sockets_authenticated"], queued["arena_queue_length"]) \
        == (1, 1, 1)
    await api.post("/api/token/revoke-all/", token=tokens["access"])
    assert await client.wait_closed() == (4001, "token_revoked")
    closed = await scrape(api)
    assert moved(before, closed, 'arena_sockets_closed_total{code="4001"}') == 1
    assert (closed["arena_sockets_open"], closed["arena_queue_length"]) == (0, 0)
    assert moved(before, closed, "arena_frames_sent_total") >= 2  # welcome, queued
    assert moved(before, closed, "arena_bytes_sent_total") > 0

    # A close code no server uses is counted as "other": clients cannot invent label values.
    bob = await api.login("bob")
    client = await GameClient.connect(base_url, bob["access"])
    await client.wait_for("queued")
    client.connection.close(4999, "made up")
    await until(lambda samples: moved(before, samples, 'arena_sockets_closed_total{code="other"}') == 1, api)


@pytest.mark.settings(game=BOTS_AT_ONCE)
@pytest.mark.gen_test(timeout=10)
async def test_rooms_players_bots_ticks_and_queue_waits_are_counted(api, base_url):
    before = await scrape(api)
    client = await GameClient.connect(base_url, (await api.login())["access"])
    await client.wait_for("game_start")
    await client.wait_for("state")
    during = await scrape(api)
    assert (during["arena_rooms"], during["arena_players"], during["arena_bots"]) == (1, 1, 2)
    assert moved(before, during, "arena_queue_wait_seconds_count") == 1
    await client.wait_for("state")
    later = await scrape(api)
    assert moved(during, later, "arena_tick_duration_seconds_count") > 0
    assert later["arena_pending_game_results"] == 0 and later["arena_ready"] == 1


@pytest.mark.settings(MONGO_TIMEOUT=0.3)
@pytest.mark.gen_test(timeout=10)
async def test_store_errors_are_counted_by_query(api, store, monkeypatch):
    before = await scrape(api)
    fail(monkeypatch, store.users, "find_one")
    assert (await api.post("/api/token/", {"username": "alice", "password": "x"})).status == 503
    after = await scrape(api)
    assert moved(before, after, 'arena_store_errors_total{operation="find_user_by_username"}') == 1
    assert moved(before, after, 'arena_logins_total{outcome="unavailable"}') == 1


@pytest.mark.settings(METRICS_PORT=1)  # any non-zero port: /metrics leaves the API's port
@pytest.mark.gen_test(timeout=10)
async def test_metrics_port_serves_metrics_and_the_api_port_does_not(api, arena, settings):
    missing = await api.http_client.fetch(api.base_url + "/metrics", raise_error=False)
    assert (missing.code, missing.body) == (404, b'{"detail":"Not found."}')
    sock, port = bind_unused_port()
    server = make_server(make_metrics_app(arena), settings)
    server.add_socket(sock)
    try:
        client = AsyncHTTPClient()
        response = await client.fetch(f"http://127.0.0.1:{port}/metrics")
        assert b"arena_tick_duration_seconds_bucket" in response.body
        missing = await client.fetch(f"http://127.0.0.1:{port}/api/health/", raise_error=False)
        assert missing.code == 404
    finally:
        server.stop()
        await server.close_all_connections()


CLUSTER_ONLY = {"arena_redis_up"}  # served in cluster mode (tests/test_cluster_deploys.py reads it there)


@pytest.mark.gen_test(timeout=10)
async def test_docs_dashboard_and_alerts_name_exactly_the_metrics_served(api):
    text = (await api.http_client.fetch(api.base_url + "/metrics")).body.decode()
    served = set(re.findall(r"^# TYPE (\S+) ", text, re.MULTILINE)) | CLUSTER_ONLY
    documents = {path: open(os.path.join(ROOT, path), encoding="utf-8").read() for path in DEPLOY_DOCUMENTS}
    json.loads(documents["deploy/grafana-dashboard.json"])
    alerts = yaml.safe_load(documents["deploy/arena-alerts.yml"])
    assert alerts["groups"][0]["rules"]
    for path, text in documents.items():
        named = set(re.findall(r"\b((?:arena|process)_[a-z_]+)\b", text))
        assert {re.sub(r"_bucket$", "", name) for name in named} - served == set(), path
    documented = set(re.findall(r"`(arena_[a-z_]+)`", documents["docs/operations.md"]))
    assert {name for name in served if name.startswith("arena_")} - documented == set()
