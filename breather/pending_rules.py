"""Rules changes saved on the dashboard's Rules page that wait for their cooling-off.

What an edit tightens is written to ``rules.toml`` at once; what it loosens waits as a row of
``pending_rule_changes`` (``save``), which ``apply_due_changes`` writes once due (the dashboard's one-minute job, and
once as the service starts). The service's rules watcher asks here whether a version of the file is one the page
holds or has just written (``asked_on_the_page``), so it is not held twice; ``breather status`` and every dashboard
page list what the page holds (``held_here``). Shared by the dashboard and the service, so it lives outside both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import tomlkit
from sqlite_utils import Database

from breather.rules.cooling import PendingChange as HeldChange
from breather.rules.cooling import address_changes, apply_change, held_path, shorter_history_text, zone_text
from breather.rules.cooling import loosenings as cooling_loosenings
from breather.rules.decisions import when
from breather.rules.editing import ChangedMeanwhile, in_force_text, put_back, still_reads_as, value_at
from breather.rules.errors import RulesError
from breather.rules.loader import parse_rules
from breather.rules.model import IPNetwork, Rules
from breather.rules.textfile import decode_rules_text
from breather.rules.timeparse import spoken_duration
from breather.rules.watcher import digest, read_settled, write_private

Writes = Callable[[Callable[[Database], Any]], Any]


class RulesChanged(Exception):
    """The file changed between showing it and saving over it."""


# --- Loosening or tightening ----------------------------------------------------------------------------------------


def loosenings(old: Rules, new: Rules) -> list[str]:
    """Every way ``new`` is looser than ``old``, in words: what ``rules.cooling`` finds, the one reading the
    service's watcher holds hand edits by (a changed sign-in or device address, and a retention kept shorter, among
    them). Empty means the edit only tightens (or is neutral). Never a password or its hash: only whose changed."""
    found = []
    for change in cooling_loosenings(old, new):
        if change.setting == "profile":
            found.append(f"{change.profile}: profile removed")
        elif change.setting in ("user", "password"):
            found.append(f"{change.profile}'s sign-in (user name or password) changed")
        elif change.setting == "client_ips":
            found.append(_address_words(change.profile, change.old, change.new))
        elif change.profile is not None:
            found.append(f"{change.profile}: {_loosening_words(change.setting, change.item)}")
        elif change.setting == "cooling_off":
            found.append("a shorter cooling-off delay")
        elif change.setting == "retention_days":
            found.append(_retention_words(old.retention_days, new.retention_days))
        elif change.setting == "groups" and change.new is None:
            found.append("sites no longer looked after")
        elif change.setting == "groups":
            found.append(f"{change.item} moved to the site group {change.new}")
        elif change.setting == "adapter":
            found.append(f"{change.item} read with another adapter ({change.old} → {change.new})")
        elif change.setting == "default_profile":
            found.append(f"a looser default member ({change.old} → {change.new})")
        elif change.setting == "timezone":
            found.append(f"a different time zone ({zone_text(change.old)} → {zone_text(change.new)})")
    return list(dict.fromkeys(found))


def _address_words(profile: str | None, was: tuple[IPNetwork, ...], wants: tuple[IPNetwork, ...]) -> str:
    """``a device address now goes to me (192.0.2.2)``: a listed address skips sign-in, so whose it is matters."""
    added, removed = address_changes(was, wants)
    if added and removed:
        return f"{profile}'s device addresses changed (adding {', '.join(added)}; removing {', '.join(removed)})"
    one = len(added or removed) == 1
    what = "a device address" if one else "device addresses"
    goes = ("now goes to" if one else "now go to") if added else ("no longer goes to" if one else "no longer go to")
    return f"{what} {goes} {profile} ({', '.join(added or removed)})"


def _retention_words(was: int, wants: int) -> str:
    if wants < was:
        return shorter_history_text(was, wants)
    return f"records kept longer ({was} → {wants} days)"


_LOOSENING_WORDS = {
    "daily_limit": "a bigger daily limit",
    "break_after": "breaks further apart",
    "break_length": "shorter breaks",
    "max_snoozes": "more snoozes",
    "friction_delay": "a shorter wait on block pages",
    "quiet_hours": "shorter quiet hours",
    "topic_quiet_hours": "shorter topic quiet hours",
    "keywords": "fewer keywords",
    "always_allowed": "more always-allowed sites",
    "open_anyway": "opening sites anyway switched back on",
    "calm": "calm feeds switched off",
    "uplift": "less uplift in feeds",
}


def _loosening_words(setting: str, item: str | None) -> str:
    if setting == "limits":
        return f"a bigger limit on {item}"
    if setting == "sensitivity":
        return f"weaker {(item or '').replace('_', ' ')} warnings"
    if setting == "topics":
        return f"fewer words in the topic {(item or '').partition(': ')[0]}"
    return _LOOSENING_WORDS.get(setting, setting.replace("_", " "))


# --- Saving -------------------------------------------------------------------------------------------------------


# The Rules page's requests (waitress threads) and the job that applies due changes (the scheduler's thread) each
# read the file, write it and mark rows: one at a time, or a change just applied is then marked "superseded" (and
# the service holds it again for a whole cooling-off), or a save writes over a change applied a moment before.
_FILE_WRITES = threading.Lock()


def save(
    db: Database, path: Path, old_text: str, new_text: str, old: Rules, new: Rules, write: Writes, now: datetime
) -> str:
    with _FILE_WRITES:
        return _save(db, path, old_text, new_text, old, new, write, now)


def _save(
    db: Database, path: Path, old_text: str, new_text: str, old: Rules, new: Rules, write: Writes, now: datetime
) -> str:
    """Write at once what the edit tightens (or leaves alone); hold what it loosens as a pending row.

    The file is written now with the held settings kept at their old values, so the file says what is in force; the
    row keeps the whole text asked for, which ``apply_due_changes`` writes once due. Loosenings measure from the file
    as written (``old`` only when it does not load): one the service already holds from a hand edit stays in the
    file and stays the service's to hold. A loosening that is not one setting of a member (a removed member,
    records kept longer or shorter, sites no longer looked after) cannot be parted from the rest, so such an edit
    waits whole.
    """
    still_as_read = still_reads_as(path, old_text)
    if not still_as_read():
        raise RulesChanged("the rules file changed while you were editing; reload and try again")
    base = rules_or(old_text, old)
    loosened = loosenings(base, new)
    stamp = now.isoformat(timespec="seconds")
    if not loosened:
        _write_unless_saved_meanwhile(path, new_text, still_as_read)
        dropped = rebase_pending(db, old_text, new_text, write, stamp)
        return "Saved. The new rules apply now." + _dropped_words(dropped)
    applied_text = _applied_part(base, old_text, new_text, new, now)
    dropped = withdraw_asked_again(db, old_text, new_text, write, stamp)
    if applied_text is not None:
        _write_unless_saved_meanwhile(path, applied_text, still_as_read)
        dropped += rebase_pending(db, old_text, applied_text, write, stamp)
    # the longer of the file's delay and the one in force: a shorter delay typed by hand is itself held by the
    # service, which counts this change's wait by the delay in force (a review found the page promising "in 1h"); a
    # longer one saved with it applies at once, and the service counts the wait by it too (rules.cooling.apply_change)
    wait = max(base.cooling_off, old.cooling_off, new.cooling_off)
    row = {
        "submitted_at": stamp,
        "effective_at": (now + wait).isoformat(timespec="seconds"),
        "base_sha": version_of(applied_text if applied_text is not None else old_text),
        "text": new_text,
        "summary": "; ".join(loosened),
        "applied_at": None,
        "outcome": None,
    }
    write(lambda conn: conn.table("pending_rule_changes").insert(row))
    zone = base.zone()
    due = when((now + wait).astimezone(zone).replace(tzinfo=None), now.astimezone(zone).replace(tzinfo=None))
    waits = f"waits {spoken_duration(wait)} and takes effect at {due}"
    if applied_text is None:
        return (
            f"This loosens a boundary ({'; '.join(loosened)}), so it {waits}. Tightening is always immediate."
            + _dropped_words(dropped)
        )
    return (
        f"Saved: what this tightens applies now. What it loosens ({'; '.join(loosened)}) {waits}; "
        "until then the file keeps the old values there." + _dropped_words(dropped)
    )


def version_of(text: str) -> str:
    """Which version of the rules file a waiting change builds on (its row's ``base_sha``): the text's hash with its
    line endings as one. A file saved again with the same rules but Windows line endings (Notepad++, git's
    ``core.autocrlf``) is the same version, as one given a byte-order mark is (``read_rules_text`` drops it): the
    exact text's hash dropped the waiting change as "superseded", and it never came in."""
    return digest(text.replace("\r\n", "\n"))


def versions_of(text: str) -> list[str]:
    """The hashes a row waiting on ``text`` may hold: ``version_of``, and the exact text's, which rows saved before
    line endings were set aside hold."""
    return [version_of(text), digest(text)]


def _dropped_words(dropped: list[str]) -> str:
    if not dropped:
        return ""
    return (
        f" This edit changes again what an earlier waiting change asked for ({'; '.join(dropped)}), so that part of "
        "it is dropped: the later edit wins."
    )


def _write_unless_saved_meanwhile(path: Path, text: str, still_as_read: Callable[[], bool]) -> None:
    """The file was checked against what the page showed before; a save by hand landing after that check (the
    person's editor, while this write was waiting on the disk) must not be replaced without a word."""
    try:
        write_private(path, text, still_as_read=still_as_read)
    except ChangedMeanwhile:
        raise RulesChanged("the rules file changed while you were editing; reload and try again") from None


def rules_or[T](text: str, fallback: T) -> Rules | T:
    try:
        return parse_rules(text)
    except RulesError:
        return fallback


def _applied_part(base: Rules, old_text: str, new_text: str, new: Rules, now: datetime) -> str | None:
    """``new_text`` with each held loosening back at its value in force: the part of the edit in force now. None
    when nothing of the edit applies now, or when no file reads back as exactly the rules in force: then the whole
    edit waits, as it always could."""
    in_force, held = apply_change(base, new, now)
    if in_force == base or loosenings(base, in_force):  # nothing applies now, or a loosening it does not part
        return None
    return in_force_text(new_text, in_force, held, old_text if rules_or(old_text, None) is not None else None)


@dataclass(frozen=True)
class PendingChange:
    id: int
    submitted_at: datetime
    effective_at: datetime
    summary: str


def pending_changes(db: Database) -> list[PendingChange]:
    rows = db.execute(
        "select id, submitted_at, effective_at, summary from pending_rule_changes where applied_at is null "
        "order by effective_at"
    )
    return [
        PendingChange(row_id, datetime.fromisoformat(at), datetime.fromisoformat(due), summary)
        for row_id, at, due, summary in rows
    ]


def held_here(db: Database, text: str, now: datetime) -> list[HeldChange]:
    """What the Rules page's own pending changes hold, setting by setting, worded as the service words its holds.
    Measured from the file ``text``, which is the part of each edit in force (see ``save``)."""
    rows = db.execute(  # a change to a file edited elsewhere since is dropped when due
        "select submitted_at, text from pending_rule_changes where applied_at is null and base_sha in (?, ?) "
        "order by effective_at",
        versions_of(text),
    ).fetchall()
    in_file = rules_or(text, None) if rows else None  # every page asks: parse the file only when something waits
    if in_file is None:
        return []
    held: list[HeldChange] = []
    for submitted, asked_text in rows:
        asked = rules_or(asked_text, None)
        if asked is not None:
            held += apply_change(in_file, asked, now, changed_at=datetime.fromisoformat(submitted))[1]
    return held


def _mark_done(row_id: int, outcome: str, stamp: str) -> Callable[[Database], Any]:
    def mark(conn: Database) -> Any:
        return conn.execute(
            # only a row still waiting: an outcome once written is what happened (another process may have raced)
            "update pending_rule_changes set applied_at = ?, outcome = ? where id = ? and applied_at is null",
            [stamp, outcome, row_id],
        )

    return mark


# The page writes a change once due and marks its row applied a moment later, so the service's watcher mostly sees
# the file after the mark: a change applied this recently is still the page's own, not one typed back in by hand.
JUST_APPLIED = timedelta(minutes=5)


def asked_on_the_page(db: Database, text: str, now: datetime) -> datetime | None:
    """When the rule file ``text`` was asked for on the Rules page, if the page holds it for its cooling-off still
    (or has just written it). A change applied or dropped earlier does not count: that text put back by hand later
    is a new loosening and waits again."""
    rows = db.execute(
        "select submitted_at, applied_at, outcome from pending_rule_changes where text = ? order by submitted_at",
        [text],
    ).fetchall()
    for submitted, applied, outcome in rows:
        if applied is None or (outcome == "applied" and abs(now - _as_utc(applied)) <= JUST_APPLIED):
            return _as_utc(submitted)
    return None


def _as_utc(stamp: str) -> datetime:
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


SUPERSEDED = "superseded"  # the file was edited elsewhere after the change was saved
REPLACED = "replaced"  # a later save on the Rules page changed the same settings


def apply_due_changes(db: Database, path: Path, write: Writes, now: datetime) -> int:
    with _FILE_WRITES:
        return _apply_due_changes(db, path, write, now)


def _apply_due_changes(db: Database, path: Path, write: Writes, now: datetime) -> int:
    """Write every pending change whose cooling-off is over; the changes still waiting then build on it. A change
    to a file edited elsewhere since is dropped as superseded (applying it would undo that edit); the Rules page
    says so (``dropped_changes``). Dropping is for good, so only a version someone saved drops it: one that has
    stopped changing and reads as rules. A file caught mid-save, or with a typo fixed a moment later back to the
    text the change was saved on, leaves it waiting for the next check."""
    stamp = now.isoformat(timespec="seconds")
    applied = 0
    while (row := _next_due(db, stamp)) is not None:
        row_id, base, text = row
        current = _settled_text(path)
        if current is None:
            return applied  # a file that does not read (gone, not UTF-8) or mid-save: the change waits
        if base not in versions_of(current):
            if rules_or(current, None) is None:
                return applied  # not rules as it is (a typo, say): no version to say the change was replaced by
            write(_mark_done(row_id, SUPERSEDED, stamp))
            continue
        try:
            write_private(path, text, still_as_read=still_reads_as(path, current))
        except ChangedMeanwhile:
            continue  # saved by hand meanwhile: read again, and the change is superseded by it
        write(_mark_done(row_id, "applied", stamp))
        rebase_pending(db, current, text, write, stamp)
        applied += 1
    return applied


def _settled_text(path: Path) -> str | None:
    """The file's text once it has stopped changing (as the service's watcher takes a version), or None when it is
    still changing or does not read."""
    contents, settled = read_settled(path)
    if not settled or isinstance(contents, OSError):
        return None
    try:
        return decode_rules_text(contents[1], path.name)
    except RulesError:
        return None


def _next_due(db: Database, stamp: str) -> tuple[int, str, str] | None:
    row = db.execute(
        "select id, base_sha, text from pending_rule_changes where applied_at is null and effective_at <= ? "
        "order by effective_at, id limit 1",
        [stamp],
    ).fetchone()
    return None if row is None else (row[0], row[1], row[2])


def rebase_pending(db: Database, before: str, written: str, write: Writes, stamp: str) -> list[str]:
    """The Rules page just wrote ``written`` over ``before``: each change still waiting on ``before`` now waits on
    ``written``, keeping what it loosens that this write left alone. What the write changed again is its to decide
    (the later edit wins): that part of the waiting change is dropped, and returned in words."""
    before_rules = rules_or(before, None)
    if before_rules is None or before == written:
        return []
    dropped: list[str] = []
    for row_id, asked_text, summary in _waiting_on(db, before):
        rebased = _rebased(before_rules, before, asked_text, written)
        if rebased is None:
            write(_mark_done(row_id, REPLACED, stamp))
            dropped.append(summary)
            continue
        text, kept, lost = rebased
        dropped += lost
        write(_update_pending(row_id, version_of(written), text, "; ".join(kept)))
    return dropped


def _waiting_on(db: Database, text: str) -> list[tuple[int, str, str]]:
    """(id, text asked for, summary) of each change still waiting on the file version ``text``."""
    return db.execute(
        "select id, text, summary from pending_rule_changes where applied_at is null and base_sha in (?, ?)",
        versions_of(text),
    ).fetchall()


def withdraw_asked_again(db: Database, before: str, asked_now: str, write: Writes, stamp: str) -> list[str]:
    """A save that loosens ``before`` into ``asked_now`` waits as a row of its own, and the file is not written where
    it loosens, so ``rebase_pending`` never sees it change what an earlier waiting change asked for. Each such
    setting is taken out of the earlier change here (the later edit wins: a user test's corrected own-words list was
    dropped when the first one came in); an earlier change left with nothing is marked replaced. Returns what was
    dropped, in words."""
    before_rules = rules_or(before, None)
    if before_rules is None:
        return []
    before_document, now_document = tomlkit.parse(before), tomlkit.parse(asked_now)
    dropped: list[str] = []
    for row_id, asked_text, _ in _waiting_on(db, before):
        asked = rules_or(asked_text, None)
        if asked is None:
            continue
        asked_document = tomlkit.parse(asked_text)
        again = [
            path
            for path in (held_path(change) for change in cooling_loosenings(before_rules, asked))
            if value_at(now_document, path) != value_at(before_document, path)
        ]
        if not again:
            continue
        for path in again:
            put_back(before_document, asked_document, path)
        text = tomlkit.dumps(asked_document)
        result = rules_or(text, None)
        kept = loosenings(before_rules, result) if result is not None else []
        dropped += [words for words in loosenings(before_rules, asked) if words not in kept]
        if not kept:
            write(_mark_done(row_id, REPLACED, stamp))
            continue
        write(_update_pending(row_id, version_of(before), text, "; ".join(kept)))
    return dropped


def _rebased(
    before_rules: Rules, before: str, asked_text: str, written: str
) -> tuple[str, list[str], list[str]] | None:
    """``written`` with the settings ``asked_text`` loosens from ``before`` that ``written`` left as they were: the
    text, what it still loosens, and what was given up. None when nothing of it is left."""
    asked = rules_or(asked_text, None)
    if asked is None:
        return None
    before_document, asked_document = tomlkit.parse(before), tomlkit.parse(asked_text)
    written_document = tomlkit.parse(written)
    paths = [held_path(change) for change in cooling_loosenings(before_rules, asked)]
    for path in paths:
        if value_at(before_document, path) == value_at(written_document, path):
            put_back(asked_document, written_document, path)
    text = tomlkit.dumps(written_document)
    result = rules_or(text, None)
    written_rules = rules_or(written, None)
    if result is None or written_rules is None:
        return None
    kept = loosenings(written_rules, result)
    lost = [words for words in loosenings(before_rules, asked) if words not in kept]
    return (text, kept, lost) if kept else None


def _update_pending(row_id: int, base: str, text: str, summary: str) -> Callable[[Database], Any]:
    def update(conn: Database) -> Any:
        return conn.execute(
            "update pending_rule_changes set base_sha = ?, text = ?, summary = ? where id = ?",
            [base, text, summary, row_id],
        )

    return update


@dataclass(frozen=True)
class DroppedChange:
    submitted_at: datetime
    summary: str
    outcome: str


DROPPED_SHOWN_FOR = timedelta(days=7)


def dropped_changes(db: Database, now: datetime) -> list[DroppedChange]:
    """Waiting changes dropped in the last week, for the Rules page to say which and why."""
    since = (now - DROPPED_SHOWN_FOR).isoformat(timespec="seconds")
    rows = db.execute(
        "select submitted_at, summary, outcome from pending_rule_changes where outcome in (?, ?) and applied_at >= ? "
        "order by applied_at desc",
        [SUPERSEDED, REPLACED, since],
    )
    return [DroppedChange(datetime.fromisoformat(at), summary, outcome) for at, summary, outcome in rows]
