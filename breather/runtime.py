"""What one running ``breather serve`` shares between its parts.

The mitmproxy addons (event loop thread), the Flask app (waitress threads) and the scheduler (its own thread) all
hold the same :class:`Runtime`. Everything mutable on it is either thread-safe by construction (``Counters``,
``Sessions``) or owned by one thread (the store ``Writer`` queue).
"""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from breather.clocks import monotonic_including_sleep
from breather.paths import Paths
from breather.rules.model import site_domain

if TYPE_CHECKING:
    from breather.rules.decisions import Decision, Usage
    from breather.rules.model import Profile

log = logging.getLogger(__name__)

COUNTER_NAMES: tuple[str, ...] = (
    "flows_seen",
    "documents_seen",
    "rewritten",
    "warnings_marked",
    "passed_after_error",
    "passed_over_cap",
    "passed_truncated",
    "passed_undecodable",
    "classify_budget_hit",
    "pages_served",
    "local_api_calls",
    "own_machine_refused",
    "requests_refused",
)


class Counters:
    """Thread-safe event counters shown in ``/healthz``."""

    def __init__(self, names: tuple[str, ...] = COUNTER_NAMES) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, int] = dict.fromkeys(names, 0)

    def increment(self, name: str, by: int = 1) -> None:
        with self._lock:
            self._values[name] = self._values.get(name, 0) + by

    def get(self, name: str) -> int:
        with self._lock:
            return self._values.get(name, 0)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._values)


HEAVY_RUN_WARNINGS = 5
HEAVY_RUN_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class ShownBreak:
    """The break on the person's screen: logged once, however often its page is reloaded, and keeping its exercise."""

    reason: str
    exercise: str


Lifted = Literal["limit_reached", "quiet_hours"]


@dataclass(frozen=True, order=True)
class Override:
    """What one entry of ``Session.overrides_until`` lets through: one kind of block on one site.

    ``site`` is the rules' site domain (``override_site``), the name the proxy decides on, whatever host a yes was
    asked from. ``lifts`` is the block it lifts and only that one: a parent's yes to more time (``granted``) or a limit
    page opened anyway lifts the limits, a quiet-hours page opened anyway lifts quiet hours (a user test's yes at the
    limit opened quiet hours set later, and a parent read a child's own "open anyway" as their yes).
    """

    site: str
    lifts: Lifted
    granted: bool = False


@dataclass
class Session:
    """In-memory usage state of one profile, fed by document requests and heartbeats.

    The store keeps the durable record; this is what the proxy decides on without touching the disk in a hook.
    """

    active_since_break_s: float = 0.0
    seconds_today: dict[str, float] = field(default_factory=dict)
    day: str = ""
    # per site: the last request of this profile's the proxy saw (a page, a blocked page, an API call of the page)
    last_seen: dict[str, datetime] = field(default_factory=dict)
    snoozes_in_row: int = 0
    snoozed_until: datetime | None = None
    # when the last snooze of the run was pressed: a pause the store counts as a break after it ends the run
    snoozed_at: datetime | None = None
    # A break taken ("I'm done for now"): from when, until when (its length), and the active seconds that made it
    # due, which it still owes when the person scrolls again before its end (``cut_break_short``).
    break_began: datetime | None = None
    break_until: datetime | None = None
    active_at_break_s: float = 0.0
    break_owed_s: float = 0.0
    overrides_until: dict[Override, datetime] = field(default_factory=dict)
    recent_warnings: deque[datetime] = field(default_factory=lambda: deque(maxlen=64))
    stored_minutes: dict[str, float] = field(default_factory=dict)
    # the store's time online today and per site group, overlaps counted once (one tab reported by the overlay as
    # reddit.com and by the extension as old.reddit.com is not twice the minutes)
    stored_total: float = 0.0
    stored_groups: dict[str, float] = field(default_factory=dict)
    stored_active_minutes: float = 0.0
    stored_day: str = ""
    # when the store was last read, and the overlay's latest heartbeat: the latest use known to the proxy is no later
    # than either (``paused_for_a_break``)
    stored_at: datetime | None = None
    last_active_at: datetime | None = None
    recent_exercises: list[str] = field(default_factory=list)
    breaks_shown: int = 0
    # until it is taken, snoozed, or no longer due
    break_on_screen: ShownBreak | None = None


class Sessions:
    """All profiles' :class:`Session` objects behind one lock."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self.clock = clock or (lambda: datetime.now(UTC))
        # counts deletions of the usage data: a read of the store begun before one must not bring its minutes back
        self.usage_generation = 0

    def update(self, profile: str, change: Callable[[Session], Any]) -> Any:
        """Run ``change`` on the profile's session under the lock and return its result."""
        with self._lock:
            session = self._sessions.setdefault(profile, Session())
            return change(session)

    def read(self, profile: str) -> Session:
        """A copy, safe to read without the lock."""
        with self._lock:
            session = self._sessions.setdefault(profile, Session())
            return Session(
                active_since_break_s=session.active_since_break_s,
                seconds_today=dict(session.seconds_today),
                day=session.day,
                last_seen=dict(session.last_seen),
                snoozes_in_row=session.snoozes_in_row,
                snoozed_until=session.snoozed_until,
                snoozed_at=session.snoozed_at,
                break_began=session.break_began,
                break_until=session.break_until,
                active_at_break_s=session.active_at_break_s,
                break_owed_s=session.break_owed_s,
                overrides_until=dict(session.overrides_until),
                recent_warnings=deque(session.recent_warnings, maxlen=64),
                stored_minutes=dict(session.stored_minutes),
                stored_total=session.stored_total,
                stored_groups=dict(session.stored_groups),
                stored_active_minutes=session.stored_active_minutes,
                stored_day=session.stored_day,
                stored_at=session.stored_at,
                last_active_at=session.last_active_at,
                recent_exercises=list(session.recent_exercises),
                breaks_shown=session.breaks_shown,
                break_on_screen=session.break_on_screen,
            )

    def note_seen(self, profile: str, site: str, at: datetime) -> None:
        """The proxy saw a request of ``profile``'s for ``site`` (a page, a blocked page, an API call)."""
        with self._lock:
            self._sessions.setdefault(profile, Session()).last_seen[site] = at

    def profiles(self) -> list[str]:
        with self._lock:
            return list(self._sessions)

    def take_stored(self, profile: str, change: Callable[[Session], Any], generation: int) -> None:
        """``update`` with what a read of the store found, unless the usage data was deleted since it began."""
        with self._lock:
            if generation == self.usage_generation:
                change(self._sessions.setdefault(profile, Session()))

    def break_no_longer_due(self, profile: str) -> None:
        """The break on screen was taken elsewhere (the extension's button, a long enough pause, as the store tells
        it): the next break due is a new one, logged and given its own exercise."""
        with self._lock:
            session = self._sessions.get(profile)
            if session is not None:
                session.break_on_screen = None

    def forget_usage(self, member: str | None = None) -> None:
        """After the usage data (or ``member``'s) was deleted: today's minutes and active time start from zero here
        too (a user test deleted everything, Today said 0 min and the proxy still blocked at the limit). Choices made
        (snoozes, overrides, grants) stay: they are not records of use."""
        with self._lock:
            self.usage_generation += 1
            for name, session in self._sessions.items():
                if member is not None and name != member:
                    continue
                session.seconds_today = {}
                session.stored_minutes = {}
                session.stored_total = 0.0
                session.stored_groups = {}
                session.stored_active_minutes = 0.0
                session.active_since_break_s = 0.0
                session.active_at_break_s = 0.0
                session.break_owed_s = 0.0
                session.recent_warnings.clear()
                session.last_seen = {}


class StoreUsage:
    """Keeps each profile's session in step with the usage store, on a thread of its own.

    The store sees everything (the overlay's and the extension's heartbeats, earlier runs of the service), so a
    restart or a second browser never resets a limit. Every ``interval`` seconds this reads today's minutes and the
    active minutes since the last break, and zeroes the in-memory counts that the store now includes; between
    reads, decisions add the in-memory counts on top. A read waits until the writer has saved everything so far;
    while it cannot (the store locked by another program, the disk full), the heartbeats it holds count as saved.
    """

    def __init__(self, runtime: Runtime, interval: float = 10.0) -> None:
        self.runtime = runtime
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="breather-usage-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        from breather.store.db import open_database

        db = open_database(self.runtime.paths.database)
        try:
            while True:
                try:
                    self.refresh(db)
                except Exception:
                    log.exception("could not read today's usage from the store; keeping the last figures")
                if self._stop.wait(self.interval):
                    return
        finally:
            db.close()

    def refresh(self, db: Any, now: datetime | None = None) -> None:
        from breather.store.queries import active_minutes_since_break, minutes_today

        rules = self.runtime.current_rules()
        if rules is None:
            return
        moment = now or datetime.now(UTC)
        zone = rules.zone()
        writer = self.runtime.writer
        # the store's figures include everything logged so far only once the writer has saved it; while it cannot
        # (another program's lock, a full disk, a read-only file) the heartbeats it holds are counted with them, so
        # a daily limit holds (a reviewer scrolled on at twice the limit for as long as a lock lasted)
        unsaved = None if writer is None or writer.flush(2) else writer.unsaved_heartbeats()
        generation = self.runtime.sessions.usage_generation
        names = set(self.runtime.sessions.profiles()) | set(rules.profiles)
        day = moment.astimezone(zone).date().isoformat()
        group_of = partial(group_name, rules)
        for name in names:
            if unsaved is None:
                today = minutes_today(db, name, moment, zone, group_of=group_of)
                active = active_minutes_since_break(db, name, moment)
                rested = self._break_since_snooze(db, name, moment)
                taken = partial(_take_stored, today=today, active=active, day=day, at=moment, rested=rested)
            else:
                held = [beat for beat in unsaved if beat.profile == name]
                read = partial(minutes_today, db, name, moment, zone, group_of=group_of)
                today = with_unsaved(db, held, read)
                taken = partial(_take_unsaved, today=today, day=day, at=moment)
            self.runtime.sessions.take_stored(name, taken, generation)

    def _break_since_snooze(self, db: Any, profile: str, moment: datetime) -> datetime | None:
        """The store's last break, asked only while a run of snoozes is on (the one read that needs it)."""
        from breather.store.queries import last_break

        if self.runtime.sessions.read(profile).snoozed_at is None:
            return None
        return last_break(db, profile, moment)


def with_unsaved(db: Any, heartbeats: list[Any], read: Callable[[], Any]) -> Any:
    """``read()`` of the store as it will be once the writer saves ``heartbeats``: on this connection only, a
    temporary copy of today's activity with them added stands in for the table (SQLite looks a name up in ``temp``
    first), so the proxy's figures come from the one query that counts overlaps once."""
    from breather.store.model import iso_from_epoch

    if not heartbeats:
        return read()
    since = iso_from_epoch(min(beat.at.timestamp() for beat in heartbeats) - 2 * 86400)
    db.execute("PRAGMA temp_store = MEMORY")  # the disk may be the trouble
    db.execute('CREATE TEMP TABLE activity AS SELECT * FROM main.activity WHERE "end" > ?', [since])
    try:
        db.conn.executemany(
            'INSERT INTO temp.activity (start, "end", duration_s, is_open, profile, site, source) '
            "VALUES (?, ?, ?, 0, ?, ?, ?)",
            [
                (
                    iso_from_epoch(beat.at.timestamp()),
                    iso_from_epoch(beat.at.timestamp() + beat.duration_s),
                    beat.duration_s,
                    beat.profile,
                    beat.site,
                    beat.source,
                )
                for beat in heartbeats
            ],
        )
        return read()
    finally:
        db.execute("DROP TABLE temp.activity")
        if db.conn.in_transaction:  # the insert began one: left open, it would hold this reader on an old snapshot
            db.conn.commit()


def usage_for(session: Session, rules: Any, at: datetime) -> Usage:
    """What ``decide`` needs to know about today: the store's figures plus what happened since they were read.

    The one source for every place that tells a person about their limits and breaks (the proxy's pages, Today and
    the extension's status), so they all agree.
    """
    from breather.rules.decisions import Usage

    today = at.astimezone(rules.zone()).date().isoformat()
    stored = session.stored_day == today
    minutes = dict(session.stored_minutes) if stored else {}
    groups = dict(session.stored_groups) if stored else {}
    total = session.stored_total if stored else 0.0
    # since the store was last read: the overlay's heartbeats only, one report per moment, so they simply add up
    for site, seconds in (session.seconds_today if session.day == today else {}).items():
        minutes[site] = minutes.get(site, 0.0) + seconds / 60
        total += seconds / 60
        group = group_name(rules, site)
        if group is not None:
            groups[group] = groups.get(group, 0.0) + seconds / 60
    active = timedelta(seconds=active_seconds(session))
    paused = paused_for_a_break(session, at)
    return Usage(
        minutes_today=minutes,
        group_minutes=groups,
        total_minutes=total,
        active_since_break=timedelta(0) if paused else active,
        snoozes_in_a_row=snoozes_in_a_row(session, at),
        snoozed_until=None if paused else session.snoozed_until,
    )


SNOOZE_MINUTES = (5, 3, 2, 1)
NO_MORE_SNOOZES = "This break can't be snoozed: your snoozes in a row are used up. Time for a real pause."


def snooze_length(snoozes_in_row: int) -> timedelta:
    """Each snooze in a row is shorter: 5, 3, 2, then 1 minute."""
    index = min(max(snoozes_in_row - 1, 0), len(SNOOZE_MINUTES) - 1)
    return timedelta(minutes=SNOOZE_MINUTES[index])


def snooze_break(session: Session, at: datetime) -> timedelta:
    """The break on screen put off, from the page's button or the extension's notification; returns for how long."""
    session.snoozes_in_row = snoozes_in_a_row(session, at) + 1
    length = snooze_length(session.snoozes_in_row)
    session.snoozed_until = at + length
    session.snoozed_at = at
    session.recent_warnings.clear()
    session.break_on_screen = None
    return length


def begin_break(session: Session, at: datetime, length: timedelta) -> None:
    """A break taken ("I'm done for now", on the page or in the extension's notification): the count starts again,
    and the active time that made it due is kept in case the break is cut short."""
    session.active_at_break_s = active_seconds(session)
    end_snoozes(session)
    session.active_since_break_s = 0.0
    session.stored_active_minutes = 0.0
    session.break_owed_s = 0.0
    session.break_began = at
    session.break_until = at + length
    session.recent_warnings.clear()
    session.break_on_screen = None


def cut_break_short(session: Session, used_from: datetime, used_until: datetime) -> None:
    """Use counted from ``used_from`` to ``used_until``, wholly after a break was taken and before its end: the break
    was not had, so it is still owed (a user test pressed "I'm done for now", opened the site again 13 s later and
    scrolled on with no break screen). A heartbeat's half minute reaching back before the press, or on past the
    break's end, is no break cut short."""
    began, until = session.break_began, session.break_until
    if began is None or until is None or not began <= used_from <= used_until <= until:
        return
    session.break_owed_s = session.active_at_break_s
    session.break_began = session.break_until = None


def active_seconds(session: Session) -> float:
    """Active use since the last break had, in seconds: the store's, the heartbeats since it was read, and what a
    break cut short still owes."""
    return session.stored_active_minutes * 60 + session.active_since_break_s + session.break_owed_s


def end_snoozes(session: Session) -> None:
    """A break taken, or a pause long enough to be one: the next break's snooze is the first of a new run."""
    session.snoozes_in_row = 0
    session.snoozed_until = None
    session.snoozed_at = None


def pause_was_a_break(session: Session) -> None:
    """Nothing was used for a break's length: the active time and the run of snoozes start again, as after a break
    taken (a review: snoozed twice at night, the lid closed, and the morning's first break offered no snooze)."""
    session.stored_active_minutes = 0.0
    session.active_since_break_s = 0.0
    session.break_owed_s = 0.0
    end_snoozes(session)


def snoozes_in_a_row(session: Session, at: datetime) -> int:
    """The snoozes in the run a break due at ``at`` continues: none after a pause that was a break."""
    return 0 if paused_for_a_break(session, at) else session.snoozes_in_row


def paused_for_a_break(session: Session, at: datetime) -> bool:
    """Whether nothing was used for a break's length before ``at``: such a pause is a break, as the store counts one
    (``breather.store.queries.last_break``). Known here at once, not only at the next read of the store: that read's
    10 s wait stands still while the machine sleeps, and a user test's laptop, woken after 8 hours, showed a break
    "25 minutes of scrolling since your last break" on its first heartbeat."""
    from breather.store.queries import DEFAULT_MIN_BREAK_S

    known = [moment for moment in (session.stored_at, session.last_active_at) if moment is not None]
    return bool(known) and at - max(known) >= timedelta(seconds=DEFAULT_MIN_BREAK_S)


# The site of an override that lifts a block everywhere (a yes to an ask that named no site): looked up with every
# site's own, it covers a site added to the rules while it runs as well.
EVERY_SITE = "*"


def override_site(rules: Any, host: str) -> str:
    """The site an override or a grant is kept and looked up under: the host's widest rules domain
    (``www.reddit.com`` and ``old.reddit.com`` → ``reddit.com``), as the proxy names the site of a request;
    ``EVERY_SITE`` stays itself."""
    if host == EVERY_SITE:
        return EVERY_SITE
    group = rules.group_for_host(host) if rules is not None else None
    return site_domain(host, group.domains if group is not None else ())


_TYPED_VALUE = re.compile(r", got .*$", re.MULTILINE)


def without_values(problems: str) -> str:
    """The rules' problems with where and what, but not the values typed: ``/healthz`` answers any program on the
    machine, and a privacy test found a child's words (a misplaced note in a limit) repeated there."""
    return _TYPED_VALUE.sub("", problems)


def lifted_kind(kind: object) -> Lifted:
    """The block that opening a Breather page of ``kind`` anyway lifts. Anything but quiet hours is the limit (an
    override logged before the kind was kept in its event was one at a limit page, as ``limit_overridden`` says)."""
    return "quiet_hours" if kind == "quiet_hours" else "limit_reached"


def lift_block(runtime: Any, profile: str, host: str, lifts: Lifted, until: datetime, granted: bool = False) -> None:
    """Let ``profile`` past one kind of block on the host's site (``EVERY_SITE``: on every site) until ``until`` (a
    later end already running stays)."""
    sessions = getattr(runtime, "sessions", None)
    if sessions is None:
        return
    key = Override(override_site(runtime.current_rules(), host), lifts, granted)

    def lift(session: Session) -> None:
        running = session.overrides_until.get(key)
        if running is None or running < until:
            session.overrides_until[key] = until

    sessions.update(profile, lift)


def lifted_until(session: Session, rules: Any, host: str, kind: str, at: datetime) -> datetime | None:
    """When the latest override of ``kind`` running at ``at`` on the host's site ends (None: nothing lifts it)."""
    sites = (override_site(rules, host), EVERY_SITE)
    ends = [until for key, until in session.overrides_until.items() if key.site in sites and key.lifts == kind]
    return max((until for until in ends if at < until), default=None)


def running_overrides(session: Session, at: datetime) -> list[tuple[Override, datetime]]:
    """Every override still running at ``at``, by site."""
    return sorted((key, until) for key, until in session.overrides_until.items() if at < until)


def decide_past_overrides(
    rules: Any, profile: Profile, host: str, at: datetime, usage: Usage, session: Session | None
) -> Decision:
    """``decide`` with the blocks this member may pass on this site right now lifted, each only its own kind: the
    order of docs/rules.md holds (quiet hours before limits), so more time at the limit does not open quiet hours, and
    a quiet-hours page opened anyway still meets the limit. The proxy's pages and the extension's status both ask
    this, so they say the same. The limit is lifted as extra time, so the decision says until when."""
    from breather.rules.decisions import decide

    if session is not None:
        if lifted_until(session, rules, host, "quiet_hours", at) is not None:
            profile = replace(profile, quiet_hours=())
        extra = lifted_until(session, rules, host, "limit_reached", at)
        if extra is not None and (usage.extra_time_until is None or usage.extra_time_until < extra):
            usage = replace(usage, extra_time_until=extra)
    return decide(rules, profile, host, at, usage)


def group_name(rules: Any, host: str) -> str | None:
    group = rules.group_for_host(host)
    return group.name if group is not None else None


def _take_stored(
    session: Session,
    today: Any,
    active: float,
    day: str,
    at: datetime | None = None,
    rested: datetime | None = None,
) -> None:
    """What a read of the store found. ``rested``: the store's last break (a break taken, or a pause of a break's
    length), asked while a run of snoozes is on: one after the last snooze ends the run."""
    if rested is not None and session.snoozed_at is not None and rested > session.snoozed_at:
        end_snoozes(session)
    session.stored_minutes = dict(today.by_site)
    session.stored_total = today.total
    session.stored_groups = dict(today.by_group)
    session.stored_active_minutes = active
    session.stored_day = day
    session.stored_at = at
    session.seconds_today = {}
    session.day = day
    session.active_since_break_s = 0.0


def _take_unsaved(session: Session, today: Any, day: str, at: datetime) -> None:
    """What a read of the store found while the writer could not save, its unsaved heartbeats added: today's minutes
    are the read's (the overlay's counted in memory are among those heartbeats); the active time since the break
    goes on adding up in memory until the store has it."""
    session.stored_minutes = dict(today.by_site)
    session.stored_total = today.total
    session.stored_groups = dict(today.by_group)
    session.stored_day = day
    session.stored_at = at
    session.seconds_today = {}
    session.day = day


def heavy_run(warnings: deque[datetime], now: datetime) -> bool:
    """A run of distressing content: enough warnings inside the window to suggest a pause."""
    recent = [at for at in warnings if now - at <= HEAVY_RUN_WINDOW]
    return len(recent) >= HEAVY_RUN_WARNINGS


@dataclass(frozen=True)
class PendingOverride:
    """A block page that was shown: its override is accepted only once ``friction`` has passed since ``issued_at``."""

    token: str
    profile: str
    site: str
    kind: str
    issued_at: datetime
    friction: timedelta


@dataclass
class Runtime:
    """The shared state of one running service (see docs/interfaces.md, "The running service")."""

    paths: Paths
    settings: dict[str, Any]
    rules: Any
    writer: Any = None
    counters: Counters = field(default_factory=Counters)
    sessions: Sessions = field(default_factory=Sessions)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    proxy_port: int | None = None
    web_port: int | None = None
    block_tokens: dict[str, PendingOverride] = field(default_factory=dict)
    # (profile, site, block kind) -> when its block event was last logged: one event per block, not per reload, and
    # restored at start from the event log (a restart must not count one block twice in the weekly review)
    blocks_logged: dict[tuple[str, str, str], datetime] = field(default_factory=dict)
    proxy_ready: threading.Event = field(default_factory=threading.Event)
    web_ready: threading.Event = field(default_factory=threading.Event)
    # on the clock that counts time asleep: /healthz's uptime is the time since start, a night's suspend included
    started_monotonic: float = field(default_factory=monotonic_including_sleep)
    # the content-warning addon's memory of warned posts already shown (``ShownPosts``), so deleting the usage data
    # forgets it too
    shown_posts: Any = None

    def forget_usage(self, member: str | None = None) -> None:
        """After the usage data (or ``member``'s) was deleted: nothing of today's use stays in memory or beside the
        store. The list of warned posts shown goes either way: its digests cannot be told apart by member."""
        self.sessions.forget_usage(member)
        for key in [key for key in self.blocks_logged if member is None or key[0] == member]:
            del self.blocks_logged[key]
        if self.shown_posts is not None:
            self.shown_posts.forget()
        self.paths.shown_warnings.unlink(missing_ok=True)

    @property
    def ready(self) -> bool:
        return self.proxy_ready.is_set() and self.web_ready.is_set()

    def current_rules(self) -> Any:
        return getattr(self.rules, "current", self.rules)

    def rules_status(self) -> dict[str, Any]:
        rules = self.current_rules()
        domains = list(rules.intercepted_domains()) if rules is not None else []
        error = getattr(self.rules, "last_error", None)
        held = [change.describe() for change in getattr(self.rules, "held", ())]
        return {"domains": len(domains), "last_error": without_values(str(error)) if error else None, "held": held}

    def health(self) -> dict[str, Any]:
        """The ``/healthz`` body. ``status`` is ``ok`` only once both the proxy and the web server listen."""
        from breather.version import code_fingerprint, version

        return {
            "status": "ok" if self.ready else "starting",
            "pid": _pid(),
            "version": version(),
            "code": code_fingerprint(),
            "uptime_s": round(monotonic_including_sleep() - self.started_monotonic, 1),
            "proxy": {"port": self.proxy_port, "ready": self.proxy_ready.is_set(), **self.counters.snapshot()},
            "web": {"port": self.web_port, "ready": self.web_ready.is_set()},
            "rules": self.rules_status(),
            "store": self.writer.state() if hasattr(self.writer, "state") else None,
        }

    def log_event(self, event: Any) -> None:
        if self.writer is not None:
            self.writer.event(event)

    def log_heartbeat(self, heartbeat: Any) -> None:
        if self.writer is not None:
            self.writer.heartbeat(heartbeat)


def _pid() -> int:
    import os

    return os.getpid()
