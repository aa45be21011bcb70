"""Read ``rules.toml`` into a validated ``Rules``, reporting every problem with its file:line:col.

Reading uses the stdlib ``tomllib`` (plain values, exact syntax-error positions); editing uses tomlkit
(``breather.rules.editing``) so comments survive. Profiles are read one by one as written, then inheritance is
applied: tables (limits, warnings, quiet hours by day key, topic quiet hours by category, named topics by name) merge
key by key, every other value is replaced by the child's. Who a profile is (user, password, client IPs, default) is
never inherited.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from breather.rules import timeparse
from breather.rules.countries import DEFAULT_COUNTRY, CountryGuess, check_country, country_phrase, guess_country
from breather.rules.errors import Problem, RulesError
from breather.rules.locate import Locator, toml_lines
from breather.rules.model import (
    ADAPTERS,
    CATEGORIES,
    OWN_TOPIC_PREFIX,
    SENSITIVITIES,
    UPLIFT_MODES,
    Profile,
    Rules,
    SiteGroup,
    TopicWindow,
    Window,
)
from breather.rules.passwords import check_hash
from breather.rules.schema import (
    HOUSEHOLD_KEYS,
    PROFILE_KEYS,
    SITE_KEYS,
    TOP_KEYS,
    Checker,
    Invalid,
    KeyPath,
    key_text,
    limit_key_problem,
    suggestion,
)
from breather.rules.textfile import read_rules_text
from breather.rules.timeparse import zone_named
from breather.rules.tomltext import TOO_DEEP, too_deep_line, with_toml_keys

__all__ = [
    "RulesError",
    "default_rules_text",
    "ensure_rules_file",
    "first_run_rules_text",
    "load_rules",
    "parse_rules",
]

DEFAULT_RULES_RESOURCE = "default_rules.toml"
IDENTITY_KEYS = frozenset({"default", "user", "password", "client_ips", "inherits"})
MERGED_TABLES = frozenset({"limits", "warnings", "quiet_hours", "topic_quiet_hours", "topics"})
_SYNTAX_PLACE = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_SYNTAX_END = re.compile(r"\s*\(at end of document\)$")


def load_rules(path: str | os.PathLike[str]) -> Rules:
    """Read and validate a rules file. A missing or unreadable file is a ``RulesError`` too, with its name."""
    file = Path(path)
    return parse_rules(read_rules_text(file), file.name)


def parse_rules(text: str, filename: str = "rules.toml") -> Rules:
    data = _decode(text, filename)
    checker = Checker(filename, Locator(text))
    reader = _Reader(checker)
    rules = reader.read(data)
    if checker.problems or rules is None:
        raise RulesError(checker.problems)
    return rules


def default_rules_text() -> str:
    return resources.files("breather.rules").joinpath(DEFAULT_RULES_RESOURCE).read_text(encoding="utf-8")


# The default file's country line, which a first run replaces with the country it picks and how it picked it.
_DEFAULT_COUNTRY_LINE = re.compile(rf'^country = "{DEFAULT_COUNTRY}"\n', re.MULTILINE)


def first_run_rules_text(zone: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The default rules with the household's country picked for this machine: from its time zone (``zone``,
    default the machine's), else its locale (``environ``, default the process's), else ``DEFAULT_COUNTRY``, with a
    comment saying which. Crisis lines follow the country, so a household that never opens the file still gets its
    own country's line rather than the United States'."""
    machine_zone = timeparse.local_zone_name() if zone is None else zone
    guess = guess_country(machine_zone, environ)
    line = f'{_country_comment(guess)}country = "{guess.code}"\n'
    text = _DEFAULT_COUNTRY_LINE.sub(lambda _: line, default_rules_text(), count=1)
    return with_household_zone(text, machine_zone)


# The default file's commented-out time zone (and the demo's), which a first run replaces with the machine's zone.
_DEFAULT_ZONE_LINE = re.compile(r'^# timezone = "[^"\n]*"\n', re.MULTILINE)


def with_household_zone(text: str, zone: str | None) -> str:
    """The machine's zone written into a new rules file: left out, each process (the service, the dashboard, a
    ``breather status`` in a shell with another ``TZ``) would use its own, and a user test's dashboard and status
    disagreed on what day it was. A zone the machine cannot name, or one Python does not know, stays left out."""
    if not zone:
        return text
    try:
        zone_named(zone)
    except ValueError:
        return text
    line = (
        f"# Picked on the first run: this machine's zone ({_said(zone)}), written down so the service, the dashboard\n"
        "# and `breather status` in a shell with another TZ count days and quiet hours on one clock. A change waits\n"
        "# for the cooling-off, as a loosening does.\n"
        f'timezone = "{zone}"\n'
    )
    return _DEFAULT_ZONE_LINE.sub(lambda _: line, text, count=1)


def _country_comment(guess: CountryGuess) -> str:
    change = "# Change it here or on the dashboard's Rules page.\n"
    zone = f" ({_said(guess.zone)})" if guess.zone else ""
    if guess.source == "zone":
        return f"# Picked on the first run from this machine's time zone{zone}.\n{change}"
    if guess.source == "locale":
        return (
            f"# Picked on the first run from this machine's language setting ({_said(guess.locale)}): its time zone"
            f"{zone} names no country.\n{change}"
        )
    setting = f" ({_said(guess.locale)})" if guess.locale else ""
    return (
        f"# Neither this machine's time zone{zone} nor its language setting{setting} names a country, so this is\n"
        f"# Breather's default, {country_phrase(DEFAULT_COUNTRY)}: set your own country here or on the dashboard's "
        "Rules page.\n"
    )


def _said(value: str | None) -> str:
    """A machine setting as a comment quotes it: one line, printable, short (an environment variable holds anything)."""
    return "".join(char for char in value or "" if char.isprintable())[:60]


def ensure_rules_file(path: str | os.PathLike[str]) -> bool:
    """Write the commented default rules, the country picked for this machine (``first_run_rules_text``), to
    ``path`` unless a file is already there. Returns whether it wrote."""
    file = Path(path)
    if file.exists():
        return False
    file.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".rules-", suffix=".toml", dir=file.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(first_run_rules_text())
        # A link that fails when the target exists: two first runs at once never overwrite each other.
        os.link(temporary, file)
    except FileExistsError:
        return False
    finally:
        os.unlink(temporary)
    return True


# No line of a rules file comes near this; tomllib's time grows with the square of a dotted key's length, so a
# pasted line of megabytes would otherwise hold the reader (and the dashboard's preview) for hours.
MAX_LINE_CHARS = 20_000


def _decode(text: str, filename: str) -> dict[str, Any]:
    _refuse_overlong_lines(text, filename)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = with_toml_keys(str(exc))
        line, column = 1, 1
        place = _SYNTAX_PLACE.search(message)
        if place is not None:
            line, column = int(place.group(1)), int(place.group(2))
            message = message[: place.start()]
        elif _SYNTAX_END.search(message):
            lines = toml_lines(text) or [""]
            line, column = len(lines), len(lines[-1]) + 1
            message = _SYNTAX_END.sub("", message)
        hint = _syntax_hint(message, text, line)
        problem = Problem(filename, line, column, "", f"TOML syntax error: {message[:1].lower()}{message[1:]}{hint}")
        raise RulesError([problem]) from None
    except RecursionError:
        raise RulesError([Problem(filename, too_deep_line(text), 1, "", TOO_DEEP)]) from None


# tomllib's messages name the grammar; these say what a person editing by hand most likely did, and how to mend it.
_SYNTAX_HINTS = (
    ("Illegal character '\\n'", "a quoted value is not closed on its line: add the closing quote"),
    ("Cannot overwrite a value", "{key} is already set above in the same table: keep one of the two"),
    ("Cannot declare", "this [table] header appears twice: merge the two tables into one"),
    ("Expected newline or end of document after a statement", 'text values need quotes, like daily_limit = "1h"'),
    ("Invalid value", 'text values need quotes, like daily_limit = "1h"'),
    ("Expected '=' after a key", 'each setting is written key = value, like daily_limit = "1h"'),
    ("Unclosed array", "a list opened with [ is not closed with ] (the problem may be on the line before)"),
    ("Expected ']' at the end of a table declaration", "a [table] header is missing its closing ]"),
)


# Quotes a word processor, a phone or a web page puts in: TOML takes only the straight ones.
_CURLY_QUOTES = "\u201c\u201d\u2018\u2019\u201e\u00ab\u00bb"
CURLY_QUOTES_HINT = 'curly quotes: write the value between straight quotes, like daily_limit = "1h"'


def _syntax_hint(message: str, text: str, line: int) -> str:
    lines = toml_lines(text)
    written = lines[line - 1] if 0 < line <= len(lines) else ""
    value = written.split("=", 1)[1] if "=" in written else ""
    if any(quote in value for quote in _CURLY_QUOTES):
        # "text values need quotes" sent a person who had typed quotes, that look the same, looking for what was wrong
        return f" ({CURLY_QUOTES_HINT})"
    for start, hint in _SYNTAX_HINTS:
        if message.startswith(start):
            key = written.split("=", 1)[0].strip()
            return " (" + hint.format(key=f'"{key}"' if key else "this key") + ")"
    return ""


def _refuse_overlong_lines(text: str, filename: str) -> None:
    if len(text) <= MAX_LINE_CHARS:
        return
    for number, line in enumerate(toml_lines(text), 1):
        if len(line) > MAX_LINE_CHARS:
            message = f"line is {len(line):,} characters long; a rules line may be at most {MAX_LINE_CHARS:,}"
            raise RulesError([Problem(filename, number, MAX_LINE_CHARS + 1, "", message)])


# A file with nothing but blank lines and comments is most often one saved half-way, or emptied by accident.
EMPTY_FILE = (
    "the rules file is empty (nothing but blank lines and comments: was it saved half-way?); it needs its rules "
    'back, with at least one member, such as [profiles.me] with "default = true"'
)


@dataclass
class _Household:
    timezone: str | None = None
    country: str = "US"
    retention_days: int = 90
    cooling_off: timedelta = timedelta(hours=24)
    friction_delay: timedelta = timedelta(seconds=10)


@dataclass
class _Declared:
    """One profile as written: only the keys it sets, already parsed. ``origins`` says which profile set a key."""

    name: str
    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[tuple[str, str], str] = field(default_factory=dict)


class _Reader:
    def __init__(self, checker: Checker) -> None:
        self.check = checker

    def read(self, data: dict[str, Any]) -> Rules | None:
        if not data:
            self.check.problem((), EMPTY_FILE)
            return None
        self.check.known_keys(data, (), TOP_KEYS)
        household = self._household(data.get("household", {}))
        groups = self._groups(data.get("sites", {}))
        declared = self._profiles(data.get("profiles"), groups)
        resolved = self._resolve(declared, household)
        default = self._default_profile(data.get("profiles"), resolved)
        if default is None:
            return None
        return Rules(
            groups=tuple(groups),
            profiles=resolved,
            default_profile=default,
            timezone=household.timezone,
            retention_days=household.retention_days,
            cooling_off=household.cooling_off,
            source=self.check.filename,
        )

    # household ---------------------------------------------------------------------------------------------------

    def _household(self, raw: Any) -> _Household:
        result = _Household()
        path: KeyPath = ("household",)
        try:
            table = self.check.table(raw, path)
        except Invalid:
            return result
        self.check.known_keys(table, path, HOUSEHOLD_KEYS)
        readers = {
            "timezone": lambda value, at: self._timezone(value, at),
            "country": lambda value, at: self._country(value, at),
            "retention_days": lambda value, at: self.check.whole_number(value, at, minimum=1),
            "cooling_off": self.check.duration,
            "friction_delay": self.check.duration,
        }
        for key, read in readers.items():
            if key in table:
                try:
                    setattr(result, key, read(table[key], (*path, key)))
                except Invalid:
                    continue
        return result

    def _timezone(self, value: Any, path: KeyPath) -> str:
        name = self.check.string(value, path)
        self.check.guarded(path, lambda: zone_named(name))
        return name

    def _password(self, value: Any, path: KeyPath) -> str:
        text = self.check.string(value, path)
        self.check.guarded(path, lambda: check_hash(text))
        return text

    def _country(self, value: Any, path: KeyPath) -> str:
        text = self.check.string(value, path)
        return self.check.guarded(path, lambda: check_country(text))

    # site groups -------------------------------------------------------------------------------------------------

    def _groups(self, raw: Any) -> list[SiteGroup]:
        try:
            table = self.check.table(raw, ("sites",))
        except Invalid:
            return []
        groups: list[SiteGroup] = []
        owner: dict[str, str] = {}
        for name, spec in table.items():
            path: KeyPath = ("sites", name)
            try:
                group = self._group(name, spec, path)
            except Invalid:
                continue
            for index, domain in enumerate(group.domains):
                if domain in owner:
                    self.check.problem(
                        (*path, "domains", index), f'domain "{domain}" is already in site group "{owner[domain]}"'
                    )
                owner.setdefault(domain, name)
            groups.append(group)
        return groups

    def _group(self, name: str, spec: Any, path: KeyPath) -> SiteGroup:
        table = self.check.table(spec, path)
        self.check.known_keys(table, path, SITE_KEYS)
        adapter = name if name in ADAPTERS else "generic"
        if "adapter" in table:
            adapter = self._adapter(table["adapter"], (*path, "adapter"))
        if "domains" not in table:
            raise self.check.fail(path, 'missing "domains": list the domains this site group covers')
        domains = self.check.domains(table["domains"], (*path, "domains"))
        named = "adapter" in table or name in ADAPTERS
        return SiteGroup(name=name, adapter=adapter, domains=tuple(domains), adapter_named=named)

    def _adapter(self, value: Any, path: KeyPath) -> str:
        try:
            return self.check.choice(value, path, ADAPTERS, "adapter")
        except Invalid:
            return "generic"

    # profiles as written -----------------------------------------------------------------------------------------

    def _profiles(self, raw: Any, groups: list[SiteGroup]) -> dict[str, _Declared]:
        if raw is None:
            self.check.problem((), 'no profiles: add at least one, e.g. [profiles.me] with "default = true"')
            return {}
        try:
            table = self.check.table(raw, ("profiles",))
        except Invalid:
            return {}
        declared: dict[str, _Declared] = {}
        for name, spec in table.items():
            path: KeyPath = ("profiles", name)
            self.check.member_name(name, path)
            try:
                profile_table = self.check.table(spec, path)
            except Invalid:
                continue
            declared[name] = self._profile(name, profile_table, path, groups)
        self._check_identities(declared)
        return declared

    def _profile(self, name: str, table: Mapping[str, Any], path: KeyPath, groups: list[SiteGroup]) -> _Declared:
        self.check.known_keys(table, path, PROFILE_KEYS)
        declared = _Declared(name)
        readers = self._profile_readers(groups)
        for key in PROFILE_KEYS:
            if key not in table:
                continue
            try:
                declared.values[key] = readers[key](table[key], (*path, key))
            except Invalid:
                continue
            if key in MERGED_TABLES:
                for inner in declared.values[key]:
                    declared.origins[(key, inner)] = name
        return declared

    def _profile_readers(self, groups: list[SiteGroup]) -> dict[str, Any]:
        check = self.check
        return {
            "default": check.boolean,
            "user": check.string,
            "password": self._password,
            "client_ips": lambda value, at: tuple(check.networks(value, at)),
            "inherits": check.string,
            "daily_limit": check.limit,
            "limits": lambda value, at: self._limits(value, at, groups),
            "break_after": check.limit,
            "break_length": check.duration,
            "max_snoozes": check.whole_number,
            "quiet_hours": check.schedule,
            "topic_quiet_hours": self._topic_schedules,
            "always_allowed": lambda value, at: tuple(check.domains(value, at)),
            "warnings": self._warnings,
            "keywords": self._keywords,
            "topics": self._topics,
            "friction_delay": check.duration,
            "open_anyway": check.boolean,
            "country": self._country,
            "uplift": lambda value, at: check.choice(value, at, UPLIFT_MODES, "uplift mode"),
            "calm": check.boolean,
        }

    def _limits(self, raw: Any, path: KeyPath, groups: list[SiteGroup]) -> dict[str, timedelta | None]:
        table = self.check.table(raw, path)
        names = [group.name for group in groups]
        limits: dict[str, timedelta | None] = {}
        for key, value in table.items():
            at = (*path, key)
            problem = limit_key_problem(key, at, groups)
            if problem is not None:
                self.check.problem(at, problem)
                continue
            try:
                # a group's name as written (the decision compares it so: "Reddit" lowered never applied), a domain
                # in lower case
                limits[key if key in names else key.lower()] = self.check.limit(value, at)
            except Invalid:
                continue
        return limits

    def _warnings(self, raw: Any, path: KeyPath) -> dict[str, str]:
        table = self.check.table(raw, path)
        levels: dict[str, str] = {}
        for key, value in table.items():
            if not self.check.category(key, (*path, key)):
                continue
            try:
                levels[key] = self.check.choice(value, (*path, key), SENSITIVITIES, "sensitivity")
            except Invalid:
                continue
        return levels

    def _topic_schedules(self, raw: Any, path: KeyPath) -> dict[str, dict[str, list[Window]]]:
        table = self.check.table(raw, path)
        schedules: dict[str, dict[str, list[Window]]] = {}
        for key, value in table.items():
            if not self._topic_category(key, (*path, key)):
                continue
            try:
                schedules[key] = self.check.schedule(value, (*path, key))
            except Invalid:
                continue
        return schedules

    def _topic_category(self, key: str, path: KeyPath) -> bool:
        """A built-in category, or ``keyword:<topic>`` for a named topic (whether the profile has that topic is
        known only once inheritance is applied: ``_check_topic_windows``)."""
        if key.startswith(OWN_TOPIC_PREFIX):
            return self.check.topic_name(key.removeprefix(OWN_TOPIC_PREFIX), path)
        return self.check.category(key, path, own_topics=True)

    def _keywords(self, raw: Any, path: KeyPath, what: str = "a keyword") -> tuple[str, ...]:
        if isinstance(raw, dict) and path[-1] == "keywords":  # what a user test tried for named topics
            topics = key_text((*path[:-1], "topics"))
            raise self.check.fail(path, f"expected a list of strings, got a table (to name topics, use [{topics}])")
        words = self.check.string_list(raw, path)
        for index, word in enumerate(words):
            if not word.strip():
                self.check.problem((*path, index), f"{what} cannot be empty")
        return tuple(word.strip() for word in words if word.strip())

    def _topics(self, raw: Any, path: KeyPath) -> dict[str, tuple[str, ...]]:
        """Named topics: ``name = ["phrase", "prefix*"]``, each phrase as in ``keywords``."""
        table = self.check.table(raw, path)
        topics: dict[str, tuple[str, ...]] = {}
        for name, phrases in table.items():
            at = (*path, name)
            if not self.check.topic_name(name, at):
                continue
            try:
                topics[name] = self._keywords(phrases, at, f'a phrase of topic "{name}"')
            except Invalid:
                continue
        return topics

    def _check_identities(self, declared: dict[str, _Declared]) -> None:
        users: dict[str, str] = {}
        networks: dict[Any, str] = {}
        for name, profile in declared.items():
            user = profile.values.get("user")
            if user is not None:
                if user.casefold() in users:
                    self.check.problem(
                        ("profiles", name, "user"), f'user "{user}" already names profile "{users[user.casefold()]}"'
                    )
                users.setdefault(user.casefold(), name)
            for index, network in enumerate(profile.values.get("client_ips", ())):
                if network in networks:
                    self.check.problem(
                        ("profiles", name, "client_ips", index),
                        f'"{network}" is already used by profile "{networks[network]}"',
                    )
                networks.setdefault(network, name)

    # inheritance -------------------------------------------------------------------------------------------------

    def _resolve(self, declared: dict[str, _Declared], household: _Household) -> dict[str, Profile]:
        merged: dict[str, _Declared] = {}
        for name in declared:
            chain = self._chain(name, declared)
            if chain is None:
                # its own windows are still checked in this pass (an audit fixed a loop, then met new problems);
                # not its topics' windows, whose topics may come from the parent it cannot reach
                self._check_overlaps(declared[name])
                continue
            merged[name] = _merge([declared[link] for link in chain])
        profiles: dict[str, Profile] = {}
        for name, profile in merged.items():
            self._check_overlaps(profile)
            self._check_topic_windows(profile)
            profiles[name] = _build_profile(profile, household)
        return profiles

    def _chain(self, name: str, declared: dict[str, _Declared]) -> list[str] | None:
        """The profile and its ancestors, root first; ``None`` (and a problem) for a missing or circular parent."""
        chain = [name]
        at = ("profiles", name, "inherits")
        while (parent := declared[chain[-1]].values.get("inherits")) is not None:
            if parent not in declared:
                self.check.problem(at, f'parent profile "{parent}" does not exist{suggestion(parent, declared)}')
                return None
            if parent in chain:
                loop = " → ".join([*chain[chain.index(parent) :], parent])
                self.check.problem(at, f"circular inheritance: {loop}")
                return None
            chain.append(parent)
        return list(reversed(chain))

    def _check_overlaps(self, profile: _Declared) -> None:
        schedules: list[tuple[str, dict[str, list[Window]]]] = []
        if "quiet_hours" in profile.values:
            schedules.append(("quiet_hours", profile.values["quiet_hours"]))
        for category, schedule in profile.values.get("topic_quiet_hours", {}).items():
            schedules.append((f"topic_quiet_hours.{category}", schedule))
        for label, schedule in schedules:
            self._overlaps_in(profile, label, schedule)

    def _check_topic_windows(self, profile: _Declared) -> None:
        """Topic quiet hours for ``keyword:<topic>`` need that topic among the profile's own (its parents' too)."""
        topics = profile.values.get("topics", {})
        for key in profile.values.get("topic_quiet_hours", {}):
            name = key.removeprefix(OWN_TOPIC_PREFIX)
            if key.startswith(OWN_TOPIC_PREFIX) and name not in topics:
                origin = profile.origins.get(("topic_quiet_hours", key), profile.name)
                self.check.problem(
                    ("profiles", origin, "topic_quiet_hours", key),
                    f'no topic named "{name}"{suggestion(name, topics)}: name it under [profiles.{origin}.topics]',
                )

    def _overlaps_in(self, profile: _Declared, label: str, schedule: dict[str, list[Window]]) -> None:
        table = label.split(".")[0]
        owner_key = label.split(".")[1] if "." in label else None
        placed = [(key, window) for key, windows in schedule.items() for window in windows]
        for index, (key, window) in enumerate(placed):
            for earlier_key, earlier in placed[:index]:
                if window.overlaps(earlier):
                    origin_key = owner_key if owner_key is not None else key
                    origin = profile.origins.get((table, origin_key), profile.name)
                    path: KeyPath = ("profiles", origin, *label.split("."), key)
                    inherited = self._inherited_hint(profile, earlier_key) if owner_key is None else ""
                    self.check.problem(
                        path,
                        f'windows overlap: {earlier.describe()} (from "{earlier_key}") and '
                        f'{window.describe()} (from "{key}"){inherited}',
                    )
                    break

    @staticmethod
    def _inherited_hint(profile: _Declared, key: str) -> str:
        """Where a quiet-hours window inherited from a parent comes from, and how to leave it out: a user test's
        child met seven overlaps with a "daily" their own table did not have."""
        origin = profile.origins.get(("quiet_hours", key), profile.name)
        if origin == profile.name:
            return ""
        return f'; "{key}" comes from {origin}: write {key} = [] in {profile.name}\'s own quiet hours to leave it out'

    def _default_profile(self, raw: Any, profiles: dict[str, Profile]) -> str | None:
        defaults = [name for name, profile in profiles.items() if profile.is_default]
        if len(defaults) > 1:
            for name in defaults[1:]:
                self.check.problem(
                    ("profiles", name, "default"), f'only one profile can be the default; "{defaults[0]}" already is'
                )
            return None
        if defaults:
            return defaults[0]
        if len(profiles) == 1:
            return next(iter(profiles))
        if profiles and isinstance(raw, dict):
            self.check.problem(("profiles",), 'no default profile: mark one with "default = true"')
        return None


def _merge(chain: list[_Declared]) -> _Declared:
    """Root first: each child's values override, tables merge by key. Identity keys come from the last only."""
    result = _Declared(chain[-1].name)
    for link in chain:
        is_self = link is chain[-1]
        for key, value in link.values.items():
            if key in IDENTITY_KEYS and not is_self:
                continue
            if key in MERGED_TABLES:
                result.values[key] = {**result.values.get(key, {}), **value}
            else:
                result.values[key] = value
        result.origins.update(link.origins)
    return result


def _build_profile(declared: _Declared, household: _Household) -> Profile:
    values = declared.values
    sensitivity = dict.fromkeys(CATEGORIES, "medium") | values.get("warnings", {})
    limits = {key: limit for key, limit in values.get("limits", {}).items() if limit is not None}
    quiet = tuple(window for windows in values.get("quiet_hours", {}).values() for window in windows)
    topics = tuple(
        TopicWindow(category, window)
        for category, schedule in values.get("topic_quiet_hours", {}).items()
        for windows in schedule.values()
        for window in windows
    )
    return Profile(
        name=declared.name,
        user=values.get("user"),
        password=values.get("password"),
        client_ips=values.get("client_ips", ()),
        is_default=values.get("default", False),
        inherits=values.get("inherits"),
        daily_limit=values.get("daily_limit"),
        limits=limits,
        break_after=values.get("break_after"),
        break_length=values.get("break_length", timedelta(minutes=5)),
        max_snoozes=values.get("max_snoozes", 2),
        quiet_hours=tuple(sorted(quiet, key=_window_order)),
        topic_quiet_hours=tuple(sorted(topics, key=lambda item: (item.category, *_window_order(item.window)))),
        always_allowed=values.get("always_allowed", ()),
        sensitivity=sensitivity,
        keywords=values.get("keywords", ()),
        topics=values.get("topics", {}),
        friction_delay=values.get("friction_delay", household.friction_delay),
        open_anyway=values.get("open_anyway", True),
        country=values.get("country", household.country),
        uplift=values.get("uplift", "off"),
        calm=values.get("calm", False),
    )


def _window_order(window: Window) -> tuple[int, int]:
    return (window.day, window.start.hour * 60 + window.start.minute)


def __getattr__(name: str) -> Any:
    # The watcher is reachable from here too (docs/interfaces.md); imported lazily because it imports this module.
    if name == "RulesWatcher":
        from breather.rules.watcher import RulesWatcher

        return RulesWatcher
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
