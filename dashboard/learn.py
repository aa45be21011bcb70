"""The Learn guides: project-written text stored as data, readable offline from the dashboard."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...]
    points: tuple[str, ...]


@dataclass(frozen=True)
class Guide:
    slug: str
    title: str
    summary: str
    sections: tuple[Section, ...]


@cache
def guides() -> tuple[Guide, ...]:
    text = resources.files("breather.dashboard").joinpath("data/learn.toml").read_text(encoding="utf-8")
    return parse_guides(text)


def guide(slug: str) -> Guide | None:
    return next((item for item in guides() if item.slug == slug), None)


def parse_guides(text: str) -> tuple[Guide, ...]:
    document = tomllib.loads(text)
    return tuple(
        Guide(
            slug=entry["slug"],
            title=entry["title"],
            summary=entry["summary"],
            sections=tuple(
                Section(
                    heading=section["heading"],
                    paragraphs=tuple(section.get("paragraphs", ())),
                    points=tuple(section.get("points", ())),
                )
                for section in entry.get("section", ())
            ),
        )
        for entry in document["guide"]
    )
