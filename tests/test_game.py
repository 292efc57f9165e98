"""The game without sockets: sessions that record frames, rooms stepped by hand."""

import asyncio
import random
from datetime import datetime, timezone

import orjson
import pytest

from game.game import Game
from game.matchmaker import Ticket
from game.results import ResultRecorder
from settings import GameSettings
from store.documents import GameResult, PlayerResult, Rating
from store.journal import ResultJournal


class RecordingSession:
    def __init__(self, user_id: int, score: int = 1500):
        self.user_id, self.username, self.score = user_id, f"p{user_id}", score
        self.rating = Rating(mu=score / Rating.DISPLAY_SCALE, sigma=0.5)  # skill as far apart as the scores
        self.events: list[dict] = []
        self.closed = None

    def send(self, *payloads: bytes) -> None:
        self.events.extend(orjson.loads(payload) for payload in payloads)

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


@pytest.fixture
def results() -> list[GameResult]:
    """The game results the game has written."""
    return []


def make_game(results: list[GameResult], **settings) -> Game:
    async def write(result: GameResult) -> None:
        results.append(result)

    recorder = ResultRecorder(write, 1, ResultJournal("unused: writes never fail here"), deadline=1)
    return Game(GameSettings(**settings), recorder, rng=random.Random(3))


@pytest.mark.gen_test
async def test_big_rooms_get_enough_distinct_bot_names(results):
    game = make_game(results, ROOM_CAPACITY=8, BOT_FILL_AFTER=0)
    player = RecordingSession(1)
    game.connect(player)
    game.run_matchmaking()
    start = next(e for e in player.events if e["event"] == "game_start")
    bots = [p["username"] for p in start["players"] if p["bot"]]
    assert len(bots) == 7 and len(set(bots)) == 7


@pytest.mark.gen_test
async def test_a_failing_room_is_abandoned_and_the_others_play_on(results, monkeypatch):
    game = make_game(results, BOT_FILL_AFTER=0)
    doomed, healthy = RecordingSession(1, score=1000), RecordingSession(2, score=3000)
    game.connect(doomed)
    game.run_matchmaking()
    game.connect(healthy)
    game.run_matchmaking()
    doomed_room, healthy_room = game.seats[1], game.seats[2]
    assert doomed_room is not healthy_room

    def explode(dt):
        raise RuntimeError("a bug in the rules")

    monkeypatch.setattr(doomed_room.match, "step", explode)
    game.step(1 / 60, 1)
    game.step(1 / 60, 2)
    over = next(e for e in doomed.events if e["event"] == "game_over")
    assert over["abandoned"] is True and over["scores"] == {}
    assert 1 not in game.seats and game.seats[2] is healthy_room
    assert healthy_room.match.time == pytest.approx(2 / 60)
    await game.results.drained()
    assert [(result.id, result.abandoned) for result in results] == [(doomed_room.id, True)]


class DroppedOnSend(RecordingSession):
    """A slow consumer: the first frame it is sent makes the server drop it (as the socket handler does)."""

    def __init__(self, user_id: int, game: Game, score: int = 1500):
        super().__init__(user_id, score)
        self.game = game

    def send(self, *payloads: bytes) -> None:
        if self.closed is None:
            self.close(4009, "slow_consumer")
            self.game.disconnect(self)


@pytest.mark.gen_test
async def test_a_consumer_dropped_while_the_queue_is_told_its_place_breaks_nothing(results):
    game = make_game(results, BOT_FILL_AFTER=60)
    calm = RecordingSession(1, score=1000)
    game.connect(calm)
    slow = DroppedOnSend(2, game, score=9000)
    game.sessions[2] = slow
    game.matchmaker.add(Ticket(2, "p2", 9000, game.clock()))
    game.connect(RecordingSession(3, score=5000))
    game.run_matchmaking()
    assert 2 not in game.matchmaker.queue and slow.closed == (4009, "slow_consumer")
    assert sorted(game.matchmaker.queue) == [1, 3]
    assert [e["event"] for e in calm.events].count("queued") == 2


@pytest.mark.gen_test
async def test_shutting_down_while_a_write_finishes_records_each_result_once(tmp_path):
    """A driver may finish a write it was cancelled in (pymongo did in CI): the retry task and the
    last attempt at shutdown must not both count it."""
    finish, written, announced = asyncio.Event(), [], []

    async def write_that_finishes_anyway(result: GameResult) -> None:
        try:
            await finish.wait()
        except asyncio.CancelledError:
            await finish.wait()
        written.append(result.id)

    recorder = ResultRecorder(write_that_finishes_anyway, 1, ResultJournal(str(tmp_path)), deadline=5)
    recorder.written_listeners.append(announced.append)
    now = datetime.now(timezone.utc)
    recorder.submit(GameResult(id="g1", players=(PlayerResult(1, "alice", False, 1500, True),), winner=1,
                               started_at=now, ended_at=now, score_changes={1: 10}))
    await asyncio.sleep(0)  # the retry task is in its write
    closing = asyncio.ensure_future(recorder.close())
    await asyncio.sleep(0)
    finish.set()
    await closing
    assert announced == ["g1"] and recorder.pending == [] and list(tmp_path.iterdir()) == []
