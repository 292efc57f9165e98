"""Cluster mode on this machine: one process against two (each pinned to its own core), real sockets.

1. Rooms of 3 idle players at 60 Hz, added in steps until the worst process's tick p99 passes 8 ms.
2. connect → welcome → matched → game_start: rate and p99, redirects included.
3. Redis commands per game started and per player-minute (INFO's total_commands_processed).
Players are written straight into MongoDB (cheap, and not what is measured) and their tokens minted
with the shared key. Needs redis-server, a MongoDB-protocol server (SecantusDB from requirements-dev),
Node and `npm install --prefix bench`. Usage: python bench/cluster.py [--steps 100,200,300,400,600]
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import orjson
import redis
from pymongo import MongoClient
from tornado.httpclient import AsyncHTTPClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, free_port, header, machine, pinned, python, stop, wait_for_port  # noqa: E402
from bench.harness import QUIET, mint_access_tokens, raise_fd_limit  # noqa: E402
from tests.mongo_server import MongoServer  # noqa: E402

BENCH = ROOT / "bench"
SETTLE_SECONDS = 5
ENV = {**QUIET, "GAME_ROOM_CAPACITY": "3", "GAME_MATCH_INTERVAL": "0.2", "GAME_BOT_FILL_AFTER": "600",
       "GAME_RECONNECT_GRACE": "0.5", "ARENA_CLUSTER_HEARTBEAT": "1", "ARENA_CLUSTER_DEAD_AFTER": "5"}


class Redis:
    def __init__(self, directory: str):
        self.socket = os.path.join(directory, "redis.sock")
        self.process = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", self.socket, "--save", ""],
                                        stdout=subprocess.DEVNULL)
        self.client = redis.Redis(unix_socket_path=self.socket)
        for _ in range(100):
            try:
                self.client.ping()
                break
            except redis.RedisError:
                time.sleep(0.05)

    def commands(self) -> int:
        return int(self.client.info("stats")["total_commands_processed"])


def add_users(mongo_url: str, database: str, count: int, first_id: int) -> list[int]:
    """Users as the store writes them, straight into MongoDB."""
    now = datetime.now(timezone.utc)
    ids = list(range(first_id, first_id + count))
    documents = [{"id": n, "username": f"u{n}", "username_key": f"u{n}", "username_skeleton": f"u{n}",
                  "password": "!", "is_active": True, "date_joined": now, "last_login": None, "score": 1500}
                 for n in ids]
    with MongoClient(mongo_url) as client:
        client[database]["users"].insert_many(documents)
        client[database]["counters"].update_one({"_id": "user_id"}, {"$max": {"value": ids[-1]}}, upsert=True)
    return ids


def start_servers(count: int, mongo_url: str, database: str, redis_url: str) -> list[tuple[subprocess.Popen, int]]:
    servers = []
    for n in range(count):
        port = free_port()
        env = {**os.environ, **ENV, "MONGO_URL": mongo_url, "ARENA_DB": database}
        if count > 1:
            env.update(ARENA_REDIS_URL=redis_url, ARENA_INSTANCE=f"p{n}",
                       ARENA_PUBLIC_URL=f"ws://127.0.0.1:{port}/wss/multiplayer/")
        process = subprocess.Popen(pinned(str(n), [python(), "server.py", "--port", str(port)]), cwd=ROOT, env=env,
                                   preexec_fn=raise_fd_limit)
        wait_for_port(port)
        servers.append((process, port))
    return servers


async def tick_p99(ports: list[int]) -> float:
    client = AsyncHTTPClient()
    answers = [orjson.loads((await client.fetch(f"http://127.0.0.1:{port}/api/stats/?ticks={SETTLE_SECONDS * 60}")).body)
               for port in ports]
    return max(answer["tick_ms"]["p99"] for answer in answers)


def play(ports: list[int], tokens: list[str], single_core: bool) -> tuple[subprocess.Popen, dict]:
    """Node players, one per token, spread over the processes; returns the holder and its timings."""
    tokens_file = BENCH / f"tokens-{uuid.uuid4().hex[:6]}.txt"
    tokens_file.write_text("\n".join(tokens) + "\n")
    urls = ",".join(f"ws://127.0.0.1:{port}/wss/multiplayer/" for port in ports)
    command = ["node", str(BENCH / "ws_client.mjs"), "play", urls, str(tokens_file), str(len(tokens))]
    holder = subprocess.Popen(pinned("1", command) if single_core else command, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, preexec_fn=raise_fd_limit)
    timings = json.loads(holder.stdout.readline())
    tokens_file.unlink()
    return holder, timings


def ladder(processes: int, steps: list[int], mongo_url: str, redis_server: Redis) -> list[dict]:
    database = f"bench_{uuid.uuid4().hex[:6]}"
    servers = start_servers(processes, mongo_url, database, f"unix://{redis_server.socket}")
    ports = [port for _, port in servers]
    rows, next_id = [], 1
    try:
        for rooms in steps:
            ids = add_users(mongo_url, database, rooms * 3, next_id)
            next_id += len(ids)
            before = redis_server.commands()
            holder, timings = play(ports, mint_access_tokens(ids), single_core=processes == 1)
            started = redis_server.commands()
            time.sleep(SETTLE_SECONDS)
            idle = redis_server.commands()
            p99 = asyncio.run(tick_p99(ports))
            rows.append({"rooms": rooms, "players": len(ids), "tick_p99": p99, "start": timings,
                         "redis_per_game": (started - before) / rooms,
                         "redis_per_second": (idle - started) / SETTLE_SECONDS})
            holder.stdin.close()
            holder.wait(60)
            time.sleep(1.5)  # the rooms end once their players are gone (0.5 s grace)
            print(f"{processes} process{'es' if processes > 1 else ''}: {rooms:5d} rooms ({len(ids):5d} players) "
                  f"tick p99 {p99:6.2f} ms; game_start {timings['rate']:6.0f}/s p50 {timings['p50']:7.1f} ms "
                  f"p99 {timings['p99']:7.1f} ms, {timings['redirected']} redirected, errors {timings['errors']}"
                  + (f"; Redis {rows[-1]['redis_per_game']:.1f} commands/game started, "
                     f"{rows[-1]['redis_per_second']:.1f} commands/s while they play" if processes > 1 else ""),
                  flush=True)
            if p99 > 8.0:
                break
    finally:
        for process, _ in servers:
            stop(process)
        with MongoClient(mongo_url) as client:
            client.drop_database(database)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", default="50,100,150,200,250,300,400")
    steps = [int(step) for step in parser.parse_args().steps.split(",")]
    print(f"Tornado Arena cluster benchmark, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {machine()}")
    mongo = None if os.environ.get("MONGO_URL") else MongoServer()
    mongo_url = os.environ.get("MONGO_URL") or mongo.url
    directory = tempfile.mkdtemp(prefix="arena-bench-")
    redis_server = Redis(directory)
    try:
        for processes in (1, 2):
            header(f"{processes} process(es), rooms of 3 idle players at 60 Hz, until tick p99 > 8 ms")
            rows = ladder(processes, steps, mongo_url, redis_server)
            last_ok = [row["rooms"] for row in rows if row["tick_p99"] <= 8.0]
            print(f"most rooms with tick p99 <= 8 ms: {last_ok[-1] if last_ok else 'none'}"
                  + ("" if rows[-1]["tick_p99"] > 8.0 else " (the ladder ended first)"), flush=True)
    finally:
        redis_server.process.kill()
        if mongo is not None:
            mongo.stop()


if __name__ == "__main__":
    main()
