"""Real engines for the cluster tests: Debian's redis-server, a MongoDB-protocol server, and several
`server.py` processes with short timers, each in its own process with its log drained as it comes."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from typing import Optional

import pytest
import redis

from tests.conftest import TEST_ENV
from tests.mongo_server import MongoServer, require_server
from tests.test_server_process import LogReader, ROOT, free_port, start_server

CLUSTER_ENV = {
    "GAME_MATCH_INTERVAL": "0.1", "GAME_BOT_FILL_AFTER": "60", "GAME_RECONNECT_GRACE": "5",
    "ARENA_CLUSTER_HEARTBEAT": "0.2", "ARENA_CLUSTER_DEAD_AFTER": "3", "ARENA_REDIS_TIMEOUT": "1",
    "ARENA_PASSWORD_TIME_COST": "1", "ARENA_PASSWORD_MEMORY_COST": "1024", "ARENA_PASSWORD_FAILURE_SECONDS": "0",
    "ARENA_THROTTLE_LOGIN_USERNAME": "", "ARENA_THROTTLE_LOGIN_ADDRESS": "", "ARENA_THROTTLE_PASSWORD_USER": "",
    "ARENA_THROTTLE_PASSWORD_ADDRESS": "", "ARENA_THROTTLE_REGISTER_ADDRESS": "", "ARENA_THROTTLE_SOCKET_ADDRESS": "",
    "ARENA_THROTTLE_SOCKET_USER": "", "ARENA_MONGO_TIMEOUT": "2",
    # Processes on their own ports with no proxy in front: a page from one opens sockets on the others.
    "ARENA_ALLOWED_ORIGINS": "http://127.0.0.1:*", **TEST_ENV,
}


def require_redis() -> None:
    if shutil.which("redis-server") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed (apt-get install redis-server)")
        pytest.skip("redis-server is not installed")


class RedisServer:
    """A throwaway redis-server on a unix socket, without persistence: a restart loses everything."""

    def __init__(self, directory: str):
        self.socket = os.path.join(directory, "redis.sock")
        self.url = f"unix://{self.socket}"
        self.process: Optional[subprocess.Popen] = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", self.socket, "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = self.client()
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=self.socket, decode_responses=True, socket_timeout=2)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


class ArenaProcess:
    """One `server.py` of the cluster."""

    def __init__(self, name: str, env: dict, port: Optional[int] = None):
        self.name = name
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/wss/multiplayer/"
        env = {"ARENA_INSTANCE": name, "ARENA_PUBLIC_URL": self.ws_url, **env}
        self.public_url = env["ARENA_PUBLIC_URL"]  # what redirects to this process name
        self.process = start_server("--port", str(self.port), env=env)
        self.log = LogReader(self.process)
        self.log.wait_until_listening()

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = 15) -> int:
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Cluster:
    """Redis, MongoDB and named processes sharing them; `start(name)` adds one."""

    def __init__(self, mongo_url: str, **env: str):
        self.directory = tempfile.mkdtemp(prefix="arena-cluster-")
        self.redis = RedisServer(self.directory)
        self.database = f"arena_cluster_{uuid.uuid4().hex[:8]}"
        self.mongo_url = mongo_url
        self.env = {**CLUSTER_ENV, "MONGO_URL": mongo_url, "ARENA_DB": self.database,
                    "ARENA_REDIS_URL": self.redis.url,
                    "ARENA_RESULTS_JOURNAL": os.path.join(self.directory, "journal"), **env}
        self.processes: dict[str, ArenaProcess] = {}

    def start(self, *names: str) -> list[ArenaProcess]:
        return [self.start_on(name, free_port()) for name in names]

    def start_on(self, name: str, port: int) -> ArenaProcess:
        self.processes[name] = ArenaProcess(name, {**self.env, "ARENA_RESULTS_JOURNAL":
                                                   os.path.join(self.directory, f"journal-{name}")}, port)
        return self.processes[name]

    def __getitem__(self, name: str) -> ArenaProcess:
        return self.processes[name]

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()
        self.redis.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def mongo_for_cluster():
    """MONGO_URL when the suite runs against a MongoDB; else a SecantusDB of the tests' own."""
    if os.environ.get("MONGO_URL"):
        return os.environ["MONGO_URL"], None
    require_server()
    server = MongoServer()
    return server.url, server


def plain_http(site: str, port: int) -> str:
    """deploy/nginx.conf without TLS, on `port`: its HTTPS server block as plain HTTP (the tests' clients
    speak no TLS; tests/test_deploy.py checks the file as shipped with `nginx -t`)."""
    redirect = site.index("\nserver {")
    site = site[:redirect] + site[site.index("\n}\n", redirect) + 2:]  # the port-80 block: only redirects
    lines = []
    for line in site.splitlines():
        if line.strip().startswith(("ssl_", "listen [::]")):
            continue
        lines.append(f"    listen 127.0.0.1:{port};" if line.strip().startswith("listen 443") else line)
    return "\n".join(lines) + "\n"


class NginxProxy:
    """Debian's nginx running deploy/nginx.conf (as plain HTTP), with the processes' ports and its own in
    place of the file's (8001-8004 and 443), in a throwaway prefix."""

    def __init__(self, directory: str, ports: list[int]):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with open(os.path.join(ROOT, "deploy", "nginx.conf"), encoding="utf-8") as handle:
            site = plain_http(handle.read(), self.port)
        for n, port in enumerate(ports, start=1):
            site = site.replace(f"127.0.0.1:800{n}", f"127.0.0.1:{port}")
        prefix = os.path.join(directory, "nginx")
        os.makedirs(prefix, exist_ok=True)
        with open(os.path.join(prefix, "site.conf"), "w", encoding="utf-8") as handle:
            handle.write(site)
        with open(os.path.join(prefix, "nginx.conf"), "w", encoding="utf-8") as handle:
            handle.write(f"daemon off;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n"
                         f"worker_processes 1;\nevents {{ worker_connections 1024; }}\n"
                         f"http {{\n  access_log off;\n  client_body_temp_path {prefix}/body;\n"
                         f"  proxy_temp_path {prefix}/proxy;\n  include {prefix}/site.conf;\n}}\n")
        self.process = subprocess.Popen(["nginx", "-p", prefix, "-c", os.path.join(prefix, "nginx.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("nginx did not start: " + (self.process.stderr.read() or ""))
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def require_nginx() -> None:
    if shutil.which("nginx") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is not installed (apt-get install nginx-light)")
        pytest.skip("nginx is not installed")
