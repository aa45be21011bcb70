"""Pairing an extension: a short code shown on the Setup page is exchanged once for a long-lived API token."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from breather.dashboard.errors import ApiError
from breather.dashboard.security import AttemptLimiter, issue_token

# No 0/O or 1/I: the code is read off a screen and typed by hand.
CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_DIGITS = "23456789"

Writes = Callable[[Callable[[Database], Any]], Any]


def new_code() -> str:
    letters = "".join(secrets.choice(CODE_LETTERS) for _ in range(4))
    digits = "".join(secrets.choice(CODE_DIGITS) for _ in range(4))
    return f"{letters}-{digits}"


def normalise(code: str) -> str:
    compact = "".join(ch for ch in code.upper() if ch.isalnum())
    return f"{compact[:4]}-{compact[4:]}" if len(compact) == 8 else code.strip().upper()


def create_code(db: Database, profile: str, ttl_s: int, now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    code = new_code()
    db.table("pairing_codes").insert(
        {
            "code": code,
            "profile": profile,
            "created_at": moment.isoformat(timespec="seconds"),
            "expires_at": (moment + timedelta(seconds=ttl_s)).isoformat(timespec="seconds"),
            "used_at": None,
        }
    )
    return code


def active_codes(db: Database, now: datetime | None = None) -> dict[str, str]:
    """profile → its newest unexpired, unused code."""
    moment = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    rows = db.execute(
        "select profile, code from pairing_codes where used_at is null and expires_at > ? order by created_at",
        [moment],
    ).fetchall()
    return {profile: code for profile, code in rows}


def redeem(
    write: Writes, code: str, browser: str, origin: str | None, limiter: AttemptLimiter, now: datetime | None = None
) -> tuple[str, str]:
    """Exchange a code for ``(profile, token)``. Wrong codes count against ``limiter`` so codes cannot be guessed:
    each try is counted before its check, so codes sent at once cannot all pass while the first is checked."""
    wait = limiter.take()
    if wait > 0:
        raise ApiError(429, "TooManyAttempts", f"too many wrong pairing codes; wait {int(wait) + 1} seconds")
    moment = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    wanted = normalise(code)
    paired_origin = origin if origin and "://" in origin else None

    def use_code(db: Database) -> tuple[str, str] | None:
        row = db.execute(
            "select profile from pairing_codes where code = ? and used_at is null and expires_at > ?",
            [wanted, moment],
        ).fetchone()
        if row is None:
            return None
        db.execute("update pairing_codes set used_at = ? where code = ?", [moment, wanted])
        return str(row[0]), issue_token(db, str(row[0]), browser[:40], paired_origin)

    paired = write(use_code)
    if paired is None:
        raise ApiError(
            403, "InvalidPairingCode", "this pairing code is unknown, used or expired; make a new one on Setup"
        )
    limiter.give_back()
    return paired


@dataclass(frozen=True)
class PairedBrowser:
    token_hash: str
    profile: str
    browser: str
    paired_at: datetime
    last_seen: datetime | None


def paired_browsers(db: Database) -> list[PairedBrowser]:
    rows = db.execute(
        "select token_hash, profile, browser, created_at, last_seen_at from api_tokens where revoked_at is null "
        "order by created_at"
    )
    return [
        PairedBrowser(digest, profile, browser or "unknown", datetime.fromisoformat(created), _maybe_time(seen))
        for digest, profile, browser, created, seen in rows
    ]


def _maybe_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def revoke(db: Database, token_hash: str, now: datetime) -> int:
    stamp = now.isoformat(timespec="seconds")
    cursor = db.execute(
        "update api_tokens set revoked_at = ? where token_hash = ? and revoked_at is null", [stamp, token_hash]
    )
    return int(cursor.rowcount)
