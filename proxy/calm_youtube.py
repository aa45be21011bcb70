"""Calm mode for YouTube: the renderer data the page draws its counters from, in ``ytInitialData`` and youtubei JSON.

Pure: no mitmproxy, no I/O. YouTube's page is drawn by its script from this data, so the counters are taken out of
the data rather than hidden after drawing. Only fields YouTube itself leaves out in ordinary cases are removed, so
the client already knows how to draw without them:

- view counts (``viewCountText``, ``shortViewCountText``, the watch page's ``videoViewCountRenderer``): absent on
  upcoming premieres and some live streams;
- ``subscriberCountText``: absent on channels that hide their subscriber count (a YouTube setting);
- comment likes (``voteCount``) and comment totals (``commentCount``, ``countText``): absent on comments nobody
  liked and on videos whose comments are off;
- the like button's count text (``toggleButtonRenderer`` with the LIKE icon, ``buttonViewModel`` with a like
  icon): the button then draws as an icon only, as the dislike button always does;
- view / subscriber parts in the newer ``metadataParts`` lists (lockups, page headers): removed from the list
  (free text: English and the other languages in ``VIEW_WORDS`` / ``PEOPLE_WORDS`` / ``CJK_COUNT``);
- a view count inside a screen-reader label (a title's ``accessibilityData.label`` ends in "160 views"): cut out
  of the label (the same languages);
- a video's "New" badge (``badges`` is optional on a video renderer; "4K", "CC", "LIVE" stay);
- the "new videos" dot in the guide (``presentationStyle: GUIDE_ENTRY_PRESENTATION_STYLE_NEW_CONTENT``) and the
  bell's ``unseenCount``: an entry with nothing new, a bell with nothing unseen.

Everything else in the page stays byte-for-byte: :func:`calm_page` splices only the ``ytInitialData`` object back,
with every ``<`` written as ``\\u003c`` so the new JSON cannot close its ``<script>``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from breather.proxy.adapters.jsonadapter import walk_dicts
from breather.proxy.adapters.youtube import script_safe_json
from breather.proxy.calm_edits import drop_items, drop_keys, zero_counts

COUNT_FIELDS = ("viewCountText", "shortViewCountText", "subscriberCountText", "voteCount", "commentCount")
VIEW_COUNT_RENDERER_FIELDS = ("viewCount", "shortViewCount", "extraShortViewCount", "originalViewCount")
LIKE_BUTTON_TEXTS = ("defaultText", "toggledText")
NEW_CONTENT_STYLE = "GUIDE_ENTRY_PRESENTATION_STYLE_NEW_CONTENT"
# YouTube writes its counts as free text in the person's interface language. These are the count nouns of the
# languages it is most used in; a part in any other language keeps its number (the failure is a count left showing,
# never another part removed). A number may carry a short multiplier ("1.2K", "1,2 Mio.", "3 тыс.", "1,2 jt",
# "1٫2 مليون") and a "de"/"di" ("1,2 M de vues", "1,2 Mln di visualizzazioni").
VIEW_WORDS = (
    "views?|watching|Aufrufe?|Zuschauer|vues?|spectateurs|visualizaciones|visualización|vistas|espectadores"
    "|visualizações|visualização|assistindo|visualizzazioni|visualizzazione|spettatori"
    "|weergaven|weergave|kijkers|просмотр(?:ов|а)?"
    "|wyświetleń|wyświetlenia|görüntüleme|izleniyor|(?:x\\s+)?ditonton|lượt xem|مشاهدات|مشاهدة"
)
PEOPLE_WORDS = (
    "subscribers?|likes?|comments?|Abonnenten|Kommentare|abonnés?|commentaires|suscriptores|suscriptor"
    "|comentarios|inscritos?|comentários|iscritti|iscritto|commenti|abonnees|abonnee|reacties"
    "|подписчик(?:ов|а)?"
    "|subskrybentów|abone|yorum|người đăng ký|مشتركين|مشترك"
)
# Digit groups taken whole (possessive: a long run of digits and spaces cannot make the search backtrack), and a
# match may not start inside a number, so a label made of "1 1 1 ..." costs linear time, not quadratic.
NUMBER = r"(?<![\d.,٫٬])(?<!\d\s)(?:\d+(?:[.,٫٬\s]\d+)*+)\s*(?:[^\s\d]{1,6}\.?\s+)?(?:(?:de|di)\s+)?"
# Japanese, Chinese and Korean put the noun around the number: "視聴回数 1.2万回", "1.2万次观看", "조회수 1.2만회".
CJK_COUNT = (
    r"(?:視聴回数|チャンネル登録者数|조회수|구독자)\s*[\d.,]+\s*\w?\s*[回人회명]"
    r"|[\d.,]+\s*\w?\s*(?:回視聴|次观看|位订阅者)"
)
COUNT_PART = re.compile(rf"^\s*(?:{NUMBER}(?:{VIEW_WORDS}|{PEOPLE_WORDS})|{CJK_COUNT})\s*$", re.IGNORECASE)
LABEL_COUNT = re.compile(rf"\s*\b{NUMBER}(?:{VIEW_WORDS})\b", re.IGNORECASE)
# The "New" badge on a video (``metadataBadgeRenderer`` with the SIMPLE style, the same style as "4K" and "CC", so
# only its label tells them apart), in the same languages.
NEW_BADGE_LABELS = frozenset(
    {
        "new",
        "neu",
        "nouveau",
        "nouvelle",
        "nuevo",
        "nueva",
        "novo",
        "nova",
        "nuovo",
        "nieuw",
        "yeni",
        "nowy",
        "nowe",
        "новое",
        "новинка",
        "新着",
        "新",
        "신규",
    }
)
# `var ytInitialData = {`, `window["ytInitialData"] = {`: starting with the literal name lets the search skip ahead.
INITIAL_DATA = re.compile(r"ytInitialData(?:\"\])?\s*=\s*(?=\{)")


def calm_youtube(document: Any, _path: str) -> bool:
    """Calm one parsed youtubei document (or ytInitialData) in place; True when anything changed."""
    changed = False
    for node in list(walk_dicts(document)):
        changed = _calm_node(node) or changed
    return changed


def calm_page(body: bytes) -> bytes | None:
    """A YouTube HTML page with its ytInitialData calmed, or None when there is none or nothing to calm."""
    try:
        source = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    match = INITIAL_DATA.search(source)
    if match is None:
        return None
    try:
        document, end = json.JSONDecoder().raw_decode(source, match.end())
    except (ValueError, RecursionError):
        return None
    if not calm_youtube(document, ""):
        return None
    return (source[: match.end()] + script_safe_json(document) + source[end:]).encode("utf-8")


def _calm_node(node: dict[str, Any]) -> bool:
    if _KEYS.isdisjoint(node):  # most renderer dicts hold none of these: one C-level pass instead of ten lookups
        return False
    changed = _drop_texts(node, COUNT_FIELDS)
    if _is_comments_header(node):
        changed = _drop_texts(node, ("countText",)) or changed
    view_count = node.get("videoViewCountRenderer")
    if isinstance(view_count, dict):
        changed = drop_keys(view_count, VIEW_COUNT_RENDERER_FIELDS) or changed
    if _is_like_toggle(node):
        changed = drop_keys(node, LIKE_BUTTON_TEXTS) or changed
    if _is_like_view_model(node):
        changed = drop_keys(node, ("title",)) or changed
    changed = drop_items(node, "metadataParts", _is_count_part) or changed
    changed = drop_items(node, "badges", _is_new_badge) or changed
    if node.get("presentationStyle") == NEW_CONTENT_STYLE:
        changed = drop_keys(node, ("presentationStyle",)) or changed
    changed = _calm_label(node) or changed
    return zero_counts(node, ("unseenCount",)) or changed


_KEYS = frozenset(
    {
        *COUNT_FIELDS,
        "countText",
        "videoViewCountRenderer",
        "isToggled",
        "iconName",
        "metadataParts",
        "presentationStyle",
        "accessibilityData",
        "unseenCount",
        "badges",
    }
)


def _calm_label(node: dict[str, Any]) -> bool:
    """A title's screen-reader label ends in its view count ("... 3 minutes 160 views"): the count leaves it too."""
    data = node.get("accessibilityData")
    if not isinstance(data, dict) or not isinstance(data.get("label"), str):
        return False
    label = data["label"]
    calmed = LABEL_COUNT.sub("", label)
    if calmed == label:
        return False
    data["label"] = calmed
    return True


def _drop_texts(node: dict[str, Any], keys: tuple[str, ...]) -> bool:
    """Drop display texts (``{"simpleText": ...}`` / ``{"runs": [...]}``) only: a number under the same name is data."""
    present = [key for key in keys if isinstance(node.get(key), dict)]
    for key in present:
        del node[key]
    return bool(present)


def _is_comments_header(node: dict[str, Any]) -> bool:
    return "countText" in node and ("sortMenu" in node or "createRenderer" in node)


def _is_like_toggle(node: dict[str, Any]) -> bool:
    icon = node.get("defaultIcon")
    return isinstance(icon, dict) and icon.get("iconType") == "LIKE" and "isToggled" in node


def _is_like_view_model(node: dict[str, Any]) -> bool:
    icon = node.get("iconName")
    return isinstance(icon, str) and icon.upper() in ("LIKE", "THUMB_UP") and isinstance(node.get("title"), str)


def _is_new_badge(badge: Any) -> bool:
    renderer = badge.get("metadataBadgeRenderer") if isinstance(badge, dict) else None
    label = renderer.get("label") if isinstance(renderer, dict) else None
    return isinstance(label, str) and label.strip().casefold() in NEW_BADGE_LABELS


def _is_count_part(part: Any) -> bool:
    text = part.get("text") if isinstance(part, dict) else None
    content = text.get("content") if isinstance(text, dict) else None
    return isinstance(content, str) and COUNT_PART.match(content) is not None
