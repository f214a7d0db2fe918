"""bcrypt checks that never raise on input a user typed."""

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

import bcrypt

# bcrypt reads at most 72 bytes; bcrypt 5 raises ValueError beyond that.
MAX_BYTES = 72
COST = 12

# One bcrypt thread per core. When a class logs in at once, more threads would
# only take turns on the same cores: every check would finish late, together,
# instead of one after another as early as the cores allow.
_bcrypt_threads = ThreadPoolExecutor(
    max_workers=len(os.sched_getaffinity(0)), thread_name_prefix="bcrypt"
)


def too_long(password: str) -> bool:
    return len(password.encode("utf-8")) > MAX_BYTES


def hash_password(password: str) -> bytes:
    if too_long(password):
        raise ValueError(f"a password is at most {MAX_BYTES} bytes")
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(COST))


def check_password(password: str, hashed: bytes) -> bool:
    """True if `password` matches `hashed`; False for anything bcrypt refuses."""
    try:
        return bcrypt.checkpw(password.encode("utf-8"), hashed)
    except ValueError:
        return False


async def _off_loop(function, *args):
    """Run a bcrypt function in a worker thread: one takes about 0.25 s of CPU,
    and on the hub's event loop it would stall every other request meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(_bcrypt_threads, function, *args)


async def check_password_off_loop(password: str, hashed: bytes) -> bool:
    return await _off_loop(check_password, password, hashed)


async def hash_password_off_loop(password: str) -> bytes:
    return await _off_loop(hash_password, password)
