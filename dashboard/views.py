"""The read-only pages: Today, History, Family, Weekly review; and ``/healthz``. Thin: the numbers come from
``breather.dashboard.pages``."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from sqlite_utils import Database
from werkzeug.wrappers import Response as BaseResponse

from breather.dashboard import charts, context, security
from breather.dashboard.db import get_db
from breather.dashboard.errors import ApiError
from breather.dashboard.pages import extension, requests, summaries
from breather.rules.model import Rules
from breather.rules.timeparse import spoken_list
from breather.runtime import EVERY_SITE, Override, running_overrides
from breather.store import usage

bp = Blueprint("views", __name__)
bp.before_request(security.check_form_request)

HISTORY_DAYS = (7, 30, 90, 365)
WEEKLY_FROM_DAYS = 365  # a period this long is charted and listed week by week: 365 day columns would be slivers


def _now() -> datetime:
    return context.now()


def _chosen_member(members: list[str], default: str | None) -> str | None:
    wanted = request.args.get("member")
    if wanted is None:
        return default
    if wanted == "" or wanted == "everyone":
        return None
    if wanted in members:
        return wanted
    # Typed in the address bar as a person writes it ("Leo" for leo): taken when it names one member only.
    alike = [member for member in members if member.casefold() == wanted.casefold()]
    if len(alike) == 1:
        return alike[0]
    named = spoken_list(members) if members else "none yet"
    raise ApiError(404, "UnknownMember", f'there is no member called "{wanted}"; the members are {named}')


@bp.get("/")
def today() -> str:
    rules = context.current_rules()
    db = get_db()
    members = usage.members(db, rules)
    member = _chosen_member(members, rules.default_profile) or rules.default_profile
    now = _now()
    page = summaries.today(db, rules, member, now)
    status = extension.status_for(db, rules, member, context.runtime(), now)
    bars = [charts.Bar(line.site, line.minutes, line.limit) for line in page.sites]
    return render_template(
        "today.html",
        page=page,
        status=status,
        more_time=_more_time(member, now, rules.zone()),
        members=members,
        member=member,
        in_rules=member in rules.profiles,
        chart=charts.bar_chart(bars, f"Minutes per site today for {member}"),
        minutes=usage.minutes_text,
    )


def _more_time(member: str, now: datetime, zone: tzinfo) -> list[tuple[str, str, str]]:
    """What lets the member past a block right now: (site, which it is, until when on the household's clock). A
    parent's yes and the member's own "open anyway" are named apart: a user test's parent read a child's override,
    on a site they had said no to, as their own yes."""
    service = context.runtime()
    if service is None:
        return []
    running = running_overrides(service.sessions.read(member), now)
    rules = context.current_rules()
    return [
        (_site_name(rules, key.site), _what_lets_through(key), requests.until_text(until, zone))
        for key, until in running
    ]


def _site_name(rules: Rules, site: str) -> str:
    """The site as the page's chart and History name it ("reddit"), not the host the yes was asked from."""
    return "every site" if site == EVERY_SITE else usage.site_label(rules, site)


def _what_lets_through(override: Override) -> str:
    if override.granted:
        return "more time (yes)"
    return "opened anyway in quiet hours" if override.lifts == "quiet_hours" else "opened anyway at the limit"


@bp.get("/history")
def history() -> str:
    rules = context.current_rules()
    db = get_db()
    members = usage.members(db, rules)
    member = _chosen_member(members, None)
    try:
        days = int(request.args.get("days", "7"))
    except ValueError:
        days = 0
    if days not in HISTORY_DAYS:
        raise ApiError(400, "InvalidPeriod", "choose 7, 30, 90 or 365 days")
    today = _now().astimezone(rules.zone()).date()
    page = summaries.history(db, rules, today, days, member)
    weeks = page.per_week() if days >= WEEKLY_FROM_DAYS else None  # a year goes week by week
    who = member or "everyone"
    return render_template(
        "history.html",
        page=page,
        members=members,
        member=member,
        days=days,
        choices=HISTORY_DAYS,
        site_chart=charts.bar_chart(
            [charts.Bar(site, minutes) for site, minutes in page.by_site.items()],
            f"Minutes per site, last {days} days, {who}",
        ),
        member_chart=charts.bar_chart(
            [charts.Bar(name, minutes) for name, minutes in page.by_member.items()],
            f"Minutes per member, last {days} days",
        ),
        weeks=weeks,
        day_chart=(
            charts.week_columns(weeks, f"Minutes per week, last {days} days", today)
            if weeks is not None
            else charts.day_columns(page.period.each_day(), page.per_day, f"Minutes per day, last {days} days", today)
        ),
        heatmap=charts.heatmap(page.heatmap, f"When: hour of day by weekday, last {days} days, {who}"),
        busiest=charts.busiest_hours(page.heatmap),
        when=charts.heatmap_days(page.heatmap),
        minutes=usage.minutes_text,
        today=today,
        day_text=usage.day_text,
        period_text=usage.period_text,
        deleted=summaries.deletions_within(db, rules, page.period, today).note(member),
    )


@bp.get("/family")
def family() -> str:
    rules = context.current_rules()
    db = get_db()
    today = _now().astimezone(rules.zone()).date()
    members = summaries.shared(summaries.member_weeks(db, rules, today, usage.members(db, rules)))
    deleted = summaries.deletions_within(db, rules, usage.last_days(today, 7), today).note()
    return render_template("family.html", members=members, minutes=usage.minutes_text, deleted=deleted)


@bp.get("/review")
def review() -> str:
    return _review_page()


def _review_page(typed_goal: str | None = None, problem: ApiError | None = None) -> str:
    """The weekly review: the last 7 days, or with ``?week=2026-W09`` a week gone by; after a refused goal, the goal
    as typed and the problem beside its form (a mistyped passphrase sent a family to an error page, and the goal
    they had just written together was gone)."""
    rules = context.current_rules()
    db = get_db()
    today = _now().astimezone(rules.zone()).date()
    weeks = summaries.weeks_gone_by(db, rules, today)
    gone_by = _week_gone_by(request.args.get("week"), today, weeks)
    week = gone_by or usage.last_days(today, 7)
    names = usage.members(db, rules)
    members = summaries.shared(summaries.member_weeks(db, rules, today, names, gone_by.last if gone_by else None))
    alone = len(members) == 1  # one person's own review: spoken to them
    deleted = summaries.deletions_within(db, rules, week, today)
    # The goal asked about is the reviewed week's: on a Monday, the week that ended last night (the goal set for the
    # week just starting is the one the form holds); on other days, this week's.
    reviewed = summaries.week_key(gone_by.first if gone_by else today - timedelta(days=1))
    goal_week = None if gone_by else summaries.next_week_key(today - timedelta(days=1))
    return render_template(
        "review.html",
        week=week,
        gone_by=gone_by,
        weeks=[(key, usage.period_text(summaries.week_of(key), today)) for key in weeks],
        shown_week=reviewed if gone_by else None,
        members=members,
        points=summaries.talking_points(members, alone=alone, deleted=deleted),
        alone=alone,
        reviewed_goal=_goal_of(db, reviewed),
        reviewed_when="that week"
        if gone_by
        else ("this week" if reviewed == summaries.week_key(today) else "last week"),
        saved=request.args.get("saved") == "1",
        goal=typed_goal if typed_goal is not None else (_goal_of(db, goal_week) if goal_week else ""),
        goal_problem=problem.as_sentence() if problem is not None else None,
        goal_week=goal_week,
        goal_week_start=summaries.week_of(goal_week).first if goal_week else None,
        chart=charts.bar_chart(
            [charts.Bar(m.name, m.week, m.week_limit) for m in members],
            f"Minutes {'that' if gone_by else 'this'} week per member, against seven days of their daily limit",
            limit_name="seven days of each member's daily limit",
        ),
        minutes=usage.minutes_text,
        period_text=usage.period_text,
        deleted=deleted.note(),
    )


def _goal_of(db: Database, week: str) -> str:
    row = db.execute("select goal from weekly_goals where week = ?", [week]).fetchone()
    return row[0] if row else ""


def _week_gone_by(asked: str | None, today: date, kept: list[str]) -> usage.Period | None:
    """The week ``?week=`` asks for, one of the weeks gone by whose records are ``kept``; None for none asked or
    this week (the last 7 days)."""
    if not asked:
        return None
    key = asked.strip()
    try:
        week = summaries.week_of(key)
    except ValueError as exc:
        raise ApiError(400, "InvalidWeek", str(exc)) from None
    if week.first <= today <= week.last:
        return None
    if week.last >= today:
        raise ApiError(400, "InvalidWeek", f"the week of {key} has not ended yet: its review comes after it")
    if key not in kept:
        raise ApiError(400, "InvalidWeek", f"Breather keeps no records of the week of {key}")
    return week


@bp.post("/review/goal")
def save_goal() -> BaseResponse:
    goal = request.form.get("goal", "").strip()
    week = request.form.get("week", "")
    try:
        _check_goal(goal, week)
        security.require_passphrase(request.form.get("passphrase", ""))  # the household's goal, not one member's
    except ApiError as refused:
        if refused.status not in ANSWERED_BESIDE_THE_GOAL:
            raise
        return Response(_review_page(goal, refused), status=refused.status, headers=refused.headers)
    row = {"week": week, "goal": goal, "saved_at": _now().isoformat(timespec="seconds")}
    context.write(lambda db: db.table("weekly_goals").upsert(row, pk="week"))
    return redirect(url_for("views.review", saved="1", _anchor="our-goal"))  # the answer is at the form


# A goal that does not read, a wrong or missing passphrase, and the pause after too many wrong ones: the goal as
# typed is still wanted once the problem is solved, so the answer is the review with the goal kept.
ANSWERED_BESIDE_THE_GOAL = (400, 403, 429)


def _check_goal(goal: str, week: str) -> None:
    if len(goal) > 500:
        raise ApiError(400, "GoalTooLong", "keep the goal under 500 characters")
    if not week or len(week) != 8 or "-W" not in week:
        raise ApiError(400, "InvalidWeek", f"{week!r} is not a week like 2026-W09")
    today = _now().astimezone(context.current_rules().zone()).date()
    if week not in (summaries.week_key(today), summaries.next_week_key(today)):
        raise ApiError(400, "InvalidWeek", f"a goal is for this week or the next, not {week}")


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    runtime = context.runtime()
    if runtime is None:
        get_db().execute("select 1").fetchone()
        return jsonify({"status": "ok", "web": {"ready": True}, "proxy": None}), 200
    body = runtime.health()
    return jsonify(body), 200 if body.get("status") == "ok" else 503
