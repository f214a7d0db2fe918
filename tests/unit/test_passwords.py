from classbox import passwords


def test_hash_then_check():
    hashed = passwords.hash_password("correct horse")
    assert passwords.check_password("correct horse", hashed)
    assert not passwords.check_password("wrong horse", hashed)


def test_72_bytes_is_the_limit():
    assert not passwords.too_long("x" * 72)
    assert passwords.too_long("x" * 73)
    # multi-byte characters count in bytes: 25 x 3 bytes = 75
    assert passwords.too_long("€" * 25)


def test_checking_an_over_long_password_is_false_not_an_error():
    hashed = passwords.hash_password("short one")
    assert passwords.check_password("y" * 500, hashed) is False


def test_hashing_an_over_long_password_is_refused():
    try:
        passwords.hash_password("z" * 100)
    except ValueError as error:
        assert "72" in str(error)
    else:
        raise AssertionError("hash_password accepted 100 bytes")


# --- The queue: one check per name at a time, and a bounded wait ----------------

import asyncio  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402


def slow(seconds, log, name):
    log.append(("start", name))
    time.sleep(seconds)
    log.append(("end", name))
    return name


def test_a_full_queue_raises_busy_at_once_and_nothing_waits_forever():
    queue = passwords.Queue(threads=1, waiting=2)
    log = []

    async def job(name):
        async with queue.turn(name):
            return await queue.run(slow, 0.05, log, name)

    async def many():
        return await asyncio.gather(*(job(f"n{i}") for i in range(6)), return_exceptions=True)

    started = time.monotonic()
    results = asyncio.run(many())
    assert results[:3] == ["n0", "n1", "n2"]
    assert all(isinstance(r, passwords.Busy) for r in results[3:])
    assert time.monotonic() - started < 1
    assert queue.admitted == 0 and not queue.full()


def test_one_job_per_name_at_a_time_and_other_names_in_parallel():
    queue = passwords.Queue(threads=2, waiting=8)
    log = []

    async def job(name):
        async with queue.turn(name):
            return await queue.run(slow, 0.1, log, name)

    async def both():
        return await asyncio.gather(job("anna"), job("anna"), job("bob"))

    assert asyncio.run(both()) == ["anna", "anna", "bob"]
    anna = [event for event, name in log if name == "anna"]
    assert anna == ["start", "end", "start", "end"]
    assert log.index(("start", "bob")) < log.index(("end", "anna"))


def test_hash_then_check_in_worker_threads():
    queue = passwords.Queue(threads=1, waiting=4)
    threads = set()

    def check(password, hashed):
        threads.add(threading.current_thread().name)
        return passwords.check_password(password, hashed)

    async def run():
        hashed = await queue.hash("anna", "correct horse")
        async with queue.turn("anna"):
            return await queue.run(check, "correct horse", hashed)

    assert asyncio.run(run()) is True
    assert threads and all(name.startswith("bcrypt") for name in threads)


def test_busy_is_raised_before_anything_waits():
    queue = passwords.Queue(threads=1, waiting=0)
    queue.admitted = 1

    async def run():
        async with queue.turn("anna"):
            pass

    with pytest.raises(passwords.Busy):
        asyncio.run(run())
