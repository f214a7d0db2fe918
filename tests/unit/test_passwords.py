from classbox_hub import passwords


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
