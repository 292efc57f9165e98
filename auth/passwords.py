"""Argon2id password hashing, run in a thread pool so a login storm never stalls the IOLoop."""

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError


def _lower_priority() -> None:
    """Hashing threads take only CPU time the IOLoop thread leaves: a login storm slows logins, not ticks.

    On Linux the thread becomes SCHED_IDLE (any normal thread preempts it at once); where that is
    not available it is niced as far as possible; elsewhere nothing changes.
    """
    thread_id = threading.get_native_id()
    try:
        os.sched_setscheduler(thread_id, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        try:
            os.setpriority(os.PRIO_PROCESS, thread_id, 19)
        except (AttributeError, OSError):
            pass


class PasswordHasher:
    """Hashes and verifies passwords off the IOLoop; argon2-cffi releases the GIL while it works."""

    def __init__(self, time_cost: int, memory_cost: int, parallelism: int, workers: int):
        self._argon2 = Argon2Hasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="password",
                                            initializer=_lower_priority)
        # Unknown users are verified against this, so timing does not tell which usernames exist.
        self._dummy_hash = self._argon2.hash("not a password of anyone")

    async def _run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def hash(self, password: str) -> str:
        return await self._run(self._argon2.hash, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def verify(self, password_hash: Optional[str], password: str) -> bool:
        """True when `password` matches; with no hash (no such user) it costs the same and is False."""
        if password_hash is None:
            await self._run(self._verify, self._dummy_hash, password)
            return False
        return await self._run(self._verify, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        """A hash made with other parameters than today's is upgraded at the next successful login."""
        return self._argon2.check_needs_rehash(password_hash)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
