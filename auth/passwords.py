"""Argon2id password hashing off the IOLoop: bounded, shared fairly, on a CPU budget, and never for a
client that has gone.

The queue is bounded (a full queue answers 503 at once instead of making every login wait), and so is
each client's share of it: a hashing counts against its client's keys (its address, and the account
when known), and one key with ARENA_PASSWORD_QUEUE_PER_CLIENT hashings waiting or running gets 503 for
the next, while the others are served in turn, address by address. Work whose client has gone is
dropped before it starts, and at shutdown queued work answers 503. When a hashing starts, and at which
priority, is the budget's decision (auth.hashing_budget): a login storm costs the game and the token
endpoints a small share of the core, and a busy neighbour process cannot starve logins.
"""

import asyncio
import os
import threading
import time
from collections import OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError

from auth import legacy_hashes
from auth.hashing_budget import HashingBudget
from metrics import Metrics

OWN_PREFIX = "$argon2"  # argon2-cffi's encoding; Django's hashes start with their algorithm's name
YIELDING_NICENESS = 10  # while the IOLoop is busy: CFS weight about a tenth of the loop's

@dataclass(frozen=True)
class HashingClient:
    """Whom a hashing is for: the keys its share is counted by (its address first, then the account when
    known), and whether it has gone (then its queued hashing is skipped)."""

    keys: tuple[str, ...] = ()
    gone: Callable[[], bool] = field(default=lambda: False)


# Set by the HTTP edge for each request (handlers.base), extended by the endpoint that knows the account.
hashing_client: ContextVar[HashingClient] = ContextVar("hashing_client", default=HashingClient())


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
    __slots__ = ("operation", "fn", "args", "client", "answer")

    def __init__(self, operation: str, fn: Callable, args: tuple, client: HashingClient, answer: asyncio.Future):
        self.operation, self.fn, self.args, self.client, self.answer = operation, fn, args, client, answer

    def __call__(self) -> tuple[Any, float]:
        """In a hashing thread: the answer and the CPU seconds it took."""
        if self.client.gone():
            raise ClientGone()
        started = time.thread_time()
        return self.fn(*self.args), time.thread_time() - started


class PasswordHasher:
    """Hashes and verifies passwords on a few threads; argon2-cffi releases the GIL while it works."""

    def __init__(self, time_cost: int, memory_cost: int, parallelism: int, workers: int, max_queue: int,
                 metrics: Optional[Metrics] = None, accept_weak_legacy: bool = False, busy_share: float = 0.08,
                 max_per_client: int = 4, failure_seconds: float = 0.0):
        self.metrics = metrics or Metrics()
        self.accept_weak_legacy = accept_weak_legacy  # ARENA_ACCEPT_WEAK_LEGACY_HASHES
        self._argon2 = Argon2Hasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
        self.workers = workers
        self._fair = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="password")
        self._yielding = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="password-niced",
                                            initializer=_yield_to_the_loop)
        self.budget = HashingBudget(busy_share)
        self.max_queue = max_queue
        self.max_per_client = max_per_client
        # A wrong password is answered no sooner than this after its check began, whatever the stored hash
        # (ours, an imported Django one, a weak or unusable one, or no user at all): timing tells nothing.
        self.failure_seconds = failure_seconds
        self.queued = 0  # submitted and not finished
        self.running = 0
        self._per_key: dict[str, int] = {}  # hashings waiting or running, by client key
        self._waiting: OrderedDict[str, deque[_Job]] = OrderedDict()  # by address, served in turn
        self._retry: Optional[asyncio.TimerHandle] = None
        self._stopping = False
        # Unknown users are verified against this, so timing does not tell which usernames exist.
        self._dummy_hash = self._argon2.hash("not a password of anyone")

    async def _run(self, operation: str, fn: Callable, *args: Any) -> Any:
        """`fn(*args)` on a hashing thread, when the queue, the client's share and the budget allow."""
        client = hashing_client.get()
        if self._stopping or self.queued >= self.max_queue or \
                any(self._per_key.get(key, 0) >= self.max_per_client for key in client.keys):
            raise HasherBusy()
        job = _Job(operation, fn, args, client, asyncio.get_running_loop().create_future())
        self._count(client.keys, 1)
        started = time.perf_counter()
        self._waiting.setdefault(client.keys[0] if client.keys else "", deque()).append(job)
        self._dispatch()
        try:
            answer = await job.answer
        finally:
            self._count(client.keys, -1)
        self.metrics.hash_seconds.observe(time.perf_counter() - started, operation)
        return answer

    def _count(self, keys: tuple[str, ...], change: int) -> None:
        self.queued += change
        for key in keys:
            count = self._per_key.get(key, 0) + change
            if count:
                self._per_key[key] = count
            else:
                del self._per_key[key]

    def _next(self) -> _Job:
        """The next waiting job, from the address whose turn it is (each address then goes last)."""
        address, jobs = next(iter(self._waiting.items()))
        job = jobs.popleft()
        del self._waiting[address]
        if jobs:
            self._waiting[address] = jobs
        return job

    def _dispatch(self) -> None:
        """Start waiting jobs while a thread is free and the budget allows."""
        while self._waiting and self.running < self.workers and not self._stopping:
            wait = self.budget.wait(self.running)
            if wait:
                if self._retry is None:
                    self._retry = asyncio.get_running_loop().call_later(wait, self._retried)
                return
            job = self._next()
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

    def _check(self, password_hash: Optional[str], password: str, took: list[float]) -> bool:
        """In a hashing thread: does the password match? With no hash (no such user) the dummy is
        checked, and no. How long it took goes into `took`."""
        started = time.perf_counter()
        try:
            return self._verify(self._dummy_hash, password) and False if password_hash is None else \
                self._verify(password_hash, password)
        finally:
            took.append(time.perf_counter() - started)

    def _verify(self, password_hash: str, password: str) -> bool:
        if not password_hash.startswith(OWN_PREFIX):  # imported from Django, kept until the first login
            return legacy_hashes.verify(password_hash, password, self.accept_weak_legacy)
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def verify(self, password_hash: Optional[str], password: str) -> bool:
        """True when `password` matches. A failure takes as long whatever the stored hash (or none: no
        such user): it is answered no sooner than `failure_seconds` after its check began."""
        took: list[float] = []
        right = await self._run("verify", self._check, password_hash, password, took)
        if not right:
            await asyncio.sleep(max(0.0, self.failure_seconds - sum(took)))
        return right

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
            job = self._next()
            if not job.answer.done():
                job.answer.set_exception(HasherBusy())
        for pool in (self._fair, self._yielding):
            pool.shutdown(wait=False, cancel_futures=True)
