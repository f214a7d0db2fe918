"""bcrypt checks that never raise on input a user typed."""

import asyncio

import bcrypt

# bcrypt reads at most 72 bytes; bcrypt 5 raises ValueError beyond that.
MAX_BYTES = 72
COST = 12


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


async def check_password_off_loop(password: str, hashed: bytes) -> bool:
    """check_password in a worker thread: a bcrypt check takes about 0.25 s of CPU,
    and on the hub's event loop it would stall every other request meanwhile."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, check_password, password, hashed)
