"""Matchmaking by skill rating and by the original score rule over time, bot fill, and the
fixed-timestep loop's accounting."""

from game.loop import FixedTimestepLoop
from game.matchmaker import Matchmaker, Ticket
from settings import GameSettings


BY_SCORE = GameSettings(MATCH_BY="score")


def queue(*scores: int, at: float = 0.0, settings: GameSettings = BY_SCORE) -> Matchmaker:
    matchmaker = Matchmaker(settings)
    for n, score in enumerate(scores, start=1):
        matchmaker.add(Ticket(n, f"p{n}", score, at))
    return matchmaker


def ids(groups):
    return [sorted(ticket.user_id for ticket in group) for group in groups]


def test_equal_scores_match_at_once():
    rooms, bots = queue(1500, 1500, 1500).match(now=0.0)
    assert ids(rooms) == [[1, 2, 3]] and bots == []


def test_score_window_widens_by_50_per_second_waited():
    matchmaker = queue(1500, 1600, 1700)
    assert matchmaker.match(now=1.9) == ([], [])  # largest gap 200 > 50 × 1.9
    assert matchmaker.match(now=3.9) == ([], [])  # 200 > 195
    rooms, _ = matchmaker.match(now=4.0)  # 200 <= 50 × 4
    assert ids(rooms) == [[1, 2, 3]] and matchmaker.queue == {}


def test_consecutive_players_by_score_form_rooms():
    matchmaker = queue(1000, 1500, 1510, 1520, 2000)
    rooms, _ = matchmaker.match(now=1.0)
    assert ids(rooms) == [[2, 3, 4]]
    assert sorted(matchmaker.queue) == [1, 5]


def test_both_sides_must_accept_the_gap():
    matchmaker = Matchmaker(BY_SCORE)
    matchmaker.add(Ticket(1, "patient", 1500, 0.0))
    matchmaker.add(Ticket(2, "patient", 1500, 0.0))
    matchmaker.add(Ticket(3, "newcomer", 1600, 9.0))
    assert matchmaker.match(now=9.5) == ([], [])  # the newcomer accepts only 25 points yet
    assert ids(matchmaker.match(now=11.0)[0]) == [[1, 2, 3]]


def test_waiting_players_get_bots_after_bot_fill_after():
    settings = GameSettings(MATCH_BY="score", BOT_FILL_AFTER=10.0)
    matchmaker = queue(1000, 2000, settings=settings)
    assert matchmaker.match(now=9.9) == ([], [])
    rooms, bot_filled = matchmaker.match(now=10.0)
    assert rooms == [] and ids(bot_filled) == [[1, 2]]


def rated(*players: tuple[float, float], at: float = 0.0) -> Matchmaker:
    """Players of the given (mu, sigma), waiting since `at`, matched by rating (the default)."""
    matchmaker = Matchmaker(GameSettings(ROOM_CAPACITY=2, BOT_FILL_AFTER=60))
    for n, (mu, sigma) in enumerate(players, start=1):
        matchmaker.add(Ticket(n, f"p{n}", 1500, at, mu, sigma))
    return matchmaker


def test_by_rating_known_players_of_different_skill_wait_and_newcomers_are_placed_at_once():
    # Two well-known players 10 mu apart (400 shown points): a window of 100 + 20/s + 40 each: 13 s.
    known = rated((20.0, 1.0), (30.0, 1.0))
    assert known.match(now=12.9) == ([], [])
    assert ids(known.match(now=13.0)[0]) == [[1, 2]]
    # The same gap between newcomers (sigma 8.3: a window of 433 at once): matched at once.
    assert ids(rated((20.0, 8.33), (30.0, 8.33)).match(now=0.0)[0]) == [[1, 2]]


def test_by_rating_the_nearest_skills_play_together():
    matchmaker = rated((20.0, 1.0), (35.0, 1.0), (21.0, 1.0), (34.0, 1.0))
    rooms, _ = matchmaker.match(now=0.0)
    assert sorted(ids(rooms)) == [[1, 3], [2, 4]]


def test_loop_runs_one_step_per_elapsed_tick_whatever_the_wakeups():
    steps = []
    loop = FixedTimestepLoop(60, lambda dt, tick: steps.append((dt, tick)))
    leftover = 0.0
    for elapsed in (0.001, 0.02, 0.013, 0.05, 0.0):  # jittery wake-ups, 0.084 s in all
        leftover = loop.advance(elapsed, leftover)
    assert [tick for _, tick in steps] == [0, 1, 2, 3, 4]  # 0.084 s holds five 1/60 s ticks
    assert all(dt == 1 / 60 for dt, _ in steps)
    assert abs(leftover - (0.084 - 5 / 60)) < 1e-9


def test_loop_drops_the_backlog_after_a_long_stall():
    steps = []
    loop = FixedTimestepLoop(60, lambda dt, tick: steps.append(tick))
    leftover = loop.advance(10.0, 0.0)
    assert len(steps) == 5 and leftover < 1 / 60
