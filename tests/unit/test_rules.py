from classbox import rules


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


def signup_problem(name="anna", taken=False, admins=(), hub_user=False, name_problem=None, files=False):
    return rules.signup_problem(
        name,
        taken=taken,
        admin_names=set(admins),
        hub_user=hub_user,
        username_problem=lambda _: name_problem,
        leftover_files=lambda _: files,
    )


def test_taken_and_admin_names_say_taken_and_where_to_go():
    for message in [signup_problem(taken=True), signup_problem(admins={"anna"})]:
        assert "already taken" in message and "ask your teacher" in message


def test_signup_problem_falls_back_to_the_username_rules():
    assert signup_problem("x y", name_problem="bad name") == "bad name"
    assert signup_problem("anna") is None


def test_a_name_the_teacher_created_on_the_admin_page_is_taken():
    message = signup_problem(hub_user=True)
    assert "your teacher created that account" in message and "Students page" in message


def test_a_name_with_a_deleted_accounts_files_is_refused():
    message = signup_problem(files=True)
    assert "deleted account" in message and "ask your teacher" in message
    # the folder is looked for only with a valid name
    assert signup_problem("../etc", name_problem="bad name", files=True) == "bad name"


def test_busy_is_one_readable_sentence():
    assert rules.BUSY == "The box is busy, try again in a few seconds."


def test_lockout_message_counts_whole_minutes():
    assert "Wait 5 minutes" in rules.lockout_message("anna", 290)
    assert "Wait 1 minute " in rules.lockout_message("anna", 10)
