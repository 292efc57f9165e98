"""`python server.py` as a newcomer runs it: starts, answers, logs no secrets, exits 0 on SIGTERM."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Stopping at once, and the embedded store in memory: tests of the drain and of the data folder set their own.
QUICK_STOP = {"ARENA_DRAIN_GRACE": "0.2", "ARENA_DRAIN_TIMEOUT": "1", "ARENA_DATA_DIR": ""}


def start_server(*args: str, env: dict | None = None, **popen: object) -> subprocess.Popen:
    """`python server.py` with the suite's backend (MONGO_URL, in a database of its own) and `env`."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("ARENA_", "JWT_", "GAME_"))}
    environment.update({"ARENA_DB": f"arena_process_{uuid.uuid4().hex[:8]}", **QUICK_STOP, **(env or {})})
    return subprocess.Popen([sys.executable, "server.py", *args], cwd=ROOT, env=environment,
                            stderr=subprocess.PIPE, text=True, **popen)


def wait_until_listening(process: subprocess.Popen) -> list[str]:
    """Read the log until the start line; the server logs it once it accepts connections."""
    lines = []
    for line in process.stderr:
        lines.append(line)
        if "listening on" in line:
            return lines
    raise AssertionError("server exited before listening:\n" + "".join(lines))


class LogReader:
    """A long-running server's log, read on a thread as it comes: a pipe nobody reads fills up and then
    blocks the server's logging, and with it the whole server."""

    def __init__(self, process: subprocess.Popen):
        self.lines: list[str] = []
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stderr:
            self.lines.append(line)
            if "listening on" in line:
                self._listening.set()
        self._listening.set()

    def wait_until_listening(self, timeout: float = 30) -> None:
        self._listening.wait(timeout)
        if not any("listening on" in line for line in self.lines):
            raise RuntimeError("server did not start listening:\n" + "".join(self.lines))

    def rest(self, timeout: float = 15) -> str:
        """The whole log, once the process has exited."""
        self._thread.join(timeout)
        return "".join(self.lines)


def test_server_starts_answers_and_exits_zero_on_sigterm():
    port = free_port()
    process = start_server("--port", str(port))
    try:
        start_lines = wait_until_listening(process)
        assert f"127.0.0.1:{port}" in start_lines[-1]
        assert "embedded (in-memory, data is lost on exit)" in start_lines[-1] or "mongodb://" in start_lines[-1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health/") as response:
            assert response.status == 200
            assert json.loads(response.read())["status"] == "ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/leaderboard/?token=hunter2secret") as response:
            assert response.status == 200
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 0
    assert "hunter2secret" not in rest and "token=[redacted]" in rest


def test_bad_setting_stops_the_server_with_a_one_line_error():
    process = start_server("--port", str(free_port()), env={"JWT_ALGORITHM": "HS1"})
    _, err = process.communicate(timeout=15)
    assert process.returncode != 0
    assert err.strip().count("\n") == 0 and "JWT_ALGORITHM" in err


@pytest.mark.skipif(bool(os.environ.get("MONGO_URL")), reason="needs an address with no MongoDB")
def test_unreachable_mongodb_is_an_error_not_a_fallback():
    port = free_port()
    process = start_server("--port", str(port), "--mongo-url", f"mongodb://user:pw@127.0.0.1:{free_port()}",
                           env={"ARENA_MONGO_TIMEOUT": "0.5"})
    _, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "cannot use MongoDB" in err and "user:***@" in err and ":pw@" not in err


def test_flush_command_runs_against_the_configured_store():
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("ARENA_", "JWT_"))}
    result = subprocess.run([sys.executable, "-m", "auth.flush"], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("deleted ") and result.stdout.strip().endswith("expired token records")


def call(port: int, method: str, path: str, body: dict | None = None, token: str = "") -> tuple[int, dict, dict]:
    """One request to the server: (status, JSON body, headers)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        response = urllib.request.urlopen(request)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        headers = {name.lower(): value for name, value in response.headers.items()}
        return response.status, json.loads(response.read() or b"{}"), headers


async def play_until_revoked(port: int, access: str) -> int:
    """Open the game socket with the token in the query, revoke every token, return the close code."""
    from tornado.websocket import websocket_connect

    connection = await websocket_connect(f"ws://127.0.0.1:{port}/wss/multiplayer/?token={access}")
    await connection.read_message()  # welcome
    status, _, _ = await asyncio.to_thread(call, port, "POST", "/api/token/revoke-all/", {}, access)
    assert status == 200
    while await connection.read_message() is not None:
        pass
    return connection.close_code


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_logs_carry_request_ids_and_never_a_secret(log_format):
    port = free_port()
    password, secret_query = "correct horse battery", "hunter2querysecret"
    process = start_server("--port", str(port), "--log-level", "debug", env={"ARENA_LOG_FORMAT": log_format})
    try:
        wait_until_listening(process)
        assert call(port, "POST", "/api/register/", {"username": "alice", "password": password})[0] == 201
        _, tokens, _ = call(port, "POST", "/api/token/", {"username": "alice", "password": password})
        call(port, "POST", "/api/token/", {"username": "alice", "password": password + " wrong"})
        _, refreshed, _ = call(port, "POST", "/api/token/refresh/", {"refresh": tokens["refresh"]})
        _, _, headers = call(port, "GET", f"/api/stats/?ticks=5&note={secret_query}")
        assert asyncio.run(play_until_revoked(port, tokens["access"])) == 4001
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=15)
    finally:
        process.kill()
    secrets = (password, secret_query, "ticks=5", tokens["access"], tokens["refresh"], refreshed["access"])
    assert [secret for secret in secrets if secret in rest] == []
    request_id = headers["x-request-id"]
    assert "GET /api/stats/?ticks=[redacted]&note=[redacted] (127.0.0.1)" in rest and f"[{request_id}]" in rest
    if log_format == "json":
        lines = [json.loads(line) for line in rest.splitlines()]
        assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
        stats = next(line for line in lines if line.get("path") == "/api/stats/")
        assert (stats["request_id"], stats["status"], stats["method"]) == (request_id, 200, "GET")
        closed = next(line for line in lines if line.get("close_code") == 4001)
        assert (closed["user_id"], closed["close_reason"], closed["logger"]) == (1, "token_revoked", "arena.socket")
