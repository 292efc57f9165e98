"""What the benchmarks share: our server (or bare Tornado, or another checkout's server) pinned to the
server core, the load generators on the other (wrk, Node's ws), and the API calls that prepare them."""

import asyncio
import json
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import jwt
import orjson
from tornado.httpclient import AsyncHTTPClient

from bench.common import LOAD_CORE, ROOT, SERVER_CORE, free_port, pinned, python, stop, wait_for_port

BENCH = ROOT / "bench"
SECRET = "benchmark-secret-key-" * 3
CHEAP_PASSWORDS = {"ARENA_PASSWORD_TIME_COST": "1", "ARENA_PASSWORD_MEMORY_COST": "1024"}
# Quiet, and without the limits meant for hostile clients: a benchmark is one client opening
# thousands of sockets and logging in hundreds of times a second, on purpose. Access tokens outlive a
# run: a full regression check takes longer than the default 5 minutes, and an expired token would turn
# the verify rows into a benchmark of 401s.
QUIET = {"ARENA_LOG_LEVEL": "warning", "SECRET_KEY": SECRET, "JWT_ACCESS_TOKEN_LIFETIME": "86400",
         "ARENA_MAX_CONNECTIONS": "100000", "ARENA_MAX_CONNECTIONS_PER_ADDRESS": "0", "ARENA_PASSWORD_QUEUE": "100000",
         "ARENA_PASSWORD_QUEUE_PER_CLIENT": "100000",
         **{f"ARENA_THROTTLE_{name}": "" for name in ("LOGIN_USERNAME", "LOGIN_ADDRESS", "PASSWORD_USER",
                                                      "PASSWORD_ADDRESS", "REGISTER_ADDRESS", "SOCKET_ADDRESS",
                                                      "SOCKET_USER")}}


def raise_fd_limit() -> None:
    """Run in each child: idle-capacity runs hold 10,000 sockets (the server itself never does this)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Server:
    """`python server.py` (or the bare baseline) on core 0 with the given environment; `root` is the
    checkout whose server runs (another commit's, for the regression check)."""

    def __init__(self, env: dict | None = None, baseline: bool = False, root: Path = ROOT, uvloop: bool = False):
        self.port = free_port()
        command = [python(), str(ROOT / "bench" / "baseline_server.py"), str(self.port)] if baseline else \
            [python(), "server.py", "--port", str(self.port)]
        if baseline and uvloop:
            command.append("--uvloop")
        # The embedded store keeps its data in a folder of this run's own (as `python server.py` does in
        # ./arena-data); ARENA_DATA_DIR="" in `env` measures it in memory only.
        self.data_dir = tempfile.mkdtemp(prefix="arena-bench-data-")
        environment = {**os.environ, **QUIET, "ARENA_DATA_DIR": self.data_dir, **(env or {})}
        self.process = subprocess.Popen(pinned(SERVER_CORE, command), cwd=root, env=environment,
                                        preexec_fn=raise_fd_limit)
        wait_for_port(self.port)
        self.url = f"http://127.0.0.1:{self.port}"

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        stop(self.process)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk(url: str, seconds: int, connections: int, script: str, env: dict, threads: int | None = None) -> dict:
    threads = threads or min(connections, 4)
    command = pinned(LOAD_CORE, ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
                                 "-s", str(BENCH / "wrk" / script), url])
    cpu_before = children_cpu()
    output = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=True).stdout
    load_cpu = (children_cpu() - cpu_before) / seconds
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = {p: _ms(re.search(rf"^\s+{p}%\s+([\d.]+\w+)", output, re.M).group(1)) for p in (50, 99)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": rate, "p50": latency[50], "p99": latency[99], "errors": int(errors.group(1)) if errors else 0,
            "load_cpu": load_cpu}


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def api(url: str, path: str, body: dict, client=None) -> dict:
    client = client or AsyncHTTPClient()
    response = await client.fetch(url + path, method="POST", body=orjson.dumps(body),
                                  headers={"Content-Type": "application/json"})
    return orjson.loads(response.body)


async def register_users(url: str, count: int, concurrency: int = 16) -> list[int]:
    """Register `count` users through the API; return their ids."""
    client = AsyncHTTPClient(max_clients=concurrency)
    ids: list[int] = []
    run = uuid.uuid4().hex[:6]

    async def worker(offset: int) -> None:
        for n in range(offset, count, concurrency):
            ids.append((await api(url, "/api/register/", {"username": f"b{run}{n}", "password": "benchmark pw"},
                                  client))["id"])

    await asyncio.gather(*(worker(offset) for offset in range(concurrency)))
    return ids


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def mint_access_tokens(user_ids: list[int], lifetime: int = 3600) -> list[str]:
    """Access tokens signed with the server's key by PyJWT, as a SimpleJWT deployment sharing it would."""
    now = time.time()
    return [jwt.encode({"token_type": "access", "user_id": str(user_id), "jti": uuid.uuid4().hex, "iat": now,
                        "exp": int(now + lifetime)}, SECRET, algorithm="HS256") for user_id in user_ids]


def node(*args: str, stdin=None) -> subprocess.Popen:
    return subprocess.Popen(pinned(LOAD_CORE, ["node", str(BENCH / "ws_client.mjs"), *args]), cwd=BENCH,
                            stdin=stdin, stdout=subprocess.PIPE, text=True, preexec_fn=raise_fd_limit)


def node_result(*args: str) -> dict:
    """Run the Node client to completion; its result plus `load_cpu`, its CPU use over its run."""
    cpu_before, started = children_cpu(), time.monotonic()
    process = node(*args)
    output, _ = process.communicate(timeout=300)
    result = json.loads(output.strip().splitlines()[-1])
    result["load_cpu"] = (children_cpu() - cpu_before) / (time.monotonic() - started)
    return result


async def stats(url: str, ticks: int) -> dict:
    """The server's `/api/stats/`: rooms, players and the last `ticks` tick durations."""
    response = await AsyncHTTPClient().fetch(f"{url}/api/stats/?ticks={ticks}")
    return orjson.loads(response.body)
