"""Household members' proxy passwords, stored as salted scrypt hashes instead of plain text.

``rules.toml`` is a file people open, share on screen and back up; a password in it should not be readable there.
``breather rules password MEMBER`` writes ``password = "scrypt:16384:8:1$<salt>$<hash>"`` into the profile. A plain
value still works (older files, a quick test set-up) and ``breather rules check`` says which profiles have one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from breather.rules.model import Rules

SCHEME = "scrypt"
N, R, P = 2**14, 8, 1  # ~16 MB and a few tens of milliseconds per check: fine once per sign-in, slow to guess
SALT_BYTES = 16
KEY_BYTES = 32
MAX_MEMORY = 64 * 1024 * 1024
MIN_LENGTH = 8


def password_problem(plain: str, names: Iterable[str]) -> str | None:
    """Why ``plain`` is too easy to guess for a member's proxy password, or None. A user test set a teen's password to
    "sam", their own name: anyone in the household signs in as them at the first try. Short ones, and any member's,
    profile's or user name (case aside), are refused; the message never repeats the password."""
    if plain.casefold() in {name.casefold() for name in names}:
        return "a password cannot be a household member's name or user name: anyone at home would guess it"
    if len(plain) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters (that one has {len(plain)})"
    return None


def household_names(rules: Rules) -> list[str]:
    """Every profile name and user name in ``rules``: what a password must not be."""
    return [name for profile in rules.profiles.values() for name in (profile.name, profile.user) if name]


def hash_password(plain: str) -> str:
    if not plain:
        raise ValueError("a password cannot be empty")
    salt = secrets.token_hex(SALT_BYTES)
    return f"{SCHEME}:{N}:{R}:{P}${salt}${_derive(plain, salt, N, R, P).hex()}"


def is_hashed(stored: str) -> bool:
    return stored.startswith(f"{SCHEME}:")


def verify_password(stored: str, given: str) -> bool:
    """True when ``given`` is the password ``stored`` holds (hashed, or plain text in older files)."""
    if not is_hashed(stored):
        return hmac.compare_digest(stored.encode(), given.encode())
    return _verify_hashed(stored, hashlib.sha256(given.encode()).digest(), given)


def _verify_hashed(stored: str, given_digest: bytes, given: str) -> bool:
    if _remembered(stored, given_digest):
        return True
    params, salt, expected = _parse(stored)
    ok = hmac.compare_digest(_derive(given, salt, *params).hex(), expected)
    if ok:
        _remember(stored, given_digest)
    return ok


# A browser signs in once per connection and opens many: a correct password is remembered (by a digest of it, for
# this stored hash only) so the proxy pays scrypt once per member, not once per connection. Wrong ones never are.
_accepted: dict[tuple[str, bytes], None] = {}
MAX_REMEMBERED = 64


def _remembered(stored: str, digest: bytes) -> bool:
    return (stored, digest) in _accepted


def _remember(stored: str, digest: bytes) -> None:
    if len(_accepted) >= MAX_REMEMBERED:
        _accepted.pop(next(iter(_accepted)))
    _accepted[(stored, digest)] = None


def _parse(stored: str) -> tuple[tuple[int, int, int], str, str]:
    try:
        head, salt, expected = stored.split("$")
        scheme, n, r, p = head.split(":")
        params = (int(n), int(r), int(p))
    except ValueError:
        raise ValueError(f"not a Breather password hash: {stored[:16]}…") from None
    if scheme != SCHEME or not salt or not expected:
        raise ValueError(f"not a Breather password hash: {stored[:16]}…")
    return params, salt, expected


def check_hash(stored: str) -> None:
    """Raise ``ValueError`` when ``stored`` claims to be a hash but is not a readable one (a bad copy and paste)."""
    if is_hashed(stored):
        _parse(stored)


def _derive(plain: str, salt: str, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(plain.encode(), salt=salt.encode(), n=n, r=r, p=p, maxmem=MAX_MEMORY, dklen=KEY_BYTES)
