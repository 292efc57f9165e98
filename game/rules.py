"""The rules of ball battle, server-authoritative: plain state stepped by a fixed `dt`.

No sockets, no IOLoop, no wall clock: a `Match` is given its settings, its players and a random
source, receives intentions, and `step(dt)` advances it, returning what happened. Replaying the same
intentions with the same seed gives the same game.
"""

import math
import random
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from game import protocol
from settings import GameSettings

FRAME = 1 / 60  # the original's frame: knockback friction is specified per 1/60 s
TIME_EPSILON = 1e-9  # simulation time is a sum of dt steps: compare cooldowns with a little slack
KNOCKBACK_STOP = 0.01  # below this speed a knockback is over (the original's eps)


class Refused(Exception):
    """An intention the rules do not allow now; `code` is the protocol's error code."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass
class Player:
    id: int
    username: str
    score: int
    bot: bool
    x: float
    y: float
    radius: float
    speed: float
    target: Optional[tuple[float, float]] = None
    knock_x: float = 0.0
    knock_y: float = 0.0
    knock_speed: float = 0.0
    hits: int = 0
    alive: bool = True
    fireball_ready_at: float = 0.0
    blink_ready_at: float = 0.0
    connected: bool = True
    disconnected_at: float = 0.0
    acted: bool = False  # sent a move, fireball or blink in this game; a human who never does is AFK
    arrived: bool = True  # a human seated from another process has connected to the room at least once
    place: int = 0  # once out: 1 + how many were still in; at the end, 1 for whoever is still in
    out_at: float = -1.0  # the match time they went out


@dataclass
class Fireball:
    id: int
    owner: int
    x: float
    y: float
    dx: float
    dy: float
    remaining: float


@dataclass
class Match:
    """One room's game state and the rules that change it."""

    settings: GameSettings
    rng: random.Random
    players: dict[int, Player] = field(default_factory=dict)
    fireballs: list[Fireball] = field(default_factory=list)
    time: float = 0.0
    over: bool = False
    winner: Optional[int] = None
    _next_fireball: int = 0
    practice: bool = False  # a game against bots started at once: never rated

    def add_player(self, player_id: int, username: str, score: int, bot: bool) -> Player:
        s = self.settings
        x, y = self._free_spot()
        player = Player(player_id, username, score, bot, x, y, s.PLAYER_RADIUS, s.PLAYER_SPEED,
                        fireball_ready_at=self.time + s.FIREBALL_COOLDOWN, blink_ready_at=self.time + s.BLINK_COOLDOWN)
        self.players[player_id] = player
        return player

    def _free_spot(self) -> tuple[float, float]:
        """A random spot whose ball overlaps no other ball (the best of a few tries on a crowded map)."""
        s = self.settings
        best, best_gap = (s.MAP_WIDTH / 2, s.MAP_HEIGHT / 2), -math.inf
        for _ in range(20):
            x = self.rng.uniform(s.PLAYER_RADIUS, s.MAP_WIDTH - s.PLAYER_RADIUS)
            y = self.rng.uniform(s.PLAYER_RADIUS, s.MAP_HEIGHT - s.PLAYER_RADIUS)
            gap = min((math.hypot(x - p.x, y - p.y) - p.radius - s.PLAYER_RADIUS for p in self.players.values()),
                      default=math.inf)
            if gap > 0:
                return x, y
            if gap > best_gap:
                best, best_gap = (x, y), gap
        return best

    # Intentions

    def _actor(self, player_id: int) -> Player:
        player = self.players[player_id]
        player.acted = True
        if not player.alive or self.over:
            raise Refused(protocol.DEAD, "dead players cannot act")
        return player

    def _clamp(self, x: float, y: float, margin: float = 0.0) -> tuple[float, float]:
        """A point of the map, at least `margin` from its walls (a ball's radius: it stays wholly inside)."""
        s = self.settings
        return min(max(x, margin), s.MAP_WIDTH - margin), min(max(y, margin), s.MAP_HEIGHT - margin)

    def move_to(self, player_id: int, tx: float, ty: float) -> None:
        player = self._actor(player_id)
        player.target = self._clamp(tx, ty, player.radius)

    def _refuse_until(self, ready_at: float, ability: str) -> None:
        """The cooldown gate: an ability used before `ready_at` is refused, saying how long is left."""
        if self.time + TIME_EPSILON < ready_at:
            raise Refused(protocol.COOLDOWN, f"{ability} ready in {ready_at - self.time:.2f} s")

    def shoot_fireball(self, player_id: int, tx: float, ty: float) -> Fireball:
        player = self._actor(player_id)
        s = self.settings
        self._refuse_until(player.fireball_ready_at, "fireball")
        angle = math.atan2(ty - player.y, tx - player.x)
        self._next_fireball += 1
        fireball = Fireball(self._next_fireball, player_id, player.x, player.y, math.cos(angle), math.sin(angle),
                            s.FIREBALL_RANGE)
        self.fireballs.append(fireball)
        player.fireball_ready_at = self.time + s.FIREBALL_COOLDOWN
        return fireball

    def blink(self, player_id: int, tx: float, ty: float) -> None:
        player = self._actor(player_id)
        s = self.settings
        self._refuse_until(player.blink_ready_at, "blink")
        distance = min(math.hypot(tx - player.x, ty - player.y), s.BLINK_RANGE)
        angle = math.atan2(ty - player.y, tx - player.x)
        player.x, player.y = self._clamp(player.x + distance * math.cos(angle), player.y + distance * math.sin(angle),
                                         player.radius)
        player.target = None
        player.blink_ready_at = self.time + s.BLINK_COOLDOWN

    def chat(self, player_id: int, text: str) -> dict:
        if len(text) > self.settings.CHAT_MAX_LENGTH:
            raise Refused(protocol.BAD_MESSAGE, f"chat messages are at most {self.settings.CHAT_MAX_LENGTH} characters")
        player = self.players[player_id]
        return {"event": protocol.MESSAGE, "from": player_id, "username": player.username, "text": text}

    def set_connected(self, player_id: int, connected: bool) -> None:
        """A dropped player's ball stands still; after GAME_RECONNECT_GRACE it counts as dead."""
        player = self.players[player_id]
        player.connected = connected
        if connected:
            player.arrived = True
        else:
            player.disconnected_at = self.time
            player.target = None

    def await_arrival(self, player_id: int) -> None:
        """A human seated here while connected elsewhere: if they never arrive, they are out unscored."""
        self.set_connected(player_id, False)
        self.players[player_id].arrived = False

    # Simulation

    def step(self, dt: float) -> list[dict]:
        """Advance by `dt` seconds; return the events that happened (attacks, deaths)."""
        if self.over:
            return []
        self.time += dt
        events: list[dict] = []
        for player in self.players.values():  # (every room steps 60 times a second: still players cost no call)
            if player.alive and (player.target is not None or player.knock_speed > KNOCKBACK_STOP):
                self._move(player, dt)
        if self.fireballs:
            self._fly_fireballs(dt, events)
        grace = self.settings.RECONNECT_GRACE
        alive, human_alive = [], False
        for player in self.players.values():
            if player.alive and not player.connected and self.time - player.disconnected_at >= grace:
                self._kill(player, events)
            if player.alive:
                alive.append(player)
                human_alive = human_alive or not player.bot
        if len(alive) <= 1 or not human_alive:
            # The last one standing wins; with no human left alive nobody watches bots fight it out
            # (they share first place).
            self.over = True
            self.winner = alive[0].id if len(alive) == 1 else None
            for player in alive:
                player.place = 1
        return events

    def _move(self, player: Player, dt: float) -> None:
        if player.knock_speed > KNOCKBACK_STOP:
            player.target = None  # own movement pauses while knocked back
            player.x, player.y = self._clamp(player.x + player.knock_x * player.knock_speed * dt,
                                             player.y + player.knock_y * player.knock_speed * dt, player.radius)
            player.knock_speed *= self.settings.KNOCKBACK_FRICTION ** (dt / FRAME)
            return
        if player.target is None:
            return
        tx, ty = player.target
        distance = math.hypot(tx - player.x, ty - player.y)
        travel = player.speed * dt
        if distance <= travel:
            player.x, player.y, player.target = tx, ty, None
        else:
            player.x += (tx - player.x) / distance * travel
            player.y += (ty - player.y) / distance * travel

    def _fly_fireballs(self, dt: float, events: list[dict]) -> None:
        s = self.settings
        flying = []
        for ball in self.fireballs:
            travel = min(s.FIREBALL_SPEED * dt, ball.remaining)
            target, along = self._first_touched(ball, travel)
            ball.x += ball.dx * along
            ball.y += ball.dy * along
            ball.remaining -= travel
            if target is not None:
                self._hit(ball, target, events)
            elif ball.remaining > 1e-9:
                flying.append(ball)
        self.fireballs = flying

    def _first_touched(self, ball: Fireball, travel: float) -> tuple[Optional[Player], float]:
        """The first other player the ball's path over `travel` touches, and how far along it does.

        The path is swept, not sampled, so a fast ball cannot pass through a player between ticks.
        """
        first, first_at = None, travel
        for player in self.players.values():
            if not player.alive or player.id == ball.owner:
                continue
            reach = self.settings.FIREBALL_RADIUS + player.radius
            # Solve |ball + t·direction − player| = reach for the smallest t in [0, travel].
            ox, oy = ball.x - player.x, ball.y - player.y
            b = ox * ball.dx + oy * ball.dy
            c = ox * ox + oy * oy - reach * reach
            if c < 0:
                return player, 0.0  # already touching
            disc = b * b - c
            if disc < 0 or b > 0:
                continue
            t = -b - math.sqrt(disc)
            if t <= first_at:
                first, first_at = player, t
        return first, first_at

    def _hit(self, ball: Fireball, player: Player, events: list[dict]) -> None:
        s = self.settings
        angle = math.atan2(player.y - ball.y, player.x - ball.x)
        player.hits += 1
        player.radius -= s.HIT_DAMAGE
        player.knock_x, player.knock_y = math.cos(angle), math.sin(angle)
        player.knock_speed = s.KNOCKBACK_SPEED
        player.speed *= s.HIT_SPEED_FACTOR
        player.target = None
        events.append({"event": protocol.ATTACK, "attacker": ball.owner, "attackee": player.id,
                       "x": player.x, "y": player.y, "angle": angle, "damage": s.HIT_DAMAGE, "fireball": ball.id})
        if player.hits >= s.HITS_TO_KILL:
            self._kill(player, events, by=ball.owner)

    def _kill(self, player: Player, events: list[dict], by: Optional[int] = None) -> None:
        """Out of the game, by `by`'s fireball (None: they stayed away past the grace); `place` is 1 + how
        many are still alive (the first of three out is 3rd)."""
        player.alive = False
        player.target = None
        player.knock_speed = 0.0
        player.place = 1 + sum(1 for other in self.players.values() if other.alive)
        player.out_at = self.time
        events.append({"event": protocol.DIED, "player": player.id, "place": player.place, "by": by})

    # What clients see

    # Rows are built for every snapshot of every room: lengths go out to 4 decimals and cooldowns to 2 as
    # `round(v * 10**n) / 10**n`, which costs half what `round(v, n)` does.

    def player_row(self, player: Player) -> list[Any]:
        """The player as a `state` row: the fields of protocol.PLAYER_ROW, in its order."""
        fireball_left, blink_left = player.fireball_ready_at - self.time, player.blink_ready_at - self.time
        return [player.id, round(player.x * 1e4) / 1e4, round(player.y * 1e4) / 1e4, round(player.radius * 1e4) / 1e4,
                int(player.alive), round(fireball_left * 100) / 100 if fireball_left > 0 else 0.0,
                round(blink_left * 100) / 100 if blink_left > 0 else 0.0, int(player.connected), player.hits]

    def snapshot(self, tick: int) -> dict:
        return {
            "event": protocol.STATE,
            "tick": tick,
            "players": [self.player_row(player) for player in self.players.values()],
            "fireballs": [[ball.id, round(ball.x * 1e4) / 1e4, round(ball.y * 1e4) / 1e4, ball.owner]  # FIREBALL_ROW
                          for ball in self.fireballs],
        }

    def places(self) -> dict[int, int]:
        return {player.id: player.place for player in self.players.values()}

    def unrated_reason(self) -> Optional[str]:
        """Why the game changes no score, or None: a practice game, or fewer than two humans who played
        (a win over bots, or over accounts queued to be farmed that never move, is worth nothing)."""
        if self.practice:
            return "practice"
        if sum(1 for player in self.players.values() if not player.bot and player.acted) < 2:
            return "fewer_than_two_humans_played"
        return None

    def human_ranks(self) -> dict[int, int]:
        """Each human's rank among the humans (1 best): the one still in at the end, else by how late
        they went out; humans out at the same moment share a rank. Bots do not count, nor a human who
        never arrived (their process died before they could)."""
        humans = [player for player in self.players.values() if not player.bot and player.arrived]
        lasted = {player.id: math.inf if player.alive else player.out_at for player in humans}
        return {human: 1 + sum(1 for other in humans if lasted[other.id] > lasted[human]) for human in lasted}

    def score_changes(self) -> dict[int, int]:
        """The original rule among the humans: the best-ranked human +10, every other human −5; bots have
        no score, and a bot that wins takes no human's points. Humans who share the best rank (out last,
        at the same moment) score nothing.
        """
        if self.unrated_reason() is not None:
            return {}
        ranks = self.human_ranks()
        firsts = sum(1 for rank in ranks.values() if rank == 1)
        return {human: self.settings.WIN_SCORE for human, rank in ranks.items() if rank == 1 and firsts == 1} | {
            human: self.settings.LOSS_SCORE for human, rank in ranks.items() if rank > 1}

    # A hand-off to another process (cluster mode): the whole state as JSON-able data

    def export(self) -> dict:
        return {"players": [asdict(player) for player in self.players.values()],
                "fireballs": [asdict(ball) for ball in self.fireballs], "time": self.time, "over": self.over,
                "winner": self.winner, "next_fireball": self._next_fireball, "practice": self.practice,
                "rng": export_rng(self.rng)}

    @classmethod
    def restore(cls, settings: GameSettings, data: dict) -> "Match":
        players = {}
        for fields in data["players"]:
            target = fields.pop("target")
            players[fields["id"]] = Player(**fields, target=None if target is None else tuple(target))
        return cls(settings, restore_rng(data["rng"]), players, [Fireball(**ball) for ball in data["fireballs"]],
                   data["time"], data["over"], data["winner"], data["next_fireball"], data["practice"])


def export_rng(rng: random.Random) -> list:
    version, state, gauss = rng.getstate()
    return [version, list(state), gauss]


def restore_rng(data: list) -> random.Random:
    rng = random.Random()
    rng.setstate((data[0], tuple(data[1]), data[2]))
    return rng
