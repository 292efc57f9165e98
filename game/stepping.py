"""One step of a game: the intents queued since the last step, in order, then the bots' minds, then the
rules. A room runs it live and a replay runs it again (game/replay.py): the same code, so a replay is
exact."""

import random
from typing import Union

from game import bots, intents
from game.rules import Match, Refused

Outcome = tuple[int, Union[dict, Refused]]  # (player id, event to broadcast or the refusal to tell them)


def step(match: Match, bot_ids: list[int], rng: random.Random, inputs: list[tuple[int, str, dict]],
         dt: float) -> tuple[list[Outcome], list[dict]]:
    """Apply `inputs` (player id, intent, payload), let the bots think, advance the match by `dt`: what
    the intents gave (events to broadcast, refusals) and the events of the rules' step (hits, deaths)."""
    outcomes: list[Outcome] = []
    for player_id, name, payload in inputs:
        try:
            event = intents.act(match, player_id, name, payload)
        except Refused as refused:
            outcomes.append((player_id, refused))
            continue
        if event is not None:
            outcomes.append((player_id, event))
    for bot_id in bot_ids:
        bot = match.players[bot_id]
        if bot.alive:
            bots.think(match, bot, dt, rng)
    return outcomes, match.step(dt)
