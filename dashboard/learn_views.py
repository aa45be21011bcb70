"""The Learn section: short guides written by the project, readable offline ("help that teaches").

The views only look things up: the guides are data (``breather.dashboard.learn``) and the getting-help guide adds
the crisis line for each country the household's members live in, from the rules.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace

from flask import Blueprint, abort, render_template

from breather.dashboard import context
from breather.dashboard.learn import guide, guides
from breather.rules.crisis import (
    OVERRIDE_FILE,
    CrisisLine,
    Piece,
    date_said,
    emergency_pieces,
    hours_said,
    line_for,
    link_pieces,
    phone_pieces,
    table_in_force,
    text_pieces,
    web_piece,
)
from breather.rules.model import Rules

log = logging.getLogger(__name__)

bp = Blueprint("learn", __name__, url_prefix="/learn")

GETTING_HELP = "getting-help"


@bp.get("")
def index() -> str:
    return render_template("learn/index.html", guides=guides())


@bp.get("/<slug>")
def show(slug: str) -> str:
    found = guide(slug)
    if found is None:
        abort(404, description=f"There is no guide called {slug!r}. The Learn page lists them all.")
    lines, problem = _crisis_lines(context.current_rules()) if slug == GETTING_HELP else ((), None)
    shown = tuple(shown for line in lines for shown in ShownLine.each_of(line))
    return render_template("learn/guide.html", guide=found, crisis_lines=shown, crisis_problem=problem)


@dataclass(frozen=True)
class ShownLine:
    """A crisis line as the getting-help page shows it: numbers as ``tel:``/``sms:`` links, the page as a link,
    "hours not known" when the table does not say, and the table's date said for what it is (the day it was
    compiled, not a check)."""

    line: CrisisLine
    phone: tuple[Piece, ...]
    hours: str
    text: tuple[Piece, ...]
    web: Piece | None
    emergency: tuple[Piece, ...]
    also: tuple[Piece, ...]
    dated: str
    for_eating_disorders: bool = False

    @classmethod
    def each_of(cls, line: CrisisLine) -> tuple[ShownLine, ...]:
        """The country's crisis line, then its eating-disorder line where it has one (the emergency number once)."""
        if line.eating_disorder is None:
            return (cls.of(line),)
        eating = cls.of(line.eating_disorder)
        return cls.of(line), replace(eating, emergency=(), for_eating_disorders=True)

    @classmethod
    def of(cls, line: CrisisLine) -> ShownLine:
        return cls(
            line=line,
            phone=phone_pieces(line),
            hours=hours_said(line),
            text=text_pieces(line),
            web=web_piece(line),
            emergency=emergency_pieces(line),
            also=link_pieces(line.also),
            dated=date_said(line),
        )


def household_countries(rules: Rules) -> list[str]:
    """Each country the members' profiles name, the default profile's first, without repeats."""
    names = [rules.default_profile, *sorted(rules.profiles)]
    countries = [rules.profile(name).country for name in names]
    return list(dict.fromkeys(countries))


def _crisis_lines(rules: Rules) -> tuple[tuple[CrisisLine, ...], str | None]:
    """The lines for the household; a broken override file is named on the page and the shipped table used."""
    countries = household_countries(rules)
    table, problem = table_in_force(context.paths().config_dir / OVERRIDE_FILE)
    if problem is not None:
        log.warning("crisis lines override not used: %s", problem)
    return _unique(line_for(country, table) for country in countries), problem


def _unique(lines: Iterable[CrisisLine]) -> tuple[CrisisLine, ...]:
    """ "UK" and "GB" are one line; so is every unknown country (the international directory)."""
    return tuple({line.code: line for line in lines}.values())
