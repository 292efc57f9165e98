"""Every benchmark in one command, a few minutes on a 2-core machine; prints the figures for BENCHMARKS.md.

Servers run pinned to core 0 and load generators (wrk, Node's ws) to core 1, so ratios between our
server and bare Tornado measured here, in the same run, by the same client, are what counts.
Needs: `apt-get install wrk nodejs npm` and `npm install --prefix bench` (bench/setup.sh does both).
Usage: python bench/run_all.py [--quick] [--only rest,ws,game,isolation] [--against REF]
"""

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from statistics import median
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import LOAD_CORE, ROOT, SERVER_CORE, header, machine, pinned, python  # noqa: E402
from bench import regression  # noqa: E402
from bench.harness import (BENCH, CHEAP_PASSWORDS, Server, api, claims, mint_access_tokens, node,  # noqa: E402
                           node_result, register_users, stats, wrk)

REST_ROUNDS = 3

def print_rest(name: str, level: int, ours: dict, bare: dict | None) -> None:
    ratio = f"{ours['rps'] / bare['rps']:6.0%}" if bare else "     -"
    print(f"{name:<34} c={level:<4} {ours['rps']:>8.0f} req/s  p50 {ours['p50']:>7.2f} ms  p99 {ours['p99']:>7.2f} ms"
          f"  errors {ours['errors']:<3} load CPU {ours['load_cpu']:4.0%}  vs bare {ratio}", flush=True)


def bench_rest(seconds: int, levels: list[int]) -> None:
    header(f"REST: requests/s and latency, medians of {REST_ROUNDS} alternating rounds (wrk on core 1, server on core 0)")
    with Server(baseline=True) as bare, Server() as plain, \
            Server({"JWT_ROTATE_REFRESH_TOKENS": "true", "JWT_BLACKLIST_AFTER_ROTATION": "true"}) as rotating:
        async def tokens(url: str, logins: int) -> list[dict]:
            await api(url, "/api/register/", {"username": "bench", "password": "benchmark pw"})
            return [await api(url, "/api/token/", {"username": "bench", "password": "benchmark pw"})
                    for _ in range(logins)]

        pair = asyncio.run(tokens(plain.url, 1))[0]
        distinct = BENCH / "wrk" / "distinct.txt"
        distinct.write_text("\n".join(mint_access_tokens([int(claims(pair["access"])["user_id"])] * 50_000)) + "\n")
        chains = asyncio.run(tokens(rotating.url, 8))
        verify_body = orjson.dumps({"token": pair["access"]}).decode()
        refresh_body = orjson.dumps({"refresh": pair["refresh"]}).decode()
        login_body = orjson.dumps({"username": "bench", "password": "benchmark pw"}).decode()
        runs = {
            "bare Tornado JSON handler": (bare.url + "/bare/", "post.lua", {"BODY": verify_body}),
            "/api/token/verify/ (one token)": (plain.url + "/api/token/verify/", "post.lua", {"BODY": verify_body}),
            "/api/token/verify/ (50,000 tokens)": (plain.url + "/api/token/verify/", "post_tokens.lua",
                                                   {"TOKENS_FILE": str(distinct)}),
            "/api/token/refresh/": (plain.url + "/api/token/refresh/", "post.lua", {"BODY": refresh_body}),
        }
        for level in levels:
            # Bare and ours alternate over rounds; each row is the median of its rounds.
            rounds = [{name: wrk(url, seconds, level, script, env) for name, (url, script, env) in runs.items()}
                      for _ in range(REST_ROUNDS)]
            medians = {name: {key: median(r[name][key] for r in rounds) for key in rounds[0][name]} for name in runs}
            base = medians["bare Tornado JSON handler"]
            for name, figures in medians.items():
                print_rest(name, level, figures, None if figures is base else base)
        distinct.unlink()
        seeds = BENCH / "wrk" / "seeds.txt"
        seeds.write_text("\n".join(pair["refresh"] for pair in chains) + "\n")
        chained = wrk(rotating.url + "/api/token/refresh/", seconds, 8, "refresh_chain.lua",
                      {"TOKENS_FILE": str(seeds)}, threads=8)
        seeds.unlink()
        print_rest("/api/token/refresh/ rotate+blacklist", 8, chained, base)
        print_rest("/api/token/ (login, Argon2id t=3 m=12MiB)", 4,
                   wrk(plain.url + "/api/token/", seconds, 4, "post.lua", {"BODY": login_body}), None)


def hold(server: Server, url: str, tokens_file: str, count: int) -> dict:
    """Hold `count` sockets open; return how many held and the server's RSS growth per connection."""
    before = server.rss_kib()
    process = node("hold", url, tokens_file, str(count), stdin=subprocess.PIPE)
    held = json.loads(process.stdout.readline())
    time.sleep(1.0)  # let the server settle its buffers before reading its memory
    after = server.rss_kib()
    process.stdin.close()
    final = json.loads(process.stdout.readline())
    process.wait(timeout=60)
    return {"held": held["held"], "errors": held["errors"], "dropped": final["dropped_while_held"],
            "kib_per_connection": (after - before) / max(1, held["held"])}


@contextmanager
def ws_server(users: int):
    """Our server with `users` registered users, idle (no matchmaking): yields it, its URL and a tokens file."""
    with Server({**CHEAP_PASSWORDS, "GAME_MATCH_INTERVAL": "1000000", "GAME_MESSAGE_RATE": "100000",
                 "GAME_MESSAGE_BURST": "100000"}) as server:
        tokens_file = BENCH / f"tokens-{server.port}.txt"
        tokens = mint_access_tokens(asyncio.run(register_users(server.url, users)))
        tokens_file.write_text("\n".join(tokens) + "\n")
        try:
            yield server, server.url.replace("http", "ws") + "/wss/multiplayer/", tokens_file
        finally:
            tokens_file.unlink(missing_ok=True)


def bench_websocket(quick: bool) -> None:
    header("WebSocket: connect + authenticate + welcome, echo round trip, idle sockets")
    with ws_server(256) as (ours, ws, tokens_file), Server(baseline=True) as bare:
        bare_ws = bare.url.replace("http", "ws") + "/bare/ws"
        # Sub-millisecond figures on a shared machine jump between runs: alternate bare and ours over
        # several rounds and report each figure's median across rounds.
        rounds = 3 if quick else 5
        count = "1000" if quick else "3000"
        handshakes = [(node_result("handshake", bare_ws, "-", count, "32"),
                       node_result("handshake", ws, str(tokens_file), count, "32")) for _ in range(rounds)]
        for side, name in ((0, "bare: open + one frame"), (1, "ours: open + auth + welcome")):
            runs = [pair[side] for pair in handshakes]
            print(f"{name:<30} {median(r['rate'] for r in runs):>8.0f} conn/s  p50 {median(r['p50'] for r in runs):>6.2f} ms"
                  f"  p99 {median(r['p99'] for r in runs):>6.2f} ms  errors {sum(r['errors'] for r in runs)}"
                  f"  load CPU {median(r['load_cpu'] for r in runs):.0%}", flush=True)
        ratios = sorted(mine["rate"] / base["rate"] for base, mine in handshakes)
        print(f"handshake rate vs bare: median {median(ratios):.0%} over {rounds} rounds "
              f"(range {ratios[0]:.0%}-{ratios[-1]:.0%})")
        messages = "2000" if quick else "4000"
        echoes = [(node_result("echo", bare_ws, "-", messages, '{"event":"ping"}'),
                   node_result("echo", ws, str(tokens_file), messages, '{"event":"ping"}')) for _ in range(rounds)]
        b50, b99 = median(b["p50"] for b, _ in echoes), median(b["p99"] for b, _ in echoes)
        o50, o99 = median(o["p50"] for _, o in echoes), median(o["p99"] for _, o in echoes)
        print(f"echo round trip (median of {rounds} rounds): bare p50 {b50:.3f} ms p99 {b99:.3f} ms; "
              f"ours (unknown event -> error frame) p50 {o50:.3f} ms p99 {o99:.3f} ms; p99 ratio {o99 / b99:.2f}x",
              flush=True)
    for count in ([1000] if quick else [1000, 5000, 10_000]):  # fresh servers: freed memory is not reused
        with Server(baseline=True) as bare, ws_server(count) as (ours, ws, tokens_file):
            b = hold(bare, bare.url.replace("http", "ws") + "/bare/ws", "-", count)
            o = hold(ours, ws, str(tokens_file), count)
            ratio = o["kib_per_connection"] / max(b["kib_per_connection"], 0.1)
            print(f"idle {count:>6}: bare held {b['held']} ({b['kib_per_connection']:.1f} KiB/conn), ours held "
                  f"{o['held']} ({o['kib_per_connection']:.1f} KiB/conn, {ratio:.2f}x), errors {o['errors']}, "
                  f"dropped {o['dropped']}", flush=True)


# The game loop under a login storm

def bench_isolation(seconds: int, rooms: int) -> None:
    header(f"Isolation: {rooms} rooms of 3 idle players at 60 Hz, with and without a login storm")
    server = Server({"GAME_MATCH_INTERVAL": "0.2"})
    tokens_file = BENCH / "tokens.txt"
    try:
        user_ids = asyncio.run(register_users(server.url, rooms * 3))
        tokens_file.write_text("\n".join(mint_access_tokens(user_ids)) + "\n")
        holder = node("hold", server.url.replace("http", "ws") + "/wss/multiplayer/", str(tokens_file),
                      str(rooms * 3), stdin=subprocess.PIPE)
        holder.stdout.readline()
        while asyncio.run(stats(server.url, 1))["rooms"] < rooms:
            time.sleep(0.2)
        asyncio.run(api(server.url, "/api/register/", {"username": "storm", "password": "benchmark pw"}))
        access = asyncio.run(api(server.url, "/api/token/", {"username": "storm", "password": "benchmark pw"}))["access"]
        verify_body = orjson.dumps({"token": access}).decode()
        login_body = orjson.dumps({"username": "storm", "password": "benchmark pw"}).decode()
        ticks = int(seconds * 60)

        def window() -> tuple[dict, dict]:
            """Tick and verify figures over `seconds` under a verify load."""
            verify = wrk(server.url + "/api/token/verify/", seconds, 8, "post.lua", {"BODY": verify_body})
            return asyncio.run(stats(server.url, ticks))["tick_ms"], verify

        # Calm and stormy windows alternate; each figure is the median over the rounds.
        rounds, calm, stormy, logins = 3, [], [], []
        for _ in range(rounds):
            calm.append(window())
            storm = subprocess.Popen(pinned(LOAD_CORE, ["wrk", "-t2", "-c32", f"-d{seconds + 2}s", "-s",
                                                        str(BENCH / "wrk" / "post.lua"), server.url + "/api/token/"]),
                                     env={**os.environ, "BODY": login_body}, stdout=subprocess.PIPE, text=True)
            time.sleep(1.0)  # the storm is under way before measuring
            stormy.append(window())
            logins.append(float(re.search(r"Requests/sec:\s+([\d.]+)", storm.communicate()[0]).group(1)))

        def tick(runs: list, key: str) -> float:
            return median(run[0][key] for run in runs)

        ratios = sorted(s[0]["p99"] / c[0]["p99"] for c, s in zip(calm, stormy))
        print(f"tick  p50/p99/max ms (median of {rounds} rounds): calm {tick(calm, 'p50'):.2f}/{tick(calm, 'p99'):.2f}/"
              f"{tick(calm, 'max'):.2f}, login storm {tick(stormy, 'p50'):.2f}/{tick(stormy, 'p99'):.2f}/"
              f"{tick(stormy, 'max'):.2f} (p99 ratio {tick(stormy, 'p99') / tick(calm, 'p99'):.2f}x, per round "
              f"{', '.join(f'{r:.2f}' for r in ratios)}; storm {median(logins):.0f} logins/s)")
        print(f"verify p99 ms: calm {median(v['p99'] for _, v in calm):.2f} "
              f"({median(v['rps'] for _, v in calm):.0f} req/s), login storm {median(v['p99'] for _, v in stormy):.2f} "
              f"({median(v['rps'] for _, v in stormy):.0f} req/s)", flush=True)
        holder.stdin.close()
        holder.wait(timeout=60)
    finally:
        tokens_file.unlink(missing_ok=True)
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts, shorter runs (a smoke run)")
    parser.add_argument("--only", default="rest,ws,game,isolation", help="a comma-separated subset to run")
    parser.add_argument("--against", metavar="REF", help="the regression check: REF's server against the working "
                                                          "tree's (bench/regression.py), instead of the benchmarks")
    args = parser.parse_args()
    if args.against:
        print(f"Tornado Arena regression check, {time.strftime('%Y-%m-%d %H:%M')} UTC; {machine()}")
        regression.run(args.against, args.quick)
        return
    seconds = 2 if args.quick else 4
    parts = set(args.only.split(","))
    print(f"Tornado Arena benchmarks, {time.strftime('%Y-%m-%d %H:%M')} UTC; {machine()}")
    if "rest" in parts:
        bench_rest(seconds, [16] if args.quick else [16, 64])
    if "ws" in parts:
        bench_websocket(args.quick)
    if "game" in parts:
        subprocess.run(pinned(SERVER_CORE, [python(), str(BENCH / "game_loop.py"), "--seconds", str(seconds)]),
                       cwd=ROOT, check=True)
    if "isolation" in parts:
        bench_isolation(seconds, 100 if args.quick else 300)


if __name__ == "__main__":
    main()
