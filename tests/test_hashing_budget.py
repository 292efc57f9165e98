"""Password hashing's CPU budget: free while the IOLoop is not busy, a small share of a core while it is,
on threads niced below the loop; a busy neighbour process counts as nothing (the loop's demand decides).
The benchmark bench/login_storm.py measures the same on a real core."""

import os
import threading

import pytest

from auth.hashing_budget import WINDOW, HashingBudget, LoopDemand
from auth.passwords import PasswordHasher


class Demand:
    """The loop's demand as the test sets it."""

    def __init__(self, share: float):
        self.value = share

    def share(self) -> float:
        return self.value


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_while_the_loop_is_not_busy_hashing_has_no_budget():
    clock = Clock()
    budget = HashingBudget(0.08, Demand(0.3), clock)
    for _ in range(50):
        assert budget.wait(running=1) == 0
        budget.spent(0.02)
    assert not budget.loop_busy


def test_while_the_loop_is_busy_hashing_gets_its_share_of_each_second():
    clock = Clock()
    budget = HashingBudget(0.08, Demand(0.95), clock)
    started = 0
    for _ in range(100):  # two seconds of trying to start a 20 ms hashing every 20 ms
        if budget.wait(running=0) == 0:
            budget.spent(0.02)
            started += 1
        clock.now += 0.02
    assert budget.loop_busy
    assert 2 * 0.08 / 0.02 - 1 <= started <= 2 * 0.08 / 0.02 + 1
    assert 0 < budget.wait(running=0) <= WINDOW


def test_a_hashing_dearer_than_the_whole_budget_still_gets_its_turn():
    clock = Clock()
    budget = HashingBudget(0.08, Demand(1.0), clock)
    budget.job_cost = 0.5  # a legacy PBKDF2 hash
    assert budget.wait(running=0) == 0
    budget.spent(0.5)
    assert budget.wait(running=0) > 0
    clock.now += WINDOW + 0.01
    assert budget.wait(running=0) == 0


def test_the_loops_demand_counts_time_spent_waiting_for_the_core():
    demand = LoopDemand()
    spin_until = demand.clock() + 0.05
    while demand.clock() < spin_until:
        pass
    assert demand.share() > 0.5


@pytest.mark.gen_test
async def test_hashing_while_the_loop_is_busy_runs_on_threads_niced_below_it():
    hasher = PasswordHasher(1, 1024, 1, 1, 4)
    try:
        hasher.budget.demand = Demand(1.0)
        busy = await hasher._run("verify", lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        hasher.budget.demand = Demand(0.0)
        hasher.budget._sampled_at = float("-inf")
        idle = await hasher._run("verify", lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    finally:
        hasher.shutdown()
    assert busy > idle


def test_logins_alone_are_never_budgeted_against_themselves():
    """A loop kept busy only by the requests waiting for hashes is not protected from hashing: a server
    doing nothing but logins logs people in at full speed."""
    clock = Clock()
    budget = HashingBudget(0.08, Demand(1.0), clock)
    budget.contended = lambda: False
    for _ in range(20):
        assert budget.wait(running=1) == 0
        budget.spent(0.02)
    assert not budget.loop_busy
    budget.contended = lambda: True
    clock.now += 1
    assert budget.wait(running=0) == 0 and budget.loop_busy  # within the share, then…
    budget.spent(0.08)
    assert budget.wait(running=0) > 0


@pytest.mark.gen_test
async def test_the_loop_is_contended_by_other_requests_and_games_not_by_logins(api, arena):
    arena._contended()
    assert not arena._contended()
    await api.register()  # hashes a password: not contention
    await api.tokens()
    assert not arena._contended()
    await api.get("/api/health/live")  # any other request is
    assert arena._contended() and not arena._contended()
