"""What the Today, History, Family and Weekly review pages show, computed from the store and the rules.

Every member's numbers are computed the same way and shown the same way to everyone: minutes, counts and
categories, never a URL or a post's text (the store holds none).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlite_utils import Database

from breather.dashboard.pages.requests import ask_answers
from breather.rules.model import CRISIS_CATEGORIES, CUSTOM_CATEGORY, OWN_TOPIC_PREFIX, Profile, Rules
from breather.rules.timeparse import spoken_list
from breather.scheduler import limits_by_day, week_start
from breather.store import queries, usage
from breather.store.usage import Period

BREAK_KINDS = ("break_shown", "break_taken", "break_snoozed")
WARNING_KINDS = ("warning_shown", "warning_revealed")
# Each is one block as the proxy logs it (once per member, site and kind within BLOCK_EVENT_GAP), not one per reload.
BOUNDARY_KINDS = ("limit_reached", "quiet_hours_blocked", "limit_overridden")
LATE_HOURS = frozenset({22, 23, 0, 1, 2, 3, 4, 5})


def limit_minutes(profile: Profile | None, site: str | None = None) -> float | None:
    if profile is None:
        return None
    limit = profile.daily_limit if site is None else profile.limits.get(site)
    return limit.total_seconds() / 60 if limit is not None else None


def change_text(now: float, before: float | None, than: str = "the period before", kept_days: int | None = None) -> str:
    """``before`` is None when Breather's records do not cover the period before: it was not keeping them yet, or
    (``kept_days``) they were deleted as older than the retention."""
    if before is None and kept_days is not None:
        return f"nothing to compare with: records are kept {kept_days} days (on the Data page), so {than} is gone"
    if before is None:
        return f"nothing to compare with: Breather was not keeping records for all of {than}"
    if before < 1 and now < 1:
        return "no change"
    if before < 1:
        return "new this period"
    percent = round(100 * (now - before) / before)
    if percent == 0:
        return "about the same"
    return f"{abs(percent)}% {'more' if percent > 0 else 'less'} than {than}"


@dataclass(frozen=True)
class Deletions:
    """Deletions made within a period, each with when on the household's clock ("Sun 29 Nov at 17:56"): an emptied
    week read as "A quiet week" and as "no change" (a user test)."""

    everything: str | None = None
    members: Mapping[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.everything is not None or bool(self.members)

    def note(self, member: str | None = None) -> str:
        """What a page says at its top; a page about one member names only their deletion."""
        notes = []
        if self.everything is not None:
            notes.append(
                f"Everything Breather had recorded was deleted on {self.everything} (on the Data page): "
                "these numbers count from then."
            )
        for name, when in sorted(self.members.items()):
            if member in (None, name):
                notes.append(f"{name}'s records were deleted on {when}: theirs count from then.")
        return " ".join(notes)


def deletions_within(db: Database, rules: Rules, period: Period, today_: date) -> Deletions:
    everything = _moment_within(queries.usage_deleted_at(db), rules, period, today_)
    members = {name: _moment_within(at, rules, period, today_) for name, at in queries.members_deleted_at(db).items()}
    return Deletions(everything, {name: when for name, when in members.items() if when is not None})


def _moment_within(at: datetime | None, rules: Rules, period: Period, today_: date) -> str | None:
    """ "Sun 29 Nov at 17:56" on the household's clock, when ``at`` falls within ``period``."""
    if at is None:
        return None
    local = at.astimezone(rules.zone())
    if not period.first <= local.date() <= period.last:
        return None
    return f"{usage.day_text(local.date(), today_, weekday=True)} at {local:%H:%M}"


# --- Today --------------------------------------------------------------------------------------------------------


@dataclass
class SiteLine:
    site: str
    minutes: float
    limit: float | None


@dataclass
class Today:
    profile: str
    day: date
    total: float
    daily_limit: float | None
    sites: list[SiteLine]
    breaks: Counter[str]
    warnings: Counter[str]
    next_break_in_s: float | None
    decision: dict[str, str] = field(default_factory=dict)


def today(db: Database, rules: Rules, profile_name: str, now: datetime) -> Today:
    day = now.astimezone(rules.zone()).date()
    period = Period(day, day)
    profile = rules.profiles.get(profile_name)
    spent = queries.minutes_today(
        db, profile_name, now, rules.zone(), group_of=lambda host: usage.site_label(rules, host)
    )
    shown = sorted({usage.site_label(rules, host) for host in spent.by_site})
    per_site = sorted(((site, spent.by_group[site]) for site in shown), key=lambda item: -item[1])
    limited = dict(profile.limits) if profile else {}
    sites = [SiteLine(site, minutes, limit_minutes(profile, site)) for site, minutes in per_site]
    # a limit on a domain (or on a group without time today): the minutes that limit counts, as the proxy decides
    sites += [
        SiteLine(site, spent.by_group.get(site, 0.0), limit_minutes(profile, site))
        for site in limited
        if site not in shown
    ]
    happened = usage.events(db, rules, period, (*BREAK_KINDS, "warning_shown"), profile_name)
    return Today(
        profile=profile_name,
        day=day,
        total=spent.total,
        daily_limit=limit_minutes(profile),
        sites=sites,
        breaks=Counter(row.kind for row in happened if row.kind in BREAK_KINDS),
        warnings=Counter(row.category or "other" for row in happened if row.kind == "warning_shown"),
        next_break_in_s=None,
    )


# --- History ------------------------------------------------------------------------------------------------------


@dataclass
class History:
    period: Period
    profile: str | None
    total: float
    previous_total: float | None  # None: Breather's records do not cover the period before
    by_site: dict[str, float]
    by_member: dict[str, float]
    site_changes: dict[str, str]
    per_day: dict[date, float]
    heatmap: dict[tuple[int, int], float]
    watched_from: date  # the period's first day on which Breather was keeping records
    kept_days: int | None = None  # the retention, when it is why the period before is not all there

    @property
    def change(self) -> str:
        return change_text(self.total, self.previous_total, kept_days=self.kept_days)

    @property
    def overlap_note(self) -> str:
        return sites_at_once_note(sum(self.by_site.values()), self.total)

    @property
    def days_counted(self) -> int:
        """The days an average is over: every day Breather was keeping records in the period, those without use
        too (a month-old install asked for 90 days averages over the month, not over 60 days before it)."""
        return (self.period.last - self.watched_from).days + 1

    def per_week(self) -> dict[date, float]:
        """Minutes per week (by its Monday) from the week Breather began keeping records in the period; the first
        and the last week may hold only some of their days."""
        weeks = {week_start(day): 0.0 for day in self.period.each_day() if day >= self.watched_from}
        for day, minutes in self.per_day.items():
            if week_start(day) in weeks:
                weeks[week_start(day)] += minutes
        return weeks

    @property
    def daily_average(self) -> float:
        return self.total / self.days_counted


def history(db: Database, rules: Rules, today_: date, days: int, profile: str | None) -> History:
    period = usage.last_days(today_, days)
    now = usage.usage(db, rules, period, profile, today_)
    before = usage.usage(db, rules, period.previous(), profile, today_)
    began = usage.first_seen(db, rules)
    seen = usage.still_kept(began, rules, today_)
    watched = usage.watched_all_of(period.previous(), seen, profile)
    before_sites = before.sites()
    per_day: defaultdict[date, float] = defaultdict(float)
    for (_, day), minutes in now.by_profile_day.items():
        per_day[day] += minutes
    return History(
        period=period,
        profile=profile,
        total=now.total(),
        previous_total=before.total() if watched else None,
        by_site=now.sites(),
        by_member=now.profiles(),
        site_changes={  # the total's line says why there is nothing to compare with
            site: change_text(minutes, before_sites.get(site, 0.0)) if watched else "nothing to compare with"
            for site, minutes in now.sites().items()
        },
        per_day=dict(per_day),
        heatmap=now.heatmap,
        watched_from=watched_from(period, seen, profile),
        kept_days=rules.retention_days if _deleted_as_old(began, rules, period.previous(), today_, profile) else None,
    )


def _deleted_as_old(began: dict[str, date], rules: Rules, period: Period, today_: date, profile: str | None) -> bool:
    """Whether some of ``period`` is missing because the retention deleted it: records (``began``: first seen, not
    cut to the retention) began before the first day kept, which is after the period's first day (a user test's 90
    days read "Breather was not keeping records for all of the period before" after the nightly prune deleted them)."""
    kept_from = today_ - timedelta(days=rules.retention_days - 1)
    days = [began[profile]] if profile is not None and profile in began else list(began.values())
    return kept_from > period.first and bool(days) and min(days) < kept_from


def watched_from(period: Period, since: dict[str, date], profile: str | None) -> date:
    """The first day of ``period`` Breather was keeping records for ``profile`` (or for its earliest member)."""
    days = [since[profile]] if profile is not None and profile in since else list(since.values())
    if not days:
        return period.first
    return min(max(period.first, min(days)), period.last)


# --- Family -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoundariesMet:
    """A member's week at their boundaries, counted from the events table: blocks, "open anyway" after the wait
    (split by what it opened past), and asks for more time with their answers."""

    limits_reached: int = 0
    quiet_hours_blocked: int = 0
    opened_past_limit: int = 0
    opened_past_quiet_hours: int = 0
    asked: int = 0
    yes: int = 0
    no: int = 0

    @property
    def opened_anyway(self) -> int:
        return self.opened_past_limit + self.opened_past_quiet_hours

    @property
    def waiting(self) -> int:
        return self.asked - self.yes - self.no

    @property
    def answers(self) -> str:
        """ "1 yes, 2 no" (and how many are not answered yet), or "" when nothing was asked."""
        if not self.asked:
            return ""
        parts = [f"{self.yes} yes", f"{self.no} no"]
        if self.waiting:
            parts.append(f"{self.waiting} not answered yet")
        return ", ".join(parts)


def boundaries_met(rows: list[usage.EventRow], answers: Counter[str | None]) -> BoundariesMet:
    """One member's boundary events of the week; ``answers``: their asks by answer (None: not answered yet)."""
    kinds = Counter(row.kind for row in rows)
    past_quiet_hours = sum(
        1 for row in rows if row.kind == "limit_overridden" and row.detail.get("kind") == "quiet_hours"
    )
    return BoundariesMet(
        limits_reached=kinds["limit_reached"],
        quiet_hours_blocked=kinds["quiet_hours_blocked"],
        opened_past_limit=kinds["limit_overridden"] - past_quiet_hours,
        opened_past_quiet_hours=past_quiet_hours,
        asked=answers.total(),
        yes=answers["approved"],
        no=answers["declined"],
    )


def times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def boundaries_text(name: str, met: BoundariesMet, week_words: str = "this week") -> str:
    """The week at the boundaries in plain words, to be read together: what happened, no verdict."""
    sentences = [_limit_sentence(name, met)]
    if met.quiet_hours_blocked:
        sentences.append(f"Quiet hours closed a site for {name} {times(met.quiet_hours_blocked)}.")
    if met.opened_past_quiet_hours:
        sentences.append(f"{name} chose to open anyway in quiet hours {times(met.opened_past_quiet_hours)}.")
    if met.asked:
        sentences.append(f"{name} asked for more time {times(met.asked)}: {met.answers}.")
    return " ".join(filter(None, sentences)) or f"{name} did not run into a time limit or quiet hours {week_words}."


def _limit_sentence(name: str, met: BoundariesMet) -> str:
    opened = times(met.opened_past_limit)
    if not met.limits_reached and not met.opened_past_limit:
        return ""
    if not met.limits_reached:  # opened this week past a block from before it (Monday, after Sunday's limit)
        return f"{name} chose to open a site past its time limit {opened}, after the pause."
    reached = f"{name} reached a time limit {times(met.limits_reached)}"
    return f"{reached} and chose to open anyway {opened}, after the pause." if met.opened_past_limit else f"{reached}."


SITES_AT_ONCE = "Time on two sites at once counts for each of them, and once in the total."


def sites_at_once_note(sites: float, total: float) -> str:
    """Why the sites' minutes add up to more than the total, when they do (a user test added them up); else ""."""
    return SITES_AT_ONCE if usage.whole_minutes(sites) > usage.whole_minutes(total) else ""


@dataclass
class MemberWeek:
    name: str
    today: float
    week: float
    previous_week: float | None  # None: Breather's records do not cover the week before
    daily_limit: float | None
    days_within_limit: int  # of the days they were online
    days: int  # days online: a day without any use is neither kept nor missed
    top_sites: list[tuple[str, float]]
    breaks: Counter[str]
    warnings: Counter[str]
    late_minutes: float
    boundaries: BoundariesMet = field(default_factory=BoundariesMet)
    # category -> the member's warning level for it in the rules ("high" warns about more posts, some harmless)
    warning_levels: dict[str, str] = field(default_factory=dict)
    # each of the 7 days' own daily limit in minutes (None: none that day), as the days are judged
    limits_each_day: tuple[float | None, ...] = ()
    # "from Sun 29 Nov": the week's first day Breather kept records for them, when that is not the week's first day
    records_from: str = ""
    sites_total: float = 0.0  # every site's own minutes added up (more than ``week`` when sites ran at once)
    week_words: str = "this week"  # "that week" for a week gone by

    @property
    def week_limit(self) -> float | None:
        return usage.week_limit(self.limits_each_day)

    @property
    def week_limit_parts(self) -> str:
        """How the week's limit adds up, in words: "7 × 45 min"; after a change "6 × 45 min, 1 × 30 min"; days
        without a limit last ("2 × 45 min, 5 days without a limit")."""
        counted = Counter(self.limits_each_day)
        parts = [f"{count} × {usage.minutes_text(limit)}" for limit, count in counted.items() if limit is not None]
        without = counted.get(None, 0)
        if without:
            parts.append(f"{without} {'day' if without == 1 else 'days'} without a limit")
        if self.records_from:
            parts.append(f"{self.records_from}, when Breather's records start")
        return ", ".join(parts)

    @property
    def change(self) -> str:
        return change_text(self.week, self.previous_week, than="the 7 days before")

    @property
    def overlap_note(self) -> str:
        return sites_at_once_note(self.sites_total, self.week)

    @property
    def boundaries_text(self) -> str:
        return boundaries_text(self.name, self.boundaries, self.week_words)

    @property
    def warned_at_high(self) -> bool:
        """Some of the warnings counted came from a category set to high, which also warns about harmless posts."""
        return any(self.warning_levels.get(category) == "high" for category in self.warnings)


def member_weeks(
    db: Database, rules: Rules, today_: date, names: list[str], last_day: date | None = None
) -> list[MemberWeek]:
    """Every member over the 7 days ending ``last_day`` (a week gone by), else ``today_``, computed from one pass
    over the data."""
    week = usage.last_days(last_day or today_, 7)
    seen = usage.first_seen(db, rules, today_)
    pieces = list(usage.hours(db, rules, Period(week.previous().first, week.last)))
    happened = usage.events(db, rules, week, (*BREAK_KINDS, "warning_shown", *BOUNDARY_KINDS))
    asks = ask_answers(db, rules, week)
    # a member taken out of the rules keeps the limits noted while they were in them
    day_limits = limits_by_day(db, rules, week.each_day(), also=[name for name in names if name not in rules.profiles])
    result = []
    for name in names:
        # Their time online (overlaps once) for the totals and hours; each site group's own for the top sites.
        mine = [piece for piece in pieces if piece.profile == name and piece.site is None]
        this_week = [piece for piece in mine if piece.day >= week.first]
        by_day: defaultdict[date, float] = defaultdict(float)
        for piece in this_week:
            by_day[piece.day] += piece.seconds / 60
        by_site: defaultdict[str, float] = defaultdict(float)
        for piece in pieces:
            if piece.profile == name and piece.site is not None and piece.day >= week.first:
                by_site[piece.site] += piece.seconds / 60
        profile = rules.profiles.get(name)
        limit = limit_minutes(profile) if profile else _last_noted_limit(name, week, day_limits)
        # each day by the limit it had (a limit lowered on Thursday does not make Monday a day over it), from the
        # first day Breather kept records for them (a fresh install's week had seven days' limit after one day)
        first_day = watched_from(week, seen, name)
        limit_on = {day: day_limits.get((name, day), limit) for day in week.each_day() if day >= first_day}
        their_events = [row for row in happened if row.profile == name]
        result.append(
            MemberWeek(
                name=name,
                today=by_day.get(today_, 0.0),
                week=sum(by_day.values()),
                previous_week=(
                    sum(piece.seconds for piece in mine if piece.day < week.first) / 60
                    if usage.watched_all_of(week.previous(), seen, name)
                    else None
                ),
                daily_limit=limit,
                days_within_limit=sum(
                    1 for day, minutes in by_day.items() if usage.online_within(minutes, limit_on.get(day, limit))
                ),
                days=sum(1 for minutes in by_day.values() if minutes > 0),
                top_sites=list(usage.ranked(by_site).items())[:3],
                breaks=Counter(row.kind for row in their_events if row.kind in BREAK_KINDS),
                warnings=Counter(row.category or "other" for row in their_events if row.kind == "warning_shown"),
                late_minutes=sum(piece.seconds for piece in this_week if piece.hour in LATE_HOURS) / 60,
                boundaries=boundaries_met(
                    [row for row in their_events if row.kind in BOUNDARY_KINDS],
                    Counter({status: count for (who, status), count in asks.items() if who == name}),
                ),
                warning_levels=dict(profile.sensitivity) if profile else {},
                limits_each_day=tuple(limit_on.values()),
                records_from=f"from {usage.day_text(first_day, today_, weekday=True)}"
                if first_day > week.first
                else "",
                sites_total=sum(by_site.values()),
                week_words="this week" if last_day is None else "that week",
            )
        )
    return result


def _last_noted_limit(name: str, week: Period, day_limits: Mapping[tuple[str, date], float | None]) -> float | None:
    """A member taken out of the rules has no limit now: the week is read by the last one noted for them in it, as
    the kept weekly review reads it (the page said "no limit set" for a week spent under one)."""
    noted = (day_limits.get((name, day)) for day in reversed(list(week.each_day())))
    return next((limit for limit in noted if limit is not None), None)


# --- Weekly review ------------------------------------------------------------------------------------------------


POINTS_PER_MEMBER = 2


@dataclass(frozen=True)
class _Voice:
    """How a talking point names its member: "sam ... their ... they" in a household, "You ... your ... you" to
    someone alone (a solo user test read "me went over their daily limit" as a meeting about someone else)."""

    who: str  # the sentence's subject, at its start
    whose: str  # the possessive, at a sentence's start ("sam's", "Your")
    their: str
    they: str


def _voice(name: str, alone: bool) -> _Voice:
    return _Voice("You", "Your", "your", "you") if alone else _Voice(name, f"{name}'s", "their", "they")


QUIET_WEEK = "A quiet week: nothing stood out in the numbers. What felt good about it?"
AFTER_DELETION = "The records were deleted this week, so the numbers say little about it. How did the week feel?"


def talking_points(members: list[MemberWeek], alone: bool = False, deleted: Deletions | None = None) -> list[str]:
    """A few gentle, factual openers drawn from the week's numbers: at most two per member, the most notable
    first. Never a ranking or a verdict. ``alone``: one person's own review, spoken to them, with up to four;
    ``deleted``: records deleted during the week, so a week with nothing to say is not a quiet one."""
    points: list[str] = []
    each = POINTS_PER_MEMBER * (2 if alone else 1)  # someone alone has the page to themself
    for member in members:
        points += _member_points(member, _voice(member.name, alone))[:each]
    return points or [
        _after_deletion(deleted, [member.name for member in members] if alone else []) if deleted else QUIET_WEEK
    ]


def _after_deletion(deleted: Deletions, spoken_to: list[str]) -> str:
    """Whose records were deleted: one member's deletion is not "the records" of the whole household. ``spoken_to``:
    the one person whose own review this is."""
    if deleted.everything is not None or not deleted.members:
        return AFTER_DELETION
    names = sorted(deleted.members)
    whose = "Your" if names == spoken_to else spoken_list([f"{name}'s" for name in names])
    return f"{whose} records were deleted this week, so the numbers say little about it. How did the week feel?"


def _member_points(member: MemberWeek, voice: _Voice) -> list[str]:
    who, their, they = voice.who, voice.their, voice.they
    found: list[str] = []
    if member.late_minutes >= 30:
        found.append(f"{who} spent {round(member.late_minutes)} minutes online after 22:00. How was sleep?")
    before = member.previous_week
    if before is not None and before >= 1 and abs(member.week - before) >= 0.2 * before:
        found.append(f"{voice.whose} time {member.week_words}: {member.change}. What changed?")
    if member.daily_limit is not None and member.days_within_limit < member.days:
        found.append(
            f"{who} stayed within {their} daily limit on {member.days_within_limit} of the {member.days} days "
            f"{they} were online."
            if member.days > 1
            else f"{who} went over {their} daily limit on the one day {they} were online."
        )
    taken, shown = member.breaks["break_taken"], member.breaks["break_shown"]
    if shown and taken * 2 < shown:
        found.append(f"{who} took {taken} of the {shown} breaks suggested. What got in the way?")
    if member.warnings:
        category, count = member.warnings.most_common(1)[0]
        posts = "1 post" if count == 1 else f"{count} posts"
        about = category.replace("_", " ")
        level = level_text(voice.whose, about, member.warning_levels.get(category))
        warned = f"{who} saw {posts} with a warning about {about}.{level} Anything to talk about?"
        # The categories with a crisis line come first: what Breather exists for (a user test's review raised a
        # parent's violence warnings, not a teen's eating-disorder and self-harm ones, cut by late nights and limits).
        found.insert(0 if category in CRISIS_CATEGORIES else len(found), warned)
    if member.daily_limit is not None and member.days and member.days_within_limit == member.days:
        span = "the day" if member.days == 1 else f"all {member.days} days"
        found.append(f"{who} stayed within {their} daily limit on {span} {they} were online. Worth noticing.")
    return found


LEVEL_MEANINGS = {
    "low": "only the surest warnings",
    "medium": "the usual level",
    "high": "every warning Breather can give, some of them on harmless posts",
    "off": "no warnings now",
}


def level_text(whose: str, about: str, level: str | None) -> str:
    """ " sam's self harm warnings are set to high: ..." (``whose``: "sam's", or "Your", said to someone alone), so
    a family reads a count with the level behind it (the level in the rules now: a level changed during the week is
    not remembered); "" for a person's own topics."""
    if level not in LEVEL_MEANINGS:
        return ""
    return f" {whose} {about} warnings are set to {level}: {LEVEL_MEANINGS[level]}."


def week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def next_week_key(day: date) -> str:
    return week_key(day + timedelta(days=7))


def week_of(key: str) -> Period:
    """The Monday to Sunday of a week key like "2026-W09"; ``ValueError`` when it does not read."""
    found = re.fullmatch(r"(\d{4})-W(\d{2})", key)
    if not found:
        raise ValueError(f"{key!r} is not a week like 2026-W09")
    try:
        monday = date.fromisocalendar(int(found[1]), int(found[2]), 1)
        sunday = monday + timedelta(days=6)
    except (ValueError, OverflowError):
        raise ValueError(
            f"{key!r} is not a week like 2026-W09: there is no week {int(found[2])} in {found[1]}"
        ) from None
    return Period(monday, sunday)


def weeks_gone_by(db: Database, rules: Rules, today_: date) -> list[str]:
    """The keys of the weeks that have ended and hold Breather's records, newest first: the review's earlier weeks."""
    seen = usage.first_seen(db, rules, today_)
    if not seen:
        return []
    monday = today_ - timedelta(days=today_.weekday())
    first = min(seen.values())
    weeks = []
    while monday - timedelta(days=1) >= first:
        monday -= timedelta(days=7)
        weeks.append(week_key(monday))
    return weeks


# How the pages the whole household reads (Family, the printable weekly review) name a member's own topics: a named
# topic's name ("ED triggers") is the member's to tell, so these count it with their plain keywords, unnamed.
THEIR_OWN_TOPIC = "their own topic"


def shared(members: list[MemberWeek]) -> list[MemberWeek]:
    """``members`` with each one's own topics (named ones and plain keywords) counted together as
    ``THEIR_OWN_TOPIC``: the counts kept, the names left out."""
    return [replace(member, warnings=_unnamed(member.warnings)) for member in members]


def _unnamed(warnings: Counter[str]) -> Counter[str]:
    counted: Counter[str] = Counter()
    for category, count in warnings.items():
        own = category == CUSTOM_CATEGORY or category.startswith(OWN_TOPIC_PREFIX)
        counted[THEIR_OWN_TOPIC if own else category] += count
    return counted
