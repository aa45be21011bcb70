"""Members' proxy passwords are stored as salted scrypt hashes; plain values from older files still work."""

from __future__ import annotations

import pytest

from breather.rules.loader import RulesError, parse_rules
from breather.rules.passwords import hash_password, is_hashed, verify_password


def test_a_hash_verifies_its_password_only_and_never_shows_it() -> None:
    stored = hash_password("correct horse")
    assert is_hashed(stored) and "correct horse" not in stored
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "correct horse ")
    assert not verify_password(stored, "")


def test_the_same_password_hashes_differently_each_time() -> None:
    assert hash_password("pw") != hash_password("pw")


def test_a_remembered_sign_in_does_not_let_another_password_or_hash_through() -> None:
    first, second = hash_password("one"), hash_password("two")
    assert verify_password(first, "one")  # now remembered for this hash
    assert not verify_password(second, "one")
    assert not verify_password(first, "two")


def test_plain_text_from_older_files_still_signs_in() -> None:
    assert verify_password("hunter2", "hunter2") and not verify_password("hunter2", "hunter3")


def test_an_empty_password_cannot_be_hashed() -> None:
    with pytest.raises(ValueError, match="cannot be empty"):
        hash_password("")


def test_a_damaged_hash_in_the_rules_is_a_located_error() -> None:
    text = '[profiles.me]\ndefault = true\nuser = "me"\npassword = "scrypt:16384:8:1$abc"\n'
    with pytest.raises(RulesError) as caught:
        parse_rules(text, "rules.toml")
    assert "rules.toml:4" in str(caught.value.problems[0]) and "not a Breather password hash" in str(
        caught.value.problems[0]
    )
