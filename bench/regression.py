"""The regression check: another commit's server against the working tree's, measured in one run.

`python bench/run_all.py --against REF [--quick]` checks REF out into a temporary git worktree and
starts its server, ours (the working tree) and bare Tornado, each on the server core; every row is
measured on each server in turn, round after round, so the machine's drift falls on all alike. It
prints each row's medians, the ratio REF → now, and each server against bare Tornado on asyncio's loop
(as a user would write it) and on uvloop's (ours runs on uvloop by default: the loop's share of a
difference shows apart from our code's). `--quick` takes under two minutes: run it before every stop
that touches a hot path. Timing on a shared machine is noise for a gate, so this is a habit, not a CI
step.
"""

import asyncio
import subprocess
import tempfile
from contextlib import ExitStack, contextmanager
from pathlib import Path
from statistics import median
from typing import Callable, Iterator

import orjson

from bench.common import ROOT, header
from bench.harness import BENCH, CHEAP_PASSWORDS, Server, api, mint_access_tokens, node_result, register_users, wrk

USERS = 256  # socket users per server, as the WebSocket benchmark has
# Our servers idle (no matchmaking rounds), with cheap hashing so that registering takes seconds;
# nothing measured here hashes a password.
IDLE = {**CHEAP_PASSWORDS, "GAME_MATCH_INTERVAL": "1000000"}
SIDES = ("bare", "bare-uv", "REF", "now")
CREDENTIALS = {"username": "regression", "password": "benchmark pw"}


@contextmanager
def checkout(ref: str) -> Iterator[Path]:
    """REF's files in a temporary worktree (the working tree is left as it is)."""
    path = Path(tempfile.mkdtemp(prefix="arena-ref-"))
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(path), ref], cwd=ROOT, check=True)
    try:
        yield path
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=False)


class Target:
    """One server under test and what its rows send it: a token pair, and access tokens for sockets.
    Bare Tornado answers any JSON body on `/bare/` and opens sockets on `/bare/ws`."""

    def __init__(self, server: Server, bare: bool = False):
        self.server = server
        self.bare = bare
        if bare:
            self.pair = {"access": mint_access_tokens([1])[0], "refresh": mint_access_tokens([1])[0]}
            self.tokens_file, self.ws = "-", server.url.replace("http", "ws") + "/bare/ws"
            return
        asyncio.run(api(server.url, "/api/register/", CREDENTIALS))
        self.pair = asyncio.run(api(server.url, "/api/token/", CREDENTIALS))
        tokens = mint_access_tokens(asyncio.run(register_users(server.url, USERS)))
        self.tokens_file = str(BENCH / f"tokens-{server.port}.txt")
        Path(self.tokens_file).write_text("\n".join(tokens) + "\n")
        self.ws = server.url.replace("http", "ws") + "/wss/multiplayer/"

    def url(self, api_path: str) -> str:
        return self.server.url + ("/bare/" if self.bare else api_path)

    def forget(self) -> None:
        if not self.bare:
            Path(self.tokens_file).unlink(missing_ok=True)


def rows(seconds: int, handshakes: int) -> dict[str, Callable[[Target], float]]:
    """Each row: what it measures on a target, as one figure (higher is better)."""
    def rest(api_path: str, connections: int, body: Callable[[Target], dict]) -> Callable[[Target], float]:
        def measure(target: Target) -> float:
            payload = orjson.dumps(body(target)).decode()
            return wrk(target.url(api_path), seconds, connections, "post.lua", {"BODY": payload})["rps"]
        return measure

    def handshake(target: Target) -> float:
        return node_result("handshake", target.ws, target.tokens_file, str(handshakes), "32")["rate"]

    def verify(target: Target) -> dict:
        return {"token": target.pair["access"]}

    def refresh(target: Target) -> dict:
        return {"refresh": target.pair["refresh"]}

    def login(target: Target) -> dict:
        return CREDENTIALS

    return {
        "/api/token/verify/ c=1 (req/s)": rest("/api/token/verify/", 1, verify),
        "/api/token/verify/ c=32 (req/s)": rest("/api/token/verify/", 32, verify),
        "/api/token/refresh/ c=32 (req/s)": rest("/api/token/refresh/", 32, refresh),
        "/api/token/ login, Argon2id t=1 m=1MiB, c=4 (req/s)": rest("/api/token/", 4, login),
        "socket connect + auth + welcome, 32 loops (conn/s)": handshake,
    }


def run(ref: str, quick: bool) -> None:
    rounds, seconds, handshakes = (3, 2, 1000) if quick else (5, 4, 3000)
    header(f"Regression check: {ref} against the working tree, medians of {rounds} alternating rounds "
           "(server on core 0, load on core 1)")
    with checkout(ref) as old, ExitStack() as stack:
        servers = {"bare": Server(baseline=True), "bare-uv": Server(baseline=True, uvloop=True),
                   "REF": Server(IDLE, root=old), "now": Server(IDLE)}
        for server in servers.values():
            stack.callback(server.stop)
        targets = {side: Target(server, bare=side.startswith("bare")) for side, server in servers.items()}
        for target in targets.values():
            stack.callback(target.forget)
        measures = rows(seconds, handshakes)
        figures = {name: {side: [] for side in SIDES} for name in measures}
        for _ in range(rounds):
            for name, measure in measures.items():
                for side in SIDES:
                    figures[name][side].append(measure(targets[side]))
    print(f"{'row':<52} {'bare':>7} {'bare-uv':>7} {'REF':>7} {'now':>7}  REF→now  REF/bare now/bare now/bare-uv")
    for name, by_side in figures.items():
        bare, bare_uv, before, now = (median(by_side[side]) for side in SIDES)
        print(f"{name:<52} {bare:>7.0f} {bare_uv:>7.0f} {before:>7.0f} {now:>7.0f}  {now / before - 1:>+7.0%}  "
              f"{before / bare:>8.0%} {now / bare:>8.0%} {now / bare_uv:>11.0%}", flush=True)
