"""The rules of ball battle, stepped by hand: no socket, no IOLoop, no wall clock."""

import json
import math
import random

import pytest

from game import intents
from game.intents import INTENTS
from game.protocol import FIREBALL_ROW, PLAYER_ROW
from game.rules import Match, Refused
from settings import GameSettings

DT = 1 / 60
SETTINGS = GameSettings()


def make_match(*positions: tuple[float, float], settings: GameSettings = SETTINGS, ready: bool = True) -> Match:
    """A match with players 1..n at the given spots; `ready` skips the start-of-game cooldowns."""
    match = Match(settings, random.Random(7))
    for n, (x, y) in enumerate(positions, start=1):
        player = match.add_player(n, f"p{n}", 1500, bot=False)
        player.x, player.y = x, y
        if ready:
            player.fireball_ready_at = player.blink_ready_at = 0.0
    return match


def run(match: Match, seconds: float) -> list[dict]:
    events = []
    for _ in range(round(seconds / DT)):
        events += match.step(DT)
    return events


def test_players_spawn_apart_inside_the_map():
    match = Match(SETTINGS, random.Random(1))
    players = [match.add_player(n, f"p{n}", 1500, bot=False) for n in range(1, 4)]
    for a in players:
        assert a.radius <= a.x <= SETTINGS.MAP_WIDTH - a.radius and a.radius <= a.y <= SETTINGS.MAP_HEIGHT - a.radius
        for b in players:
            if a is not b:
                assert math.hypot(a.x - b.x, a.y - b.y) >= a.radius + b.radius


def test_same_seed_same_game():
    def replay():
        match = Match(SETTINGS, random.Random(42))
        for n in range(1, 4):
            match.add_player(n, f"p{n}", 1500, bot=False)
        match.move_to(1, 1.0, 0.5)
        run(match, 1.0)
        return match.snapshot(0)

    assert replay() == replay()


def test_move_to_walks_at_player_speed_and_stops_at_target():
    match = make_match((0.2, 0.5), (1.5, 0.9))
    match.move_to(1, 0.8, 0.5)
    run(match, 1.0)
    assert match.players[1].x == pytest.approx(0.2 + SETTINGS.PLAYER_SPEED, abs=1e-9)
    run(match, 5.0)
    assert (match.players[1].x, match.players[1].y) == (0.8, 0.5)
    assert match.players[1].target is None


def test_targets_and_positions_keep_the_whole_ball_inside_the_map():
    """A ball centred on the wall was drawn half outside the arena (issue 24)."""
    match = make_match((0.1, 0.1), (1.5, 0.9))
    radius = match.players[1].radius
    match.move_to(1, -5.0, -5.0)
    assert match.players[1].target == (radius, radius)
    match.blink(1, -3.0, 0.1)
    assert match.players[1].x == radius


def test_fireball_flies_at_its_speed_and_vanishes_after_its_range():
    match = make_match((0.1, 0.1), (1.7, 0.9))
    match.shoot_fireball(1, 1.1, 0.1)
    run(match, 1.0)
    (ball,) = match.fireballs
    assert ball.x == pytest.approx(0.1 + SETTINGS.FIREBALL_SPEED, abs=1e-9)
    run(match, 1.0)
    assert ball.x == pytest.approx(0.1 + SETTINGS.FIREBALL_RANGE, abs=1e-9)
    assert match.fireballs == []


def test_hit_shrinks_knocks_back_and_slows():
    match = make_match((0.2, 0.5), (0.5, 0.5))
    match.move_to(2, 1.7, 0.5)
    match.shoot_fireball(1, 0.5, 0.5)
    events = run(match, 1.0)
    attack = next(e for e in events if e["event"] == "attack")
    assert (attack["attacker"], attack["attackee"], attack["damage"]) == (1, 2, 0.01)
    target = match.players[2]
    assert target.radius == pytest.approx(0.04)
    assert target.speed == pytest.approx(SETTINGS.PLAYER_SPEED * 0.8)
    assert target.target is None  # own movement paused
    assert target.x > 0.5  # pushed away from the fireball
    assert match.fireballs == []  # the ball vanished


def test_knockback_decays_by_friction_per_sixtieth():
    match = make_match((0.2, 0.5), (1.2, 0.5))
    match.shoot_fireball(1, 1.2, 0.5)
    while not match.players[2].hits:
        match.step(DT)
    speed = match.players[2].knock_speed
    match.step(DT)
    assert match.players[2].knock_speed == pytest.approx(speed * 0.9)


def test_fireball_hits_the_first_player_it_touches_not_its_owner():
    match = make_match((0.2, 0.5), (0.5, 0.5), (0.8, 0.5))
    match.shoot_fireball(1, 0.8, 0.5)
    run(match, 1.0)
    assert (match.players[1].hits, match.players[2].hits, match.players[3].hits) == (0, 1, 0)


def test_fourth_hit_kills():
    match = make_match((0.2, 0.5), (0.8, 0.5), (0.9, 0.1))
    events = []
    for shot in range(4):
        shooter, target = match.players[1], match.players[2]
        shooter.fireball_ready_at, shooter.x, shooter.y = 0.0, target.x - 0.4, target.y
        match.shoot_fireball(1, target.x, target.y)
        events += run(match, 4.0)
        assert target.alive == (shot < 3)
    assert [e for e in events if e["event"] == "died"] == [{"event": "died", "player": 2, "place": 3, "by": 1}]
    with pytest.raises(Refused) as refused:
        match.move_to(2, 0.5, 0.5)
    assert refused.value.code == "dead"


def test_cooldowns_from_the_start_and_after_use():
    match = make_match((0.2, 0.5), (1.5, 0.5), ready=False)
    for action in (match.shoot_fireball, match.blink):
        with pytest.raises(Refused) as refused:
            action(1, 1.0, 0.5)
        assert refused.value.code == "cooldown"
    run(match, 3.0)
    match.shoot_fireball(1, 1.0, 0.5)
    with pytest.raises(Refused):
        match.shoot_fireball(1, 1.0, 0.5)
    with pytest.raises(Refused):
        match.blink(1, 1.0, 0.5)
    run(match, 2.0)
    match.blink(1, 1.0, 0.5)


def test_blink_range_and_stop():
    match = make_match((0.2, 0.5), (1.5, 0.9))
    match.move_to(1, 0.2, 0.0)
    match.blink(1, 1.7, 0.5)
    player = match.players[1]
    assert (player.x, player.y) == (pytest.approx(1.0), pytest.approx(0.5))
    assert player.target is None
    match.players[1].blink_ready_at = 0.0
    match.blink(1, 1.2, 0.5)
    assert player.x == pytest.approx(1.2)


def test_chat_is_limited_and_open_to_the_dead():
    match = make_match((0.2, 0.5), (1.5, 0.9))
    match.players[2].alive = False
    assert match.chat(2, "gg")["text"] == "gg"
    with pytest.raises(Refused):
        match.chat(1, "x" * 201)


def test_game_ends_when_one_is_left_and_scores_follow_the_original_rule():
    match = make_match((0.2, 0.5), (1.5, 0.9), (1.0, 0.1))
    match.players[3].bot = True
    match.move_to(1, 0.3, 0.5)
    match.move_to(2, 1.4, 0.9)
    match.players[2].alive = False
    match.step(DT)
    assert not match.over
    match.players[3].alive = False
    match.step(DT)
    assert match.over and match.winner == 1
    assert match.score_changes() == {1: 10, 2: -5}


@pytest.mark.parametrize("second_human_acts", [False, True])
def test_a_win_over_bots_or_afk_humans_is_unrated(second_human_acts):
    match = make_match((0.2, 0.5), (1.5, 0.9), (1.0, 0.1))
    match.players[3].bot = True
    match.move_to(1, 0.3, 0.5)
    if second_human_acts:
        match.blink(2, 1.4, 0.9)
    match.players[2].alive = match.players[3].alive = False
    match.step(DT)
    assert match.over and match.winner == 1
    assert match.score_changes() == ({1: 10, 2: -5} if second_human_acts else {})


def test_a_human_who_never_arrived_is_out_after_the_grace_but_not_scored():
    """Seated from a process that then died, they never came (issue 23): no points lost for that."""
    match = make_match((0.2, 0.5), (1.5, 0.9), (1.0, 0.1))
    match.await_arrival(3)
    match.move_to(1, 0.3, 0.5)
    match.blink(2, 1.4, 0.9)
    run(match, SETTINGS.RECONNECT_GRACE + DT)
    assert not match.players[3].alive
    match.players[2].alive = False
    match.step(DT)
    assert match.over and match.score_changes() == {1: 10, 2: -5}


def test_a_match_goes_on_from_its_export_exactly_as_it_would_have():
    """What a hand-off carries: the whole state, random source included, between two ticks."""
    here, moved = make_match((0.2, 0.5), (1.5, 0.9), (1.0, 0.1)), None
    here.move_to(1, 1.2, 0.5)
    here.shoot_fireball(2, 0.2, 0.5)
    run(here, 0.5)
    moved = Match.restore(SETTINGS, json.loads(json.dumps(here.export())))  # as it travels through Redis
    for match in (here, moved):
        match.blink(3, 0.5, 0.5)
    assert run(here, 2.0) == run(moved, 2.0) and here.export() == moved.export()


def test_dropped_player_stands_still_then_counts_as_dead_after_the_grace():
    match = make_match((0.2, 0.5), (1.5, 0.9), (1.0, 0.1))
    match.move_to(2, 0.2, 0.9)
    match.set_connected(2, False)
    events = run(match, SETTINGS.RECONNECT_GRACE - 1)
    assert match.players[2].x == 1.5 and match.players[2].alive
    events += run(match, 1.0 + DT)
    assert {"event": "died", "player": 2, "place": 3, "by": None} in events and not match.players[2].alive


def test_settings_change_the_pace():
    fast = GameSettings(FIREBALL_SPEED=2.0, HITS_TO_KILL=1, PLAYER_SPEED=1.0)
    match = make_match((0.2, 0.5), (1.0, 0.5), (1.7, 0.1), settings=fast)
    match.shoot_fireball(1, 1.0, 0.5)
    run(match, 0.5)
    assert not match.players[2].alive


def test_the_game_ends_as_soon_as_no_human_is_alive():
    match = Match(SETTINGS, random.Random(7))
    human = match.add_player(1, "human", 1500, bot=False)
    for bot_id in (-1, -2):
        match.add_player(bot_id, f"bot{bot_id}", 0, bot=True)
    human.hits = SETTINGS.HITS_TO_KILL - 1
    match.players[-1].fireball_ready_at = 0.0
    match.players[-1].x, match.players[-1].y = human.x - 0.3, human.y
    match.shoot_fireball(-1, human.x, human.y)
    events = run(match, 2.0)
    assert [e for e in events if e["event"] == "died"] == [{"event": "died", "player": 1, "place": 3, "by": -1}]
    assert match.over and match.winner is None  # two bots alive: nobody watches them fight it out
    assert match.places() == {1: 3, -1: 1, -2: 1}  # they share first place


def test_a_state_row_holds_the_fields_the_protocol_names_in_their_order():
    match = make_match((0.5, 0.5), (1.2, 0.5))
    match.shoot_fireball(1, 1.2, 0.5)
    run(match, 0.5)
    player, ball = match.players[2], match.fireballs[0]
    row = dict(zip(PLAYER_ROW, match.player_row(player)))
    assert row == {"id": 2, "x": round(player.x, 4), "y": round(player.y, 4), "radius": round(player.radius, 4),
                   "alive": 1, "fireball_cooldown": 0.0, "blink_cooldown": 0.0, "connected": 1, "hits": player.hits}
    assert len(match.player_row(player)) == len(PLAYER_ROW)
    fireballs = match.snapshot(0)["fireballs"]
    assert [dict(zip(FIREBALL_ROW, row)) for row in fireballs] == [
        {"id": ball.id, "x": round(ball.x, 4), "y": round(ball.y, 4), "owner": 1}]
    assert dict(zip(PLAYER_ROW, match.player_row(match.players[1])))["fireball_cooldown"] == pytest.approx(2.5, abs=0.02)


def test_every_intent_reads_its_frame_and_acts_through_one_table():
    match = make_match((0.5, 0.5), (1.2, 0.5))
    frames = [{"event": "move_to", "tx": 0.6, "ty": 0.6}, {"event": "shoot_fireball", "tx": 1.2, "ty": 0.5},
              {"event": "blink", "tx": 0.1, "ty": 0.1}, {"event": "message", "text": "gg\u202e"}]
    events = [intents.act(match, 1, frame["event"], INTENTS[frame["event"]].read(frame)) for frame in frames]
    assert events[0] is None and events[2] is None
    assert events[1] == {"event": "shoot_fireball", "player": 1, "fireball": 1, "tx": 1.2, "ty": 0.5}
    assert events[3] == {"event": "message", "from": 1, "username": "p1", "text": "gg"}
    assert (match.players[1].x, match.players[1].y) == (pytest.approx(0.1), pytest.approx(0.1))
    with pytest.raises(Refused) as refused:
        intents.act(match, 1, "blink", {"tx": 0.5, "ty": 0.5})
    assert refused.value.code == "cooldown" and refused.value.detail.startswith("blink ready in ")
    with pytest.raises(ValueError, match="finite numbers"):
        INTENTS["move_to"].read({"event": "move_to", "tx": float("nan"), "ty": 0})


def kill(match: Match, victim: int, attacker: int) -> list[dict]:
    """`attacker` fires point-blank at `victim` until they are out; the events."""
    events = []
    target = match.players[victim]
    target.hits = SETTINGS.HITS_TO_KILL - 1
    shooter = match.players[attacker]
    shooter.fireball_ready_at = 0.0
    shooter.x, shooter.y = target.x - 0.2, target.y
    match.shoot_fireball(attacker, target.x, target.y)
    while target.alive:
        events += match.step(DT)
    return events


def test_when_a_bot_outlasts_two_humans_the_humans_are_ranked_among_themselves():
    """Both humans lost 5 when a bot won (issue 24): the last human out is the humans' winner."""
    match = make_match((0.2, 0.5), (1.5, 0.9), (1.0, 0.1))
    match.players[3].bot = True
    match.move_to(1, 0.3, 0.5)
    match.move_to(2, 1.4, 0.9)
    events = kill(match, 1, 3)
    assert {"event": "died", "player": 1, "place": 3, "by": 3} in events
    run(match, 0.5)
    events = kill(match, 2, 3)
    assert {"event": "died", "player": 2, "place": 2, "by": 3} in events
    assert match.over and match.winner == 3 and match.places() == {1: 3, 2: 2, 3: 1}
    assert match.unrated_reason() is None and match.score_changes() == {2: 10, 1: -5}


def test_humans_out_at_the_same_moment_share_their_place_and_score_nothing():
    match = make_match((0.2, 0.5), (1.5, 0.9), (1.0, 0.1), (0.5, 0.9))
    match.players[4].bot = True
    for player_id in (1, 2, 3):
        match.move_to(player_id, 0.5, 0.5)
    kill(match, 1, 4)
    run(match, 0.1)
    for player_id in (2, 3):
        match.players[player_id].alive = False
        match.players[player_id].out_at = match.time
    match.step(DT)
    assert match.over and match.score_changes() == {1: -5}


def test_a_practice_game_is_never_rated():
    match = Match(SETTINGS, random.Random(3), practice=True)
    for player_id in (1, 2):
        match.add_player(player_id, f"p{player_id}", 1500, bot=False)
        match.move_to(player_id, 0.5, 0.5)
    match.players[2].alive = False
    match.step(DT)
    assert match.over and match.unrated_reason() == "practice" and match.score_changes() == {}
