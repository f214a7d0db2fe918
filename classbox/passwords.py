"""bcrypt checks that never raise on input a user typed, and never pile up.

A check takes about 0.25 s of CPU on x86 and 1 s on a Raspberry Pi. Checks run
in worker threads (one per core) so that the hub's event loop keeps answering,
one at a time per name (a second login for the same name waits its turn,
without a second hash in parallel), and only as many wait as the box clears in
a few seconds: beyond that the page says the box is busy instead of stalling.
"""

import asyncio
import contextlib
import os
from concurrent.futures import ThreadPoolExecutor

# bcrypt reads at most 72 bytes; bcrypt 5 raises ValueError beyond that.
MAX_BYTES = 72
COST = 12
CORES = len(os.sched_getaffinity(0))


class Busy(Exception):
    """Too many password checks are waiting: try again in a few seconds."""


def too_long(password: str) -> bool:
    return len(password.encode("utf-8")) > MAX_BYTES


def hash_password(password: str) -> bytes:
    import bcrypt  # here: the preflight reads MAX_BYTES on a machine without bcrypt

    if too_long(password):
        raise ValueError(f"a password is at most {MAX_BYTES} bytes")
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(COST))


def check_password(password: str, hashed: bytes) -> bool:
    """True if `password` matches `hashed`; False for anything bcrypt refuses."""
    import bcrypt  # here: the preflight reads MAX_BYTES on a machine without bcrypt

    try:
        return bcrypt.checkpw(password.encode("utf-8"), hashed)
    except ValueError:
        return False


class Queue:
    """bcrypt jobs in worker threads: one per name at a time, at most `waiting` queued.

    One thread per core: when a class logs in at once, more threads would only
    take turns on the same cores, and every check would finish late, together.
    Everything here runs on the hub's event loop, so the counts need no lock.
    """

    def __init__(self, threads: int = CORES, waiting: int = 4 * CORES):
        self.threads = threads
        self.waiting = waiting
        self.admitted = 0  # jobs between turn() and their end: waiting or running
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bcrypt")
        self._turns: dict[str, list] = {}  # name -> [lock, jobs holding or awaiting it]

    def full(self) -> bool:
        return self.admitted >= self.threads + self.waiting

    @contextlib.asynccontextmanager
    async def turn(self, name: str):
        """Wait until no other job for `name` runs; Busy at once when the queue is full.

        The check for a full queue happens before the first await: a caller that
        saw full() return False is admitted.
        """
        if self.full():
            raise Busy()
        self.admitted += 1
        entry = self._turns.setdefault(name, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            self.admitted -= 1
            entry[1] -= 1
            if not entry[1]:
                del self._turns[name]

    async def run(self, function, *args):
        """Run a bcrypt function in a worker thread (inside a turn)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    async def check(self, name: str, password: str, hashed: bytes) -> bool:
        async with self.turn(name):
            return await self.run(check_password, password, hashed)

    async def hash(self, name: str, password: str) -> bytes:
        async with self.turn(name):
            return await self.run(hash_password, password)


# The hub's one queue; the authenticator sets its length from its config.
QUEUE = Queue()
