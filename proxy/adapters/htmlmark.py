"""Find post elements in an HTML page with the stdlib parser and mark the flagged ones by editing the source text.

The page is never re-serialised: the parser only reports where each post's start tag is, and the edits are splices
at those offsets (a class and data attributes merged into the start tag, a warning control inserted before it, the
stylesheet and reveal script inserted once in the head). Every other byte stays as it was.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from importlib import resources

from breather.proxy.adapters.base import (
    CRISIS_CATEGORIES,
    AdapterContext,
    Finding,
    Marked,
    RewriteResult,
    category_label,
    is_collapsed,
    judge_text,
)

MAX_POST_CHARS = 8000
VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
# A <p> has no end tag of its own in much real HTML: these close it implicitly.
CLOSES_P = frozenset(
    {"p", "div", "section", "article", "aside", "ul", "ol", "table", "blockquote", "pre", "form", "header", "footer"}
    | {f"h{level}" for level in range(1, 7)}
)
_CLASS_ATTR = re.compile(r"""\sclass\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""", re.IGNORECASE)
_TAG_NAME = re.compile(r"<[A-Za-z][^\s/>]*")
_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)
_BODY_START = re.compile(r"<body\b[^>]*>", re.IGNORECASE)

Attrs = dict[str, str]
Ancestors = list[tuple[str, Attrs]]
Selector = Callable[[str, Attrs, Ancestors], bool]
IdOf = Callable[[Attrs, Ancestors], str | None]


def classes(attrs: Attrs) -> set[str]:
    return set(attrs.get("class", "").split())


def nearest_attr(ancestors: Ancestors, attribute: str, css_class: str | None = None) -> str | None:
    """The closest ancestor's ``attribute`` (only ancestors with ``css_class``, if given)."""
    for _tag, attrs in reversed(ancestors):
        if attribute in attrs and (css_class is None or css_class in classes(attrs)):
            return attrs[attribute] or None
    return None


@dataclass
class PostSpan:
    tag: str
    start: int  # offset of the start tag's "<"
    tag_end: int  # offset just after the start tag's ">"
    post_id: str | None
    parts: list[str] = field(default_factory=list)
    size: int = 0
    depth: int = 1

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


class PostFinder(HTMLParser):
    """Collects the outermost elements the selector picks, with their plain text."""

    def __init__(self, source: str, selector: Selector, id_of: IdOf) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.selector = selector
        self.id_of = id_of
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.ancestors: Ancestors = []
        self.posts: list[PostSpan] = []
        self.comments: list[tuple[int, str]] = []
        self.current: PostSpan | None = None

    def source_offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if self.current is not None:
            self._inside_post(tag)
        elif self.selector(tag, attributes, self.ancestors):
            start = self.source_offset()
            raw = self.get_starttag_text() or ""
            if tag not in VOID_TAGS and not raw.endswith("/>"):
                self.current = PostSpan(tag, start, start + len(raw), self.id_of(attributes, self.ancestors))
        if tag not in VOID_TAGS:
            self.ancestors.append((tag, attributes))

    def _inside_post(self, tag: str) -> None:
        post = self.current
        assert post is not None
        if post.tag == "p" and tag in CLOSES_P:
            self._close()
        elif tag == post.tag:
            post.depth += 1

    def handle_endtag(self, tag: str) -> None:
        post = self.current
        if post is not None and (tag == post.tag or (post.tag == "p" and tag in CLOSES_P)):
            post.depth -= 1 if tag == post.tag else post.depth
            if post.depth <= 0:
                self._close()
        self._pop_ancestor(tag)

    def _pop_ancestor(self, tag: str) -> None:
        for index in range(len(self.ancestors) - 1, -1, -1):
            if self.ancestors[index][0] == tag:
                del self.ancestors[index:]
                return

    def handle_data(self, data: str) -> None:
        post = self.current
        if post is not None and post.size < MAX_POST_CHARS:
            post.parts.append(data)
            post.size += len(data)

    def handle_comment(self, data: str) -> None:
        if "<" not in data:
            return
        start = self.source_offset() + 4
        if self.source.startswith(data, start):
            self.comments.append((start, data))

    def _close(self) -> None:
        if self.current is not None:
            self.posts.append(self.current)
        self.current = None

    def finish(self) -> list[PostSpan]:
        self.close()
        self._close()
        return self.posts


def find_posts(source: str, selector: Selector, id_of: IdOf) -> list[PostSpan]:
    return scan(source, selector, id_of).finish()


def scan(source: str, selector: Selector, id_of: IdOf) -> PostFinder:
    finder = PostFinder(source, selector, id_of)
    finder.feed(source)
    return finder


def merge_class(start_tag: str, extra: str) -> str:
    """The start tag with ``extra`` added to its class list (a second class attribute would be ignored)."""
    match = _CLASS_ATTR.search(start_tag)
    if match is None:
        name = _TAG_NAME.match(start_tag)
        cut = name.end() if name else len(start_tag) - 1
        return f'{start_tag[:cut]} class="{extra}"{start_tag[cut:]}'
    value = next(group for group in match.groups() if group is not None).replace('"', "&quot;")
    return f'{start_tag[: match.start()]} class="{value} {extra}"{start_tag[match.end() :]}'


def marked_start_tag(start_tag: str, finding: Finding, collapsed: bool) -> str:
    css_class = "breather-cw breather-collapsed" if collapsed else "breather-cw"
    with_class = merge_class(start_tag, css_class)
    name = _TAG_NAME.match(with_class)
    cut = name.end() if name else 0
    data = (
        f' data-breather-categories="{html.escape(" ".join(finding.categories))}"'
        f' data-breather-evidence="{html.escape(" | ".join(finding.evidence))}"'
    )
    return with_class[:cut] + data + with_class[cut:]


def crisis_note(crisis: object) -> str:
    if crisis is None:
        return ""
    service = _first_attr(crisis, "service", "name")
    contact = " · ".join(v for v in (_first_attr(crisis, "phone"), _first_attr(crisis, "text", "sms")) if v)
    web = _first_attr(crisis, "web", "url")
    parts = [p for p in (service, contact, web) if p]
    if not parts:
        return ""
    return f'<span class="breather-crisis">Support is there if you need it: {html.escape(" — ".join(parts))}</span>'


def _first_attr(obj: object, *names: str) -> str:
    for name in names:
        value = getattr(obj, name, None)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def warning_control(finding: Finding, ctx: AdapterContext, collapsed: bool) -> str:
    """The note placed right before the post: what it is, why, a helpline where it matters, and the reveal toggle.

    The toggle is a checkbox the stylesheet reads (``:has(:checked) + .breather-cw``), so revealing works in
    fragments a site inserts with innerHTML and under any CSP; reveal.js, when present, only logs the reveal.
    """
    labels = ", ".join(dict.fromkeys(category_label(c) for c in finding.categories))
    why = ", ".join(f"“{e}”" for e in finding.evidence[:3])
    heading = "Hidden during your topic quiet hours" if collapsed else "Content warning"
    because = f'<span class="breather-evidence">Flagged for: {html.escape(why)}</span>' if why else ""
    crisis = crisis_note(ctx.crisis) if CRISIS_CATEGORIES.intersection(finding.categories) else ""
    return (
        f'<span class="breather-warning" role="note" data-breather-category="{html.escape(finding.categories[0])}">'
        f'<span class="breather-label">{heading}: {html.escape(labels)}.</span>{because}{crisis}'
        f'<label class="breather-reveal"><input type="checkbox" class="breather-reveal-toggle">Show this post'
        f"</label></span>"
    )


@cache
def asset(name: str) -> str:
    return resources.files("breather.proxy").joinpath("assets", name).read_text(encoding="utf-8")


def injected_assets(nonce: str | None) -> str:
    nonce_attr = f' nonce="{html.escape(nonce)}"' if nonce else ""
    return (
        f'<style{nonce_attr} data-breather="warnings">{asset("warnings.css")}</style>'
        f'<script{nonce_attr} data-breather="reveal">{asset("reveal.js")}</script>'
    )


def insert_assets(source: str, nonce: str | None) -> str:
    if 'data-breather="warnings"' in source:
        return source
    block = injected_assets(nonce)
    head_end = _HEAD_END.search(source)
    if head_end is not None:
        return source[: head_end.start()] + block + source[head_end.start() :]
    body = _BODY_START.search(source)
    if body is not None:
        return source[: body.end()] + block + source[body.end() :]
    return block + source


def mark_html(
    source: str,
    ctx: AdapterContext,
    selector: Selector,
    id_of: IdOf,
    *,
    inside_comments: bool = False,
    with_assets: bool = True,
) -> tuple[str, list[Marked]] | None:
    """The marked page and what was marked, or None when no post was flagged.

    ``inside_comments``: also mark posts inside ``<!-- ... -->`` (Facebook ships deferred markup that way and its
    script un-comments it later).
    """
    finder = scan(source, selector, id_of)
    edits: list[tuple[int, int, str]] = []
    marked: list[Marked] = []
    for post in finder.finish():
        edit = mark_post(source, post, ctx)
        if edit is not None:
            edits.append(edit[0])
            marked.append(edit[1])
    if inside_comments:
        for start, data in finder.comments:
            inner = mark_html(data, ctx, selector, id_of, with_assets=False)
            if inner is not None and "-->" not in inner[0]:
                edits.append((start, start + len(data), inner[0]))
                marked.extend(inner[1])
    if not marked:
        return None
    page = splice(source, sorted(edits))
    return (insert_assets(page, ctx.nonce) if with_assets else page), marked


def mark_post(source: str, post: PostSpan, ctx: AdapterContext) -> tuple[tuple[int, int, str], Marked] | None:
    start_tag = source[post.start : post.tag_end]
    if "breather-cw" in start_tag:
        return None
    finding = judge_text(post.text, ctx)
    if finding is None:
        return None
    collapsed = is_collapsed(finding, ctx)
    replacement = warning_control(finding, ctx, collapsed) + marked_start_tag(start_tag, finding, collapsed)
    return (post.start, post.tag_end, replacement), Marked(
        finding.categories, finding.evidence, "html", post.post_id, collapsed
    )


def splice(source: str, edits: list[tuple[int, int, str]]) -> str:
    pieces: list[str] = []
    cursor = 0
    for start, end, replacement in edits:
        pieces += [source[cursor:start], replacement]
        cursor = end
    pieces.append(source[cursor:])
    return "".join(pieces)


def looks_like_script_data(source: str) -> bool:
    """JSON (or a guarded JSON payload) served as text/html: splicing markup into it would corrupt its strings."""
    head = source[:64].lstrip()
    return head.startswith(("{", "[", "for (;;);", "while(1);", ")]}'"))


def decode_html(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


class HtmlAdapter:
    """An HTML adapter is a selector (which elements are posts) plus how to name a post."""

    name = "generic"
    inside_comments = False

    def select(self, tag: str, attrs: Attrs, ancestors: Ancestors) -> bool:
        raise NotImplementedError

    def post_id(self, attrs: Attrs, ancestors: Ancestors) -> str | None:
        return attrs.get("id") or None

    def rewrite(self, body: bytes, ctx: AdapterContext) -> RewriteResult | None:
        try:
            return self._rewrite(body, ctx)
        except Exception:  # fail open: a page must never break because of a warning
            return None

    def _rewrite(self, body: bytes, ctx: AdapterContext) -> RewriteResult | None:
        source = decode_html(body)
        if source is None or looks_like_script_data(source) or not ctx.screen(html.unescape(source)):
            return None
        result = mark_html(source, ctx, self.select, self.post_id, inside_comments=self.inside_comments)
        if result is None:
            return None
        page, marked = result
        return RewriteResult(body=page.encode("utf-8"), marked=marked)
