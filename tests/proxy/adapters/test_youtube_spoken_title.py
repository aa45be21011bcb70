"""A flagged YouTube video's spoken title is warned like its visible title.

YouTube makes the title's ``accessibility.accessibilityData.label`` the title link's ``aria-label``: a reviewer read
``ytInitialData`` in Chromium and found the visible title prefixed "⚠ Breather: self-harm — …" while that label, what a
screen reader says, still held the distressing title with no warning. Every label of the video that speaks its title
(the title's own, and any other holding the title's words) now carries the same prefix; other labels do not.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from breather.proxy.adapters.youtube import YouTubeHtmlAdapter, YouTubeJsonAdapter
from tests.proxy.adapters.helpers import DISTRESSING, context
from tests.proxy.adapters.test_real_feeds import _dicts

WARNING = "⚠ Breather: self-harm — "
INITIAL_DATA = re.compile(r"var ytInitialData = ")


def labels(node: Any) -> list[str]:
    """Every spoken label in ``node``."""
    found = [d["accessibilityData"] for d in _dicts(node) if isinstance(d.get("accessibilityData"), dict)]
    return [str(data["label"]) for data in found if "label" in data]


def spoken(text: str) -> dict[str, Any]:
    return {"accessibilityData": {"label": text}}


def compact_video(title: str, description: str = "x") -> dict[str, Any]:
    """A renderer whose title, thumbnail and whole item each carry a spoken label (as compact and rich items do)."""
    return {
        "videoId": "v1",
        "title": {"simpleText": title, "accessibility": spoken(f"{title} by Someone 2 minutes")},
        "thumbnail": {"thumbnails": [], "accessibility": spoken(f"Watch {title}")},
        "accessibility": spoken(f"{title} - 2 minutes - Go to channel"),
        "descriptionSnippet": {"simpleText": description},
        "menu": {"menuRenderer": {"accessibility": spoken("Action menu")}},
        "lengthText": {"simpleText": "2:00", "accessibility": spoken("2 minutes")},
    }


def test_every_label_that_speaks_the_title_is_warned_and_the_others_are_not() -> None:
    document = {"items": [{"compactVideoRenderer": compact_video(DISTRESSING)}]}
    result = YouTubeJsonAdapter().rewrite(json.dumps(document).encode(), context())
    assert result is not None
    video = json.loads(result.body)["items"][0]["compactVideoRenderer"]
    assert video["title"]["simpleText"] == WARNING + DISTRESSING
    assert sorted(labels(video)) == sorted(
        [
            f"{WARNING}{DISTRESSING} by Someone 2 minutes",
            f"{WARNING}Watch {DISTRESSING}",
            f"{WARNING}{DISTRESSING} - 2 minutes - Go to channel",
            "Action menu",
            "2 minutes",
        ]
    )
    assert YouTubeJsonAdapter().rewrite(result.body, context()) is None  # seen twice: warned once


def test_the_titles_own_label_is_warned_even_when_only_the_description_was_flagged() -> None:
    document = {"items": [compact_video("", description=DISTRESSING)]}
    result = YouTubeJsonAdapter().rewrite(json.dumps(document).encode(), context())
    assert result is not None
    video = json.loads(result.body)["items"][0]
    assert video["title"]["accessibility"]["accessibilityData"]["label"] == f"{WARNING} by Someone 2 minutes"
    assert video["accessibility"]["accessibilityData"]["label"] == " - 2 minutes - Go to channel"


def test_a_calm_videos_labels_are_left_alone() -> None:
    body = json.dumps({"items": [compact_video("Cooking pasta")]}).encode()
    assert YouTubeJsonAdapter().rewrite(body, context()) is None


# --- the real channel page and its data ---------------------------------------------------------------------------


def first_title(document: Any) -> str:
    video = next(n for n in _dicts(document) if isinstance(n.get("videoId"), str) and isinstance(n.get("title"), dict))
    return str(video["title"]["runs"][0]["text"])


def flagged_videos(document: Any) -> list[dict[str, Any]]:
    return [n for n in _dicts(document) if isinstance(n.get("videoId"), str) and DISTRESSING in json.dumps(n)]


def assert_spoken_like_shown(document: Any) -> None:
    """Each label holding the distressing words is warned; no other label is."""
    [video] = flagged_videos(document)
    assert video["title"]["runs"][0]["text"].startswith(WARNING)
    own = video["title"]["accessibility"]["accessibilityData"]["label"]
    assert own.startswith(WARNING + DISTRESSING)
    every = labels(document)
    assert [label for label in every if DISTRESSING in label and not label.startswith(WARNING)] == []
    assert [label for label in every if label.startswith(WARNING)] == [label for label in every if DISTRESSING in label]


@pytest.mark.fixtures
def test_the_real_channel_page_warns_the_spoken_title(shared_fixtures: Path) -> None:
    """The first video's title made distressing wherever the page writes it (its title and its label)."""
    source = (shared_fixtures / "feeds" / "youtube" / "channel_videos_page.html").read_text(encoding="utf-8")
    start = INITIAL_DATA.search(source)
    assert start is not None
    title = first_title(json.JSONDecoder().raw_decode(source, start.end())[0])
    assert source.count(title) >= 2
    result = YouTubeHtmlAdapter().rewrite(source.replace(title, DISTRESSING).encode(), context())
    assert result is not None and [m.field for m in result.marked] == ["title"]
    out = result.body.decode()
    assert_spoken_like_shown(json.JSONDecoder().raw_decode(out, start.end())[0])


@pytest.mark.fixtures
def test_the_real_youtubei_data_warns_the_spoken_title(shared_fixtures: Path) -> None:
    source = (shared_fixtures / "feeds" / "youtube" / "channel_videos_ytInitialData.json").read_text(encoding="utf-8")
    title = first_title(json.loads(source))
    result = YouTubeJsonAdapter().rewrite(source.replace(title, DISTRESSING).encode(), context())
    assert result is not None and [m.field for m in result.marked] == ["title"]
    assert_spoken_like_shown(json.loads(result.body))
