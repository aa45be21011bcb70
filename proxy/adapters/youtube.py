"""YouTube: the ``ytInitialData`` object in watch/channel/home pages, and the same renderers in youtubei JSON.

YouTube's page is drawn by its script from this data, so there is no element to blur in the HTML and no warning
field in the data. A flagged video's title gets a visible prefix ("⚠ Breather: self-harm — ...") in the data the
page draws from (``Marked.field == "title"``), and so do the accessibility labels that speak the title (YouTube
makes the title's label the link's ``aria-label``: a screen reader reads that, not the visible title).
"""

from __future__ import annotations

import json
import re
from typing import Any

from breather.proxy.adapters.base import (
    AdapterContext,
    Finding,
    Marked,
    RewriteResult,
    fail_open,
    has_title_warning,
    is_collapsed,
    judge_text,
    title_warning,
)
from breather.proxy.adapters.htmlmark import screen_long
from breather.proxy.adapters.jsonadapter import JsonAdapter, screenable, walk_dicts
from breather.proxy.adapters.textutil import join_texts

_INITIAL_DATA = re.compile(r"(?:var\s+ytInitialData|window\[\"ytInitialData\"\]|ytInitialData)\s*=\s*(?=\{)")


def run_text(value: Any) -> str:
    if not isinstance(value, dict):
        return ""
    if isinstance(value.get("simpleText"), str):
        return str(value["simpleText"])
    if isinstance(value.get("content"), str):
        return str(value["content"])
    runs = value.get("runs")
    return "".join(r.get("text", "") for r in runs if isinstance(r, dict)) if isinstance(runs, list) else ""


def is_video(node: dict[str, Any]) -> bool:
    return isinstance(node.get("videoId"), str) and isinstance(node.get("title"), dict)


def prefix_title(title: dict[str, Any], prefix: str) -> None:
    if isinstance(title.get("simpleText"), str):
        title["simpleText"] = prefix + title["simpleText"]
    elif isinstance(title.get("content"), str):
        title["content"] = prefix + title["content"]
    elif isinstance(title.get("runs"), list) and title["runs"] and isinstance(title["runs"][0], dict):
        title["runs"][0]["text"] = prefix + str(title["runs"][0].get("text", ""))


def own_label(title: dict[str, Any]) -> dict[str, Any] | None:
    """The title's ``accessibility.accessibilityData``, when it has a label."""
    accessibility = title.get("accessibility")
    data = accessibility.get("accessibilityData") if isinstance(accessibility, dict) else None
    return data if isinstance(data, dict) and isinstance(data.get("label"), str) else None


def spoken_titles(video: dict[str, Any], title: str) -> list[dict[str, Any]]:
    """The ``accessibilityData`` of the video whose label a screen reader speaks in place of the title: the title's
    own (always: it is the title's spoken form), and any other in the renderer whose label holds the title's words
    (the renderer's own, its thumbnail's)."""
    own = own_label(video["title"])
    spoken = [own] if own is not None else []
    if not title.strip():
        return spoken
    for node in walk_dicts(video):
        data = node.get("accessibilityData")
        if data is not own and isinstance(data, dict) and title in str(data.get("label", "")):
            spoken.append(data)
    return spoken


def prefix_labels(labelled: list[dict[str, Any]], prefix: str) -> None:
    for data in labelled:
        if not has_title_warning(data["label"]):
            data["label"] = prefix + data["label"]


def mark_video(video: dict[str, Any], ctx: AdapterContext) -> Marked | None:
    title = run_text(video["title"])
    if has_title_warning(title):
        return None
    finding: Finding | None = judge_text(join_texts(title, run_text(video.get("descriptionSnippet"))), ctx)
    if finding is None:
        return None
    warning = title_warning(finding)
    prefix_title(video["title"], warning)
    prefix_labels(spoken_titles(video, title), warning)
    return Marked.of(finding, "title", str(video["videoId"]), is_collapsed(finding, ctx))


class YouTubeJsonAdapter(JsonAdapter):
    name = "youtube"

    def mark_document(self, document: Any, ctx: AdapterContext) -> list[Marked]:
        videos = [node for node in walk_dicts(document) if is_video(node)]
        return [marked for video in videos if (marked := mark_video(video, ctx)) is not None]


def script_safe_json(document: Any) -> str:
    """JSON that cannot end its <script> early: every "<" (only ever inside strings) becomes \\u003c."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


class YouTubeHtmlAdapter:
    name = "youtube"

    def __init__(self) -> None:
        self._json = YouTubeJsonAdapter()

    @fail_open
    def rewrite(self, body: bytes, ctx: AdapterContext) -> RewriteResult | None:
        source = body.decode("utf-8")
        match = _INITIAL_DATA.search(source)
        if match is None:
            return None
        script_end = source.find("</script", match.end())
        if not screen_long(screenable(source[match.end() : script_end].encode("utf-8")), ctx):
            return None
        document, end = json.JSONDecoder().raw_decode(source, match.end())
        marked = self._json.mark_document(document, ctx)
        if not marked:
            return None
        page = source[: match.end()] + script_safe_json(document) + source[end:]
        return RewriteResult(body=page.encode("utf-8"), marked=marked)
