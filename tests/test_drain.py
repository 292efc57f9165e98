"""A stopping single process (no Redis): readiness says `draining` long enough for a load balancer to
notice, every socket is told, nobody new starts a game, and the games running may finish (issue 23)."""

import signal
import socket

import pytest
from tornado.httpclient import AsyncHTTPClient

from tests.client import ApiClient
from tests.conftest import TEST_ENV
from tests.test_cluster import DEADLY, eventually
from tests.test_cluster_deploys import shoot_until_over
from tests.test_server_process import LogReader, free_port, start_server
from tests.ws import GameClient

DRAINING = {**TEST_ENV, **DEADLY, "ARENA_DRAIN_GRACE": "0.2", "ARENA_DRAIN_TIMEOUT": "30", "GAME_BOT_FILL_AFTER": "60",
            "ARENA_PASSWORD_TIME_COST": "1", "ARENA_PASSWORD_MEMORY_COST": "1024"}


@pytest.mark.gen_test(timeout=60)
async def test_a_stopping_server_lets_the_running_game_finish_and_starts_no_other():
    port = free_port()
    process = start_server("--port", str(port), env=DRAINING)
    log = LogReader(process)
    try:
        log.wait_until_listening()
        base = f"http://127.0.0.1:{port}"
        api = ApiClient(AsyncHTTPClient(), base)
        players = []
        for name in ("alice", "bob", "carol"):
            players.append(((await api.login(name))["access"], name))
        alice, bob = [await GameClient.connect(base, token) for token, _ in players[:2]]
        start = await alice.wait_for("game_start")
        await bob.wait_for("game_start")
        for client in (alice, bob):
            await client.send("move_to", tx=0.9, ty=0.5)  # both play: a rated game
        process.send_signal(signal.SIGTERM)
        for client in (alice, bob):
            await client.wait_for("server_draining")
        ready = await api.get("/api/health/ready")
        assert (ready.status, ready.json) == (503, {"status": "draining"})
        carol = await GameClient.connect(base, players[2][0])  # arrives while the server drains
        assert [(await carol.next_event())["event"] for _ in range(2)] == ["welcome", "server_draining"]
        assert await carol.wait_closed() == (1001, "server draining")
        await eventually(lambda: any("waiting up to 30 s for 1 running games to end" in line for line in log.lines))
        over = await shoot_until_over(alice, start["you"])  # past the grace: the game still runs
        assert over["winner"] in {p["id"] for p in start["players"]} and not over["abandoned"]
        assert over["scores"] == {str(over["winner"]): 10, **{str(p["id"]): -5 for p in start["players"]
                                                              if p["id"] != over["winner"]}}
        assert process.wait(15) == 0
    finally:
        process.kill()
        process.wait()


def test_a_port_in_use_is_one_line_and_exit_status_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = start_server("--port", str(port), env=TEST_ENV)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert err.strip().splitlines()[-1].startswith(f"error: ARENA_PORT: cannot listen on 127.0.0.1:{port}: ")
    assert "Traceback" not in err
