"""The helpline on a warning's note (a user test outside the US): numbers are tel:/sms: links, unknown hours are
said, and an unknown country is told to call the local emergency number, as rules/crisis.py promises."""

from __future__ import annotations

from pathlib import Path

from breather.proxy.adapters.hackernews import HackerNewsAdapter
from breather.rules.crisis import CrisisLine, crisis_line
from tests.proxy.adapters.helpers import DISTRESSING, context
from tests.proxy.adapters.test_html_adapters import PAGE
from tests.rules.test_crisis import WITH_AN_EATING_DISORDER_LINE


def note(country: str) -> str:
    return note_for(DISTRESSING, crisis_line(country))


def note_for(text: str, line: CrisisLine) -> str:
    result = HackerNewsAdapter().rewrite(PAGE.format(text=text).encode(), context(crisis=line))
    assert result is not None
    out = result.body.decode()
    return out[out.index('<span class="breather-crisis">') :].split("</span>", 1)[0]


def test_numbers_are_links_the_phone_dials() -> None:
    said = note("GB")
    assert '<a href="tel:116123">116 123</a>' in said and '<a href="sms:85258">85258</a>' in said


def test_unknown_hours_are_said_as_unknown() -> None:
    assert '<a href="tel:0223272327">02 2327 2327</a> (hours not known)' in note("IT")


def test_an_unknown_country_gets_the_directory_and_the_emergency_advice() -> None:
    said = note("KE")
    assert "Find A Helpline" in said and 'href="https://findahelpline.com"' in said
    assert "In an emergency, call your local emergency number (112 in the EU" in said


def test_an_eating_disorder_note_gives_the_countrys_eating_disorder_line(tmp_path: Path) -> None:
    own = tmp_path / "crisis_lines.toml"
    own.write_text(WITH_AN_EATING_DISORDER_LINE, encoding="utf-8")
    gb = crisis_line("GB", override=own)
    eating = note_for("I stopped eating again and it feels like control.", gb)
    assert "An eating-disorder line" in eating and '<a href="tel:0800123456">0800 123 456</a>' in eating
    assert "Samaritans" not in eating
    assert "Samaritans" in note_for(DISTRESSING, gb)
