"""Cooling-off: tightening a boundary applies at once, loosening one waits for the household's delay.

A pure helper for the dashboard (and the service): given the rules before and after an edit, when it was made and
the time now, it returns the rules in force and the loosened settings still waiting. Nothing is stored here: the
caller keeps the previous rules and when each loosening was first asked for, and asks again later. The delay is the
longer of the old and the new ``cooling_off``: shortening the delay in the same edit cannot skip it, and a loosening
made with a longer one waits the longer delay from the first look (the longer delay applies at once, so every later
look, made from the rules in force, reads it too).

A setting that holds several things (per-site limits, warning levels, always-allowed sites, keywords, named topics'
phrases, topic quiet hours) loosens item by item: a bigger limit on one site waits on its own, and a tighter one on
another applies now.

While a loosening of quiet hours (or of one category's topic quiet hours) waits, every minute the old or the new
schedule covers is quiet: the hours an edit adds apply tonight, the hours it drops are kept until the wait ends.

Besides each member's settings, the file as a whole loosens when a site is no longer looked after as it was (a domain
dropped from its group or moved to another, or a subdomain an existing group covered newly listed in another group:
the closest listed domain picks a host's group, so its limits and warnings would end at once), a group's adapter
changes (a different reader may not find the site's posts at all), a member is removed (their devices fall to the
default member), the default member becomes a looser one, records are kept longer or shorter (shorter, the next
nightly prune would erase the history the household reviews), the cooling-off itself is shortened, or the
household's time zone moves (every window and midnight move with it): each of these waits like a setting.

Who a member is waits too: a changed ``user`` or ``password``, and any device address (``client_ips``) added or
removed, on a member or a new one. Moving sam's sign-in onto a looser member, or listing sam's laptop under the
parent (a listed address skips sign-in), would otherwise loosen at once. Only what asks for a sign-in where none was
asked applies at once: a user name getting its first password, or a member with no credentials (a new one included)
getting a user name no member had, when that member is no looser than anyone Breather picks out without a sign-in
(the default member, a member a device address picks). A looser one (an inheritance base with no limit, say) is a
new way in, and waits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from breather.rules.model import (
    SENSITIVITIES,
    UPLIFT_MODES,
    IPNetwork,
    Profile,
    Rules,
    SiteGroup,
    TopicWindow,
    Window,
    host_in_domain,
)
from breather.rules.timeparse import spoken_list

ChangeKey = tuple[str | None, str, str | None]
"""Which loosening: the profile (None for a household setting), the setting, and the item within it (or None)."""


@dataclass(frozen=True)
class Loosening:
    """One setting (or one item of a setting) that an edit loosens: ``old`` and ``new`` are that setting's or item's
    values; an item that is added or dropped is None on the side where it is missing."""

    profile: str | None  # None for a household setting
    setting: str
    item: str | None
    old: Any
    new: Any

    @property
    def key(self) -> ChangeKey:
        return (self.profile, self.setting, self.item)

    def held_until(self, takes_effect: datetime) -> PendingChange:
        return PendingChange(self.profile, self.setting, self.old, self.new, takes_effect, self.item)


@dataclass(frozen=True)
class PendingChange:
    """A loosened setting that is not in force yet."""

    profile: str | None  # None for a household setting
    setting: str
    old: Any
    new: Any
    takes_effect: datetime
    item: str | None = None  # the site, category, domain or keyword, for a setting that holds several
    # A loosening no service has seen yet (an edit made while Breather was stopped): the cooling-off it waits from
    # when a service first sees it. ``takes_effect`` then counts it from the moment looked at, as a service started
    # then would.
    unseen_wait: timedelta | None = None

    @property
    def key(self) -> ChangeKey:
        return (self.profile, self.setting, self.item)

    @property
    def path(self) -> str:
        """Where the setting is in ``rules.toml``, such as ``profiles.me.limits.reddit``."""
        if self.setting == "groups":
            return f"sites.{self.new or self.old}.domains"  # where it is listed now, or the group it was dropped from
        if self.setting == "default_profile":
            return f"profiles.{self.new}.default"
        if self.setting == "adapter":
            return f"sites.{self.item}.adapter"
        return ".".join([*toml_keys(self.profile, self.setting), *([self.item] if self.item is not None else [])])

    def describe(self) -> str:
        """For machines and logs (``/healthz`` lists these): the setting's path and an ISO time."""
        return f"{self.path} loosens; it takes effect at {self.takes_effect.isoformat(timespec='minutes')}"

    def label(self) -> str:
        """What loosens, for people: ``me's daily limit (3m → 1h)``."""
        return _label(self)

    def until(self, zone: tzinfo, now: datetime) -> str:
        """When it takes effect on the household's clock, as seen from ``now``: ``07:52 tomorrow``."""
        from breather.rules.decisions import when

        local = self.takes_effect.astimezone(zone).replace(tzinfo=None)
        return when(local, now.astimezone(zone).replace(tzinfo=None))

    def sentence(self, zone: tzinfo, now: datetime, *, service_running: bool = True) -> str:
        """``me's daily limit (3m → 1h) takes effect at 07:52 tomorrow``."""
        return held_sentence((self,), zone, now, service_running=service_running)


def held_sentence(
    changes: Sequence[PendingChange], zone: tzinfo, now: datetime, *, service_running: bool = True
) -> str:
    """When each held change takes effect, for people: ``me's daily limit (3m → 1h) takes effect at 07:52
    tomorrow`` (a user test read "is held until" as jargon); changes due at different moments get a clause each
    (``...; me's break length (5m → 1m) at 09:00 tomorrow``). Without
    a service running, a loosening none has seen yet has no end to tell: ``me's daily limit (3m → 1h) waits 24 hours
    from when Breather next starts``, as the service will count it."""
    by_moment: dict[datetime, list[PendingChange]] = {}
    by_wait: dict[timedelta, list[PendingChange]] = {}
    for change in sorted(changes, key=lambda change: change.takes_effect):
        wait = None if service_running else change.unseen_wait
        if wait is not None:
            by_wait.setdefault(wait, []).append(change)
        else:
            by_moment.setdefault(change.takes_effect, []).append(change)
    clauses = []
    for index, group in enumerate(by_moment.values()):
        verb = ("takes effect at" if len(group) == 1 else "take effect at") if index == 0 else "at"
        clauses.append(f"{spoken_list([change.label() for change in group])} {verb} {group[0].until(zone, now)}")
    for wait, group in by_wait.items():
        verb = "waits" if len(group) == 1 else "wait"
        clauses.append(f"{spoken_list([change.label() for change in group])} {verb} {_from_next_start(wait)}")
    return "; ".join(clauses)


def _from_next_start(wait: timedelta) -> str:
    from breather.rules.timeparse import spoken_duration

    return f"{spoken_duration(wait)} from when Breather next starts"


def apply_change(
    old: Rules,
    new: Rules,
    now: datetime,
    changed_at: datetime | None = None,
    asked: Mapping[ChangeKey, datetime] | None = None,
) -> tuple[Rules, tuple[PendingChange, ...]]:
    """The rules in force ``now`` after an edit from ``old`` to ``new``. Each loosening waits from when it was first
    asked for: its time in ``asked`` (see ``first_asked``), else ``changed_at``, else now."""
    made = changed_at or now
    delay = max(old.cooling_off, new.cooling_off)
    held: list[PendingChange] = []
    for change in loosenings(old, new):
        takes_effect = (asked or {}).get(change.key, made) + delay
        if now < takes_effect:
            held.append(change.held_until(takes_effect))
    return _in_force(old, new, held), tuple(held)


def loosenings(old: Rules, new: Rules) -> tuple[Loosening, ...]:
    """Every setting (or item of one) that ``new`` loosens from ``old``, whether or not its wait is over."""
    found: list[Loosening] = []
    for name, after in new.profiles.items():
        before = old.profiles.get(name)
        if before is not None:  # a new profile has no boundary to loosen, but may be a new way in
            found.extend(_loosened(name, _PROFILE_SETTINGS, before, after))
        found.extend(_identity_changes(name, before, after, old))
    found.extend(Loosening(name, "profile", None, name, None) for name in old.profiles if name not in new.profiles)
    found.extend(_default_loosenings(old, new))
    found.extend(_loosened(None, _HOUSEHOLD_SETTINGS, old, new))
    return tuple(found)


def _default_loosenings(old: Rules, new: Rules) -> Iterable[Loosening]:
    """Everyone not matched by a user name or device falls to the default member: a looser default loosens theirs."""
    was, wants = old.default_profile, new.default_profile
    if was == wants or was not in old.profiles or wants not in new.profiles:
        return ()
    if _loosens_any(old.profiles[was], new.profiles[wants]):
        return (Loosening(None, "default_profile", None, was, wants),)
    return ()


def _loosens_any(before: Profile, after: Profile) -> bool:
    """Whether ``after`` is looser than ``before`` in any boundary setting."""
    return next(iter(_loosened(after.name, _PROFILE_SETTINGS, before, after)), None) is not None


def first_asked(
    old: Rules,
    new: Rules,
    now: datetime,
    earlier: Rules | None = None,
    since: Mapping[ChangeKey, datetime] | None = None,
) -> dict[ChangeKey, datetime]:
    """When each loosening from ``old`` to ``new`` was first asked for. One that the ``earlier`` version asked for
    too, at ``since``, keeps that time while ``new`` asks for the same or less of it (taking part of a loosening
    back must not cost its wait); a loosening asked for anew, or further than before, is asked for ``now``."""
    return {key: now if kept is None else kept for key, kept in carried_over(old, new, earlier, since).items()}


def carried_over(
    old: Rules, new: Rules, earlier: Rules | None = None, since: Mapping[ChangeKey, datetime] | None = None
) -> dict[ChangeKey, datetime | None]:
    """Each loosening from ``old`` to ``new``, with the time it keeps from ``earlier`` (see ``first_asked``), or
    None when it is asked for anew."""
    before = {change.key: change for change in loosenings(old, earlier)} if earlier is not None else {}
    times: dict[ChangeKey, datetime | None] = {}
    for change in loosenings(old, new):
        prior, kept = before.get(change.key), (since or {}).get(change.key)
        still_asked = prior is not None and kept is not None and not _kind(change).loosens(prior.new, change.new)
        times[change.key] = kept if still_asked else None
    return times


def _identity_changes(name: str, before: Profile | None, after: Profile, old: Rules) -> Iterable[Loosening]:
    """What changes who is picked out as ``name`` (a new member: from nobody). A device address added or removed
    waits; so does a changed user name or password, unless it only asks for a sign-in where none was asked (a new
    member's too: signing in as one no looser than the default gets no more than not signing in)."""
    was = before if before is not None else _nobody(after)
    if frozenset(was.client_ips) != frozenset(after.client_ips):
        yield Loosening(name, "client_ips", None, was.client_ips, after.client_ips)
    # A new member's first credentials count as anyone's: once a held edit put the member in force without them,
    # the next save found them "first" and let them in at once (a user test), so the two readings must agree.
    if _first_credentials(was, after, old):
        return
    if _folded(was.user) != _folded(after.user):
        yield Loosening(name, "user", None, was.user, after.user)
    if was.password != after.password:
        yield Loosening(name, "password", None, was.password, after.password)


def _first_credentials(was: Profile, wants: Profile, old: Rules) -> bool:
    """A member who had no credentials getting them (with a user name no member had: else it is one moved), or a
    user name getting its first password. Each asks for a sign-in where none was asked: a tightening, like setting a
    member up with ``breather rules password``. Credentials also make their member reachable (on this machine a user
    name alone picks it), so first ones count only for a member no looser than whoever a person is without signing
    in: a loose inheritance base given a user name would be a new way out of everyone's limits."""
    if was.user is None and was.password is None:
        fresh = wants.user is None or _folded(wants.user) not in {_folded(p.user) for p in old.profiles.values()}
        return fresh and not any(_loosens_any(them, wants) for them in _picked_without_sign_in(old))
    first_password = was.password is None and wants.password is not None
    return first_password and was.user is not None and _folded(was.user) == _folded(wants.user)


def _picked_without_sign_in(rules: Rules) -> list[Profile]:
    """Whoever a person is without signing in: the default member, or the member their device's address picks."""
    return [p for name, p in rules.profiles.items() if name == rules.default_profile or p.client_ips]


def _folded(user: str | None) -> str | None:
    """A user name as sign-in compares it (``Sam`` signs in as ``sam``)."""
    return user.casefold() if user is not None else None


def _nobody(profile: Profile) -> Profile:
    """A member new in an edit, as they were before it: no way to pick them out."""
    return dataclasses.replace(profile, user=None, password=None, client_ips=())


# --- How each setting loosens -------------------------------------------------------------------------------------

Items = Iterable[tuple[str | None, Any, Any]]


@dataclass(frozen=True)
class _Kind:
    """How a setting splits into items (``(item, old, new)``), when an item loosens, and the setting's value in force
    when some of its items are held (their old values kept, the rest as written)."""

    items: Callable[[Any, Any], Items]
    loosens: Callable[[Any, Any], bool]
    in_force: Callable[[Any, Any, frozenset[str | None]], Any]
    reads: str | None = None  # the field holding the setting, when not one of its own name


def _whole(was: Any, wants: Any) -> Items:
    return [(None, was, wants)]


def _old_while_held(was: Any, wants: Any, held: frozenset[str | None]) -> Any:
    return was if held else wants


def _bigger_limit(was: timedelta | None, wants: timedelta | None) -> bool:
    """A limit loosens when it grows or goes away."""
    return was is not None and (wants is None or wants > was)


def _shorter(was: Any, wants: Any) -> bool:
    return bool(wants < was)


def _more(was: Any, wants: Any) -> bool:
    return bool(wants > was)


def _switched_on(was: bool, wants: bool) -> bool:
    return not was and wants


def _switched_off(was: bool, wants: bool) -> bool:
    return was and not wants


def _less_uplift(was: str, wants: str) -> bool:
    """Uplift sinks distressing posts (strong more than gentle): less of it leaves them higher in the feed."""
    return UPLIFT_MODES.index(wants) < UPLIFT_MODES.index(was)


def coverage(windows: Iterable[Window]) -> frozenset[int]:
    """The minutes of the week the windows cover."""
    return frozenset().union(*(window.minutes_of_week() for window in windows))


def _uncovers(was: Iterable[Window], wants: Iterable[Window]) -> bool:
    """Quiet hours loosen when any minute they covered is no longer covered."""
    return not coverage(wants) >= coverage(was)


def _both_while_held(
    was: tuple[Window, ...], wants: tuple[Window, ...], held: frozenset[str | None]
) -> tuple[Window, ...]:
    """Held quiet hours: every minute the old or the new schedule covers. A schedule moved earlier and shorter
    (23:00-07:00 to 21:00-06:00) is quiet from 21:00 tonight and still until 07:00 while the dropped hour waits."""
    if not held:
        return wants
    if coverage(wants) <= coverage(was):
        return was
    return windows_covering(coverage(was) | coverage(wants))


_DAY = 1440
_WEEK = 7 * _DAY


def windows_covering(minutes: frozenset[int]) -> tuple[Window, ...]:
    """Windows covering exactly ``minutes`` of the week, as a rules file may write them: none overlapping, each
    unbroken stretch one window (a stretch longer than a day split at midnights), in the order the loader keeps."""
    starts = [minute for minute in minutes if (minute - 1) % _WEEK not in minutes]
    if minutes and not starts:  # the whole week
        starts = [0]
    windows = [window for start in starts for window in _day_pieces(start, _stretch(minutes, start))]
    return tuple(sorted(windows, key=lambda window: (window.day, window.start)))


def _stretch(minutes: frozenset[int], start: int) -> int:
    length = 0
    while length < _WEEK and (start + length) % _WEEK in minutes:
        length += 1
    return length


def _day_pieces(start: int, length: int) -> list[Window]:
    """A stretch as windows of at most a day; a whole day only from midnight (``00:00-24:00``, how a file writes it)."""
    pieces = []
    while length > 0:
        piece = min(length, _DAY)
        if piece == _DAY and start % _DAY:
            piece = _DAY - start % _DAY
        pieces.append(_window(start, piece))
        start, length = (start + piece) % _WEEK, length - piece
    return pieces


def _window(start: int, length: int) -> Window:
    begin, end = start % _DAY, (start + length) % _DAY
    return Window(start // _DAY, time(begin // 60, begin % 60), time(end // 60, end % 60))


def _keys(was: Mapping[str, Any], wants: Mapping[str, Any]) -> list[str]:
    return [*wants, *(key for key in was if key not in wants)]


def _limit_items(was: Mapping[str, timedelta], wants: Mapping[str, timedelta]) -> Items:
    return [(key, was.get(key), wants.get(key)) for key in _keys(was, wants)]


def _limits_in_force(
    was: Mapping[str, timedelta], wants: Mapping[str, timedelta], held: frozenset[str | None]
) -> Mapping[str, timedelta]:
    if not held:
        return wants
    kept = {key: was.get(key) if key in held else wants.get(key) for key in _keys(was, wants)}
    return {key: value for key, value in kept.items() if value is not None}


def _sensitivity_items(was: Mapping[str, str], wants: Mapping[str, str]) -> Items:
    return [(category, was.get(category), level) for category, level in wants.items()]


def _lower_level(was: str | None, wants: str | None) -> bool:
    return was is not None and wants is not None and SENSITIVITIES.index(wants) < SENSITIVITIES.index(was)


def _sensitivity_in_force(
    was: Mapping[str, str], wants: Mapping[str, str], held: frozenset[str | None]
) -> Mapping[str, str]:
    if not held:
        return wants
    return {category: was[category] if category in held else level for category, level in wants.items()}


# A list setting may be long (a pasted list of thousands of keywords): each item is looked up in a set of the other
# version's, not in its tuple, or every edit of the file took seconds of the watcher's thread.


def _allowed_items(was: tuple[str, ...], wants: tuple[str, ...]) -> Items:
    before = frozenset(was)
    return [(domain, domain if domain in before else None, domain) for domain in wants]


def _added(was: Any, wants: Any) -> bool:
    """A newly always-allowed site waits; a site taken off the list is covered again at once."""
    return was is None and wants is not None


def _allowed_in_force(was: tuple[str, ...], wants: tuple[str, ...], held: frozenset[str | None]) -> tuple[str, ...]:
    return tuple(domain for domain in wants if domain not in held) if held else wants


def _keyword_items(was: tuple[str, ...], wants: tuple[str, ...]) -> Items:
    after = frozenset(wants)
    return [(word, word, word if word in after else None) for word in was]


def _dropped(was: Any, wants: Any) -> bool:
    """A removed keyword keeps its warning for the cooling-off time; a new one applies at once."""
    return was is not None and wants is None


def _keywords_in_force(was: tuple[str, ...], wants: tuple[str, ...], held: frozenset[str | None]) -> tuple[str, ...]:
    """The keywords asked for, each removed one still held back in its old place: the rules in force then read as the
    list they were in force as, which is written back as the person laid it out (``editing.in_force_text``), not
    rewritten whole (slow for a long pasted list)."""
    if not held:
        return wants
    asked, before = frozenset(wants), frozenset(was)
    return (*(word for word in was if word in asked or word in held), *(word for word in wants if word not in before))


def _topic_phrase(topic: str, phrase: str) -> str:
    """One phrase of a named topic, as a loosening's item: ``spoilers: season finale`` (a name holds no colon)."""
    return f"{topic}: {phrase}"


def _topic_of(item: str) -> str:
    return item.partition(": ")[0]


def _topic_phrase_items(was: Mapping[str, tuple[str, ...]], wants: Mapping[str, tuple[str, ...]]) -> Items:
    """Each phrase of each topic, like ``keywords``: a phrase (or a whole topic) removed is a loosening."""
    after = {topic: frozenset(phrases) for topic, phrases in wants.items()}
    return [
        (_topic_phrase(topic, phrase), phrase, phrase if phrase in after.get(topic, ()) else None)
        for topic, phrases in was.items()
        for phrase in phrases
    ]


def _topic_phrases_in_force(
    was: Mapping[str, tuple[str, ...]], wants: Mapping[str, tuple[str, ...]], held: frozenset[str | None]
) -> Mapping[str, tuple[str, ...]]:
    if not held:
        return wants
    kept = {topic: list(phrases) for topic, phrases in wants.items()}
    for topic, phrases in was.items():
        for phrase in phrases:
            if _topic_phrase(topic, phrase) in held:
                kept.setdefault(topic, []).append(phrase)
    return {topic: tuple(phrases) for topic, phrases in kept.items()}


def _categories(items: tuple[TopicWindow, ...]) -> list[str]:
    return list(dict.fromkeys(item.category for item in items))


def _windows_of(items: tuple[TopicWindow, ...], category: str) -> tuple[Window, ...]:
    return tuple(item.window for item in items if item.category == category)


def _topic_items(was: tuple[TopicWindow, ...], wants: tuple[TopicWindow, ...]) -> Items:
    categories = dict.fromkeys([*_categories(was), *_categories(wants)])
    return [(category, _windows_of(was, category), _windows_of(wants, category)) for category in categories]


def _topics_in_force(
    was: tuple[TopicWindow, ...], wants: tuple[TopicWindow, ...], held: frozenset[str | None]
) -> tuple[TopicWindow, ...]:
    """A held category's windows as held quiet hours are (both schedules), the others as written; in the loader's
    order, so the rules in force write back as a file that reads the same."""
    if not held:
        return wants
    kept = [item for item in wants if item.category not in held]
    for category in dict.fromkeys(item.category for item in (*was, *wants) if item.category in held):
        both = _both_while_held(_windows_of(was, category), _windows_of(wants, category), held)
        kept += [TopicWindow(category, window) for window in both]
    return tuple(sorted(kept, key=lambda item: (item.category, item.window.day, item.window.start)))


_LIMIT = _Kind(_whole, _bigger_limit, _old_while_held)
_SHORTER = _Kind(_whole, _shorter, _old_while_held)
_PROFILE_SETTINGS: dict[str, _Kind] = {
    "daily_limit": _LIMIT,
    "break_after": _LIMIT,
    "limits": _Kind(_limit_items, _bigger_limit, _limits_in_force),
    "break_length": _SHORTER,
    "friction_delay": _SHORTER,
    "max_snoozes": _Kind(_whole, _more, _old_while_held),
    "open_anyway": _Kind(_whole, _switched_on, _old_while_held),
    "calm": _Kind(_whole, _switched_off, _old_while_held),
    "uplift": _Kind(_whole, _less_uplift, _old_while_held),
    "quiet_hours": _Kind(_whole, _uncovers, _both_while_held),
    "topic_quiet_hours": _Kind(_topic_items, _uncovers, _topics_in_force),
    "sensitivity": _Kind(_sensitivity_items, _lower_level, _sensitivity_in_force),
    "always_allowed": _Kind(_allowed_items, _added, _allowed_in_force),
    "keywords": _Kind(_keyword_items, _dropped, _keywords_in_force),
    "topics": _Kind(_topic_phrase_items, _dropped, _topic_phrases_in_force),
}


def _domain_items(was: tuple[SiteGroup, ...], wants: tuple[SiteGroup, ...]) -> Items:
    """Per domain looked after: the group it was in and the group it is in now (None once dropped). A domain newly
    listed counts too, with the group that covered it as a subdomain (None if none did): the closest listed domain
    picks a host's group, so ``new.reddit.com`` listed in a new group leaves reddit's limits and adapter."""
    now_in = {domain: group.name for group in wants for domain in group.domains}
    listed = [(domain, group.name, now_in.get(domain)) for group in was for domain in group.domains]
    known = {domain for domain, _, _ in listed}
    added = [(domain, _covering(was, domain), group) for domain, group in now_in.items() if domain not in known]
    return [*listed, *added]


def _covering(groups: tuple[SiteGroup, ...], host: str) -> str | None:
    """The group whose closest domain covers ``host``, as ``Rules.group_for_host`` picks it."""
    covering = [
        (len(domain), group.name) for group in groups for domain in group.domains if host_in_domain(host, domain)
    ]
    return max(covering)[1] if covering else None


def _moved_or_dropped(was: str | None, wants: str | None) -> bool:
    """A domain no longer looked after loses its limits and warnings; one moved to another group loses its group's."""
    return was is not None and wants != was


def _groups_in_force(
    was: tuple[SiteGroup, ...], wants: tuple[SiteGroup, ...], held: frozenset[str | None]
) -> tuple[SiteGroup, ...]:
    """``wants``, with each held domain back in the group it was in (the group as it was, if it is gone), in its old
    place; a held domain no group listed is left out, so the group that covered it as a subdomain still does."""
    if not held:
        return wants
    home = {domain: group for group in was for domain in group.domains if domain in held}
    groups = [
        dataclasses.replace(group, domains=tuple(domain for domain in group.domains if domain not in held))
        for group in wants
    ]
    for domain, old_group in home.items():
        index = next((i for i, group in enumerate(groups) if group.name == old_group.name), None)
        if index is None:
            groups.append(dataclasses.replace(old_group, domains=(domain,)))
        else:
            groups[index] = dataclasses.replace(groups[index], domains=_in_old_order(groups[index], domain, old_group))
    return tuple(group for group in groups if group.domains)


def _in_old_order(group: SiteGroup, domain: str, old_group: SiteGroup) -> tuple[str, ...]:
    """``group``'s domains with ``domain`` put back: those the old group listed in its order, then the new ones."""
    domains = {*group.domains, domain}
    return (
        *(name for name in old_group.domains if name in domains),
        *(name for name in group.domains if name not in old_group.domains),
    )


def _adapter_items(was: tuple[SiteGroup, ...], wants: tuple[SiteGroup, ...]) -> Items:
    """Per group in both versions: its adapter before and after."""
    before = {group.name: group.adapter for group in was}
    return [(group.name, before[group.name], group.adapter) for group in wants if group.name in before]


def _adapters_in_force(
    was: tuple[SiteGroup, ...], wants: tuple[SiteGroup, ...], held: frozenset[str | None]
) -> tuple[SiteGroup, ...]:
    before = {group.name: group.adapter for group in was}
    return tuple(
        dataclasses.replace(group, adapter=before[group.name]) if group.name in held else group for group in wants
    )


def zone_in_effect(name: str | None) -> str:
    """The zone a ``timezone`` setting puts the household in: the one named, or the machine's when none is."""
    from breather.rules.timeparse import local_zone_name

    return name or local_zone_name() or "UTC"


def _zone_moved(was: str | None, wants: str | None) -> bool:
    """A household zone change moves every time boundary at once: quiet hours can end on the new clock, and a new day
    (with fresh limits) can begin. A user test's change at 23:30 in quiet hours ended them at once. Either way it may
    loosen, so it waits; writing down the zone already in effect (the machine's, when none was written), under any of
    its names ("UTC" for "Etc/UTC", "Asia/Kolkata" for "Asia/Calcutta"), moves nothing and applies at once."""
    return not same_clock(zone_in_effect(was), zone_in_effect(wants))


def same_clock(one: str, other: str) -> bool:
    """Whether two zone names keep one clock: the same name, or two with the same UTC offset and the same changes of
    it, to the second, from the start of last year to two years ahead (an old name and its new one, a link such as
    "UTC" and "Etc/UTC"). A zone with today's offset but other summer-time rules (Europe/London and Africa/Abidjan)
    is another clock, and so is a name zoneinfo does not know."""
    if one == other:
        return True
    year = datetime.now(UTC).year
    clock = _clock(one, year)
    return clock is not None and clock == _clock(other, year)


# Days before now count too: the dashboard cuts the week's history at the household's midnights.
_YEARS_BACK, _YEARS_AHEAD = 1, 3
ZoneClock = tuple[tuple[datetime, timedelta | None], ...]


@lru_cache(maxsize=32)  # asked on every rules change: a day at a time, ~1,500 looks per zone, a few milliseconds
def _clock(name: str, year: int) -> ZoneClock | None:
    """The zone's offset at the start of ``year`` - 1 and each change of it (when, and to what) until ``year`` + 3;
    None for a zone zoneinfo does not know. No zone changes its clock twice in a day, so a day's step finds each."""
    from breather.rules.timeparse import zone_named

    try:
        zone = zone_named(name)
    except ValueError:
        return None
    day = timedelta(days=1)
    moment, end = datetime(year - _YEARS_BACK, 1, 1, tzinfo=UTC), datetime(year + _YEARS_AHEAD, 1, 1, tzinfo=UTC)
    offset = _offset(zone, moment)
    changes = [(moment, offset)]
    while moment < end:
        after = _offset(zone, moment + day)
        if after != offset:
            changes.append((_change_within(zone, moment, moment + day), after))
        moment, offset = moment + day, after
    return tuple(changes)


def _change_within(zone: tzinfo, before: datetime, after: datetime) -> datetime:
    """The second the zone's offset changes between ``before`` and ``after`` (one change between them)."""
    was = _offset(zone, before)
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) / 2
        before, after = (middle, after) if _offset(zone, middle) == was else (before, middle)
    return after.replace(microsecond=0)


def _offset(zone: tzinfo, moment: datetime) -> timedelta | None:
    return moment.astimezone(zone).utcoffset()


def _changed(was: Any, wants: Any) -> bool:
    return bool(was != wants)


_CHANGED = _Kind(_whole, _changed, _old_while_held)
_HOUSEHOLD_SETTINGS: dict[str, _Kind] = {
    "timezone": _Kind(_whole, _zone_moved, _old_while_held),
    "cooling_off": _SHORTER,
    # kept longer keeps more of everyone's records; kept shorter, the next nightly prune erases the week's history
    "retention_days": _CHANGED,
    "groups": _Kind(_domain_items, _moved_or_dropped, _groups_in_force),
    # any other adapter: each reads one platform's responses, so another may find none of the site's posts to warn on
    "adapter": _Kind(_adapter_items, _changed, _adapters_in_force, reads="groups"),
}
_FILE_CHANGES: dict[str, _Kind] = {"profile": _CHANGED, "default_profile": _CHANGED}
# Who a member is (``_identity_changes`` says which changes wait): apart from _PROFILE_SETTINGS, which a looser
# default member is measured by, where two members' user names always differ.
_IDENTITY_SETTINGS: dict[str, _Kind] = {"user": _CHANGED, "password": _CHANGED, "client_ips": _CHANGED}


def _kind(change: Loosening) -> _Kind:
    if change.setting in _FILE_CHANGES:
        return _FILE_CHANGES[change.setting]
    if change.profile is None:
        return _HOUSEHOLD_SETTINGS[change.setting]
    return _member_kind(change.setting)


def _member_kind(setting: str) -> _Kind:
    return _IDENTITY_SETTINGS.get(setting) or _PROFILE_SETTINGS[setting]


def _loosened(owner: str | None, kinds: Mapping[str, _Kind], before: Any, after: Any) -> Iterable[Loosening]:
    """Each setting (or item) of ``kinds`` that ``after`` loosens from ``before``: a member's (``owner``) or, with
    ``owner`` None, the household's."""
    for setting, kind in kinds.items():
        field = kind.reads or setting
        for item, was, wants in kind.items(getattr(before, field), getattr(after, field)):
            if kind.loosens(was, wants):
                yield Loosening(owner, setting, item, was, wants)


def _in_force(old: Rules, new: Rules, held: Sequence[PendingChange]) -> Rules:
    """``new``, less what is still ``held``: those settings (or items) keep their ``old`` values."""
    if not held:
        return new
    profiles = dict(new.profiles)  # of a member new in this edit, only their way in (user, password, addresses) waits
    member_settings = [change for change in held if change.profile is not None and change.setting != "profile"]
    for name in dict.fromkeys(change.profile for change in member_settings if change.profile is not None):
        after = new.profiles[name]
        before = old.profiles.get(name) or _nobody(after)  # a new member's held settings: their way in
        profiles[name] = _hold_settings(before, after, [c for c in member_settings if c.profile == name])
    for change in held:
        if change.setting == "profile" and change.profile is not None:
            profiles[change.profile] = old.profiles[change.profile]  # a removed member stays until the wait ends
    household: dict[str, Any] = {}
    for setting, kind in _HOUSEHOLD_SETTINGS.items():
        items = frozenset(change.item for change in held if change.profile is None and change.setting == setting)
        if items:
            field = kind.reads or setting  # two settings of one field (groups) hold in turn
            household[field] = kind.in_force(getattr(old, field), household.get(field, getattr(new, field)), items)
    default = new.default_profile
    if any(change.setting == "default_profile" for change in held):
        default = household["default_profile"] = old.default_profile
    for name in _restored_or_default_moved(held, old, new):
        profiles[name] = dataclasses.replace(profiles[name], is_default=name == default)
    return dataclasses.replace(new, profiles=profiles, **household)


def _restored_or_default_moved(held: Sequence[PendingChange], old: Rules, new: Rules) -> list[str]:
    """Members whose default flag the held changes decide: one kept after its removal, and both ends of a held
    change of the default member."""
    names = [change.profile for change in held if change.setting == "profile" and change.profile is not None]
    if any(change.setting == "default_profile" for change in held):
        names += [old.default_profile, new.default_profile]
    return list(dict.fromkeys(names))


def _hold_settings(before: Profile, after: Profile, held: Sequence[PendingChange]) -> Profile:
    if not held:
        return after
    updates: dict[str, Any] = {}
    for setting in dict.fromkeys(change.setting for change in held):
        items = frozenset(change.item for change in held if change.setting == setting)
        in_force = _member_kind(setting).in_force
        updates[setting] = in_force(getattr(before, setting), getattr(after, setting), items)
    return dataclasses.replace(after, **updates)


# --- Words for people ----------------------------------------------------------------------------------------------

_TOML_NAMES = {"sensitivity": "warnings"}  # a profile setting's name in the file, where it differs
# settings whose items are keys of a table in the file; a list's items (keywords, always-allowed sites) are not, and a
# named topic's phrase (``topics``) lives in the list under its topic's key
_ITEM_TABLES = frozenset({"limits", "sensitivity", "topic_quiet_hours"})


def held_path(change: PendingChange | Loosening) -> list[str]:
    """Where in ``rules.toml`` what a held change keeps at its old value lives: a site's group table as it was, a
    removed member's table, or the setting (or table item) itself. A domain now listed in another group changed two
    site tables (or made a new one): the sites go back whole."""
    if change.setting == "groups":
        return ["sites", str(change.old)] if change.new is None else ["sites"]
    return toml_keys(change.profile, change.setting, change.item)


def toml_keys(profile: str | None, setting: str, item: str | None = None) -> list[str]:
    """Where a setting sits in ``rules.toml`` (``["profiles", "me", "warnings"]``), or an item of a table setting
    (``["profiles", "me", "limits", "reddit"]``); an item of a list setting is kept in the list's keys. A group's
    ``adapter`` is only known with its group (the item): ``KeyError`` without it."""
    if setting == "groups":
        return ["sites"]  # a domain's group is only known from the file: the site tables go back whole
    if setting == "adapter":
        if item is None:
            raise KeyError("a site group's adapter is only put back with its group named")
        return ["sites", item, "adapter"]
    if setting == "default_profile":
        return ["profiles"]  # which member is the default is a flag in each member's table
    if profile is None:
        return ["household", setting]
    if setting == "profile":
        return ["profiles", profile]
    keys = ["profiles", profile, _TOML_NAMES.get(setting, setting)]
    if item is not None and setting == "topics":
        return [*keys, _topic_of(item)]
    return [*keys, item] if item is not None and setting in _ITEM_TABLES else keys


_NAMES = {
    "daily_limit": "daily limit",
    "break_after": "time before a break",
    "break_length": "break length",
    "friction_delay": "wait on a block page",
    "max_snoozes": "snoozes in a row",
    "cooling_off": "cooling-off",
    "uplift": "feed uplift",
}


def _label(change: PendingChange) -> str:
    owner = f"{change.profile}'s" if change.profile else "the household's"
    item = change.item or ""
    category = item.replace("_", " ")
    if change.setting == "limits":
        return f"{owner} limit on {item} ({value_text(change.old)} → {value_text(change.new)})"
    if change.setting == "sensitivity":
        return f"{owner} {category} warnings ({change.old} → {change.new})"
    if change.setting == "always_allowed":
        return f"{owner} always-allowed sites (adding {item})"
    if change.setting == "keywords":
        return f'{owner} warning keywords (removing "{item}")'
    if change.setting == "topics":
        topic, _, phrase = item.partition(": ")
        return f'{owner} topic {topic} (removing "{phrase}")'
    if change.setting == "groups":
        return f"looking after {item}" + (f" (moved to {change.new})" if change.new else "")
    if change.setting == "adapter":
        return f"reading {item} with the {change.new} adapter (was {change.old})"
    if change.setting == "profile":
        return f"removing {change.profile} from the household"
    if change.setting == "default_profile":
        return f"the default member ({change.old} → {change.new})"
    if change.setting == "retention_days":
        if change.new < change.old:
            return shorter_history_text(change.old, change.new)
        return f"{owner} records kept longer ({change.old} → {change.new} days)"
    if change.setting in ("user", "password", "client_ips"):
        return _identity_label(change)
    if change.setting in ("quiet_hours", "topic_quiet_hours"):
        topic = f" for {category} posts" if change.item else ""
        return f"{owner} quiet hours{topic} (some hours no longer covered)"
    if change.setting == "timezone":
        return f"{owner} time zone ({zone_text(change.old)} → {zone_text(change.new)})"
    if change.setting in ("open_anyway", "calm"):
        name = "open anyway" if change.setting == "open_anyway" else "calm feeds"
        return f"{owner} {name} ({_on_off(change.old)} → {_on_off(change.new)})"
    name = _NAMES.get(change.setting, change.setting.replace("_", " "))
    return f"{owner} {name} ({value_text(change.old)} → {value_text(change.new)})"


def shorter_history_text(was: int, wants: int) -> str:
    """A shorter ``retention_days`` for people, saying what it does: ``deleting the records older than 7 days (kept
    30 days now)`` (a user test read "history kept 90 days instead of 365" without learning 9 months would go)."""
    return f"deleting the records older than {wants} day{'' if wants == 1 else 's'} (kept {was} days now)"


def _identity_label(change: PendingChange | Loosening) -> str:
    """A held change of who a member is, for people: ``a new password for sam``, ``alex's user name (alex → sam)``,
    ``a device address now going to me (192.0.2.2)``. Never a password or its hash: only that it changes."""
    name = change.profile
    if change.setting == "password":
        if change.new is None:
            return f"removing {name}'s password"
        return f"a password for {name}" if change.old is None else f"a new password for {name}"
    if change.setting == "user":
        return f"{name}'s user name ({change.old or 'none'} → {change.new or 'none'})"
    added, removed = address_changes(change.old, change.new)
    if added and removed:
        return f"{name}'s device addresses (adding {', '.join(added)}; removing {', '.join(removed)})"
    going = "now going to" if added else "no longer going to"
    what = "a device address" if len(added or removed) == 1 else "device addresses"
    return f"{what} {going} {name} ({', '.join(added or removed)})"


def address_changes(was: Iterable[IPNetwork], wants: Iterable[IPNetwork]) -> tuple[list[str], list[str]]:
    """The ``client_ips`` entries added and removed, each as ``address_text`` writes it."""
    before, after = list(was), list(wants)
    added = [address_text(network) for network in after if network not in before]
    return added, [address_text(network) for network in before if network not in after]


def address_text(network: IPNetwork) -> str:
    """A ``client_ips`` entry for people: one address as written (``192.0.2.2``), a network with its prefix."""
    whole = network.prefixlen == network.max_prefixlen
    return str(network.network_address) if whole else str(network)


def _on_off(value: Any) -> str:
    return "on" if value else "off"


def zone_text(name: str | None) -> str:
    """A ``timezone`` setting for people: the zone named, or the machine's (named too) when none is."""
    return name if name else f"this computer's, {zone_in_effect(None)}"


def value_text(value: Any) -> str:
    """A setting's value for people: a duration as written in the file, no limit as "off"."""
    if value is None:
        return "off"
    if isinstance(value, timedelta):
        return duration_text(value)
    return str(value)


def duration_text(value: timedelta) -> str:
    """A duration as rules files write it: a day or more in hours ("24h", as the default file's cooling-off says),
    never in days ("1d"), which no file Breather writes uses."""
    from breather.rules.timeparse import format_duration

    hours, rest = divmod(value, timedelta(hours=1))
    if hours < 24:
        return format_duration(value)
    return f"{hours}h{format_duration(rest) if rest else ''}"
