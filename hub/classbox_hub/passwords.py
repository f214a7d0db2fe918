"""bcrypt checks that never raise on input a user typed."""

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
