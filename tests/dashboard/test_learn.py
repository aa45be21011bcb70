from __future__ import annotations

from breather.dashboard.learn import guide, guides

SUPPORTED_SITES = ("Reddit", "Mastodon", "X (Twitter)", "Bluesky", "Facebook", "YouTube", "Hacker News")


def test_every_guide_the_issue_asks_for_is_there() -> None:
    slugs = {item.slug for item in guides()}
    assert slugs == {"how-feeds-hook-us", "boundaries", "content-warnings", "harmful-content", "getting-help"}
    for item in guides():
        assert item.sections, item.slug
        assert all(section.paragraphs or section.points for section in item.sections)


def test_harmful_content_guide_covers_each_supported_platform() -> None:
    harmful = guide("harmful-content")
    assert harmful is not None
    headings = {section.heading for section in harmful.sections}
    assert set(SUPPORTED_SITES) <= headings


def test_unknown_guide_is_none() -> None:
    assert guide("nope") is None
