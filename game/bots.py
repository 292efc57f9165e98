"""Server-side bots that play like the original course's robots: wander, and after a while shoot."""

import random

from game.rules import KNOCKBACK_STOP, Match, Player, Refused

SHOTS_PER_SECOND = 60 / 300  # the original: a 1/300 chance each 1/60 s frame


def think(match: Match, bot: Player, dt: float, rng: random.Random) -> None:
    """One step of a bot's mind: a new random destination when idle, now and then a fireball."""
    s = match.settings
    if bot.target is None and bot.knock_speed <= KNOCKBACK_STOP:
        match.move_to(bot.id, rng.uniform(0, s.MAP_WIDTH), rng.uniform(0, s.MAP_HEIGHT))
    if match.time > s.BOT_HOLD_FIRE and match.time >= bot.fireball_ready_at and rng.random() < SHOTS_PER_SECOND * dt:
        targets = [p for p in match.players.values() if p.alive and p.id != bot.id]
        if targets:
            target = rng.choice(targets)
            try:
                match.shoot_fireball(bot.id, target.x, target.y)
            except Refused:
                pass
