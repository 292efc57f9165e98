"""The game loop on real sockets: N rooms of 3 idle humans, each on its own WebSocket held by Node's
`ws` on the load core, the server alone on its core; tick p50/p99 over 600 ticks from `/api/stats/`,
and where the ticks' time went (py-spy's samples sorted into simulation, encoding, writing, other).

    python bench/rooms_sockets.py [--rooms 100,300,1000,2000] [--against REF] [--no-profile]

With `--against REF` each room count runs REF's server first, then the working tree's, in the same run.
"""

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, header, machine  # noqa: E402
from bench.harness import (BENCH, CHEAP_PASSWORDS, Server, mint_access_tokens, node,  # noqa: E402
                           register_users, stats)
from bench.regression import checkout  # noqa: E402

TICKS = 600  # 10 s at 60 Hz
DEADLINE_MS = 1000 / 60
# Where a tick's sample goes: to the part its innermost frame of ours belongs to (writing: the fan-out
# from a room down to the socket); "other": the rest of the tick (matchmaking, the loop's own work).
TICK = "FixedTimestepLoop.advance"
PARTS = (("writing", ("Room.broadcast", "GameSocketHandler.send", "frames.py", "iostream.py")),
         ("encoding", ("snapshot", "encode", "player_row")),
         ("simulation", ("rules.py", "stepping.py", "bots.py", "room.py", "game.py")))


def cpu_split(pid: int, seconds: float) -> dict[str, float]:
    """Shares of the ticks' sampled time by part (py-spy; empty when py-spy cannot attach). Samples
    outside ticks (requests, pings, the IOLoop waiting) are left out."""
    if shutil.which("py-spy") is None:
        return {}
    with tempfile.NamedTemporaryFile(suffix=".txt") as out:
        # Blocking samples (the server pauses for each): non-blocking ones tear stacks apart.
        done = subprocess.run(["py-spy", "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200",
                               "--format", "raw", "--output", out.name],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if done.returncode != 0:
            return {}
        samples = Counter()
        for line in Path(out.name).read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if TICK not in stack:
                continue
            frames = stack.split(";")[::-1]  # innermost first: the part of ours it is closest to
            part = next((name for frame in frames for name, marks in PARTS if any(mark in frame for mark in marks)),
                        "other")
            samples[part] += int(count)
    total = sum(samples.values()) or 1
    return {part: samples[part] / total for part in ("simulation", "encoding", "writing", "other")}


def measure(root: Path, rooms: int, profile: bool) -> dict:
    env = {**CHEAP_PASSWORDS, "GAME_MATCH_INTERVAL": "0.2", "GAME_BOT_FILL_AFTER": "100000",
           "ARENA_DATA_DIR": ""}
    tokens_file = BENCH / f"tokens-rooms-{rooms}.txt"
    with Server(env, root=root) as server, ExitStack() as cleanup:
        cleanup.callback(tokens_file.unlink, missing_ok=True)
        tokens_file.write_text("\n".join(mint_access_tokens(asyncio.run(register_users(server.url, rooms * 3)))) + "\n")
        holder = node("hold", server.url.replace("http", "ws") + "/wss/multiplayer/", str(tokens_file),
                      str(rooms * 3), stdin=subprocess.PIPE)
        cleanup.callback(holder.wait, 120)
        cleanup.callback(holder.stdin.close)
        holder.stdout.readline()
        while asyncio.run(stats(server.url, 1))["rooms"] < rooms:
            time.sleep(0.2)
        time.sleep(TICKS / 60)  # every tick of the window runs all the rooms
        split = cpu_split(server.process.pid, 5) if profile else {}
        if profile:
            time.sleep(TICKS / 60)  # and none of it under the profiler
        tick = asyncio.run(stats(server.url, TICKS))["tick_ms"]
    return {**tick, "split": split}


def row(label: str, rooms: int, r: dict) -> str:
    split = r["split"]
    parts = " ".join(f"{split[p] * 100:>5.0f}%" for p in ("simulation", "encoding", "writing", "other")) if split else ""
    return f"{label:>8} {rooms:>6} {rooms * 3:>8} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['max']:>8.2f}  {parts}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", default="100,300,1000,2000")
    parser.add_argument("--against", help="a commit whose server runs beside the working tree's")
    parser.add_argument("--no-profile", action="store_true", help="skip py-spy's CPU split")
    args = parser.parse_args()
    print(machine())
    header(f"Rooms of real sockets: 3 idle humans a room, tick over {TICKS} ticks (deadline {DEADLINE_MS:.1f} ms)")
    print(f"{'server':>8} {'rooms':>6} {'sockets':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  "
          f"{'sim':>6} {'encode':>6} {'write':>6} {'other':>6}")
    first_miss = None
    with ExitStack() as stack:
        servers = [("now", ROOT)]
        if args.against:
            servers.insert(0, (args.against[:8], stack.enter_context(checkout(args.against))))
        for rooms in [int(n) for n in args.rooms.split(",")]:
            for label, root in servers:
                r = measure(root, rooms, not args.no_profile)
                print(row(label, rooms, r), flush=True)
                if label == "now" and first_miss is None and r["p99"] > DEADLINE_MS:
                    first_miss = rooms
    print(f"first room count whose tick p99 misses the {DEADLINE_MS:.1f} ms deadline: {first_miss or 'none of those measured'}")


if __name__ == "__main__":
    main()
