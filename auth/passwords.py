"""Argon2id password hashing on a few low-priority threads, so a login storm never stalls the IOLoop.

The queue is bounded (a full queue answers 503 at once instead of making every login wait), work
whose client has gone is dropped before it starts, and at shutdown queued work answers 503.
"""

import asyncio
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import Callable, Optional

from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError

from auth import legacy_hashes
from metrics import Metrics

OWN_PREFIX = "$argon2"  # argon2-cffi's encoding; Django's hashes start with their algorithm's name
HASHING_NICENESS = 10  # CFS weight about a tenth of the IOLoop's: ticks first, logins never starved

# Set by the HTTP edge for each request: whether its client has gone (then queued hashing is skipped).
client_gone: ContextVar[Callable[[], bool]] = ContextVar("client_gone", default=lambda: False)


class HasherBusy(Exception):
    """Hashing cannot be done now (the queue is full, or the server is stopping): answer 503."""

    retry_after = 1


class ClientGone(Exception):
    """The request's client left before its password was hashed; nobody waits for the answer."""


def _lower_priority() -> None:
    """Hashing threads yield to the IOLoop thread: a login storm slows logins, not ticks.

    Niced rather than SCHED_IDLE: an idle-class thread gets no CPU at all while any other process
    runs on its core, which turned a 25 ms login into seconds on a busy machine.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)
    except (AttributeError, OSError):
        pass


class PasswordHasher:
    """Hashes and verifies passwords off the IOLoop; argon2-cffi releases the GIL while it works."""

    def __init__(self, time_cost: int, memory_cost: int, parallelism: int, workers: int, max_queue: int,
                 metrics: Optional[Metrics] = None, accept_weak_legacy: bool = False):
        self.metrics = metrics or Metrics()
        self.accept_weak_legacy = accept_weak_legacy  # ARENA_ACCEPT_WEAK_LEGACY_HASHES
        self._argon2 = Argon2Hasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="password",
                                            initializer=_lower_priority)
        self.max_queue = max_queue
        self.queued = 0  # submitted and not finished
        self._stopping = False
        # Unknown users are verified against this, so timing does not tell which usernames exist.
        self._dummy_hash = self._argon2.hash("not a password of anyone")

    async def _run(self, operation: str, fn, *args):
        if self._stopping or self.queued >= self.max_queue:
            raise HasherBusy()
        gone = client_gone.get()

        def job():
            if gone():
                raise ClientGone()
            return fn(*args)

        self.queued += 1
        started = time.perf_counter()
        try:
            answer = await asyncio.get_running_loop().run_in_executor(self._executor, job)
            self.metrics.hash_seconds.observe(time.perf_counter() - started, operation)
            return answer
        except asyncio.CancelledError:
            if self._stopping:  # shutdown cancelled queued work: the request gets a 503, not a 500
                raise HasherBusy() from None
            raise
        finally:
            self.queued -= 1

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
        self._stopping = True
        self._executor.shutdown(wait=False, cancel_futures=True)
