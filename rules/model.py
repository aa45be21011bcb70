"""The boundary-rule model: what ``rules.toml`` says, after validation and with inheritance applied.

Everything here is a frozen dataclass so the proxy, the dashboard and the decisions can share one ``Rules`` object
across threads without copying. Times in windows are wall-clock times in the household's time zone.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta, tzinfo
from typing import Literal

from breather.rules.timeparse import DAY_TITLES, format_clock, format_duration, local_zone, zone_named

# The names a site group's ``adapter`` may take: the same set as breather.proxy.adapters.registry.ADAPTER_NAMES
# (rules never imports the proxy, so tests/proxy/adapters/test_registry.py compares the two).
ADAPTERS: tuple[str, ...] = ("reddit", "mastodon", "twitter", "bluesky", "hackernews", "facebook", "youtube", "generic")
CATEGORIES: tuple[str, ...] = ("self_harm", "eating_disorder", "violence", "harassment", "substance")
# Warnings in these categories carry a crisis line for the person's country.
CRISIS_CATEGORIES = frozenset({"self_harm", "eating_disorder"})
SENSITIVITIES: tuple[str, ...] = ("off", "low", "medium", "high")  # ordered from loosest to strictest
UPLIFT_MODES: tuple[str, ...] = ("off", "gentle", "strong")
# The warning categories of a member's own words, as the classifier names them (and everything else reads them
# here, without loading the classifier): plain keywords are ``custom``; a named topic is ``keyword:spoilers``, which
# topic quiet hours take as a key.
CUSTOM_CATEGORY = "custom"
OWN_TOPIC_PREFIX = "keyword:"

Sensitivity = Literal["off", "low", "medium", "high"]
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Window:
    """A weekly window that starts on ``day`` (0 = Monday). An ``end`` at or before ``start`` runs into the next day.

    A window belongs to the day it starts on: Fri 23:00–06:00 is Friday's, and is in force early on Saturday.
    """

    day: int
    start: time
    end: time

    @property
    def spans_midnight(self) -> bool:
        return self.end <= self.start

    def _begin_and_length(self) -> tuple[int, int]:
        begin = self.day * 1440 + self.start.hour * 60 + self.start.minute
        length = (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)
        return begin, length + 1440 if self.spans_midnight else length

    def minutes_of_week(self) -> frozenset[int]:
        """Each minute of the week (0 = Monday 00:00) the window covers; used to compare schedules."""
        begin, length = self._begin_and_length()
        return frozenset((begin + offset) % 10080 for offset in range(length))

    def stretches_of_week(self) -> tuple[tuple[int, int], ...]:
        """The window as minutes of the week [begin, end), in two pieces when it runs past Sunday midnight."""
        begin, length = self._begin_and_length()
        end = begin + length
        return ((begin, end),) if end <= 10080 else ((begin, 10080), (0, end - 10080))

    def overlaps(self, other: Window) -> bool:
        """Whether the two windows share a minute of the week (without listing the minutes: a rules file with many
        windows took a fifth of a second to check, every save and preview)."""
        return any(
            start < other_end and other_start < end
            for start, end in self.stretches_of_week()
            for other_start, other_end in other.stretches_of_week()
        )

    def describe(self) -> str:
        end = "24:00" if self.start == self.end else format_clock(self.end)  # the whole day, as it was written
        return f"{DAY_TITLES[self.day]} {format_clock(self.start)}–{end}"


@dataclass(frozen=True)
class TopicWindow:
    """A warning category whose posts are collapsed (not just warned about; one click shows them) during ``window``."""

    category: str
    window: Window


# How a limit on part of a site is described wherever the rules are checked or previewed.
PART_OF_A_SITE = (
    'the limit on "{key}" ({name}) counts and closes all of {site}: Breather counts a site as a whole; writing '
    '"{site}" says so'
)

# How a site group with no domains is described wherever the rules are checked or previewed.
UNWATCHED_GROUP = (
    "the site group {name} lists no domains, so Breather looks after no site for it: a limit on {name} never applies"
)

# A site group read as plain pages because the file names no adapter for it (a user test's Mastodon server).
GENERIC_UNNAMED = (
    "the site group {name} names no adapter, so Breather reads its pages as plain web pages (posts found by their "
    'markup, its apps\' data not read); if it is a site Breather knows, name it: adapter = "mastodon" (or {others})'
)

# A site limit no shorter than the member's daily limit: the daily limit closes every site first.
LIMIT_PAST_DAILY = (
    "{name}'s limit on {key} ({limit}) is longer than {name}'s daily limit ({daily}), so it is never reached"
)


@dataclass(frozen=True)
class SiteGroup:
    """Domains read by one site adapter. A domain also covers its subdomains."""

    name: str
    adapter: str
    domains: tuple[str, ...]
    # Whether the file says which adapter (or the group's name is one): not part of what the rules decide.
    adapter_named: bool = field(default=True, compare=False)

    def matches(self, host: str) -> bool:
        return any(host_in_domain(host, domain) for domain in self.domains)


@dataclass(frozen=True)
class Profile:
    """One member of the household, with inheritance already applied."""

    name: str
    user: str | None = None
    password: str | None = None
    client_ips: tuple[IPNetwork, ...] = ()
    is_default: bool = False
    inherits: str | None = None
    daily_limit: timedelta | None = None
    limits: Mapping[str, timedelta] = field(default_factory=dict)
    break_after: timedelta | None = None
    break_length: timedelta = timedelta(minutes=5)
    max_snoozes: int = 2
    quiet_hours: tuple[Window, ...] = ()
    topic_quiet_hours: tuple[TopicWindow, ...] = ()
    always_allowed: tuple[str, ...] = ()
    sensitivity: Mapping[str, str] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, "medium"))
    keywords: tuple[str, ...] = ()
    topics: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # topic name -> its phrases
    friction_delay: timedelta = timedelta(seconds=10)
    open_anyway: bool = True  # whether a block page may be passed after the friction delay
    country: str = "US"
    uplift: str = "off"
    calm: bool = False

    def always_allows(self, host: str) -> bool:
        return any(host_in_domain(host, domain) for domain in self.always_allowed)

    @property
    def warns(self) -> bool:
        """Whether any post could get a content warning: a category not ``off``, or a topic of the person's own."""
        own = bool(self.keywords) or any(self.topics.values())
        return own or any(level != "off" for level in self.sensitivity.values())

    def hidden_category_windows(self, category: str) -> tuple[Window, ...]:
        return tuple(item.window for item in self.topic_quiet_hours if item.category == category)


@dataclass(frozen=True)
class Rules:
    """The whole rules file. ``profiles`` is keyed by profile name, in file order."""

    groups: tuple[SiteGroup, ...]
    profiles: Mapping[str, Profile]
    default_profile: str
    timezone: str | None = None
    retention_days: int = 90
    cooling_off: timedelta = timedelta(hours=24)
    source: str = field(default="rules.toml", compare=False)  # where they were read from, not what they say

    def zone(self) -> tzinfo:
        """The household time zone: the file's ``timezone`` or, when absent, the machine's own zone."""
        return zone_named(self.timezone) if self.timezone else local_zone()

    def intercepted_domains(self) -> tuple[str, ...]:
        """Every group domain, for mitmproxy's ``allow_hosts``; nothing else is decrypted."""
        return tuple(domain for group in self.groups for domain in group.domains)

    def group_for_host(self, host: str) -> SiteGroup | None:
        """The group whose domain is the host itself or its closest parent domain."""
        best: tuple[int, SiteGroup] | None = None
        for group in self.groups:
            for domain in group.domains:
                if host_in_domain(host, domain) and (best is None or len(domain) > best[0]):
                    best = (len(domain), group)
        return best[1] if best else None

    def group_named(self, name: str) -> SiteGroup | None:
        return next((group for group in self.groups if group.name == name), None)

    def groups_without_domains(self) -> tuple[str, ...]:
        """Site groups written with ``domains = []`` (valid: a group no longer looked after). Breather sees none of
        their traffic, so a limit on one never applies (``UNWATCHED_GROUP`` says so)."""
        return tuple(group.name for group in self.groups if not group.domains)

    def generic_unnamed(self) -> tuple[str, ...]:
        """Site groups read as plain pages only because the file names no adapter for them (``GENERIC_UNNAMED``)."""
        return tuple(group.name for group in self.groups if group.adapter == "generic" and not group.adapter_named)

    def limits_past_daily(self) -> tuple[tuple[str, str, timedelta, timedelta], ...]:
        """(profile, key, limit, daily limit) for each site limit no shorter than the member's daily limit: it is
        never reached (``LIMIT_PAST_DAILY``)."""
        return tuple(
            (name, key, limit, profile.daily_limit)
            for name, profile in self.profiles.items()
            if profile.daily_limit is not None
            for key, limit in profile.limits.items()
            if limit is not None and limit > profile.daily_limit
        )

    def notes(self) -> list[str]:
        """What ``rules check`` and the Rules page's preview say about rules that do less, or more, than they look:
        groups with no domains or no adapter named, limits on part of a site, site limits past the daily limit."""
        others = ", ".join(f'"{adapter}"' for adapter in ADAPTERS if adapter not in ("mastodon", "generic"))
        return [
            *(UNWATCHED_GROUP.format(name=name) for name in self.groups_without_domains()),
            *(
                PART_OF_A_SITE.format(key=key, name=name, site=site)
                for name, key, site in self.limits_on_part_of_a_site()
            ),
            *(GENERIC_UNNAMED.format(name=name, others=others) for name in self.generic_unnamed()),
            *(
                LIMIT_PAST_DAILY.format(name=name, key=key, limit=format_duration(limit), daily=format_duration(daily))
                for name, key, limit, daily in self.limits_past_daily()
            ),
        ]

    def limits_on_part_of_a_site(self) -> tuple[tuple[str, str, str], ...]:
        """(profile, key, site) for each limit written on part of a site (``"old.reddit.com"`` under a group of
        ``reddit.com``): the proxy counts and closes a visit under the whole site, so such a limit counts all of it
        (``PART_OF_A_SITE`` says so)."""
        found: list[tuple[str, str, str]] = []
        for name, profile in self.profiles.items():
            for key in profile.limits:
                group = self.group_for_host(key) if "." in key else None
                site = site_domain(key, group.domains) if group is not None else key
                if site != key:
                    found.append((name, key, site))
        return tuple(found)

    def profile(self, name: str) -> Profile:
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(self.profiles)
            raise KeyError(f'no profile named "{name}" (profiles: {known})') from None

    def profile_for(self, user: str | None = None, client_ip: str | None = None) -> Profile:
        """Proxy-auth user name first, then the most specific client-IP network, then the default profile."""
        if user:
            for profile in self.profiles.values():
                if profile.user is not None and profile.user.casefold() == user.casefold():
                    return profile
        if client_ip:
            by_ip = self._profile_for_ip(client_ip)
            if by_ip is not None:
                return by_ip
        return self.profiles[self.default_profile]

    def always_allowed(self, host: str, profile: Profile | str | None = None) -> bool:
        chosen = self._as_profile(profile)
        return chosen.always_allows(host)

    def _as_profile(self, profile: Profile | str | None) -> Profile:
        if profile is None:
            return self.profiles[self.default_profile]
        return self.profile(profile) if isinstance(profile, str) else profile

    def _profile_for_ip(self, client_ip: str) -> Profile | None:
        try:
            address = ipaddress.ip_address(client_ip.split("%")[0])
        except ValueError:
            return None
        best: tuple[int, Profile] | None = None
        for profile in self.profiles.values():
            for network in profile.client_ips:
                fits = address.version == network.version and address in network
                if fits and (best is None or network.prefixlen > best[0]):
                    best = (network.prefixlen, profile)
        return best[1] if best else None


def site_domain(host: str, domains: Iterable[str]) -> str:
    """The widest rules domain a host is in (``old.reddit.com`` → ``reddit.com``): what usage, events and grants
    record a visit under."""
    host = bare_host(host)
    matches = [bare_host(d) for d in domains if host_in_domain(host, d)]
    return min(matches, key=len) if matches else host


def bare_host(host: str) -> str:
    """A host name as the rules compare it: lower case, without a port or the trailing dot (``Reddit.COM.:443`` →
    ``reddit.com``: the same site to DNS and to a browser)."""
    name = host.strip().lower()
    if name.count(":") == 1:  # host:port (an IPv6 address has more colons and no port here)
        name = name.split(":")[0]
    return name.rstrip(".")


def host_in_domain(host: str, domain: str) -> bool:
    """``old.reddit.com`` is in ``reddit.com``; ``notreddit.com`` is not. Case, a port and a trailing dot do not
    matter."""
    host, domain = bare_host(host), bare_host(domain)
    return host == domain or host.endswith("." + domain)
