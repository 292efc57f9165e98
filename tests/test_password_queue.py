"""Password hashing under pressure: a bounded queue (503 at once), abandoned logins skipped, 503 at shutdown."""

import asyncio
import threading

import pytest
from tornado.tcpclient import TCPClient

from tests.ws import GameClient

ALICE = {"username": "alice", "password": "correct horse"}
UNAVAILABLE = {"detail": "Service temporarily unavailable."}


@pytest.fixture
def block_hashing():
    """Makes the only hashing thread (of either priority) busy until the test sets the event it returns,
    so logins queue behind it; every event is set at the end, whatever happened."""
    events = []

    def block(arena) -> threading.Event:
        release = threading.Event()
        events.append(release)
        for pool in (arena.hasher._fair, arena.hasher._yielding):
            pool.submit(release.wait)
        return release

    yield block
    for release in events:
        release.set()


async def until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.01)


@pytest.mark.settings(PASSWORD_WORKERS=1, PASSWORD_QUEUE=2)
@pytest.mark.gen_test(timeout=10)
async def test_a_full_hashing_queue_answers_503_at_once(api, arena, block_hashing):
    await api.register()
    release = block_hashing(arena)
    waiting = [asyncio.ensure_future(api.post("/api/token/", ALICE)) for _ in range(2)]
    await until(lambda: arena.hasher.queued == 2)
    refused = await api.post("/api/token/", ALICE)
    assert (refused.status, refused.json, refused.headers["Retry-After"]) == (503, UNAVAILABLE, "1")
    release.set()
    assert [response.status for response in await asyncio.gather(*waiting)] == [200, 200]


async def abandoned_login(base_url: str) -> None:
    """A login request whose client hangs up without waiting for the answer."""
    host, port = base_url.split("//")[1].split(":")
    stream = await TCPClient().connect(host, int(port))
    body = b'{"username": "alice", "password": "correct horse"}'
    await stream.write(b"POST /api/token/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    return stream


@pytest.mark.settings(PASSWORD_WORKERS=1, PASSWORD_QUEUE_PER_CLIENT=10)
@pytest.mark.gen_test(timeout=10)
async def test_logins_whose_client_left_are_not_hashed(api, arena, base_url, monkeypatch, block_hashing):
    await api.register()
    hashed = []
    verify = arena.hasher._verify
    monkeypatch.setattr(arena.hasher, "_verify", lambda *args: hashed.append(1) or verify(*args))
    release = block_hashing(arena)
    streams = [await abandoned_login(base_url) for _ in range(5)]
    await until(lambda: arena.hasher.queued == 5)
    for stream in streams:
        stream.close()
    assert (await api.get("/api/stats/")).status == 200  # the server has seen the hang-ups by now
    release.set()
    assert (await api.post("/api/token/", ALICE)).status == 200
    assert len(hashed) == 1


@pytest.mark.settings(PASSWORD_WORKERS=1, SHUTDOWN_TIMEOUT=0.2)
@pytest.mark.gen_test(timeout=10)
async def test_shutdown_answers_logins_still_waiting_503_and_closes_every_socket(api, arena, base_url,
                                                                                 block_hashing):
    await api.register()
    release = block_hashing(arena)
    unauthenticated = await GameClient.connect(base_url)  # has not sent its auth frame yet
    login = asyncio.ensure_future(api.post("/api/token/", ALICE))
    await until(lambda: arena.hasher.queued == 1)
    await arena.shutdown()
    response = await login
    assert (response.status, response.json) == (503, UNAVAILABLE)
    assert await unauthenticated.wait_closed() == (1001, "server shutting down")
    release.set()
