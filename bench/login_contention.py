"""Login latency when another process keeps the server's core busy (the hashing threads' priority).

The server runs on its core (bench.common.SERVER_CORE); logins are timed with the core idle, then
with a busy-looping process pinned to the same core. Usage: python bench/login_contention.py [--logins 5]
"""

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import SERVER_CORE, header, pinned  # noqa: E402
from bench.harness import Server, api  # noqa: E402

CREDENTIALS = {"username": "contended", "password": "correct horse"}


def timed_logins(url: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        asyncio.run(api(url, "/api/token/", CREDENTIALS))
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=5)
    args = parser.parse_args()
    header("Login latency with the server's core idle, then shared with a busy process")
    with Server() as server:
        asyncio.run(api(server.url, "/api/register/", CREDENTIALS))
        idle = timed_logins(server.url, args.logins)
        hog = subprocess.Popen(pinned(SERVER_CORE, [sys.executable, "-c", "while True: pass"]))
        try:
            busy = timed_logins(server.url, args.logins)
        finally:
            hog.kill()
    print(f"login ms, median of {args.logins}: idle core {median(idle):.0f}, busy core {median(busy):.0f} "
          f"({median(busy) / median(idle):.1f}x)", flush=True)


if __name__ == "__main__":
    main()
