"""A MongoDB-protocol server of the test's own (SecantusDB from PyPI, test-only), to freeze and thaw.

Started as a separate process, never imported: `python -m tests.mongo_server` prints a URL and
serves until killed (what `.ci/run` uses for the wire pass); tests use `MongoServer` directly.
"""

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
from pymongo import MongoClient
from pymongo.errors import PyMongoError

SERVER_COMMAND = "secantusd-py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MongoServer:
    """One SecantusDB process on a free loopback port, in memory."""

    def __init__(self):
        self.port = free_port()
        self.url = f"mongodb://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [SERVER_COMMAND, "--host", "127.0.0.1", "--port", str(self.port), "--storage-path", ":memory:",
             "--standalone"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_until_answering()

    def _wait_until_answering(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        with MongoClient(self.url, serverSelectionTimeoutMS=500) as client:
            while True:
                try:
                    client.admin.command("ping")
                    return
                except PyMongoError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        self.stop()
                        raise RuntimeError(f"{SERVER_COMMAND} did not start on port {self.port}")

    def freeze(self) -> None:
        """MongoDB hangs: connections stay open, nothing is answered."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self.thaw()
        self.process.kill()
        self.process.wait()


def require_server() -> None:
    """Skip when SecantusDB is not installed, except in CI, where its absence fails the run."""
    if shutil.which(SERVER_COMMAND) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{SERVER_COMMAND} is not installed (pip install -r requirements-dev.txt)")
        pytest.skip(f"{SERVER_COMMAND} is not installed")


if __name__ == "__main__":
    server = MongoServer()
    print(server.url, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: server.process.kill())  # then the wait below returns
    server.process.wait()
