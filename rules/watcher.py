"""Keep the service's rules in step with ``rules.toml``, and keep the last good rules when an edit is broken.

A polling thread (about once a second) compares the file's mtime, size and content hash; polling needs no
platform-specific file events and catches editors that replace the file instead of writing it in place. A new
version is taken once two polls in a row read it alike, so a save caught half-written is never taken for the rules;
a start waits for a save going on the same way (``read_settled``), a few seconds at most. A save that stalls for
longer than a poll between two writes is still taken half-written; the finished save (within ``HALF_SAVE_WITHIN``)
is then judged against the rules before that part, not against it.

With a ``last_good`` path, every version taken in is also copied there, so that a service started while the file is
broken (after a reboot, say) starts with the rules that were last in force instead of none at all.

With ``cool_loosening`` (the service), an edit of the file by hand waits out the cooling-off like one saved from the
dashboard: what it tightens applies at once, what it loosens is ``held`` until the household's delay has passed
(``rules.cooling.apply_change``, from the rules in force, tightenings and loosenings already released included).
Each loosening waits from when it was first asked for, so a later edit elsewhere in the file does not restart it
(``rules.cooling.first_asked``). The wait survives a restart: the held version and when each of its loosenings was
first seen are kept beside the last good copy (which, while something is held, is the rules in force written as a
rules file). A version the dashboard is holding for its cooling-off (``asked_at`` gives when it was asked for) is not
held twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from breather.rules.cooling import ChangeKey, PendingChange, apply_change, carried_over, loosenings
from breather.rules.errors import RulesError
from breather.rules.model import Rules
from breather.rules.textfile import cannot_read, decode_rules_text, read_rules_text

log = logging.getLogger(__name__)

OWNER_ONLY = 0o600  # the copies hold the whole rules (members' password hashes, own keywords), as rules.toml does

ChangeListener = Callable[[Rules], None]
ErrorListener = Callable[[str], None]
Fingerprint = tuple[int, int, str]
Contents = tuple[Fingerprint, bytes]
Clock = Callable[[], datetime]
AskedAt = Callable[[str, datetime], "datetime | None"]
"""When the dashboard was asked for a rules text it held, as seen at a moment (None: it did not hold that text)."""


class _Waiting(NamedTuple):
    """The file's version whose loosening is held, and when each of its loosenings was first asked for."""

    text: str
    rules: Rules
    asked: dict[ChangeKey, datetime]


class _Before(NamedTuple):
    """What a version was judged against when it was taken (cool_loosening), kept for the next one in case that
    version turns out to have been the start of a save caught half-way."""

    base: Rules | None
    waiting: _Waiting | None
    held: tuple[PendingChange, ...]


class _Taken(NamedTuple):
    """The version last taken in, when, and the rules it was judged against."""

    text: str
    at: datetime
    before: _Before


POLL_INTERVAL = 1.0  # seconds between the watcher's reads of the file
# A version taken in that the next one only extends, within this long, was a save caught half-way (one that stalled
# for longer than a poll between its writes): the whole save is judged against the rules before it began.
HALF_SAVE_WITHIN = timedelta(seconds=10)
START_SETTLE_LIMIT = 5.0  # seconds a start waits at most for a save still going on, then takes what it has


def _utc_now() -> datetime:
    return datetime.now(UTC)


def digest(text: str) -> str:
    """The rules text's sha256 (hex): how the watcher, its held-change note and the dashboard know a version."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class RulesWatcher:
    """``current`` is the last good ``Rules`` (``None`` only if the file was never valid); ``last_error`` the
    located message of the latest refused version (``None`` once the file is valid again)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        interval: float = POLL_INTERVAL,
        last_good: str | os.PathLike[str] | None = None,
        *,
        cool_loosening: bool = False,
        asked_at: AskedAt | None = None,
        clock: Clock = _utc_now,
    ) -> None:
        self.path = Path(path)
        self.interval = interval
        self.last_good = Path(last_good) if last_good is not None else None
        self.cool_loosening = cool_loosening
        self._asked_at = asked_at
        self._clock = clock
        self.current: Rules | None = None
        self.last_error: str | None = None
        # Loosened settings of the file not in force yet (cool_loosening), and the version they come from.
        self.held: tuple[PendingChange, ...] = ()
        self._waiting: _Waiting | None = None
        self._taken: _Taken | None = None  # the version taken in last (cool_loosening), for a save caught half-way
        self._fingerprint: Fingerprint | None = None
        self._listeners: list[ChangeListener] = []
        self._error_listeners: list[ErrorListener] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        # The rules in force, tightenings and released loosenings included: what a loosening is measured from
        # (cool_loosening only).
        self._base: Rules | None = self._read_last_good() if cool_loosening else None
        self._consider(self._read_at_start())
        self._seen: Fingerprint | None = self._fingerprint  # what the last poll read (poll_once)
        if self.current is None:
            self._fall_back_to_last_good()

    def add_listener(self, listener: ChangeListener) -> None:
        """Called with the new rules, on the watcher's thread, each time a valid change is taken in."""
        self._listeners.append(listener)

    def add_error_listener(self, listener: ErrorListener) -> None:
        """Called with the located message each time a broken version is refused."""
        self._error_listeners.append(listener)

    def reload(self) -> bool:
        """Read the file if it changed. Returns True when new, valid rules were taken in."""
        return self._consider(self._read())

    def poll_once(self) -> bool:
        """What the watcher's thread does each interval: take in a changed version once it has stopped changing, and
        put in force what is due. Returns True when the rules changed.

        A save caught half-way (an editor or a sync tool writing the file in place, in several writes) must not count:
        its first part is often valid TOML, so what its missing tail seems to tighten would apply at once and the rest
        of the same save come back as a loosening held for the cooling-off. A version is taken when two polls in a
        row read it alike."""
        contents = self._read()
        seen = _fingerprint_of(contents)
        settled = seen == self._seen
        self._seen = seen
        changed = self._consider(contents) if settled else False
        return self.release_due() or changed

    def release_due(self) -> bool:
        """Put a held version in force once its cooling-off is over. Returns True when the rules changed."""
        with self._lock:
            if self._waiting is None or not self.held:
                return False
            if self._clock() < min(change.takes_effect for change in self.held):
                return False
            # The held version was valid when it was read; the file may be broken since, and stays reported.
            return self._settle(self._waiting.text, self._waiting.rules)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._poll, name="breather-rules-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _poll(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.poll_once()
            except Exception:  # a listener's bug must not end the watching
                log.exception("rules watcher: reloading %s failed", self.path)

    def _read(self) -> Contents | OSError:
        return read_contents(self.path)

    def _read_at_start(self) -> Contents | OSError:
        """The file as a start takes it: settled as a poll takes a version (``read_settled``). What a start takes
        is what every later edit is measured from, so a save caught half-way would make its missing tail a
        tightening in force at once and the rest of the same save a loosening held for the cooling-off."""
        contents, settled = read_settled(self.path, self.interval, START_SETTLE_LIMIT)
        if not settled:
            log.warning("%s kept changing for %.0f s; starting with it as it is now", self.path, START_SETTLE_LIMIT)
        return contents

    def _consider(self, contents: Contents | OSError) -> bool:
        """Take in a version read from the file if it is new. Returns True when new, valid rules were taken in."""
        with self._lock:
            if isinstance(contents, OSError):
                # read again in full once it is back, even byte for byte as before (a sync tool moved it away a
                # moment): otherwise its "cannot read" stayed on every page until the next real edit
                self._fingerprint = None
                self._refuse(str(cannot_read(self.path, contents)))
                return False
            fingerprint, data = contents
            if fingerprint == self._fingerprint:
                return False
            self._fingerprint = fingerprint
            try:
                text = decode_rules_text(data, self.path.name)
            except RulesError as exc:
                self._refuse(str(exc))
                return False
            return self._take(text)

    def _take(self, text: str) -> bool:
        from breather.rules.loader import parse_rules

        try:
            rules = parse_rules(text, self.path.name)
        except RulesError as exc:
            self._refuse(str(exc))
            return False
        self.last_error = None
        if not self.cool_loosening:
            return self._settle(text, rules)
        before = self._before_a_save_caught_half_way(text) or _Before(self._base, self._waiting, self.held)
        changed = self._settle(text, rules)
        self._taken = _Taken(text, self._clock(), before)
        return changed

    def _before_a_save_caught_half_way(self, text: str) -> _Before | None:
        """The rules before the version just taken, when that version was the start of this one written moments
        ago: a save in place that stalled for longer than a poll between two writes (a sync tool, a slow disk) is
        taken half-written, its first part often valid TOML. Judged against that part, what the missing tail seemed
        to tighten applied at once and came back with the rest as a loosening held for the cooling-off anew (and a
        loosening already held that the tail carried started its wait again). So the whole save is judged against
        the rules before it began, as if the part had never been read.

        Only a version that the new one extends (its text is the start of the new text: only added lines, which can
        add a tightening or a loosening but never redefine a setting) and only within ``HALF_SAVE_WITHIN``: a
        tightening saved on purpose and then changed back is not an extension, and is judged as usual."""
        taken = self._taken
        if taken is None or taken.before.base is None:  # nothing was in force before it: nothing to judge against
            return None
        if not (len(text) > len(taken.text) and text.startswith(taken.text)):
            return None
        if not timedelta(0) <= self._clock() - taken.at <= HALF_SAVE_WITHIN:
            return None
        log.info(
            "%s was taken half-written a moment ago; judging the whole save against the rules before it", self.path
        )
        self._base, self._waiting, self.held = taken.before
        return taken.before

    def _settle(self, text: str, rules: Rules) -> bool:
        """Put a valid version in force, less what it loosens that is still held."""
        if self.cool_loosening and self._base is not None and rules != self._base:
            asked = self._first_asked(self._base, text, rules)
            in_force, pending = apply_change(self._base, rules, self._clock(), asked=asked)
            if pending:
                return self._hold(_Waiting(text, rules, asked), in_force, pending)
        return self._accept(text, rules)

    def _accept(self, text: str, rules: Rules) -> bool:
        """The version is in force as written."""
        if self._waiting is not None and self._waiting.rules == rules:
            log.info("the held loosening of %s is in force now", self.path)
        elif self._waiting is not None:
            log.info("%s no longer asks for the held loosening; nothing is held now", self.path)
        self._base = rules
        self._waiting = None
        self.held = ()
        self._keep_copy(text)
        self._forget_held_marker()
        return self._put_in_force(rules)

    def _hold(self, waiting: _Waiting, in_force: Rules, pending: tuple[PendingChange, ...]) -> bool:
        """What the version tightens applies now; what it loosens waits for its cooling-off."""
        if self._waiting is None or self._waiting.text != waiting.text:
            log.warning(
                "%s loosens a boundary; held for the cooling-off: %s",
                self.path,
                "; ".join(change.describe() for change in pending),
            )
        self._waiting = waiting
        self.held = pending
        # What is in force now (tightenings, loosenings already released) is what later edits are measured from,
        # and what a restart on a broken file falls back to. The note goes first: a crash between the two leaves
        # the older copy and a note that keeps every wait.
        self._base = in_force
        self._keep_held_marker(waiting)
        self._keep_in_force_copy(waiting.text, in_force, pending)
        return self._put_in_force(in_force)

    def _put_in_force(self, rules: Rules) -> bool:
        if rules == self.current:
            return False
        first = self.current is None
        self.current = rules
        if not first:
            log.info("rules reloaded from %s", self.path)
        for listener in self._listeners:
            listener(rules)
        return True

    def _first_asked(self, base: Rules, text: str, rules: Rules) -> dict[ChangeKey, datetime]:
        """When each loosening of this version was first asked for: on the dashboard, or seen in the file (by this
        watcher, or before a restart)."""
        earlier = self._waiting or _noted(self._held_marker, base, text, rules)
        dashboard = self._asked_at(text, self._clock()) if self._asked_at is not None else None
        return _first_asked(base, rules, earlier, dashboard, self._clock()).times

    @property
    def _held_marker(self) -> Path | None:
        return held_marker_path(self.last_good) if self.last_good is not None else None

    def _keep_held_marker(self, waiting: _Waiting) -> None:
        marker = self._held_marker
        if marker is None:
            return
        changes = [
            {"profile": profile, "setting": setting, "item": item, "since": since.isoformat()}
            for (profile, setting, item), since in waiting.asked.items()
        ]
        note = {"text": waiting.text, "changes": changes}
        try:
            write_private(marker, json.dumps(note))
        except OSError as exc:
            log.warning("could not note when the held rules were first seen (%s): %s", marker, exc)

    def _forget_held_marker(self) -> None:
        marker = self._held_marker
        if marker is not None:
            marker.unlink(missing_ok=True)

    def _keep_in_force_copy(self, text: str, in_force: Rules, held: tuple[PendingChange, ...]) -> None:
        if self.last_good is None:
            return
        from breather.rules.editing import in_force_text

        copy = in_force_text(text, in_force, held, _text_or_none(self.last_good))
        if copy is None:
            log.warning("%s keeps the version last fully in force: the rules in force would not write", self.last_good)
            return
        self._keep_copy(copy)

    def _keep_copy(self, text: str) -> None:
        """Copy a version just taken in to ``last_good`` (atomically: a crash never leaves half a copy)."""
        if self.last_good is None:
            return
        try:
            if self.last_good.exists() and self.last_good.read_text(encoding="utf-8") == text:
                keep_private(self.last_good)  # a copy an earlier version left readable to others
                return
            write_private(self.last_good, text)
        except OSError as exc:
            log.warning("could not keep a copy of the last good rules at %s: %s", self.last_good, exc)

    def _read_last_good(self) -> Rules | None:
        if self.last_good is None:
            return None
        try:
            return read_last_good(self.last_good)
        except RulesError as exc:
            log.error("the copy of the last good rules at %s is unusable: %s", self.last_good, exc)
            return None

    def _fall_back_to_last_good(self) -> None:
        """The file is broken and nothing was in force yet: take the copy of the last version that was."""
        rules = self._base or self._read_last_good()
        if rules is None:
            return
        self.current = rules
        log.warning(
            "%s has errors; using the last good rules (saved at %s) until it is fixed",
            self.path,
            self.last_good,
        )
        self._resume_held()

    def _resume_held(self) -> None:
        """A start on a broken file: the loosening held before still waits, and comes in once its wait is over, as
        it would have without the restart (it was forgotten: nothing said held, and the due change never came)."""
        marker = self._held_marker if self.cool_loosening else None
        note = read_held_marker(marker) if marker is not None else None
        if note is None or note.text is None or self._base is None:
            return
        held = _parsed(note.text)
        if held is not None:
            self._settle(note.text, held)

    def _refuse(self, message: str) -> None:
        if message == self.last_error:
            return
        self.last_error = message
        kept = "keeping the last good rules" if self.current is not None else "no valid rules yet"
        log.error("rules file refused (%s):\n%s", kept, message)
        for listener in self._error_listeners:
            listener(message)


def read_contents(path: Path) -> Contents | OSError:
    """The file's fingerprint (mtime, size, content hash) and bytes, or why it cannot be read."""
    try:
        stat = path.stat()
        data = path.read_bytes()
    except OSError as exc:
        return exc
    return (stat.st_mtime_ns, stat.st_size, hashlib.sha256(data).hexdigest()), data


def _fingerprint_of(contents: Contents | OSError) -> Fingerprint | None:
    return None if isinstance(contents, OSError) else contents[0]


def read_settled(
    path: Path, interval: float = POLL_INTERVAL, limit: float = POLL_INTERVAL
) -> tuple[Contents | OSError, bool]:
    """The file once it has stopped changing, as the watcher's polls take a version: two reads ``interval`` apart
    read it alike. A file last written longer ago than ``interval`` (or not there) has been still for a poll
    already and is not read twice: a start on a file untouched for hours does not wait. Reads again while less than
    ``limit`` seconds have passed; returns the last read and whether it settled."""
    contents = read_contents(path)
    deadline = time.monotonic() + limit
    while not _still_for(contents, interval):
        if time.monotonic() >= deadline:
            return contents, False
        time.sleep(interval)
        again = read_contents(path)
        if _fingerprint_of(again) == _fingerprint_of(contents):
            return again, True
        contents = again
    return contents, True


def _still_for(contents: Contents | OSError, interval: float) -> bool:
    """Whether nothing wrote the file for ``interval`` seconds: every write of a save moves its mtime to now (a
    time ahead of this clock counts as now)."""
    if isinstance(contents, OSError):
        return True
    (mtime_ns, _, _), _ = contents
    return time.time_ns() - mtime_ns >= interval * 1e9


def write_private(path: Path, text: str, *, still_as_read: Callable[[], bool] | None = None) -> None:
    """Replace ``path`` with ``text`` atomically (a crash never leaves half a copy), readable by its owner only;
    ``still_as_read`` as ``rules.editing.write_atomically`` takes it."""
    from breather.rules.editing import write_atomically

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text, mode=OWNER_ONLY, still_as_read=still_as_read)


def keep_private(path: Path) -> None:
    """Make a copy an earlier version left readable to others private."""
    if path.stat().st_mode & 0o077:
        path.chmod(OWNER_ONLY)


def held_marker_path(last_good: Path) -> Path:
    """Where the watcher notes the held version and when each of its loosenings was first seen, beside the last good
    copy."""
    return last_good.with_name(last_good.name + ".held.json")


class HeldNote(NamedTuple):
    """The note of a held version: its text and when each of its loosenings was first seen. A note written before
    each loosening kept its own time names the version by its hash alone, with one first sighting for all of it."""

    text: str | None  # None in the earlier form
    asked: Mapping[ChangeKey, datetime]
    sha256: str | None = None  # the earlier form's
    since: datetime | None = None  # the earlier form's


def read_held_marker(marker: Path) -> HeldNote | None:
    """The note of the held version, or None when there is no (readable) note."""
    if not marker.exists():
        return None
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
        if "changes" not in data:
            return HeldNote(None, {}, str(data["sha256"]), datetime.fromisoformat(data["since"]))
        asked = {
            (change["profile"], str(change["setting"]), change["item"]): datetime.fromisoformat(change["since"])
            for change in data["changes"]
        }
        return HeldNote(str(data["text"]), asked)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring an unreadable note of held rules (%s): %s", marker, exc)
        return None


def _noted(marker: Path | None, base: Rules, text: str, written: Rules) -> _Waiting | None:
    """The held version a note describes, to carry its first sightings over to ``text`` (the file now)."""
    note = read_held_marker(marker) if marker is not None else None
    if note is None:
        return None
    if note.text is None:  # the earlier form: it speaks only of the version with its hash
        if note.since is None or note.sha256 != digest(text):
            return None
        return _Waiting(text, written, {change.key: note.since for change in loosenings(base, written)})
    earlier = written if note.text == text else _parsed(note.text)
    return _Waiting(note.text, earlier, dict(note.asked)) if earlier is not None else None


def _parsed(text: str) -> Rules | None:
    from breather.rules.loader import parse_rules

    try:
        return parse_rules(text)
    except RulesError as exc:
        log.warning("ignoring a note of held rules that no longer reads: %s", exc)
        return None


class _Asked(NamedTuple):
    times: dict[ChangeKey, datetime]  # when each loosening was first asked for
    unseen: frozenset[ChangeKey]  # those no watcher noted and the dashboard did not hold: first seen at ``seen``


def _first_asked(
    base: Rules, written: Rules, earlier: _Waiting | None, dashboard: datetime | None, seen: datetime
) -> _Asked:
    """When each loosening from ``base`` to ``written`` was first asked for, carried over from the ``earlier`` held
    version, else ``seen``; a version the dashboard held (since ``dashboard``) waits no longer than from then."""
    carried = carried_over(base, written, earlier.rules if earlier else None, earlier.asked if earlier else None)
    times = {key: seen if since is None else since for key, since in carried.items()}
    if dashboard is not None:
        return _Asked({key: min(since, dashboard) for key, since in times.items()}, frozenset())
    return _Asked(times, frozenset(key for key, since in carried.items() if since is None))


def read_last_good(last_good: Path) -> Rules | None:
    """The copy of the rules last taken in, or None when there is none yet; ``RulesError`` when it is unusable."""
    from breather.rules.loader import load_rules

    return load_rules(last_good) if last_good.exists() else None


class InForce(NamedTuple):
    """What the service has in force, as ``read_in_force`` finds it."""

    rules: Rules | None  # None only when the file was never valid
    refused: RulesError | None = None  # why the file as written is not in force
    held: tuple[PendingChange, ...] = ()  # what the file loosens that waits for its cooling-off


def read_in_force(
    path: str | os.PathLike[str], last_good: Path, now: datetime, asked_at: AskedAt | None = None
) -> InForce:
    """The rules a watcher with ``cool_loosening`` has in force at ``now``, from the files it keeps: the file when
    valid, less what it loosens that is still held; else the last good copy. Writes nothing, so commands can tell
    what is in force without a running service (a watcher started now would come to the same).

    A loosening no watcher has noted (the file was edited while Breather was stopped, or a moment ago) waits from
    when a watcher first sees it: from ``now``, as one started now would, and marked ``unseen_wait`` so a command
    can say it waits from when Breather next starts. Never from the file's modification time: the service cannot
    trust that (``touch -d`` would skip the wait), so it does not, and the commands must not promise it."""
    from breather.rules.loader import parse_rules

    try:
        kept = read_last_good(last_good)
    except RulesError as exc:
        log.warning("the copy of the last good rules at %s is unusable: %s", last_good, exc)
        kept = None
    try:
        text = read_rules_text(path)
        written = parse_rules(text, Path(path).name)
    except RulesError as exc:
        return _in_force_while_broken(kept, exc, last_good, now)
    if kept is None or written == kept:
        return InForce(written)
    earlier = _noted(held_marker_path(last_good), kept, text, written)
    dashboard = asked_at(text, now) if asked_at is not None else None
    asked = _first_asked(kept, written, earlier, dashboard, now)
    in_force, held = apply_change(kept, written, now, asked=asked.times)
    return InForce(in_force, None, _marked_unseen(held, asked.unseen, now))


def _marked_unseen(
    held: tuple[PendingChange, ...], unseen: frozenset[ChangeKey], now: datetime
) -> tuple[PendingChange, ...]:
    """``held``, each loosening no watcher has seen marked with the wait it has from when one does."""
    return tuple(
        replace(change, unseen_wait=change.takes_effect - now) if change.key in unseen else change for change in held
    )


def _in_force_while_broken(kept: Rules | None, problem: RulesError, last_good: Path, now: datetime) -> InForce:
    """A broken file: the last good copy, and the loosening held before the file broke, still waiting or come in by
    now, as a watcher started now has them (``RulesWatcher._resume_held``)."""
    note = read_held_marker(held_marker_path(last_good))
    noted = _parsed(note.text) if note is not None and note.text is not None else None
    if kept is None or note is None or noted is None:
        return InForce(kept, problem)
    earlier = _Waiting(str(note.text), noted, dict(note.asked))
    asked = _first_asked(kept, noted, earlier, None, now)
    in_force, held = apply_change(kept, noted, now, asked=asked.times)
    return InForce(in_force, problem, _marked_unseen(held, asked.unseen, now))


def _text_or_none(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
