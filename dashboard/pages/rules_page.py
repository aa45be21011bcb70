"""The Rules page: validate an edit, preview it, replay last week against it, and the member forms.

Saving with cooling-off (what an edit tightens now, what it loosens as a pending change) is ``breather.pending_rules``,
which the service shares. Edits from the form go through tomlkit, so the file's comments and layout survive.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import tomlkit
from sqlite_utils import Database
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Table

from breather.dashboard.errors import ApiError
from breather.pending_rules import loosenings, rules_or
from breather.rules.cooling import PendingChange as HeldChange
from breather.rules.cooling import apply_change, coverage, value_text
from breather.rules.countries import DEFAULT_COUNTRY, check_country, country_phrase
from breather.rules.crisis import INTERNATIONAL, OVERRIDE_FILE, CrisisLine, table_in_force
from breather.rules.decisions import Usage, decide
from breather.rules.editing import set_key, set_value_in_text, value_at, with_values_from
from breather.rules.errors import Problem, RulesError
from breather.rules.loader import parse_rules
from breather.rules.locate import Locator
from breather.rules.model import CATEGORIES, SENSITIVITIES, Profile, Rules
from breather.rules.passwords import hash_password, is_hashed, password_problem
from breather.rules.timeparse import DAY_TITLES, format_clock, format_duration, parse_duration, spoken_duration
from breather.store import usage

Writes = Callable[[Callable[[Database], Any]], Any]


@dataclass(frozen=True)
class ProblemView:
    line: int
    column: int
    key: str
    message: str
    text: str


@dataclass
class CheckResult:
    rules: Rules | None
    problems: list[ProblemView] = field(default_factory=list)
    preview: list[str] = field(default_factory=list)
    dry_run: list[DryRunLine] = field(default_factory=list)
    loosens: list[str] = field(default_factory=list)
    applies_now: bool = True  # saved, some of the edit is in force at once (not all of it held for the cooling-off)
    waits: str = ""  # how long a loosening waits once saved, in words ("24 hours")


@dataclass(frozen=True)
class DryRunLine:
    profile: str
    minutes: float
    days_over_before: int
    days_over_after: int
    quiet_minutes_before: float
    quiet_minutes_after: float


def check(text: str, filename: str) -> CheckResult:
    try:
        return CheckResult(parse_rules(text, filename))
    except RulesError as exc:
        return CheckResult(None, [problem_view(problem) for problem in exc.problems])


def problem_view(problem: Problem) -> ProblemView:
    """A problem as the page says it. One in a member's password never quotes the value ("expected a string, got
    123456", "not a Breather password hash: scrypt:…"): what the problem is, not what the password is."""
    if problem.key.rsplit(".", 1)[-1] == "password":
        problem = replace(problem, message=re.split(r":|, got ", problem.message, maxsplit=1)[0])
    return ProblemView(problem.line, problem.column, problem.key, problem.message, str(problem))


# --- Passwords in the raw editor -----------------------------------------------------------------------------------

# What the raw editor shows in place of each member's stored password (hashed or plain): a hash shown is a hash
# anyone at the dashboard can take away and crack offline. Saved back unchanged, it keeps the stored password.
HIDDEN_PASSWORD = "(hidden: the saved password is kept)"

# For a file that does not read (so no TOML structure to go by): any ``password = value``, at the start of a line,
# after a dotted key or inside an inline table; unterminated strings to the end of the line (or of the text).
_PASSWORD_VALUE = re.compile(
    r"""(?P<key>(?:^|[{,.])[ \t]*["']?password["']?[ \t]*=[ \t]*)"""
    r"""(?P<value>\"{3}[\s\S]*?(?:\"{3}|\Z)|'{3}[\s\S]*?(?:'{3}|\Z)|"(?:[^"\\\n]|\\.)*"?|'[^'\n]*'?|[^\s,}#]*)""",
    re.MULTILINE,
)


def hide_passwords(text: str) -> str:
    """``text`` with every stored password replaced by ``HIDDEN_PASSWORD``, comments and layout kept."""
    try:
        document = tomlkit.parse(text)
    except Exception:  # a file that does not read is shown as it is, passwords aside
        return _PASSWORD_VALUE.sub(lambda found: found["key"] + f'"{HIDDEN_PASSWORD}"', text)
    tables = list(_tables_with_a_password(document))
    for table in tables:
        table["password"] = HIDDEN_PASSWORD
    return tomlkit.dumps(document) if tables else text


def _tables_with_a_password(table: Mapping[str, Any]) -> Any:
    """Every table holding a ``password`` key, wherever it is (a misspelt ``[profile.sam]`` still holds one)."""
    if "password" in table:
        yield table
    for value in table.values():
        if isinstance(value, Mapping):
            yield from _tables_with_a_password(value)


def keep_hidden_passwords(
    text: str, stored_text: str, in_force: Rules, filename: str = "rules.toml"
) -> tuple[str, list[ProblemView]]:
    """``text`` as typed in the raw editor, with each member's password still reading ``HIDDEN_PASSWORD`` put back as
    ``stored_text`` (the file the editor showed) holds it; while that file does not read, as the rules in force hold
    it. A hidden password with nothing stored for that member (new, or renamed) is a problem at its line: saved as
    it is, the placeholder would become a password anyone can read on this page."""
    hidden = _hidden_passwords(text)
    if not hidden:
        return text, []
    source = _stored_passwords(stored_text, in_force)
    stored = tomlkit.parse(source)
    unknown = [name for name in hidden if not isinstance(value_at(stored, ["profiles", name, "password"]), str)]
    if unknown:
        return text, [_nothing_stored(text, name, filename) for name in unknown]
    return with_values_from(source, text, [("profiles", name, "password") for name in hidden]), []


def _hidden_passwords(text: str) -> list[str]:
    """The members whose password in ``text`` still reads ``HIDDEN_PASSWORD`` (none in a file that does not read:
    the check says where, and nothing is saved)."""
    try:
        profiles = tomlkit.parse(text).get("profiles")
    except Exception:
        return []
    if not isinstance(profiles, Mapping):
        return []
    return [
        name
        for name, table in profiles.items()
        if isinstance(table, Mapping) and value_at(table, ["password"]) == HIDDEN_PASSWORD
    ]


def _stored_passwords(stored_text: str, in_force: Rules) -> str:
    """``stored_text``, or when it does not read as TOML, the passwords of the rules in force as a rules file."""
    try:
        tomlkit.parse(stored_text)
    except Exception:
        document = tomlkit.document()
        document["profiles"] = {
            name: {"password": profile.password}
            for name, profile in in_force.profiles.items()
            if profile.password is not None
        }
        return tomlkit.dumps(document)
    return stored_text


def _nothing_stored(text: str, name: str, filename: str) -> ProblemView:
    message = (
        f'"{HIDDEN_PASSWORD}" stands for a saved password, and {name} has none saved (a new or renamed member): type '
        f"their password in its place, or remove this line and run `breather rules password {name}`"
    )
    return _password_problem_at(text, name, message, filename)


def _password_problem_at(text: str, name: str, message: str, filename: str) -> ProblemView:
    """A problem with ``name``'s password, at its line in ``text``."""
    line, column = Locator(text).position(("profiles", name, "password"))
    key = f"profiles.{name}.password"
    return ProblemView(line, column, key, message, str(Problem(filename, line, column, key, message)))


# --- Passwords typed in the raw editor ------------------------------------------------------------------------------


def typed_passwords(text: str, stored_text: str) -> dict[str, str]:
    """Each member's password typed in plain text in ``text``: not a hash, not the placeholder, and not the value
    ``stored_text`` already holds for them (an older file's plain password, put back from behind the placeholder)."""
    try:
        profiles = tomlkit.parse(text).get("profiles")
    except Exception:
        return {}
    try:
        stored: Any = tomlkit.parse(stored_text)
    except Exception:
        stored = {}
    if not isinstance(profiles, Mapping):
        return {}
    typed = {}
    for name, table in profiles.items():
        value = value_at(table, ["password"]) if isinstance(table, Mapping) else None
        if (
            isinstance(value, str)
            and value not in ("", HIDDEN_PASSWORD)
            and not is_hashed(value)
            and value != value_at(stored, ["profiles", name, "password"])
        ):
            typed[name] = value
    return typed


def weak_typed_passwords(text: str, stored_text: str, filename: str = "rules.toml") -> list[ProblemView]:
    """A password typed in the editor that `breather rules password` would refuse (short, or a member's name), at
    its line, never quoting it."""
    typed = typed_passwords(text, stored_text)
    if not typed:
        return []
    names = _household_names_in(tomlkit.parse(text))
    found = {name: password_problem(plain, names) for name, plain in typed.items()}
    return [
        _password_problem_at(text, name, f"{name}'s new password: {problem}", filename)
        for name, problem in found.items()
        if problem is not None
    ]


def _household_names_in(document: Any) -> list[str]:
    profiles = document.get("profiles")
    if not isinstance(profiles, Mapping):
        return []
    users = [value_at(table, ["user"]) for table in profiles.values() if isinstance(table, Mapping)]
    return [*profiles, *(user for user in users if isinstance(user, str))]


def hash_typed_passwords(text: str, stored_text: str, filename: str = "rules.toml") -> str:
    """``text`` with each password typed in plain text stored hashed, as `breather rules password` stores it: the file
    (opened, shared on screen, backed up) never holds it readable, nor does a change waiting out its cooling-off."""
    for name, plain in typed_passwords(text, stored_text).items():
        text = set_value_in_text(text, ("profiles", name, "password"), hash_password(plain), filename)
    return text


# --- Preview and dry run --------------------------------------------------------------------------------------------


def explain(
    db: Database,
    current: Rules,
    result: CheckResult,
    now: datetime,
    dry_run: bool,
    profile: str | None = None,
    in_file: Rules | None = None,
) -> CheckResult:
    """The preview (and dry run) of saving ``result``. What it loosens is measured from the file as read
    (``in_file``), as the save measures it: from the rules in force, a hand edit already waiting was named as this
    edit's (a user test)."""
    assert result.rules is not None
    new = result.rules
    in_force = in_force_after_saving(current, new, now)
    result.loosens = loosenings(in_file or current, new)
    result.applies_now = in_force != current
    result.waits = spoken_duration(max(current.cooling_off, new.cooling_off))
    result.preview = preview_today(db, current, new, now, in_force)
    if dry_run:
        result.dry_run = replay_week(db, current, new, now)
    return result


def in_force_after_saving(current: Rules, new: Rules, now: datetime) -> Rules:
    """The rules the proxy goes by once ``new`` is saved: what it tightens at once, each loosening held for the
    cooling-off; all of ``current`` when a loosening cannot be parted from the rest, as the save then holds it all."""
    in_force, _ = apply_change(current, new, now)
    return current if loosenings(current, in_force) else in_force


def _usage_today(db: Database, rules: Rules, profile: str, now: datetime) -> Usage:
    from breather.store import queries

    today = queries.minutes_today(db, profile, now, rules.zone(), group_of=lambda host: usage.site_label(rules, host))
    return Usage.of_today(today)


NOTHING_CHANGES = "Nothing would change for anyone right now."


def preview_today(db: Database, old: Rules, new: Rules, now: datetime, in_force: Rules | None = None) -> list[str]:
    """What would be different right now, member by member and site by site, judged by the rules in force once the
    edit is saved (``in_force``; ``new`` when not given): a loosening held for its cooling-off changes nothing yet.
    Then each setting the edit changes, and the site groups no limit can apply to."""
    after_save = new if in_force is None else in_force
    lines: list[str] = []
    for name, person in after_save.profiles.items():
        today = _usage_today(db, after_save, name, now)
        for group in after_save.groups:
            if not group.domains:  # no site to judge: said once, below
                continue
            site = group.domains[0]
            after = decide(after_save, person, site, now, today)
            before_kind = "allow"
            if name in old.profiles and old.group_named(group.name) is not None:
                before_kind = decide(old, old.profiles[name], site, now, today).kind
            if after.kind != before_kind:
                lines.append(f"{name} on {group.name}: {before_kind.replace('_', ' ')} → {after.reason}")
        before, asked = old.profiles.get(name), new.profiles.get(name)
        if before is not None and asked is not None:
            lines += _setting_changes(name, before, asked, person)
    return (lines or [NOTHING_CHANGES]) + _notes(new)


def _notes(rules: Rules) -> list[str]:
    """What the preview adds about rules that do less, or more, than they look (``Rules.notes``)."""
    return [_sentence(note) for note in rules.notes()]


def _sentence(words: str) -> str:
    return words[:1].upper() + words[1:] + "."


def _setting_changes(name: str, before: Profile, after: Profile, in_force: Profile | None = None) -> list[str]:
    """The limits and quiet hours an edit changes, whether or not that changes a decision right now; a change held
    for its cooling-off says what stays in force until then."""
    in_force = in_force or after
    lines = []
    if before.daily_limit != after.daily_limit:
        held = _held(_limit_text(in_force.daily_limit), in_force.daily_limit != after.daily_limit)
        lines.append(f"{name}: daily limit {_limit_text(before.daily_limit)} → {_limit_text(after.daily_limit)}{held}")
    for site in sorted(set(before.limits) | set(after.limits)):
        was, now, kept = before.limits.get(site), after.limits.get(site), in_force.limits.get(site)
        if was != now:
            held = _held(_limit_text(kept), kept != now)
            lines.append(f"{name}: limit on {site} {_limit_text(was)} → {_limit_text(now)}{held}")
    if coverage(before.quiet_hours) != coverage(after.quiet_hours):
        held = _held(_windows_text(in_force), coverage(in_force.quiet_hours) != coverage(after.quiet_hours))
        lines.append(f"{name}: quiet hours {_windows_text(before)} → {_windows_text(after)}{held}")
    return lines


def _held(in_force: str, is_held: bool) -> str:
    return f" ({in_force} until the cooling-off delay is over)" if is_held else ""


def _windows_text(profile: Profile) -> str:
    """Quiet hours for reading: one line per set of times ("every day 22:00–07:00", "Mon, Tue 09:00–12:00")."""
    days_of: defaultdict[str, list[str]] = defaultdict(list)
    for window in sorted(profile.quiet_hours, key=lambda w: (w.day, w.start)):
        days_of[f"{format_clock(window.start)}–{format_clock(window.end)}"].append(DAY_TITLES[window.day])
    parts = [f"{'every day' if len(days) == 7 else ', '.join(days)} {times}" for times, days in days_of.items()]
    return "; ".join(parts) or "none"


def _limit_text(limit: timedelta | None) -> str:
    return "none" if limit is None else format_duration(limit)


def replay_week(db: Database, old: Rules, new: Rules, now: datetime) -> list[DryRunLine]:
    """Last 7 days of logged activity, judged by the old and the new rules: days over the daily limit and minutes
    that fell in quiet hours (to the hour: the log is cut into hours)."""
    today = now.astimezone(new.zone()).date()
    per_day: dict[str, dict[Any, float]] = defaultdict(lambda: defaultdict(float))
    quiet_hour_minutes: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for piece in usage.pieces(db, new, usage.last_days(today, 7)):
        per_day[piece.profile][piece.day] += piece.seconds / 60
        quiet_hour_minutes[piece.profile].append((piece.weekday * 1440 + piece.hour * 60 + 30, piece.seconds / 60))
    lines = []
    for name in new.profiles:
        days = per_day.get(name, {})
        quiet = quiet_hour_minutes.get(name, [])
        before, after = old.profiles.get(name), new.profiles[name]
        lines.append(
            DryRunLine(
                profile=name,
                minutes=sum(days.values()),
                days_over_before=_days_over(days, before.daily_limit if before else None),
                days_over_after=_days_over(days, after.daily_limit),
                quiet_minutes_before=_in_quiet(quiet, before) if before else 0.0,
                quiet_minutes_after=_in_quiet(quiet, after),
            )
        )
    return lines


def _days_over(days: Mapping[Any, float], limit: timedelta | None) -> int:
    if limit is None:
        return 0
    return sum(1 for minutes in days.values() if minutes > limit.total_seconds() / 60)


def _in_quiet(pieces: list[tuple[int, float]], profile: Profile) -> float:
    covered = coverage(profile.quiet_hours)
    return sum(minutes for minute, minutes in pieces if minute in covered)


# --- The form -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileForm:
    name: str
    daily_limit: str
    break_after: str
    break_length: str
    max_snoozes: str
    quiet_hours: str  # in force, inheritance applied, for reading
    own_quiet_hours: str  # as this profile's own table says, one "key = value" a line, for editing
    own_limits: str
    inherits: str | None
    warnings: dict[str, str]
    keywords: str
    topics: str  # in force, inheritance applied: one topic a line, "name: phrase, phrase"
    open_anyway: str = "on"  # "on": block pages offer "open anyway" after the wait; "off": they do not
    held: dict[str, str] = field(default_factory=dict)  # form field → the value waiting, and until when
    held_elsewhere: list[str] = field(default_factory=list)  # this member's other held settings, in words
    shown: dict[str, str] = field(default_factory=dict)  # what the page first showed, posted back as shown_<name>
    unused_limits: list[str] = field(default_factory=list)  # a limit on a site group listing no domains, in words

    def values(self) -> dict[str, str]:
        """The fields by the names the form posts them under."""
        fields = {key: getattr(self, key) for key in HELD_FIELDS}
        fields |= {"quiet_hours": self.own_quiet_hours, "limits": self.own_limits, "keywords": self.keywords}
        fields |= {"topics": self.topics, "open_anyway": self.open_anyway}
        return fields | {f"warning_{category}": level for category, level in self.warnings.items()}


def _duration_or_off(value: timedelta | None) -> str:
    return "off" if value is None else format_duration(value)


HELD_FIELDS = ("daily_limit", "break_after", "break_length", "max_snoozes")


def profile_forms(
    rules: Rules, text: str, held: Sequence[HeldChange] = (), now: datetime | None = None
) -> list[ProfileForm]:
    """One form a member, filled in as the file says (a value held for its cooling-off included: saving the form
    must not put the value in force back into the file); ``rules`` (in force) when the file does not load. A
    ``held`` setting is said beside its field: the value waiting and until when."""
    document = _parse_or_empty(text)
    shown = rules_or(text, rules)
    forms = [
        ProfileForm(
            name=profile.name,
            daily_limit=_duration_or_off(profile.daily_limit),
            break_after=_duration_or_off(profile.break_after),
            break_length=format_duration(profile.break_length),
            max_snoozes=str(profile.max_snoozes),
            quiet_hours=_quiet_text(rules if profile.name in rules.profiles else shown, profile.name),
            own_quiet_hours=_own_lines(document, profile.name, "quiet_hours"),
            own_limits=_own_lines(document, profile.name, "limits"),
            inherits=profile.inherits,
            warnings={category: profile.sensitivity.get(category, "medium") for category in CATEGORIES},
            keywords=", ".join(profile.keywords),
            topics=_topics_text(profile.topics),
            open_anyway="on" if profile.open_anyway else "off",
            unused_limits=_unused_limits(shown, profile),
            **_held_notes([change for change in held if change.profile == profile.name], rules, now),
        )
        for profile in shown.profiles.values()
    ]
    return [replace(form, shown=form.values()) for form in forms]


def _unused_limits(rules: Rules, profile: Profile) -> list[str]:
    empty = set(rules.groups_without_domains())
    return [
        f"The limit on {site} never applies: the site group {site} lists no domains (domains = [] in the rules file)."
        for site in profile.limits
        if site in empty
    ]


def _held_notes(held: Sequence[HeldChange], rules: Rules, now: datetime | None) -> dict[str, Any]:
    if not held or now is None:
        return {}
    zone = rules.zone()
    notes = {
        change.setting: f"changes to {value_text(change.new)} at {change.until(zone, now)} "
        f"({value_text(change.old)} until then)"
        for change in held
        if change.setting in HELD_FIELDS
    }
    others = [change.sentence(zone, now) for change in held if change.setting not in HELD_FIELDS]
    return {"held": notes, "held_elsewhere": others}


def as_typed(forms: list[ProfileForm], name: str | None, posted: Mapping[str, str]) -> list[ProfileForm]:
    """The forms with ``name``'s filled in as posted, so an edit that was not saved is still there to fix or save."""
    return [_typed(form, posted) if form.name == name else form for form in forms]


def _typed(form: ProfileForm, posted: Mapping[str, str]) -> ProfileForm:
    def given(key: str, shown: str) -> str:
        return posted.get(key, shown)

    shown = {key: posted.get(f"shown_{key}", value) for key, value in form.shown.items()}
    return replace(
        form,
        shown=shown,
        daily_limit=given("daily_limit", form.daily_limit),
        break_after=given("break_after", form.break_after),
        break_length=given("break_length", form.break_length),
        max_snoozes=given("max_snoozes", form.max_snoozes),
        own_quiet_hours=given("quiet_hours", form.own_quiet_hours),
        own_limits=given("limits", form.own_limits),
        warnings={category: given(f"warning_{category}", level) for category, level in form.warnings.items()},
        keywords=given("keywords", form.keywords),
        topics=given("topics", form.topics),
        open_anyway=given("open_anyway", form.open_anyway),
    )


def _parse_or_empty(text: str) -> Any:
    try:
        return tomlkit.parse(text)
    except Exception:  # the raw editor shows the located error; the forms just show nothing of their own
        return tomlkit.document()


def _own_table(document: Any, name: str, key: str) -> Any:
    profiles = document.get("profiles")
    if not isinstance(profiles, Table) or name not in profiles:
        return None
    table = profiles[name].get(key)
    return table if isinstance(table, Table) else None


def _own_lines(document: Any, name: str, key: str) -> str:
    table = _own_table(document, name, key)
    if table is None:
        return ""
    lines = []
    for item_key, value in table.items():
        values = value if isinstance(value, list) else [value]
        lines += [f"{item_key} = {item}" for item in values]
    return "\n".join(lines)


@dataclass(frozen=True)
class FormLine:
    number: int  # the line of the form field, from 1
    key: str
    values: list[str]


def _form_lines(raw: str, field: str) -> list[FormLine]:
    """``fri = 10:12-11:00, 11:03-11:40`` (or ``fri = ["10:12-11:00", "11:03-11:40"]``, as in the file) lines, each
    with its values; blank lines and ``#`` comments skipped. ``field`` is the form's (one of ``LINE_FIELDS``)."""
    what = LINE_FIELDS[field]
    lines = []
    for number, line in enumerate(raw.splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        key, sep, value = (part.strip() for part in text.partition("="))
        key = key.strip('"')
        values = _line_values(value, f"{what}, line {number}", field)
        if not sep or not key or not values:
            raise ApiError(
                400, "InvalidField", f"{what}, line {number}: write it as 'key = value', got {text!r}", field=field
            )
        lines.append(FormLine(number, key, values))
    return lines


def _line_values(value: str, where: str, field: str) -> list[str]:
    """A list written as TOML (``["a", "b"]``), else values separated by commas, each with or without quotes."""
    if not value.startswith("["):
        return [part.strip().strip('"') for part in value.split(",") if part.strip().strip('"')]
    try:
        values = tomllib.loads(f"value = {value}")["value"]
    except tomllib.TOMLDecodeError:
        values = None
    if not isinstance(values, list) or not all(isinstance(item, str) for item in values):
        raise ApiError(
            400, "InvalidField", f'{where}: write a list as ["10:00-11:00", "12:00-13:00"], got {value!r}', field=field
        )
    return values


def _lines_to_values(raw: str, field: str) -> dict[str, list[str]]:
    """``weekdays = 23:00-07:00`` lines → ``{"weekdays": ["23:00-07:00"]}``; a key given twice gets both values."""
    values: dict[str, list[str]] = {}
    for line in _form_lines(raw, field):
        values.setdefault(line.key, []).extend(line.values)
    return values


def _line_of(raw: str, field: str, key: str, index: int) -> int | None:
    """The form line that gave ``key``'s value number ``index`` (counted over every line of that key)."""
    seen = 0
    for line in _form_lines(raw, field):
        if line.key == key:
            seen += len(line.values)
            if index < seen:
                return line.number
    return None


def _set_lines_table(profile_table: Any, key: str, raw: str | None, current: str) -> None:
    """Replace the profile's own ``key`` table by the lines given, keeping the keys (and comments) left alone."""
    if raw is None or raw.replace("\r\n", "\n").strip() == current.strip():
        return
    wanted = _lines_to_values(raw, key)
    if key not in profile_table:
        profile_table[key] = tomlkit.table()
    table = profile_table[key]
    for old in [item for item in table if item not in wanted]:
        del table[old]
    for item, values in wanted.items():
        table[item] = values[0] if len(values) == 1 else values


def _quiet_text(rules: Rules, name: str) -> str:
    return "\n".join(window.describe() for window in rules.profiles[name].quiet_hours)


FORM_DURATIONS = ("daily_limit", "break_after", "break_length")
# What to write instead of an empty duration field.
EMPTY_HINTS = {
    "daily_limit": 'Write "off" for no limit, or a duration like "1h"',
    "break_after": 'Write "off" for no break reminders, or a duration like "25m"',
    "break_length": 'Write a duration like "5m"',
}


FILE_BROKEN = (
    "the rules file has a problem (listed at the top), so a form cannot be applied to it. Fix the marked lines in "
    "the rules file at the bottom of this page and Save it there, then make this change again"
)


def edit_profile(text: str, name: str, form: Mapping[str, str]) -> str:
    """Apply the form's common settings to ``[profiles.<name>]`` with tomlkit: only changed keys are written, so
    inherited values stay inherited and every comment stays where it was.

    A file that does not load is refused (409) rather than edited: the form shows the rules in force, not the
    file's broken values, so neither writing the edit into the broken file nor over it could be judged safely."""
    posted, form = form, _edited(form)
    try:
        document = tomlkit.parse(text)
        rules = parse_rules(text)
    except (TOMLKitError, RulesError):
        raise ApiError(409, "RulesFileBroken", FILE_BROKEN) from None
    profiles = document.get("profiles")
    current = rules.profiles.get(name)
    if current is None or not isinstance(profiles, Table) or name not in profiles:
        raise ApiError(400, "UnknownMember", f"there is no profile called {name!r} in the rules file")
    _refuse_fields_changed_since_shown(rules, text, name, posted, form)
    own_quiet, own_limits = _own_lines(document, name, "quiet_hours"), _own_lines(document, name, "limits")
    table = profiles[name]
    parent = rules.profiles.get(current.inherits) if current.inherits else None
    refused = _set_every_field(
        [
            partial(_set_lines_table, table, "quiet_hours", form.get("quiet_hours"), own_quiet),
            partial(_set_lines_table, table, "limits", form.get("limits"), own_limits),
            *(partial(_set_duration, table, key, form.get(key), getattr(current, key)) for key in FORM_DURATIONS),
            partial(_set_snoozes, table, form.get("max_snoozes", ""), current.max_snoozes),
            partial(_set_open_anyway, table, form.get("open_anyway"), current.open_anyway),
            *(partial(_set_warning, table, form, current, category) for category in CATEGORIES),
            partial(_set_keywords, table, form.get("keywords"), current.keywords),
            partial(_set_topics, table, form.get("topics"), current.topics, parent.topics if parent else {}),
        ]
    )
    edited = tomlkit.dumps(document)
    _refuse_all_at_once([*refused, *_problems_at_the_fields(edited, name, form)])
    return edited


CHANGED_SINCE_SHOWN = (
    "{name}'s {fields} changed in the rules file after this page showed the form (by hand, or saved from another "
    "page), and saving the form would undo that change. Open the Rules page again to see the file as it is now (copy "
    "what you typed first), and make your change there"
)

# Each field of a member's form as its label names it.
FIELD_WORDS = {
    "daily_limit": "daily limit",
    "break_after": "break after",
    "break_length": "break length",
    "max_snoozes": "snoozes in a row",
    "open_anyway": '"open anyway"',
    "keywords": "own words to warn about",
    "topics": "own topics",
    "limits": "limits per site",
    "quiet_hours": "quiet hours",
}


def _refuse_fields_changed_since_shown(
    rules: Rules, text: str, name: str, posted: Mapping[str, str], edited: Mapping[str, str]
) -> None:
    """A form left open while the file changed (by hand, from another tab, a held change come due) posts what it
    showed then as ``shown_<field>``: writing a field the file has changed since would undo that change unseen, and
    the save would count undoing a tightening as the person's own loosening. Only the fields this edit writes are
    compared; one typed as the file now has it writes nothing."""
    now = next(form for form in profile_forms(rules, text) if form.name == name).values()
    stale = [
        key
        for key, typed in edited.items()
        if key in now
        and f"shown_{key}" in posted
        and _normal(posted[f"shown_{key}"]) != _normal(now[key])
        and _normal(typed) != _normal(now[key])
    ]
    if stale:
        *others, last = [_field_words(key) for key in stale]
        fields = f"{', '.join(others)} and {last}" if others else last
        raise ApiError(409, "RulesChanged", CHANGED_SINCE_SHOWN.format(name=name, fields=fields))


def _field_words(key: str) -> str:
    if key.startswith("warning_"):
        return f"{key.removeprefix('warning_').replace('_', ' ')} warnings"
    return FIELD_WORDS.get(key, key.replace("_", " "))


# The form's fields a problem in the profile's settings can come from, by what the person is told it is in.
LINE_FIELDS = {"quiet_hours": "quiet hours", "limits": "site limits"}  # one "key = value" a line
FORM_FIELDS = LINE_FIELDS | {"topics": "own topics", "keywords": "own words to warn about"}
_ITEM_INDEX = re.compile(r"^(?P<item>.*?)(?:\[(?P<index>\d+)\])?$")  # "fri[1]": the second of fri's windows


def _problems_at_the_fields(edited: str, name: str, form: Mapping[str, str]) -> list[ApiError]:
    """What the edited file's check finds in this member's settings, said at the form field and its line, where it
    was typed: the person never saw the file's lines. The file read before the edit, so its problems are the form's;
    one elsewhere in the file (a profile inheriting these settings) is left to the file's own report."""
    try:
        parse_rules(edited)
    except RulesError as exc:
        said = [found for problem in exc.problems if (found := _at_the_field(problem.key, problem.message, name, form))]
        return [ApiError(422, "InvalidField", text, field=field) for field, text in dict.fromkeys(said)]
    return []


def _at_the_field(key: str, message: str, name: str, form: Mapping[str, str]) -> tuple[str, str] | None:
    """The form field a problem of the edited file is in, and the problem said there."""
    own = f"profiles.{name}."
    field, _, item = key.removeprefix(own).partition(".")
    if not key.startswith(own) or field not in FORM_FIELDS:
        return None
    found = _ITEM_INDEX.match(item)
    line = None
    if field in LINE_FIELDS and item and found:
        line = _line_of(form.get(field, ""), field, found["item"], int(found["index"] or 0))
    elif field == "topics" and found:
        line = _topic_line_of(form.get(field, ""), found["item"])
    return field, f"{FORM_FIELDS[field]}, line {line}: {message}" if line else f"{FORM_FIELDS[field]}: {message}"


def _topic_line_of(raw: str, name: str) -> int | None:
    """The first form line of the topic ``name`` (``name: phrase, phrase``)."""
    lines = enumerate(raw.splitlines(), start=1)
    return next((number for number, line in lines if line.partition(":")[0].strip() == name), None)


def _edited(form: Mapping[str, str]) -> dict[str, str]:
    """The fields the person changed from what the form showed (posted as ``shown_<name>``), so a value the page
    showed and nobody touched is never written over the file's; a form posted without them counts every field."""

    return {
        key: value
        for key, value in form.items()
        if not key.startswith("shown_") and _normal(form.get(f"shown_{key}")) != _normal(value)
    }


def _normal(value: str | None) -> str | None:
    return None if value is None else value.replace("\r\n", "\n").strip()


# The member form's fields from top to bottom, the order its problems are said in.
_FORM_ORDER = [
    *FORM_DURATIONS,
    "max_snoozes",
    "open_anyway",
    *(f"warning_{category}" for category in CATEGORIES),
    "keywords",
    "topics",
    "limits",
    "quiet_hours",
]


def _set_every_field(setters: list[Callable[[], None]]) -> list[ApiError]:
    """Write each field; returns every field that did not read (its value left as it was), for one refusal with all
    of them: a user test typed three fields wrong and met them one Save at a time."""
    refused: list[ApiError] = []
    for setter in setters:
        try:
            setter()
        except ApiError as exc:
            if exc.kind != "InvalidField":
                raise
            refused.append(exc)
    return refused


def _refuse_all_at_once(refused: list[ApiError]) -> None:
    """One refusal naming and marking every field at fault in the form's order: those that did not read (400) and
    those the whole file's check found wrong (422), which came only after the first were mended."""
    if not refused:
        return
    refused.sort(key=lambda exc: _FORM_ORDER.index(exc.field) if exc.field in _FORM_ORDER else len(_FORM_ORDER))
    message = "; ".join(dict.fromkeys(exc.message for exc in refused))
    status = min(exc.status for exc in refused)
    raise ApiError.invalid_fields(status, message, [field for exc in refused for field in exc.fields])


def _set_duration(table: Any, key: str, raw: str | None, current: timedelta | None) -> None:
    """A field left out of the post keeps its value; one posted empty is refused: a user test cleared a daily limit
    to mean "no limit" and was told "Saved" over the old limit."""
    if raw is None:
        return
    value = raw.strip().lower()
    if not value:
        raise ApiError(
            400, "InvalidField", f"{key.replace('_', ' ')}: the field is empty. {EMPTY_HINTS[key]}", field=key
        )
    if value == _duration_or_off(current):
        return
    if value == "off":
        set_key(table, key, "off")
        return
    try:
        parse_duration(value)
    except ValueError as exc:
        raise ApiError(400, "InvalidField", f"{key.replace('_', ' ')}: {exc}", field=key) from None
    set_key(table, key, value)


def _set_snoozes(table: Any, raw: str, current: int) -> None:
    if not raw.strip() or raw.strip() == str(current):
        return
    if not raw.strip().isdigit():
        raise ApiError(
            400, "InvalidField", f"snoozes in a row: expected a whole number, got {raw!r}", field="max_snoozes"
        )
    set_key(table, "max_snoozes", int(raw))


def _set_open_anyway(table: Any, raw: str | None, current: bool) -> None:
    if raw is None or raw.strip() == ("on" if current else "off"):
        return
    if raw.strip() not in ("on", "off"):
        raise ApiError(400, "InvalidField", f"open anyway: choose on or off, got {raw!r}", field="open_anyway")
    set_key(table, "open_anyway", raw.strip() == "on")


def _set_warning(table: Any, form: Mapping[str, str], current: Profile, category: str) -> None:
    level = form.get(f"warning_{category}", "")
    if not level or level == current.sensitivity.get(category):
        return
    if level not in SENSITIVITIES:
        choose = f"{category.replace('_', ' ')} warnings: choose one of {', '.join(SENSITIVITIES)}"
        raise ApiError(400, "InvalidField", choose, field=f"warning_{category}")
    if "warnings" not in table:
        table["warnings"] = tomlkit.table()
    table["warnings"][category] = level


# Quotes a person may type around a phrase (straight, or curly as a phone or word processor makes them).
TYPED_QUOTES = "\"'\u2018\u2019\u201c\u201d"


def _typed_phrases(raw: str) -> list[str]:
    """Comma-separated phrases as typed, each without the quotes typed around it: a user test's `"Jordan Pike"`
    became a keyword with its quotes, which no post contains."""
    return [phrase for part in raw.split(",") if (phrase := part.strip().strip(TYPED_QUOTES).strip())]


def _set_keywords(table: Any, raw: str | None, current: tuple[str, ...]) -> None:
    if raw is None:
        return
    words = _typed_phrases(raw)
    if words == list(current):
        return
    set_key(table, "keywords", words)


def _topics_text(topics: Mapping[str, tuple[str, ...]]) -> str:
    return "\n".join(f"{name}: {', '.join(phrases)}" for name, phrases in topics.items() if phrases)


def _topic_lines(raw: str) -> dict[str, list[str]]:
    """``spoilers: season finale, spoiler*`` lines → ``{"spoilers": ["season finale", "spoiler*"]}``; a topic given
    on two lines gets the phrases of both."""
    topics: dict[str, list[str]] = {}
    for number, line in enumerate(raw.splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, sep, rest = text.partition(":")
        phrases = _typed_phrases(rest)
        if not sep or not name.strip() or not phrases:
            raise ApiError(
                400,
                "InvalidField",
                f"own topics, line {number}: write it as 'name: phrase, phrase', got {text!r}",
                field="topics",
            )
        known = topics.setdefault(name.strip(), [])
        known.extend(phrase for phrase in phrases if phrase not in known)
    return topics


def _set_topics(
    table: Any, raw: str | None, current: Mapping[str, tuple[str, ...]], inherited: Mapping[str, tuple[str, ...]]
) -> None:
    """Write only the topics that changed into the profile's own ``topics`` table. A topic taken away is deleted
    from it, or set to ``[]`` where the parent's topic would otherwise come back by inheritance."""
    if raw is None:
        return
    wanted = _topic_lines(raw)
    shown = {name: list(phrases) for name, phrases in current.items() if phrases}
    if wanted == shown:
        return
    if "topics" not in table:
        table["topics"] = tomlkit.table()
    own = table["topics"]
    for name in [name for name in shown if name not in wanted]:
        if inherited.get(name):
            own[name] = []
        elif name in own:
            del own[name]
    for name, phrases in wanted.items():
        if shown.get(name) != phrases:
            own[name] = phrases


def set_retention(text: str, days: int) -> str:
    document = tomlkit.parse(text)
    household_table(document)["retention_days"] = days
    return tomlkit.dumps(document)


def household_table(document: Any) -> Table:
    """The file's ``[household]`` table, made when the file has none."""
    household = document.get("household")
    if not isinstance(household, Table):
        household = tomlkit.table()
        document["household"] = household
    return household


# --- The household form: the country crisis lines are for --------------------------------------------------------

OTHER_COUNTRY = "other"  # the select's "another country": the code typed beside it, shown the international directory


@dataclass(frozen=True)
class HouseholdForm:
    """The household's country as the file says it (``DEFAULT_COUNTRY`` when it names none), the crisis line
    Breather shows for it, and the members whose own ``country`` the household's does not change."""

    country: str
    choice: str  # the select's value: a code of the crisis table, or OTHER_COUNTRY
    other: str  # the code typed for another country
    choices: list[tuple[str, str]]  # (code, "United Kingdom (GB)"), by name
    line: str  # "Samaritans, 116 123, for the United Kingdom (GB)"
    own_country: list[str]  # "teen: the United States (US), their own (set in the rules file)"


def crisis_table(config_dir: Path) -> tuple[Mapping[str, CrisisLine], str | None]:
    """The crisis lines Breather shows (the person's ``crisis_lines.toml`` laid over the shipped table), and why
    that file was not used when it does not read."""
    return table_in_force(config_dir / OVERRIDE_FILE)


def crisis_text(code: str, table: Mapping[str, CrisisLine]) -> str:
    """What Breather shows beside a self-harm warning for ``code``, in a sentence's words."""
    line = table.get(code)
    if line is None or line.is_international:
        directory = table[INTERNATIONAL]
        return (
            f"{directory.service}, {directory.web}, for {country_phrase(code)}: the international directory, as "
            "Breather has no line of its own for that country"
        )
    contact = line.phone or line.text or line.web
    return f"{line.service}, {contact}, for {country_phrase(code, line.country)}"


def household_form(
    text: str | None, rules: Rules, table: Mapping[str, CrisisLine], posted: Mapping[str, str] | None = None
) -> HouseholdForm:
    """The form as the file says (``text``; the rules in force when it does not read), or as ``posted``."""
    document = _parse_or_empty(text or "")
    loaded = rules_or(text, None) if text is not None else None
    shown = loaded or rules
    if loaded is not None:
        written = value_at(document, ["household", "country"])
        country = written.strip().upper() if isinstance(written, str) else DEFAULT_COUNTRY
    else:  # a file that does not load says nothing sure: the country the default member is shown now
        country = shown.profile(shown.default_profile).country
    choices = sorted(
        ((code, f"{line.country} ({code})") for code, line in table.items() if not line.is_international),
        key=lambda item: item[1],
    )
    known = {code for code, _ in choices}
    choice, other = (country, "") if country in known else (OTHER_COUNTRY, country)
    if posted is not None:
        choice, other = posted.get("country", choice), posted.get("other_country", other)
    own = [
        f"{name}: {country_phrase(profile.country, _table_name(table, profile.country))}, their own (set in the "
        "rules file)"
        for name, profile in shown.profiles.items()
        if profile.country != country or value_at(document, ["profiles", name, "country"]) is not None
    ]
    return HouseholdForm(country, choice, other, choices, crisis_text(country, table), own)


def _table_name(table: Mapping[str, CrisisLine], code: str) -> str | None:
    line = table.get(code)
    return line.country if line is not None and not line.is_international else None


def chosen_country(posted: Mapping[str, str]) -> str:
    """The country the form asks for: a code of the select, or the one typed for "another country"."""
    choice = posted.get("country", "").strip()
    field = "other_country" if choice == OTHER_COUNTRY else "country"
    raw = posted.get(field, "").strip()
    if not raw:
        raise ApiError(
            400, "InvalidField", "another country: type its two-letter code, like IS for Iceland", field=field
        )
    try:
        return check_country(raw)
    except ValueError as exc:
        raise ApiError(400, "InvalidField", f"country: {exc}", field=field) from None


def set_country(text: str, code: str) -> str:
    """``text`` with ``[household] country`` set to ``code`` by tomlkit (comments and layout kept). A file that does
    not load is refused, as the member forms refuse it."""
    try:
        document = tomlkit.parse(text)
        parse_rules(text)
    except (TOMLKitError, RulesError):
        raise ApiError(409, "RulesFileBroken", FILE_BROKEN) from None
    household_table(document)["country"] = code
    return tomlkit.dumps(document)


def household_lines(rules: Rules, table: Mapping[str, CrisisLine]) -> list[tuple[list[str], str]]:
    """The crisis line each member is shown, as (members, line in words): one entry when all share a country."""
    members: dict[str, list[str]] = {}
    for name in dict.fromkeys([rules.default_profile, *rules.profiles]):
        members.setdefault(rules.profile(name).country, []).append(name)
    return [(names, crisis_text(code, table)) for code, names in members.items()]
