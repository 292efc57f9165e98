"""Argon2id password hashing off the IOLoop: bounded, on a CPU budget, and never for a client that has gone.

The queue is bounded (a full queue answers 503 at once instead of making every login wait), work whose
client has gone is dropped before it starts, and at shutdown queued work answers 503. When a hashing
starts, and at which priority, is the budget's decision (auth.hashing_budget): a login storm costs
the game and the token endpoints a small share of the core, and a busy neighbour process cannot
starve logins.
"""

import asyncio
import os
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any, Callable, Optional

from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError

from auth import legacy_hashes
from auth.hashing_budget import HashingBudget
from metrics import Metrics

OWN_PREFIX = "$argon2"  # argon2-cffi's encoding; Django's hashes start with their algorithm's name
YIELDING_NICENESS = 10  # while the IOLoop is busy: CFS weight about a tenth of the loop's

# Set by the HTTP edge for each request: whether its client has gone (then queued hashing is skipped).
client_gone: ContextVar[Callable[[], bool]] = ContextVar("client_gone", default=lambda: False)


class HasherBusy(Exception):
    """Hashing cannot be done now (the queue is full, or the server is stopping): answer 503."""

    retry_after = 1


class ClientGone(Exception):
    """The request's client left before its password was hashed; nobody waits for the answer."""


def _yield_to_the_loop() -> None:
    """Threads that hash while the IOLoop is busy run niced: a tick started during a hashing keeps
    about nine tenths of the core."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), YIELDING_NICENESS)
    except (AttributeError, OSError):
        pass


class _Job:
    __slots__ = ("operation", "fn", "args", "gone", "answer")

    def __init__(self, operation: str, fn: Callable, args: tuple, gone: Callable[[], bool], answer: asyncio.Future):
        self.operation, self.fn, self.args, self.gone, self.answer = operation, fn, args, gone, answer

    def __call__(self) -> tuple[Any, float]:
        """In a hashing thread: the answer and the CPU seconds it took."""
        if self.gone():
            raise ClientGone()
        started = time.thread_time()
        return self.fn(*self.args), time.thread_time() - started


class PasswordHasher:
    """Hashes and verifies passwords on a few threads; argon2-cffi releases the GIL while it works."""

    def __init__(self, time_cost: int, memory_cost: int, parallelism: int, workers: int, max_queue: int,
                 metrics: Optional[Metrics] = None, accept_weak_legacy: bool = False, busy_share: float = 0.08):
        self.metrics = metrics or Metrics()
        self.accept_weak_legacy = accept_weak_legacy  # ARENA_ACCEPT_WEAK_LEGACY_HASHES
        self._argon2 = Argon2Hasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
        self.workers = workers
        self._fair = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="password")
        self._yielding = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="password-niced",
                                            initializer=_yield_to_the_loop)
        self.budget = HashingBudget(busy_share)
        self.max_queue = max_queue
        self.queued = 0  # submitted and not finished
        self.running = 0
        self._waiting: deque[_Job] = deque()
        self._retry: Optional[asyncio.TimerHandle] = None
        self._stopping = False
        # Unknown users are verified against this, so timing does not tell which usernames exist.
        self._dummy_hash = self._argon2.hash("not a password of anyone")

    async def _run(self, operation: str, fn: Callable, *args: Any) -> Any:
        if self._stopping or self.queued >= self.max_queue:
            raise HasherBusy()
        job = _Job(operation, fn, args, client_gone.get(), asyncio.get_running_loop().create_future())
        self.queued += 1
        started = time.perf_counter()
        self._waiting.append(job)
        self._dispatch()
        try:
            answer = await job.answer
        finally:
            self.queued -= 1
        self.metrics.hash_seconds.observe(time.perf_counter() - started, operation)
        return answer

    def _dispatch(self) -> None:
        """Start waiting jobs while a thread is free and the budget allows."""
        while self._waiting and self.running < self.workers and not self._stopping:
            wait = self.budget.wait(self.running)
            if wait:
                if self._retry is None:
                    self._retry = asyncio.get_running_loop().call_later(wait, self._retried)
                return
            job = self._waiting.popleft()
            if job.answer.done():
                continue
            self.running += 1
            pool = self._yielding if self.budget.loop_busy else self._fair
            done = asyncio.get_running_loop().run_in_executor(pool, job)
            done.add_done_callback(lambda finished, job=job: self._finished(job, finished))

    def _retried(self) -> None:
        self._retry = None
        self._dispatch()

    def _finished(self, job: _Job, finished: asyncio.Future) -> None:
        self.running -= 1
        if finished.cancelled():  # the shutdown took it out of its thread's queue
            outcome: Any = HasherBusy()
        else:
            outcome = finished.exception()
            if outcome is None:
                answer, cpu_seconds = finished.result()
                self.budget.spent(cpu_seconds)
        if not job.answer.done():
            if outcome is None:
                job.answer.set_result(answer)
            else:
                job.answer.set_exception(outcome)
        self._dispatch()

    async def hash(self, password: str) -> str:
        return await self._run("hash", self._argon2.hash, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        if not password_hash.startswith(OWN_PREFIX):  # imported from Django, kept until the first login
            return legacy_hashes.verify(password_hash, password, self.accept_weak_legacy)
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def verify(self, password_hash: Optional[str], password: str) -> bool:
        """True when `password` matches; with no hash (no such user) it costs the same and is False."""
        if password_hash is None:
            await self._run("verify", self._verify, self._dummy_hash, password)
            return False
        return await self._run("verify", self._verify, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        """A Django hash, or ours made with other parameters than today's, is replaced at the next
        successful login."""
        return not password_hash.startswith(OWN_PREFIX) or self._argon2.check_needs_rehash(password_hash)

    def shutdown(self) -> None:
        """What still waits answers 503; what runs finishes in its thread, answering no one."""
        self._stopping = True
        if self._retry is not None:
            self._retry.cancel()
        while self._waiting:
            job = self._waiting.popleft()
            if not job.answer.done():
                job.answer.set_exception(HasherBusy())
        for pool in (self._fair, self._yielding):
            pool.shutdown(wait=False, cancel_futures=True)
