"""Find post elements in an HTML page with the stdlib parser and mark the flagged ones by editing the source text.

The page is never re-serialised: the parser only reports where each post's start tag is, and the edits are splices
at those offsets (a class and data attributes merged into the start tag, a warning control inserted before it, the
stylesheet and reveal script inserted once in the head). Every other byte stays as it was, a byte that is not UTF-8
included: it is read as a lone surrogate (``surrogateescape``), one code point per byte, and written back as itself.
"""

from __future__ import annotations

import codecs
import hashlib
import html
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import cache, lru_cache
from importlib import resources

from breather.proxy.adapters.base import (
    CRISIS_CATEGORIES,
    AdapterContext,
    Finding,
    Marked,
    RewriteResult,
    category_label,
    fail_open,
    is_collapsed,
    judge_text,
    screen_text,
)
from breather.proxy.adapters.htmljump import first_markup
from breather.proxy.adapters.htmlscan import Ancestors, Attrs, IdOf, PostSpan, Selector, scan
from breather.proxy.adapters.textutil import without_scripts, without_tags
from breather.rules.crisis import Piece, contact_pieces, line_for_categories

__all__ = ["Ancestors", "Attrs", "HtmlAdapter", "classes", "mark_html", "nearest_attr"]

_CLASS_ATTR = re.compile(r"""\sclass\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""", re.IGNORECASE)
_TAG_NAME = re.compile(r"<[A-Za-z][^\s/>]*")
_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)
_BODY_START = re.compile(r"<body\b[^<>]*>", re.IGNORECASE)  # no "<" inside: linear on a run of unclosed "<body"
# What ``surrogateescape`` makes of the bytes that are not UTF-8.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
# What may come before the first element of a page: a byte order mark, white space, comments (``<?xml ...>`` is
# read as one), the doctype, then the ``<html>`` and ``<head>`` start tags. Markup put before the doctype turns on
# quirks mode, and put before the BOM hides it (the page is then read as windows-1252).
# Possessive (``*+``): a run of white space is read once, never given back, whatever fails after it (a plain ``*``
# over ``[...]+`` tried every split of the run: 21 s for 28 spaces after ``<html>`` on a page with no ``<head>``).
_SKIPPED = r"(?:[\t\n\f\r ]+|<!--.*?-->|<\?[^>]*>)*+"
_PROLOGUE = (
    r"(?:{bom})?" + _SKIPPED + r"(?:<!doctype\b[^>]*>" + _SKIPPED + r")?"
    r"(?:<html\b[^<>]*>(?:" + _SKIPPED + r"<head\b[^<>]*>)?)?"
)
_PROLOGUE_TEXT = re.compile(_PROLOGUE.format(bom=r"\ufeff"), re.IGNORECASE | re.DOTALL)
_PROLOGUE_BYTES = re.compile(_PROLOGUE.format(bom=r"\xef\xbb\xbf").encode("ascii"), re.IGNORECASE | re.DOTALL)


def classes(attrs: Attrs) -> set[str]:
    return set(attrs.get("class", "").split())


def nearest_attr(ancestors: Ancestors, attribute: str, css_class: str | None = None) -> str | None:
    """The closest ancestor's ``attribute`` (only ancestors with ``css_class``, if given)."""
    for _tag, attrs in reversed(ancestors):
        if attribute in attrs and (css_class is None or css_class in classes(attrs)):
            return attrs[attribute] or None
    return None


def merge_class(start_tag: str, extra: str) -> str:
    """The start tag with ``extra`` added to its class list (a second class attribute would be ignored)."""
    match = _CLASS_ATTR.search(start_tag)
    if match is None:
        name = _TAG_NAME.match(start_tag)
        cut = name.end() if name else len(start_tag) - 1
        return f'{start_tag[:cut]} class="{extra}"{start_tag[cut:]}'
    value = next(group for group in match.groups() if group is not None).replace('"', "&quot;")
    return f'{start_tag[: match.start()]} class="{value} {extra}"{start_tag[match.end() :]}'


def pair_id(at: int, start_tag: str, text: str) -> str:
    """What ties a note to its post (``data-breather-for`` on the note, ``data-breather-id`` on the post), so reveal.js
    finds the post wherever the browser put the note. Not a count: a page is marked in parts (Facebook's deferred
    markup and payload fragments, later responses added to the same document), and a count restarting at 1 in each
    part would pair one note with another part's post. A digest of the post (where in the page it starts, ``at``, its
    start tag and its text), so a page is marked the same way every time, whichever way its posts were found."""
    post = f"{at}\0{start_tag}\0{text}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(post, digest_size=8).hexdigest()


def marked_start_tag(start_tag: str, finding: Finding, collapsed: bool, pair: str) -> str:
    """The post's start tag, covered: blurred (or collapsed) by warnings.css, and ``inert`` so that until it is
    revealed neither Tab nor Enter reaches its links and a screen reader does not read its text. ``inert`` is in the
    markup, not set by a script, so it holds before any script runs; reveal.js removes it."""
    css_class = "breather-cw breather-collapsed" if collapsed else "breather-cw"
    with_class = merge_class(start_tag, css_class)
    name = _TAG_NAME.match(with_class)
    cut = name.end() if name else 0
    # The evidence is not copied here: the note holds it, behind "Why this was flagged" (reveal.js needs only this).
    categories = html.escape(" ".join(finding.categories))
    data = ascii_markup(f' data-breather-categories="{categories}" inert data-breather-id="{pair}"')
    return with_class[:cut] + data + with_class[cut:]


def crisis_note(crisis: object) -> str:
    """One line naming the helpline (``breather.rules.crisis.CrisisLine``: service, phone, text, web, hours), its
    numbers ``tel:``/``sms:`` links and its page a link."""
    if crisis is None:
        return ""
    said = pieces_html(contact_pieces(crisis))
    return f'<span class="breather-crisis">Support is there if you need it: {said}</span>' if said else ""


def pieces_html(pieces: Iterable[Piece]) -> str:
    """A crisis line's pieces as markup: a web page opens in a new tab with no referrer; a number is a plain link the
    phone's dialler (or messages app) takes."""
    out: list[str] = []
    for piece in pieces:
        text = html.escape(piece.text)
        if not piece.href:
            out.append(text)
        elif piece.href.startswith("https://"):
            out.append(f'<a href="{html.escape(piece.href)}" target="_blank" rel="noopener noreferrer">{text}</a>')
        else:
            out.append(f'<a href="{html.escape(piece.href)}">{text}</a>')
    return "".join(out)


def warning_control(finding: Finding, ctx: AdapterContext, collapsed: bool, pair: str | None = None) -> str:
    """The note placed right before the post: what it is, a helpline where it matters, why, and a reveal button.

    The note names its post by ``pair`` rather than by being its neighbour: a browser does not always keep it next to
    the post. Before a ``<p>`` that follows an unclosed ``<p>`` (the way Hacker News and much hand-written HTML write
    paragraphs) the note is parsed into the previous paragraph, and "Show post" did nothing.

    The words that matched are behind one more step ("Why this was flagged", a button that shows them): a user test
    read "kill myself" on the cover without meaning to. reveal.js (injected once per document) shows the post when
    the button is clicked and logs the category, and shows the evidence when that button is clicked.
    """
    labels = ", ".join(dict.fromkeys(category_label(c) for c in finding.categories))
    heading = "Hidden during your topic quiet hours" if collapsed else "Content warning"
    crisis = ""
    if ctx.crisis is not None and CRISIS_CATEGORIES.intersection(finding.categories):
        crisis = crisis_note(line_for_categories(ctx.crisis, finding.categories))
    named = f' data-breather-for="{pair}"' if pair else ""
    return ascii_markup(
        f'<span class="breather-warning" role="note" data-breather-category="{html.escape(finding.categories[0])}"'
        f"{named}>"
        f'<span class="breather-label">{heading}: {html.escape(labels)}.</span>{crisis}{learn_link(ctx)}'
        f"{why_flagged(finding)}"
        f'<button type="button" class="breather-reveal">Show post ({html.escape(labels)})</button></span>'
    )


def ascii_markup(markup: str) -> str:
    """``markup`` in ASCII, every other character a character reference: it goes into a page in the site's own
    encoding (ISO-8859-1, Shift_JIS, ...), where the UTF-8 of the note's quotes, a helpline's name or a topic of the
    person's own came out garbled. A reference reads the same in text and in attribute values, in any encoding."""
    return markup.encode("ascii", "xmlcharrefreplace").decode("ascii")


def why_flagged(finding: Finding) -> str:
    """A disclosure button and the evidence, hidden until it is pressed. Not a ``<details>``: the note is a ``<span>``
    that may sit inside a ``<p>`` (old.reddit's title), and a ``<details>`` start tag would close that paragraph."""
    if not finding.evidence:
        return ""
    return (
        '<button type="button" class="breather-why" aria-expanded="false">Why this was flagged</button>'
        f'<span class="breather-evidence" hidden>{html.escape(_because(finding))}</span>'
    )


def _because(finding: Finding) -> str:
    """Why the post was flagged, in the person's words: the phrases that matched, or, when the model flagged it on
    its wording as a whole, that and the words it weighed most (which on their own may look harmless)."""
    why = ", ".join(f"“{e}”" for e in finding.evidence[:3])
    if finding.worded:
        return f"Flagged for its wording as a whole; the words that weighed most: {why}"
    return f"Flagged for: {why}"


def learn_link(ctx: AdapterContext) -> str:
    """A plain link to the dashboard's guide; no referrer, so the dashboard never learns which page it was on."""
    if not ctx.learn_url:
        return ""
    return (
        f'<a class="breather-learn" href="{html.escape(ctx.learn_url)}" target="_blank" rel="noopener noreferrer">'
        "About content warnings</a>"
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
    edit = assets_edit(source, nonce)
    return source if edit is None else splice(source, [edit])


def prologue_end[AnyStr: (bytes, str)](page: AnyStr) -> int:
    """Where markup goes in a page with neither ``</head>`` nor ``<body>`` (HTML lets a page leave both out): after
    its ``<html …>`` (and ``<head …>``) start tag, else after its doctype, else after its byte order mark, and never
    before the comments and white space that follow each of them."""
    prologue = _PROLOGUE_BYTES.match(page) if isinstance(page, bytes) else _PROLOGUE_TEXT.match(page)
    return prologue.end() if prologue is not None else 0


def assets_edit(source: str, nonce: str | None) -> tuple[int, int, str] | None:
    """Where the stylesheet and reveal script go (before ``</head>``, else after ``<body>``, else after the page's
    prologue: see :func:`prologue_end`), as a splice; None when a response seen twice already has them (they would
    sit before that point)."""
    block = injected_assets(nonce)
    head_end = first_markup(_HEAD_END, source)
    if head_end is not None:
        at = head_end.start()
    else:
        body = first_markup(_BODY_START, source)
        at = body.end() if body is not None else prologue_end(source)
    if 'data-breather="warnings"' in source[: at + len(block)]:
        return None
    return at, at, block


def mark_html(
    source: str,
    ctx: AdapterContext,
    selector: Selector,
    id_of: IdOf,
    *,
    inside_comments: bool = False,
    with_assets: bool = True,
    hints: tuple[str, ...] = (),
    at: int = 0,
) -> tuple[str, list[Marked]] | None:
    """The marked page and what was marked, or None when no post was flagged.

    ``inside_comments``: also mark posts inside ``<!-- ... -->`` (Facebook ships deferred markup that way and its
    script un-comments it later). ``at``: where ``source`` starts in the page (a comment's text is marked on its own).
    """
    found = scan(source, selector, id_of, hints)
    edits, marked = judge_posts(source, found.posts, ctx, at)
    if inside_comments:
        for start, data in found.comments:
            inner = mark_html(data, ctx, selector, id_of, with_assets=False, hints=hints, at=at + start)
            if inner is not None and "-->" not in inner[0]:
                edits.append((start, start + len(data), inner[0]))
                marked.extend(inner[1])
    if not marked:
        return None
    page = splice(source, sorted(edits))
    return (insert_assets(page, ctx.nonce) if with_assets else page), marked


def mark_found(source: str, posts: list[PostSpan], ctx: AdapterContext) -> tuple[str, list[Marked]] | None:
    """The page with the flagged ones of ``posts`` (found by jumping to them) marked, or None."""
    edits, marked = judge_posts(source, posts, ctx)
    if not marked:
        return None
    assets = assets_edit(source, ctx.nonce)
    # One splice for the marks and the assets: the page is copied once. The assets go in before a mark at the
    # same offset (a fragment's first post), as inserting them afterwards would.
    return splice(source, sorted([*([assets] if assets else []), *edits], key=lambda edit: edit[0])), marked


# The classifier's screen reads at most its first 10,000 characters (``breather.rules.classify.MAX_CHARS``): longer
# text is screened in pieces of this size, so nothing past that point escapes it.
SCREEN_CHARS = 9_000
# Pieces of one long text overlap by this much, so a phrase cut at a piece boundary is still seen whole.
SCREEN_OVERLAP = 500


def screen_long(text: str, ctx: AdapterContext) -> bool:
    """The screen over all of ``text``, however long: False only when no piece of it could be flagged."""
    step = SCREEN_CHARS - SCREEN_OVERLAP
    return any(screen_text(text[start : start + SCREEN_CHARS], ctx) for start in range(0, max(len(text), 1), step))


def judge_posts(
    source: str, posts: list[PostSpan], ctx: AdapterContext, at: int = 0
) -> tuple[list[tuple[int, int, str]], list[Marked]]:
    edits: list[tuple[int, int, str]] = []
    marked: list[Marked] = []
    # No screen here: screening the posts' texts in batches said "maybe" for 17 of the 19 batches of the real HN and
    # Facebook pages (~1 ms a page for nothing), and the classifier applies the same gate to each post itself.
    for post in posts:
        edit = mark_post(source, post, post.text, ctx, at)
        if edit is not None:
            edits.append(edit[0])
            marked.append(edit[1])
    return edits, marked


def mark_post(
    source: str, post: PostSpan, text: str, ctx: AdapterContext, at: int = 0
) -> tuple[tuple[int, int, str], Marked] | None:
    start_tag = source[post.start : post.tag_end]
    if "breather-cw" in start_tag:
        return None
    finding = judge_text(text, ctx)
    if finding is None:
        return None
    collapsed = is_collapsed(finding, ctx)
    pair = pair_id(at + post.start, start_tag, text)
    replacement = warning_control(finding, ctx, collapsed, pair) + marked_start_tag(start_tag, finding, collapsed, pair)
    return (post.start, post.tag_end, replacement), Marked.of(finding, "html", post.ident(), collapsed)


def splice(source: str, edits: list[tuple[int, int, str]]) -> str:
    pieces: list[str] = []
    cursor = 0
    for start, end, replacement in edits:
        pieces += [source[cursor:start], replacement]
        cursor = end
    pieces.append(source[cursor:])
    return "".join(pieces)


def visible_text(source: str) -> str:
    """Roughly what a reader sees: scripts, styles and tags dropped, entities decoded. Only for screening: the
    screen answers "could anything here be flagged?" in a few ms, so a calm page never pays for the scan."""
    return html.unescape(without_tags(without_scripts(source)))


def looks_like_script_data(source: str) -> bool:
    """JSON (or a guarded JSON payload) served as text/html: splicing markup into it would corrupt its strings."""
    head = source[:64].lstrip()
    return head.startswith(("{", "[", "for (;;);", "while(1);", ")]}'"))


def decode_html(body: bytes, ctx: AdapterContext, declared: str = "") -> tuple[str, AdapterContext]:
    """The page as text, and the context to read it with.

    A user test's page had one stray byte in its title, and its distressing post went out unmarked: a byte that is not
    UTF-8 no longer leaves the whole page unread. It is kept as a lone surrogate, so the page is written back byte for
    byte. What the judge and the screen see in its place depends on the page: in a page that declares its encoding
    (ISO-8859-1, windows-1251, Shift_JIS, ...), the text as the browser shows it, so a member's own words match
    there too; in any other, U+FFFD. No surrogate reaches the classifier, or the evidence that the warning shows.
    ``declared``: the charset the response's Content-Type names (``AdapterContext.charset``).
    """
    try:
        return body.decode("utf-8"), ctx
    except UnicodeDecodeError:
        source = body.decode("utf-8", "surrogateescape")
        encoding = page_encoding(body, declared)
        read = readable if encoding is None else as_shown_in(source, encoding)
        return source, reading_escaped_bytes(ctx, read)


def reading_escaped_bytes(ctx: AdapterContext, read: Callable[[str], str]) -> AdapterContext:
    judge, screen = ctx.judge, ctx.screen
    return replace(ctx, judge=lambda text: judge(read(text)), screen=lambda text: screen(read(text)))


def readable(text: str) -> str:
    return _ESCAPED_BYTE.sub("\ufffd", text)


# The prescan (HTML's "prescan a byte stream"): a <meta charset> or <meta http-equiv content="...; charset=...">
# in the first 1024 bytes, outside comments.
PRESCAN_BYTES = 1024
_META_OR_COMMENT = re.compile(rb"<!--.*?-->|<meta[\s/][^>]*>", re.IGNORECASE | re.DOTALL)
_META_CHARSET = re.compile(rb"""\bcharset\s*=\s*["']?\s*([^\s"'/;>]+)""", re.IGNORECASE)
_UTF8_BOM = b"\xef\xbb\xbf"


def page_encoding(body: bytes, declared: str = "") -> str | None:
    """The codec a browser reads the page with, when that is not UTF-8: the byte order mark's, else the one the
    Content-Type header names (``declared``), else the one the prescan finds; None for UTF-8 or nothing usable."""
    if body.startswith(_UTF8_BOM):
        return None
    codec = codec_for(declared) or codec_for(meta_charset(body[:PRESCAN_BYTES]))
    return None if codec == "utf-8" else codec


def meta_charset(head: bytes) -> str:
    for found in _META_OR_COMMENT.finditer(head):
        charset = _META_CHARSET.search(found.group())
        if charset is not None and not found.group().startswith(b"<!--"):
            return charset.group(1).decode("ascii", "replace")
    return ""


# Labels browsers read as another encoding than the one they name (the WHATWG Encoding Standard), by Python's name
# of the one named. A page that names UTF-16 in a <meta> is read as UTF-8; UTF-7 is no web encoding at all.
_AS_BROWSERS_READ = {
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    "utf-16": "utf-8",
    "utf-16-le": "utf-8",
    "utf-16-be": "utf-8",
}


@lru_cache(maxsize=64)
def codec_for(label: str) -> str | None:
    """Python's codec for a charset label, as browsers read it; None for a label that names no text encoding
    browsers know (rot13 and base64 are codecs to Python, not text encodings)."""
    try:
        name = codecs.lookup(label.strip()).name
        b"\xe9".decode(name, "replace")
    except (LookupError, UnicodeError):
        return None
    if name == "utf-7" or name.startswith("utf-32"):
        return None
    return _AS_BROWSERS_READ.get(name, name)


# A character of a page read as UTF-8 with its other bytes escaped that is neither ASCII nor one escaped byte.
_NOT_ONE_BYTE = re.compile(r"[^\x00-\x7f\udc80-\udcff]")


def as_shown_in(source: str, encoding: str) -> Callable[[str], str]:
    """How to read a post's text (taken from ``source``, a page in ``encoding`` read as UTF-8 with its other bytes
    escaped) as the browser shows it: the page's bytes decoded in ``encoding``.

    Not every character of a post's text came from the page's bytes: a character reference (``&nbsp;``,
    ``&#8217;``) is read into the character it names, which must stay as it is. So only what the page's bytes
    account for is decoded again: ASCII, escaped bytes, and the few characters of ``source`` that a run of its
    bytes spelled in UTF-8 by chance."""
    by_chance = "".join(sorted(set(_NOT_ONE_BYTE.findall(source))))
    named = re.compile(r"([^\x00-\x7f\udc80-\udcff" + re.escape(by_chance) + "]+)")

    def as_shown(text: str) -> str:
        pieces = named.split(text)  # the bytes' runs at even places, what references named at odd ones
        pieces[::2] = [run.encode("utf-8", "surrogateescape").decode(encoding, "replace") for run in pieces[::2]]
        return "".join(pieces)

    return as_shown


class HtmlAdapter:
    """An HTML adapter is a selector (which elements are posts) plus how to name a post."""

    name = "generic"
    inside_comments = False
    # Substrings one of which every post's start tag contains: other tags are never offered to select().
    hints: tuple[str, ...] = ()

    def select(self, tag: str, attrs: Attrs, ancestors: Ancestors) -> bool:
        raise NotImplementedError

    def post_id(self, attrs: Attrs, ancestors: Ancestors) -> str | None:
        return attrs.get("id") or None

    def jump(self, source: str) -> list[PostSpan] | None:
        """The posts found by jumping straight to their start tags (``htmljump``), or None: walk the whole page
        with ``select``/``post_id`` (the full scanner)."""
        return None

    @fail_open
    def rewrite(self, body: bytes, ctx: AdapterContext) -> RewriteResult | None:
        source, ctx = decode_html(body, ctx, ctx.charset)
        if looks_like_script_data(source):
            return None
        posts = self.jump(source)
        if posts is not None:
            # Finding the posts by jumping costs less than screening the whole page first, and the classifier
            # screens each post itself: ctx.screen is not needed here.
            result = mark_found(source, posts, ctx)
        elif not screen_long(visible_text(source), ctx):
            return None
        else:
            result = mark_html(
                source, ctx, self.select, self.post_id, inside_comments=self.inside_comments, hints=self.hints
            )
        if result is None:
            return None
        page, marked = result
        return RewriteResult(body=page.encode("utf-8", "surrogateescape"), marked=marked)
