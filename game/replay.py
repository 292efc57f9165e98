"""Replays: what a room records while its game runs, and that game played again, exactly.

A game is a function of its seed, its rules' settings, its players in the order they were seated, and
what happened at each step: the intents applied (refused ones too: trying to act marks a player as
having played), and players' connections dropping and coming back. Bots draw from the room's seeded
random source. So a recording holds only those — a few KiB for minutes of play — and `Replay` steps a
new match through them with the code the room ran (game/stepping.py), giving the same positions, hits,
places and winner bit for bit. `RULES_VERSION` is recorded with each game: a change to the rules that
alters outcomes must raise it (tests/test_replays.py replays stored games of every version it knows).
"""

import asyncio
import json
import random
import zlib
from collections import OrderedDict
from dataclasses import fields
from typing import Optional

from game import protocol, stepping
from game.rules import Match, Refused
from settings import GameSettings

RULES_VERSION = 1
CONNECTED, DISCONNECTED, AWAITED = "+", "-", "?"  # the events a recording holds besides intents
RULES_SETTINGS = ("TICK_RATE", "MAP_WIDTH", "MAP_HEIGHT", "PLAYER_RADIUS", "PLAYER_SPEED", "FIREBALL_RADIUS",
                  "FIREBALL_SPEED", "FIREBALL_RANGE", "FIREBALL_COOLDOWN", "BLINK_RANGE", "BLINK_COOLDOWN",
                  "HIT_DAMAGE", "HITS_TO_KILL", "KNOCKBACK_SPEED", "KNOCKBACK_FRICTION", "HIT_SPEED_FACTOR",
                  "CHAT_MAX_LENGTH", "WIN_SCORE", "LOSS_SCORE", "RECONNECT_GRACE", "BOT_HOLD_FIRE",
                  "SNAPSHOT_RATE")  # what changes a game's course (or how a replay samples it)
STEPS_PER_SLICE = 500  # a replay played on the event loop yields this often (a few ms)
FRAMES_KEPT = 16  # replays played for viewers, kept: a popular game is played once


class Recording:
    """The events of a room's game, each stamped with the step it came before: `[step, player, event,
    payload]`, in the order they were applied."""

    def __init__(self, steps: int = 0, events: Optional[list] = None):
        self.steps = steps
        self.events: list[list] = events if events is not None else []

    def intents(self, inputs: list[tuple[int, str, dict]]) -> None:
        for player_id, name, payload in inputs:
            self.events.append([self.steps, player_id, name, payload])

    def connection(self, player_id: int, event: str) -> None:
        self.events.append([self.steps, player_id, event, None])

    def export(self) -> dict:
        return {"steps": self.steps, "events": self.events}


CODES = {protocol.MOVE_TO: "m", protocol.SHOOT_FIREBALL: "f", protocol.BLINK: "b", protocol.MESSAGE: "c",
         CONNECTED: CONNECTED, DISCONNECTED: DISCONNECTED, AWAITED: AWAITED}
NAMES = {code: name for name, code in CODES.items()}


def _compact(events: list) -> list:
    """`[step, player, event, payload]` rows as stored: `[steps since the row before, player, code, *values]`."""
    rows, last = [], 0
    for step, player_id, name, payload in events:
        rows.append([step - last, player_id, CODES[name], *(payload or {}).values()])
        last = step
    return rows


def _expand(rows: list) -> list:
    events, step = [], 0
    for delta, player_id, code, *values in rows:
        step += delta
        name = NAMES[code]
        payload = {"tx": values[0], "ty": values[1]} if len(values) == 2 else {"text": values[0]} if values else None
        events.append([step, player_id, name, payload])
    return events


def record(room_id: str, seed: int, settings: GameSettings, practice: bool, match: Match, recording: Recording,
           result: dict) -> bytes:
    """A finished game's replay, compact and compressed, as stored with its result."""
    document = {"id": room_id, "version": RULES_VERSION, "seed": seed, "practice": practice,
                "settings": {name: getattr(settings, name) for name in RULES_SETTINGS},
                "players": [{"id": p.id, "username": p.username, "score": p.score, "bot": p.bot}
                            for p in match.players.values()],
                "steps": recording.steps, "inputs": _compact(recording.events), "result": result}
    return zlib.compress(json.dumps(document, separators=(",", ":")).encode(), 9)


def load(stored: bytes) -> dict:
    """A stored replay as the API answers it: `inputs` as `[step, player, event, payload]`."""
    document = json.loads(zlib.decompress(stored))
    return {**document, "inputs": _expand(document["inputs"])}


class Replay:
    """A recorded game played again: `run` yields to the event loop every STEPS_PER_SLICE steps and
    returns the frames a viewer draws (a `state` at the snapshot rate, and the events of each step)."""

    def __init__(self, document: dict):
        if document["version"] != RULES_VERSION:
            raise ValueError(f"recorded with rules version {document['version']}; this server plays {RULES_VERSION}")
        known = {f.name for f in fields(GameSettings)}
        self.settings = GameSettings(**{k: v for k, v in document["settings"].items() if k in known})
        self.document = document
        self.match = Match(self.settings, random.Random(document["seed"]), practice=document["practice"])
        for player in document["players"]:
            self.match.add_player(player["id"], player["username"], player["score"], player["bot"])
        self.bot_ids = [player["id"] for player in document["players"] if player["bot"]]

    def _apply(self, event: list) -> Optional[tuple[int, str, dict]]:
        """A connection change at once; an intent back, to be stepped."""
        _, player_id, name, payload = event
        if name == CONNECTED:
            self.match.set_connected(player_id, True)
        elif name == DISCONNECTED:
            if not self.match.over:
                self.match.set_connected(player_id, False)
        elif name == AWAITED:
            self.match.await_arrival(player_id)
        else:
            return player_id, name, payload
        return None

    async def run(self) -> list[dict]:
        settings, match = self.settings, self.match
        dt = 1.0 / settings.TICK_RATE
        every = max(1, round(settings.TICK_RATE / settings.SNAPSHOT_RATE))
        events = iter(self.document["inputs"])
        pending = next(events, None)
        frames: list[dict] = [match.snapshot(0)]
        for step in range(self.document["steps"]):
            inputs = []
            while pending is not None and pending[0] == step:
                intent = self._apply(pending)
                if intent is not None:
                    inputs.append(intent)
                pending = next(events, None)
            outcomes, happened = stepping.step(match, self.bot_ids, match.rng, inputs, dt)
            told = [event for _, event in outcomes if not isinstance(event, Refused)] + happened
            if told:
                frames.append({"event": "events", "step": step + 1, "events": told})
            if (step + 1) % every == 0 or step + 1 == self.document["steps"]:
                frames.append(match.snapshot(step + 1))
            if step % STEPS_PER_SLICE == STEPS_PER_SLICE - 1:
                await asyncio.sleep(0)
        return frames


def result_of(match: Match, abandoned: bool, changes: dict[int, int]) -> dict:
    """The recorded result a replay must reach (as JSON: keys are strings)."""
    return {"winner": None if abandoned else match.winner, "abandoned": abandoned,
            "places": {str(k): v for k, v in match.places().items()},
            "score_changes": {str(k): v for k, v in changes.items()},
            "rows": [match.player_row(player) for player in match.players.values()]}


class Viewings:
    """Replays played for viewers: one at a time on the event loop (a burst of requests cannot crowd
    out the game's ticks), the latest FRAMES_KEPT kept."""

    def __init__(self) -> None:
        self._played: OrderedDict[str, list[dict]] = OrderedDict()
        self._turn = asyncio.Lock()

    async def frames(self, document: dict) -> list[dict]:
        """The frames of the recorded game; ValueError for a game of other rules."""
        game_id = document["id"]
        async with self._turn:
            if game_id not in self._played:
                self._played[game_id] = await Replay(document).run()
                while len(self._played) > FRAMES_KEPT:
                    self._played.popitem(last=False)
            self._played.move_to_end(game_id)
            return self._played[game_id]
