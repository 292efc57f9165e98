"""Logins against the rest of the server, on one core: what a login storm costs the token endpoints, and
how logins fare when another process keeps the core busy.

1. verify (c=32) calm, then with a login storm (wrk, 32 connections logging in without pause) on the
   same server, alternating over rounds: the share of verify's rate the storm takes, and the storm's
   logins per second.
2. Logins paced at 5 per second (open loop: each sent on time whatever the last one did) with the
   server's core idle, then shared with a busy process: login latency p50 and p99.

Usage: python bench/login_storm.py [--against REF] [--rounds 3] [--seconds 4]
"""

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from statistics import median

import orjson
from tornado.httpclient import AsyncHTTPClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import LOAD_CORE, ROOT, SERVER_CORE, header, machine, percentile, pinned  # noqa: E402
from bench.harness import BENCH, Server, api, wrk  # noqa: E402
from bench.regression import checkout  # noqa: E402

CREDENTIALS = {"username": "storm", "password": "benchmark pw"}
PACE = 5  # logins per second in the paced runs


def storm_costs(server: Server, rounds: int, seconds: int) -> dict:
    """verify's rate calm and under a login storm, in alternating windows; the storm's logins/s."""
    access = asyncio.run(api(server.url, "/api/token/", CREDENTIALS))["access"]
    verify_body = orjson.dumps({"token": access}).decode()
    login_body = orjson.dumps(CREDENTIALS).decode()
    calm, stormy, logins = [], [], []
    for _ in range(rounds):
        calm.append(wrk(server.url + "/api/token/verify/", seconds, 32, "post.lua", {"BODY": verify_body})["rps"])
        storm = subprocess.Popen(pinned(LOAD_CORE, ["wrk", "-t2", "-c32", f"-d{seconds + 2}s", "-s",
                                                    str(BENCH / "wrk" / "post.lua"), server.url + "/api/token/"]),
                                 env={**os.environ, "BODY": login_body}, stdout=subprocess.PIPE, text=True)
        time.sleep(1.0)  # the storm is under way before measuring
        stormy.append(wrk(server.url + "/api/token/verify/", seconds, 32, "post.lua", {"BODY": verify_body})["rps"])
        logins.append(float(re.search(r"Requests/sec:\s+([\d.]+)", storm.communicate()[0]).group(1)))
    return {"calm": median(calm), "storm": median(stormy), "logins": median(logins)}


async def paced_logins(url: str, seconds: float) -> list[float]:
    """Logins sent PACE per second for `seconds`, each on time; their latencies in ms (failures count as
    the time they took)."""
    client = AsyncHTTPClient(max_clients=1000)
    latencies: list[float] = []

    async def one() -> None:
        started = time.perf_counter()
        await client.fetch(url + "/api/token/", method="POST", body=orjson.dumps(CREDENTIALS), raise_error=False,
                           headers={"Content-Type": "application/json"}, request_timeout=60)
        latencies.append((time.perf_counter() - started) * 1000)

    tasks, began = [], time.perf_counter()
    for n in range(int(seconds * PACE)):
        tasks.append(asyncio.ensure_future(one()))
        await asyncio.sleep(max(0.0, (n + 1) / PACE - (time.perf_counter() - began)))
    await asyncio.gather(*tasks)
    return latencies


def paced(server: Server, seconds: float, busy: bool) -> list[float]:
    hog = subprocess.Popen(pinned(SERVER_CORE, [sys.executable, "-c", "while True: pass"])) if busy else None
    try:
        return asyncio.run(paced_logins(server.url, seconds))
    finally:
        if hog is not None:
            hog.kill()


def measure(label: str, root: Path, rounds: int, seconds: int) -> None:
    with Server(root=root) as server:
        asyncio.run(api(server.url, "/api/register/", CREDENTIALS))
        costs = storm_costs(server, rounds, seconds)
        idle = paced(server, seconds * 2, busy=False)
        busy = paced(server, seconds * 2, busy=True)
    print(f"{label:>4}: verify c=32 calm {costs['calm']:.0f} req/s, during a login storm {costs['storm']:.0f} req/s "
          f"({costs['storm'] / costs['calm'] - 1:+.0%}); the storm's logins {costs['logins']:.1f}/s", flush=True)
    for name, times in (("idle core", idle), ("busy core", busy)):
        print(f"{label:>4}: {PACE} logins/s, {name}: p50 {percentile(times, 50):.0f} ms, p99 {percentile(times, 99):.0f} ms "
              f"({len(times)} logins)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REF", help="also measure REF's server (a temporary worktree)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4)
    args = parser.parse_args()
    print(f"Tornado Arena login storm, {time.strftime('%Y-%m-%d %H:%M')} UTC; {machine()}")
    header("Login storm: verify's rate calm and stormy (same core); paced logins with the core idle and busy")
    with ExitStack() as stack:
        if args.against:
            measure("REF", stack.enter_context(checkout(args.against)), args.rounds, args.seconds)
        measure("now", ROOT, args.rounds, args.seconds)


if __name__ == "__main__":
    main()
