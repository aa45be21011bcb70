"""Calm mode on YouTube: the counters' renderer fields leave the page data; the page around it stays byte-for-byte."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from breather.proxy.calm import calm_body
from breather.proxy.calm_youtube import INITIAL_DATA, calm_page, calm_youtube

COUNTER_TEXT = re.compile(r"\b\d[\d.,]*\s*[KMB]?\s+(?:views|subscribers|likes)\b")


def text(value: str) -> dict[str, Any]:
    return {"simpleText": value}


WATCH = {
    "contents": {
        "videoPrimaryInfoRenderer": {
            "title": {"runs": [{"text": "Slow bread, start to finish"}]},
            "viewCount": {
                "videoViewCountRenderer": {
                    "viewCount": text("1,204,377 views"),
                    "shortViewCount": text("1.2M views"),
                    "isLive": False,
                }
            },
            "videoActions": {
                "menuRenderer": {
                    "topLevelButtons": [
                        {
                            "toggleButtonRenderer": {
                                "isToggled": False,
                                "defaultIcon": {"iconType": "LIKE"},
                                "defaultText": {
                                    "accessibility": {"accessibilityData": {"label": "48,112 likes"}},
                                    "simpleText": "48K",
                                },
                                "toggledText": text("48K"),
                            }
                        },
                        {
                            "toggleButtonRenderer": {
                                "isToggled": False,
                                "defaultIcon": {"iconType": "DISLIKE"},
                                "defaultText": text("Dislike"),
                            }
                        },
                        {
                            "buttonViewModel": {
                                "iconName": "LIKE",
                                "title": "48K",
                                "accessibilityText": "like this video",
                            }
                        },
                        {"buttonViewModel": {"iconName": "SHARE", "title": "Share"}},
                    ]
                }
            },
        },
        "videoSecondaryInfoRenderer": {
            "owner": {
                "videoOwnerRenderer": {
                    "title": {"runs": [{"text": "Crumb"}]},
                    "subscriberCountText": text("312K subscribers"),
                }
            }
        },
        "commentsHeaderRenderer": {"countText": {"runs": [{"text": "2,031"}, {"text": " Comments"}]}, "sortMenu": {}},
        "commentsEntryPointHeaderRenderer": {"headerText": text("Comments"), "commentCount": text("2K")},
        "commentRenderer": {
            "commentId": "c",
            "contentText": {"runs": [{"text": "Lovely"}]},
            "voteCount": text("311"),
            "replyCount": 4,
        },
    },
    "lockupViewModel": {
        "metadata": {
            "contentMetadataViewModel": {
                "metadataRows": [
                    {"metadataParts": [{"text": {"content": "Crumb"}}]},
                    {"metadataParts": [{"text": {"content": "1.2M views"}}, {"text": {"content": "3 days ago"}}]},
                ]
            }
        }
    },
    "guideEntryRenderer": {
        "formattedTitle": text("Crumb"),
        "presentationStyle": "GUIDE_ENTRY_PRESENTATION_STYLE_NEW_CONTENT",
    },
}


def test_watch_page_counters_leave_the_data_and_the_rest_stays() -> None:
    document = json.loads(json.dumps(WATCH))
    assert calm_youtube(document, "/watch")
    assert COUNTER_TEXT.search(json.dumps(document)) is None
    primary = document["contents"]["videoPrimaryInfoRenderer"]
    assert primary["viewCount"]["videoViewCountRenderer"] == {"isLive": False}
    buttons = primary["videoActions"]["menuRenderer"]["topLevelButtons"]
    assert buttons[0]["toggleButtonRenderer"] == {"isToggled": False, "defaultIcon": {"iconType": "LIKE"}}
    assert (
        buttons[1]
        == WATCH["contents"]["videoPrimaryInfoRenderer"]["videoActions"]["menuRenderer"]["topLevelButtons"][1]
    )
    assert buttons[2]["buttonViewModel"] == {"iconName": "LIKE", "accessibilityText": "like this video"}
    assert buttons[3]["buttonViewModel"]["title"] == "Share"
    contents = document["contents"]
    assert "subscriberCountText" not in contents["videoSecondaryInfoRenderer"]["owner"]["videoOwnerRenderer"]
    assert "countText" not in contents["commentsHeaderRenderer"]
    assert contents["commentsEntryPointHeaderRenderer"] == {"headerText": text("Comments")}
    assert contents["commentRenderer"]["contentText"] == {"runs": [{"text": "Lovely"}]}
    assert "voteCount" not in contents["commentRenderer"] and contents["commentRenderer"]["replyCount"] == 4
    rows = document["lockupViewModel"]["metadata"]["contentMetadataViewModel"]["metadataRows"]
    assert [[part["text"]["content"] for part in row["metadataParts"]] for row in rows] == [["Crumb"], ["3 days ago"]]
    assert document["guideEntryRenderer"] == {"formattedTitle": text("Crumb")}


COUNTS_IN_OTHER_LANGUAGES = (
    "1,2 M de vues",
    "1.234 Aufrufe",
    "12.345 Abonnenten",
    "12 mil visualizaciones",
    "1,2 mi de visualizações",
    "1,2 Mln di visualizzazioni",
    "3 тыс. просмотров",
    "視聴回数 1.2万回",
    "チャンネル登録者数 12万人",
    "1.2万次观看",
    "조회수 1.2만회",
    "1,2 jt x ditonton",
    "1,2 Tr lượt xem",
    "١٫٢ مليون مشاهدة",
)
NOT_COUNTS = (
    "vor 3 Tagen",
    "il y a 2 jours",
    "hace 1 año",
    "3 дня назад",
    "3日前",
    "3 hari yang lalu",
    "2 năm trước",
    "قبل 3 أيام",
    "Crumb",
    "4K",
    "Tutorial 2024",
)


@pytest.mark.parametrize("count", COUNTS_IN_OTHER_LANGUAGES)
def test_view_and_subscriber_counts_leave_in_other_interface_languages_too(count: str) -> None:
    parts = [{"text": {"content": count}}, *({"text": {"content": other}} for other in NOT_COUNTS)]
    document = {"metadataRows": [{"metadataParts": parts}]}
    assert calm_youtube(document, "/browse")
    assert [part["text"]["content"] for part in document["metadataRows"][0]["metadataParts"]] == list(NOT_COUNTS)


def test_a_view_count_leaves_a_german_screen_reader_label() -> None:
    document = {"accessibilityData": {"label": "Sauerteig von Crumb vor 3 Tagen 4 Minuten 160 Aufrufe"}}
    assert calm_youtube(document, "/browse")
    assert document == {"accessibilityData": {"label": "Sauerteig von Crumb vor 3 Tagen 4 Minuten"}}


def test_a_label_made_of_numbers_is_read_in_one_pass() -> None:
    """Titles are the uploader's text: a run of numbers must not make the count search backtrack (quadratic: minutes
    for this label before the fix), and numbers that are not a count stay."""
    title = "1 " * 20_000 + "2.5 " * 5_000
    document = {"accessibilityData": {"label": f"{title}by Crumb 4 minutes 160 views"}}
    assert calm_youtube(document, "/browse")
    assert document == {"accessibilityData": {"label": f"{title}by Crumb 4 minutes"}}


def test_the_new_badge_leaves_a_video_and_other_badges_stay() -> None:
    def badge(label: str) -> dict[str, Any]:
        return {"metadataBadgeRenderer": {"style": "BADGE_STYLE_TYPE_SIMPLE", "label": label, "trackingParams": "x"}}

    document = {
        "items": [
            {"videoRenderer": {"videoId": "a", "badges": [badge("New"), badge("4K")]}},
            {"videoRenderer": {"videoId": "b", "badges": [badge("Neu")]}},
            {"videoRenderer": {"videoId": "c", "badges": [badge("CC")]}},
        ]
    }
    assert calm_youtube(document, "/browse")
    badges = [item["videoRenderer"]["badges"] for item in document["items"]]
    assert badges == [[badge("4K")], [], [badge("CC")]]
    assert not calm_youtube({"videoRenderer": {"videoId": "c", "badges": [badge("CC")]}}, "/browse")


def test_the_bells_unseen_count_goes_to_zero() -> None:
    unseen = {
        "unseenCount": 7,
        "actions": [{"updateNotificationsUnseenCountAction": {"unseenCount": 7, "timeoutMs": 1800000}}],
    }
    out = calm_body(json.dumps(unseen).encode(), "youtube", "/youtubei/v1/notification/get_unseen_count")
    assert out is not None
    assert json.loads(out) == {
        "unseenCount": 0,
        "actions": [{"updateNotificationsUnseenCountAction": {"unseenCount": 0, "timeoutMs": 1800000}}],
    }


def test_unknown_shapes_and_pages_without_data_pass_unchanged() -> None:
    assert calm_body(b'{"contents": {"title": "no counters here"}}', "youtube", "/youtubei/v1/browse") is None
    assert calm_body(b'{"viewCount": "1204377"}', "youtube", "/youtubei/v1/player") is None, (
        "a number is data, not a drawn text"
    )
    assert calm_page(b"<html><body><p>160 views</p></body></html>") is None
    assert calm_page(b"<script>var ytInitialData = {broken</script>") is None
    assert calm_page(b"\xff\xfe<html>") is None


def test_a_value_that_could_close_the_script_is_escaped() -> None:
    page = (
        b"<html><body><script>var ytInitialData = "
        + json.dumps(
            {"v": {"viewCountText": text("9 views"), "title": text("</script><script>alert(1)</script>")}}
        ).encode()
        + b";</script></body></html>"
    )
    out = calm_page(page)
    assert out is not None
    assert out.count(b"</script>") == 1
    assert b"\\u003c/script>\\u003cscript>alert(1)" in out


def data_span(page: str) -> tuple[int, int, Any]:
    match = INITIAL_DATA.search(page)
    assert match is not None
    document, end = json.JSONDecoder().raw_decode(page, match.end())
    return match.end(), end, document


@pytest.mark.fixtures
def test_the_real_channel_page_loses_views_and_subscribers_and_nothing_else(shared_fixtures: Path) -> None:
    page = (shared_fixtures / "feeds/youtube/channel_videos_page.html").read_text(encoding="utf-8")
    start, end, before = data_span(page)
    assert COUNTER_TEXT.search(json.dumps(before["contents"])), "the fixture shows view counts to begin with"
    out = calm_page(page.encode("utf-8"))
    assert out is not None
    calmed = out.decode("utf-8")
    new_start, new_end, after = data_span(calmed)
    assert calmed[:new_start] == page[:start] and calmed[new_end:] == page[end:], "only ytInitialData changed"
    assert "<" not in calmed[new_start:new_end]
    assert COUNTER_TEXT.search(json.dumps(after["contents"])) is None
    assert "subscriberCountText" not in after["header"]["c4TabbedHeaderRenderer"]
    assert changed_keys(before, after) <= {"viewCountText", "shortViewCountText", "subscriberCountText", "label"}


@pytest.mark.fixtures
def test_the_real_youtubei_data_loses_the_same_fields(shared_fixtures: Path) -> None:
    body = (shared_fixtures / "feeds/youtube/channel_videos_ytInitialData.json").read_bytes()
    out = calm_body(body, "youtube", "/youtubei/v1/browse")
    assert out is not None
    before, after = json.loads(body), json.loads(out)
    assert changed_keys(before, after) == {"viewCountText", "shortViewCountText", "subscriberCountText", "label"}
    assert COUNTER_TEXT.search(json.dumps(after["contents"])) is None


def changed_keys(before: Any, after: Any, key: str = "") -> set[str]:
    """Keys gone after, and keys of screen-reader labels that lost a view count; fails on any other difference."""
    if isinstance(before, dict):
        assert isinstance(after, dict) and set(after) <= set(before)
        return {name for name in before if name not in after} | {
            changed for name in after for changed in changed_keys(before[name], after[name], name)
        }
    if isinstance(before, list):
        assert isinstance(after, list) and len(after) == len(before)
        return {changed for pair in zip(before, after, strict=True) for changed in changed_keys(*pair, key)}
    if before != after:
        assert key == "label" and COUNTER_TEXT.search(before) and not COUNTER_TEXT.search(after), (before, after)
        assert before.startswith(after), "only the count at the end of the label goes"
        return {key}
    return set()
