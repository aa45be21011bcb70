"""What each key in ``rules.toml`` may hold: the known keys, their types and how their values are read.

The ``Checker`` collects every problem with its place instead of stopping at the first, so a person fixing the file
sees the whole list at once.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

from breather.rules.errors import Problem
from breather.rules.locate import Locator
from breather.rules.model import CATEGORIES, OWN_TOPIC_PREFIX, IPNetwork, SiteGroup, Window, host_in_domain
from breather.rules.names import member_name_problem
from breather.rules.timeparse import DAY_GROUPS, parse_duration, parse_span

T = TypeVar("T")
KeyPath = tuple[str | int, ...]

TOP_KEYS: tuple[str, ...] = ("household", "sites", "profiles")
HOUSEHOLD_KEYS: tuple[str, ...] = ("timezone", "country", "retention_days", "cooling_off", "friction_delay")
SITE_KEYS: tuple[str, ...] = ("adapter", "domains")
PROFILE_KEYS: tuple[str, ...] = (
    "default",
    "user",
    "password",
    "client_ips",
    "inherits",
    "daily_limit",
    "limits",
    "break_after",
    "break_length",
    "max_snoozes",
    "quiet_hours",
    "topic_quiet_hours",
    "always_allowed",
    "warnings",
    "keywords",
    "topics",
    "friction_delay",
    "open_anyway",
    "country",
    "uplift",
    "calm",
)
# A named topic's name is shown in warnings ("Breather: spoilers") and kept in the event log as its category.
TOPIC_NAME_MAX = 40
_TOPIC_NAME = re.compile(r"[\w -]+")  # \w: letters and digits of any script, and "_"
# Words that switch a limit off, so a child profile can lift a limit its parent set.
NO_LIMIT_WORDS = frozenset({"off", "none", "unlimited"})
ONE_DAY = timedelta(days=1)

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")


class Invalid(Exception):
    """Raised inside the checker when one value is unusable; already recorded as a problem."""


def key_text(path: Sequence[str | int]) -> str:
    """``("profiles", "sam", "quiet_hours", "mon", 1)`` → ``profiles.sam.quiet_hours.mon[1]``; dotted keys quoted."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            shown = json.dumps(part, ensure_ascii=False) if _needs_quotes(part) else part
            text += f".{shown}" if text else shown
    return text


def _needs_quotes(part: str) -> bool:
    """A key read back wrongly unquoted: a dot, nothing, a space at either end, or an invisible character (which the
    quotes show escaped, as TOML writes it)."""
    return not part or "." in part or part != part.strip() or not part.isprintable()


class Checker:
    def __init__(self, filename: str, locator: Locator) -> None:
        self.filename = filename
        self.locator = locator
        self.problems: list[Problem] = []

    def problem(self, path: Sequence[str | int], message: str) -> None:
        line, column = self.locator.position(path)
        found = Problem(self.filename, line, column, key_text(path), message)
        if found not in self.problems:
            self.problems.append(found)

    def fail(self, path: Sequence[str | int], message: str) -> Invalid:
        self.problem(path, message)
        return Invalid(message)

    def guarded(self, path: Sequence[str | int], read: Callable[[], T]) -> T:
        """Run a parser that raises ``ValueError`` and turn its message into a located problem."""
        try:
            return read()
        except ValueError as exc:
            raise self.fail(path, str(exc)) from None

    # Types -------------------------------------------------------------------------------------------------------

    def table(self, value: Any, path: KeyPath) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a table, got {describe(value)}")
        return value

    def string(self, value: Any, path: KeyPath) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"expected a string, got {describe(value)}")
        return value

    def boolean(self, value: Any, path: KeyPath) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, f"expected true or false, got {describe(value)}")
        return value

    def whole_number(self, value: Any, path: KeyPath, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"expected a whole number, got {describe(value)}")
        if value < minimum:
            raise self.fail(path, f"expected a number of at least {minimum}, got {value}")
        return value

    def string_list(self, value: Any, path: KeyPath) -> list[str]:
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list of strings, got {describe(value)}")
        items: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.problem((*path, index), f"expected a string, got {describe(item)}")
                continue
            items.append(item)
        return items

    def choice(self, value: Any, path: KeyPath, allowed: Sequence[str], what: str) -> str:
        text = self.string(value, path)
        if text not in allowed:
            raise self.fail(path, f'unknown {what} "{text}"{suggestion(text, allowed)} (one of: {", ".join(allowed)})')
        return text

    def known_keys(self, table: Mapping[str, Any], path: KeyPath, allowed: Sequence[str]) -> None:
        for key in table:
            if key not in allowed:
                self.problem((*path, key), f'unknown key "{key}"{suggestion(key, allowed) or _few_keys(allowed)}')

    # Values ------------------------------------------------------------------------------------------------------

    def duration(self, value: Any, path: KeyPath) -> timedelta:
        return self.guarded(path, lambda: parse_duration(value))

    def limit(self, value: Any, path: KeyPath) -> timedelta | None:
        """A duration of at most a day (a daily limit or the use before a break: a longer one is never reached), or
        "off" to lift it."""
        if isinstance(value, str) and value.strip().lower() in NO_LIMIT_WORDS:
            return None
        limit = self.guarded(path, lambda: parse_duration(value))
        if limit > ONE_DAY:
            raise self.fail(path, f'a day has 24 hours, so "{value}" is never reached (write "off" instead)')
        return limit

    def domain(self, value: Any, path: KeyPath) -> str:
        text = self.string(value, path).strip().lower().rstrip(".")
        if not _DOMAIN.match(text):
            raise self.fail(path, f'expected a domain like "reddit.com", got "{value}"')
        return text

    def domains(self, value: Any, path: KeyPath) -> list[str]:
        found: list[str] = []
        for index, item in enumerate(self.string_list(value, path)):
            try:
                found.append(self.domain(item, (*path, index)))
            except Invalid:
                continue
        return found

    def networks(self, value: Any, path: KeyPath) -> list[IPNetwork]:
        found: list[IPNetwork] = []
        for index, item in enumerate(self.string_list(value, path)):
            try:
                found.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                self.problem((*path, index), f'expected an IP address or network like "192.168.1.20", got "{item}"')
        return found

    def schedule(self, value: Any, path: KeyPath) -> dict[str, list[Window]]:
        """A table of day keys (``mon`` … ``sun``, ``weekdays``, ``weekend``, ``daily``) to one window or a list."""
        table = self.table(value, path)
        self.known_keys(table, path, tuple(DAY_GROUPS))
        result: dict[str, list[Window]] = {}
        for key, spans in table.items():
            if key not in DAY_GROUPS:
                continue
            listed = spans if isinstance(spans, list) else [spans]
            windows: list[Window] = []
            for index, span in enumerate(listed):
                span_path = (*path, key, index) if isinstance(spans, list) else (*path, key)
                try:
                    start, end = self.guarded(span_path, partial(parse_span, span))
                except Invalid:
                    continue
                windows.extend(Window(day, start, end) for day in DAY_GROUPS[key])
            result[key] = windows
        return result

    def category(self, value: str, path: KeyPath, *, own_topics: bool = False) -> bool:
        """A built-in category; ``own_topics``: where a named topic may stand too, say how to write one."""
        if value in CATEGORIES:
            return True
        listed = ", ".join(CATEGORIES)
        if own_topics:
            listed += f', or "{OWN_TOPIC_PREFIX}<topic>" for one of your own topics'
        self.problem(
            path,
            f'unknown category "{value}"{suggestion(value, CATEGORIES)} (categories: {listed})'
            + misplaced(value, path),
        )
        return False

    def member_name(self, name: str, path: KeyPath) -> bool:
        """A name the usage store keeps too (``breather.rules.names``): one it refused lost all the member's time."""
        problem = member_name_problem(name)
        if problem is not None:
            self.problem(path, problem)
        return problem is None

    def topic_name(self, name: str, path: KeyPath) -> bool:
        problem = topic_name_problem(name)
        if problem is not None:
            self.problem(path, problem)
        return problem is None


def topic_name_problem(name: str) -> str | None:
    """What is wrong with a named topic's name, or None: letters, digits, spaces, "-" and "_", at most 40."""
    shown = name if len(name) <= TOPIC_NAME_MAX else name[:TOPIC_NAME_MAX] + "…"
    if not name.strip():
        return "a topic name cannot be empty"
    if not _TOPIC_NAME.fullmatch(name):
        odd = next(char for char in name if not _TOPIC_NAME.fullmatch(char))
        return f'topic name "{shown}" has {odd!r}: a topic name may hold only letters, digits, spaces, "-" and "_"'
    if len(name) > TOPIC_NAME_MAX:
        return f'topic name "{shown}" is {len(name)} characters long; a topic name may be at most {TOPIC_NAME_MAX}'
    if name != name.strip():
        return f'topic name "{name}" starts or ends with a space'
    if not any(char.isalnum() for char in name):
        return f'topic name "{name}" needs at least one letter or digit'
    return None


def misplaced(key: str, path: KeyPath) -> str:
    """A member setting written under one of the member's sub-tables (``daily_limit`` after ``[profiles.me.warnings]``)
    belongs to that sub-table in TOML: say so, since the file looks right to the eye."""
    if len(path) < 3 or path[0] != "profiles" or key not in PROFILE_KEYS:
        return ""
    table = ".".join(str(part) for part in path[:-1])
    return (
        f'; "{key}" is a member setting: every key after the [{table}] header belongs to that table, so move it '
        f"above [{table}]"
    )


def limit_key_problem(key: str, path: KeyPath, groups: Sequence[SiteGroup]) -> str | None:
    """What is wrong with a key of a member's ``limits`` table, or None: it must name a site group or a domain the
    groups look after, in whole or in part (``"youtube.com"`` over a group's ``www.youtube.com``; a part of a site,
    ``"old.reddit.com"``, counts and closes the whole site: :func:`breather.rules.model.site_domain`)."""
    names = [group.name for group in groups]
    if key in names:
        return None
    if "." not in key:
        return f'unknown site "{key}"{suggestion(key, names)}: use a site group name or a domain' + misplaced(key, path)
    domains = [domain for group in groups for domain in group.domains]
    looked_after = any(group.matches(key.lower()) for group in groups)
    if not looked_after and not any(host_in_domain(domain, key.lower()) for domain in domains):
        # a limit no flow can ever reach would look set on every page and never apply
        return (
            f'Breather does not look after "{key}"{suggestion(key.lower(), domains)}: no site group under [sites] '
            "has it, so this limit would never apply; add the domain to a group, or fix its spelling"
        )
    return None


# A table taking no more keys than this lists them when a key is unknown and none is close (a user test wrote
# `weeknights` in quiet hours); a member's table takes too many to list in one line.
FEW_KEYS = 12


def _few_keys(allowed: Sequence[str]) -> str:
    return f" (one of: {', '.join(allowed)})" if len(allowed) <= FEW_KEYS else ""


def suggestion(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def describe(value: Any) -> str:
    """How a TOML value reads back to the person who wrote it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)
