from classbox_hub import rules


def never_common(_):
    return False


def test_a_good_password_has_no_problem():
    assert rules.password_problem("blue-koala-42", "blue-koala-42", 8, never_common) is None


def test_each_password_problem_is_a_readable_sentence():
    assert "not the same" in rules.password_problem("abcdefgh1", "abcdefgh2", 8, never_common)
    assert "at least 8 characters" in rules.password_problem("short", "short", 8, never_common)
    long_ascii = "a" * 73
    assert "too long" in rules.password_problem(long_ascii, long_ascii, 8, never_common)
    emoji = "🐨" * 19  # 19 characters, 76 bytes
    assert "too long" in rules.password_problem(emoji, emoji, 8, never_common)
    assert "too common" in rules.password_problem("password1", "password1", 8, lambda p: True)


def test_taken_and_admin_names_say_taken_and_where_to_go():
    for taken, admins in [(True, set()), (False, {"anna"})]:
        message = rules.signup_problem("anna", taken, admins, lambda name: None)
        assert "already taken" in message and "ask your teacher" in message


def test_signup_problem_falls_back_to_the_username_rules():
    assert rules.signup_problem("x y", False, set(), lambda name: "bad name") == "bad name"
    assert rules.signup_problem("anna", False, set(), lambda name: None) is None


def test_lockout_message_counts_whole_minutes():
    assert "Wait 5 minutes" in rules.lockout_message("anna", 290)
    assert "Wait 1 minute " in rules.lockout_message("anna", 10)
