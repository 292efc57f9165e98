"""The shared deadline timer behind every query's and every request's time limit: never early, at most one
slot late, forgotten deadlines never fire, and nothing stays scheduled once nothing is watched."""

import asyncio

import pytest

from deadlines import Deadlines

gen_test = pytest.mark.gen_test


@gen_test
async def test_a_deadline_fires_after_its_time_and_at_most_one_slot_late():
    deadlines = Deadlines(0.02)
    loop = asyncio.get_running_loop()
    fired = asyncio.Event()
    started = loop.time()
    deadlines.watch(0.1, fired.set)
    await fired.wait()
    assert 0.1 <= loop.time() - started < 0.1 + 0.02 + 0.05  # one slot, plus a busy machine's scheduling
    assert len(deadlines) == 0


@gen_test
async def test_a_forgotten_deadline_never_fires_and_a_shorter_one_is_not_held_up_by_a_longer():
    deadlines = Deadlines(0.01)
    fired = []
    done = asyncio.Event()
    later = deadlines.watch(0.3, lambda: fired.append("later"))
    forgotten = deadlines.watch(0.05, lambda: fired.append("forgotten"))
    deadlines.watch(0.08, lambda: (fired.append("sooner"), done.set()))
    deadlines.forget(forgotten)
    await done.wait()
    assert fired == ["sooner"]
    deadlines.forget(later)
    await asyncio.sleep(0.35)
    assert fired == ["sooner"]
    assert deadlines._timer is None  # nothing watched: nothing scheduled


@gen_test
async def test_an_expiry_may_forget_another_deadline_of_its_own_slot():
    deadlines = Deadlines(0.05)
    fired = []
    done = asyncio.Event()
    first = second = None

    def expire(name, other):
        fired.append(name)
        deadlines.forget(other())
        done.set()

    first = deadlines.watch(0.01, lambda: expire("first", lambda: second))
    second = deadlines.watch(0.01, lambda: expire("second", lambda: first))
    await done.wait()
    await asyncio.sleep(0.06)
    assert len(fired) == 1
