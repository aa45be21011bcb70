"""Find posts by jumping straight to their start tags instead of walking every tag of the page.

Walking every tag in Python (``htmlscan.Scanner``) costs ~150-300 ms on a 300 KB Hacker News page, although only a
few hundred of its ~8,000 tags start a post. Here an adapter names its post start tags with a precompiled pattern
(found at C speed); each candidate is checked against the same rules the full scanner applies, and only the
post's own element is walked (with the full scanner's code, so its text and its end are exactly the same).

What the full scanner knows from walking the page, this module works out locally:
* candidates inside comments, ``<!...>`` declarations and raw-text elements (script, style, ...) are skipped, and
  so are candidates that sit inside another tag's quoted attribute value;
* a candidate inside a post that is still open is part of that post, not a post of its own;
* ancestors an adapter asks about (the row a comment sits in, a ``nav`` around a paragraph) come from the
  adapter's own cheap lookups, not from a stack of every open element.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Callable, Iterable
from functools import lru_cache, partial
from typing import NamedTuple

from breather.proxy.adapters.htmlscan import (
    CLOSES_P,
    MAX_POST_CHARS,
    P_ENDED_BY,
    RAW_TEXT_TAGS,
    VOID_TAGS,
    LazyAttrs,
    PostSpan,
    Scanner,
    clear_attrs_cache,
    name_end,
    tag_end,
)


def _any_case(name: str) -> str:
    # Spelled out rather than re.IGNORECASE, which makes the pattern test every offset (5-10x slower here).
    return "".join(f"[{char}{char.upper()}]" if char.isalpha() else re.escape(char) for char in name)


def any_case_names(names: Iterable[str]) -> str:
    """Alternatives matching any of ``names`` (lower-case tag names) in any case."""
    return "|".join(_any_case(name) for name in sorted(names))


def initials(names: Iterable[str]) -> str:
    """The first letters of ``names`` in both cases, for a lookahead that turns other tags away at once."""
    return "".join(sorted({name[0] for name in names} | {name[0].upper() for name in names}))


# The lookahead turns most of a page's "<" away on their next character (~2x faster than trying each branch).
_OPAQUE_START = re.compile(
    r"<(?=[!?" + initials(RAW_TEXT_TAGS) + r"])(?:!--|[!?]|(" + any_case_names(RAW_TEXT_TAGS) + r")(?=[\s/>]))"
)


class StartTag(NamedTuple):
    """One start tag found in the source: where it is, its lower-case name and its attributes (parsed lazily)."""

    start: int
    end: int  # just after its ">"
    name: str
    attrs: LazyAttrs
    void: bool


# A start tag with every quote closed, its name (up to whitespace, "/" or ">") as group 1, in one match: the usual
# case of tag_end + name_end. A name running into a quote, or a quote left open, takes the slower path.
_START_TAG = re.compile(r"""<([A-Za-z][^\s/>"']*+)(?!["'])(?:[^>"']++|"[^"]*+"|'[^']*+')*+>""")


def start_tag_at(source: str, lt: int) -> StartTag | None:
    """The start tag beginning at ``lt``, read exactly as the full scanner reads it (quotes respected)."""
    match = _START_TAG.match(source, lt)
    if match is not None:
        raw = match.group(0)
        name = match.group(1).lower()
        return StartTag(lt, match.end(), name, LazyAttrs(raw, match.end(1) - lt), name in VOID_TAGS or raw[-2] == "/")
    return _start_tag_slowly(source, lt)


def _start_tag_slowly(source: str, lt: int) -> StartTag | None:
    if not source[lt + 1 : lt + 2].isalpha():
        return None
    gt = tag_end(source, lt)
    if gt < 0:
        return None
    raw = source[lt : gt + 1]
    cut = name_end(raw)
    name = raw[1:cut].lower()
    return StartTag(lt, gt + 1, name, LazyAttrs(raw, cut), name in VOID_TAGS or raw.endswith("/>"))


class Opaque:
    """The parts of a page the full scanner never reads as markup: comments, declarations, raw-text bodies."""

    def __init__(self, source: str) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        cursor = 0
        while (match := _OPAQUE_START.search(source, cursor)) is not None:
            lt = match.start()
            if inside_tag(source, lt):
                cursor = lt + 1
                continue
            end = opaque_end(source, lt, match.group(1))
            self.starts.append(lt)
            self.ends.append(end)
            cursor = max(end, lt + 1)

    def covers(self, offset: int) -> bool:
        index = bisect.bisect_right(self.starts, offset) - 1
        return index >= 0 and offset < self.ends[index]

    def comments_with_markup(self, source: str) -> list[tuple[int, int]]:
        """(start, end) of the data of each ``<!-- -->`` comment holding a ``<``, as the full scanner collects them
        (Facebook ships deferred markup that way)."""
        found = []
        for start, end in zip(self.starts, self.ends, strict=True):
            if source.startswith("<!--", start):
                data_end = end - 3 if source.startswith("-->", end - 3) and end - 3 >= start + 4 else end
                if source.find("<", start + 4, data_end) >= 0:
                    found.append((start + 4, data_end))
        return found


def opaque_end(source: str, lt: int, raw_name: str | None) -> int:
    """Where the full scanner resumes reading markup after the opaque part starting at ``lt``."""
    length = len(source)
    if raw_name is None:
        if source.startswith("<!--", lt):
            end = source.find("-->", lt + 4)
            return length if end < 0 else end + 3
        end = source.find(">", lt)
        return length if end < 0 else end + 1
    gt = tag_end(source, lt)
    if gt < 0:
        return length
    name = raw_name.lower()
    lower = source.find("</" + name, gt + 1)
    upper = source.find("</" + name.upper(), gt + 1, lower if lower >= 0 else length)
    return upper if upper >= 0 else (lower if lower >= 0 else length)


def inside_tag(source: str, offset: int) -> bool:
    """Whether ``offset`` lies inside the markup of an earlier tag (a quoted attribute value swallowing it)."""
    lt = offset
    while (lt := source.rfind("<", 0, lt)) >= 0:
        follower = source[lt + 1 : lt + 2]
        if follower.isalpha():
            end = tag_end(source, lt)
            return end < 0 or end >= offset
        if follower in ("/", "!", "?"):
            return source.find(">", lt, offset) < 0
    return False


def first_markup[AnyStr: (bytes, str)](pattern: re.Pattern[AnyStr], source: AnyStr) -> re.Match[AnyStr] | None:
    """The first match of ``pattern`` that a browser reads as markup (see :class:`MarkupReader`).

    A page's inline script or JSON state may hold a ``</head>`` of its own (a string, a post quoting it); what is
    inserted there ends up inside that script. Only the text before the first match is read in the usual case (a
    page's head); the whole page only when that match is in such a place.
    """
    first = pattern.search(source)
    if first is None or MarkupReader(source[: first.end()]).reads_as_markup(first.start()):
        return first
    page = MarkupReader(source)
    return next((match for match in pattern.finditer(source, first.end()) if page.reads_as_markup(match.start())), None)


class MarkupReader:
    """Which offsets of a page (text, or bytes read one character per byte) a browser reads as markup: not inside a
    comment, a raw-text element (script, style, title, ...) or another tag's quoted attribute value."""

    def __init__(self, source: str | bytes) -> None:
        # Latin-1 reads one character per byte: offsets in the text are offsets in the bytes.
        self.text = source if isinstance(source, str) else source.decode("latin-1")
        self.opaque = Opaque(self.text)

    def reads_as_markup(self, offset: int) -> bool:
        return not self.opaque.covers(offset) and not inside_tag(self.text, offset)


class _Never:
    """Selector and id for the post walk: while a post is open the full scanner never selects another one."""

    @staticmethod
    def select(*_args: object) -> bool:
        return False

    @staticmethod
    def id_of(*_args: object) -> None:
        return None


def walk_post(source: str, tag: StartTag, post_id: str | None) -> tuple[PostSpan, int]:
    """The post opened by ``tag`` with its text, and the offset of the markup that ended it."""
    scanner = Scanner(source, _Never.select, _Never.id_of, ())
    post = PostSpan(tag.name, tag.start, tag.end, post_id)
    scanner.current = post
    cursor, length = tag.end, len(source)
    while cursor < length and scanner.current is not None:
        lt = source.find("<", cursor)
        if lt < 0:
            scanner._text(cursor, length)
            return post, length
        scanner._text(cursor, lt)
        cursor = scanner._markup(lt)
        if scanner.current is None:
            return post, lt
    return post, length


# Markup the full scanner reads exactly like a naive "<...>" split: text, start tags whose quoted values hold no
# "<" or ">", and end tags "</name>" (whitespace allowed before the ">"). Comments, declarations, a "<" that opens
# no tag, odd end tags ("</ span>", "</span x>") and quotes left open all fail to match: the region is walked.
# Raw-text elements (script, style, textarea, title, ...) are not simple either: the walker skips their bodies.
_NOT_RAW_TEXT = r"(?!(?i:" + "|".join(sorted(RAW_TEXT_TAGS)) + r")[\s/>])"
_SIMPLE_MARKUP = re.compile(
    r"""(?:[^<]++|<"""
    + _NOT_RAW_TEXT
    + r"""[A-Za-z][^<>"']*+(?:(?:"[^"<>]*+"|'[^'<>]*+')[^<>"']*+)*+>|</[A-Za-z][^<>\s]*+\s*+>)*+"""
)
_ANY_TAG = re.compile(r"<[^>]*>")
_SAME_NAME: dict[str, re.Pattern[str]] = {}
# How far a post's end is looked for by pairing tags (markup counts here, unlike the walker's text limit).
MAX_POST_MARKUP = 8 * MAX_POST_CHARS
# What closes an open <p> for the full scanner: a start tag of CLOSES_P, an end tag of P_ENDED_BY ("</div x>" is
# not matched here; the markup check then fails on it and the paragraph is walked).
_P_CLOSER = re.compile(
    r"<(?:(?:"
    + "|".join(_any_case(name) for name in sorted(CLOSES_P))
    + r")(?=[\s/>])|/(?:"
    + "|".join(_any_case(name) for name in sorted(P_ENDED_BY))
    + r")\s*>)"
)


def _same_name(name: str) -> re.Pattern[str]:
    pattern = _SAME_NAME.get(name)
    if pattern is None:
        spelled = _any_case(name)
        # "</span x>" is not matched as an end tag: the markup check then fails on it and the post is walked.
        pattern = _SAME_NAME[name] = re.compile(r"<(?:(/)" + spelled + r"\s*>|" + spelled + r"(?=[\s/>]))")
    return pattern


def simple_post_end(source: str, tag: StartTag) -> int:
    """Where the post opened by ``tag`` ends (the ``<`` of its end tag), found by pairing only start and end tags of
    its own name, or -1 when its markup is not simple enough for that to be exactly what the full scanner finds."""
    if tag.name == "p":
        # A paragraph has no depth: the first block start tag or the end of an element around it closes it.
        closer = _P_CLOSER.search(source, tag.end, tag.end + MAX_POST_MARKUP)
        return closer.start() if closer is not None else -1
    depth = 1
    for match in _same_name(tag.name).finditer(source, tag.end, tag.end + MAX_POST_MARKUP):
        if match.group(1):
            depth -= 1
            if depth == 0:
                return match.start()
            continue
        gt = source.find(">", match.end())
        if gt < 0 or source[gt - 1] != "/":  # "<span/>" opens nothing, as for the walker
            depth += 1
    return -1


def is_simple_markup(source: str, start: int, end: int) -> bool:
    """Whether the full scanner reads ``source[start:end]`` exactly like a naive split at ``<`` and ``>``."""
    return _SIMPLE_MARKUP.fullmatch(source, start, end) is not None


def read_post(source: str, tag: StartTag, post_id: str | None) -> tuple[PostSpan, int]:
    """Like :func:`walk_post`, at C speed when the post's markup is simple (the usual case): its end found by pairing
    tags of its own name, its text by one substitution. Anything the naive reading could get wrong (comments,
    scripts and other raw-text elements, quoted "<" or ">", stray "<", very long posts) is walked instead."""
    end = simple_post_end(source, tag)
    if end < 0:
        return walk_post(source, tag, post_id)
    inner = source[tag.end : end]
    text = cached_text(inner)
    if text is None:
        return walk_post(source, tag, post_id)
    return PostSpan(tag.name, tag.start, tag.end, post_id, plain=text), end


def _simple_text(inner: str) -> str | None:
    """The visible text of simple markup (every tag a word break, as the walker joins its text pieces), or None
    when the markup is not simple (see :func:`is_simple_markup`) or holds so much text that the walker would have
    stopped collecting it part-way (``MAX_POST_CHARS``)."""
    if not is_simple_markup(inner, 0, len(inner)):
        return None
    stripped, tags = _ANY_TAG.subn(" ", inner) if "<" in inner else (inner, 0)
    if len(stripped) - tags >= MAX_POST_CHARS:
        return None
    return " ".join(html.unescape(stripped).split())


# Feeds repeat posts across reloads and pages: a post's reading is cached by its exact markup (bounded, and only
# for posts of ordinary length, so the cache stays a few MB at most).
CACHED_POST_CHARS = 2_000
simple_text = lru_cache(maxsize=1024)(_simple_text)
# Long posts (a few per comment page, each costing ~50 us to read) get a smaller cache of their own: a few MB at most.
CACHED_LONG_POST_CHARS = 16_000
long_text = lru_cache(maxsize=128)(_simple_text)


def cached_text(inner: str) -> str | None:
    """:func:`_simple_text`, remembered for posts of up to ``CACHED_LONG_POST_CHARS`` characters of markup."""
    if len(inner) <= CACHED_POST_CHARS:
        return simple_text(inner)
    return long_text(inner) if len(inner) <= CACHED_LONG_POST_CHARS else _simple_text(inner)


def clear_reading_caches() -> None:
    """Forget every cached tag and post reading (benchmarks of pages never seen before)."""
    simple_text.cache_clear()
    long_text.cache_clear()
    clear_attrs_cache()


IdAt = Callable[[StartTag], str | None]


def jump_posts(
    source: str, candidates: Iterable[StartTag], id_at: IdAt, opaque: Opaque, *, lazy_ids: bool = False
) -> list[PostSpan]:
    """Posts from candidate start tags (in source order), as the full scanner would find them. ``lazy_ids``: a post's
    id is looked up only when asked for (``PostSpan.ident``), for ids that cost a lookup of their own."""
    posts: list[PostSpan] = []
    open_until = 0
    for tag in candidates:
        if tag.start < open_until or tag.void or opaque.covers(tag.start) or inside_tag(source, tag.start):
            continue
        post, open_until = read_post(source, tag, None if lazy_ids else id_at(tag))
        if lazy_ids:
            post.find_id = partial(id_at, tag)
        posts.append(post)
    return posts


def tags_matching(source: str, pattern: re.Pattern[str], accept: Callable[[StartTag], bool]) -> list[StartTag]:
    """The start tags where ``pattern`` matches (it must match at the ``<``) that ``accept`` confirms."""
    found = []
    for match in pattern.finditer(source):
        tag = start_tag_at(source, match.start())
        if tag is not None and accept(tag):
            found.append(tag)
    return found


def tags_containing(
    source: str, words: tuple[str, ...], accept: Callable[[StartTag], bool], names: tuple[str, ...] = ()
) -> list[StartTag]:
    """The start tags whose markup contains one of ``words`` (class names) that ``accept`` confirms.

    Faster than a pattern anchored at ``<``: each word is found with ``str.find`` at C speed (class names are
    case-sensitive, so no case folding) and only its few hits are read back to their tag; a hit inside a longer
    word ("comments", "titleline" for "title") cannot be that class and is skipped, and a hit in text lies past
    its tag's end and is dropped. ``names``: only tags with these (lower-case) names are read at all.
    ``accept`` must answer from the tag's name and attributes alone (it is asked once per distinct markup).
    (Like any literal search, a class name spelled with character references, ``&#99;omment``, is not found.)"""
    return tags_containing_each(source, [(words, accept, names)])[0]


TagSearch = tuple[tuple[str, ...], Callable[[StartTag], bool], tuple[str, ...]]


class _Search:
    """One ``tags_containing`` question while several are answered in one pass: its answer so far."""

    def __init__(self, accept: Callable[[StartTag], bool], names: tuple[str, ...]) -> None:
        self.accept = accept
        self.named = _named(names) if names else None
        self.found: dict[int, StartTag] = {}
        # Pages repeat the same tags hundreds of times: each distinct markup is read and judged once per search.
        self.known: dict[str, _Reading | None] = {}


def tags_containing_each(source: str, searches: list[TagSearch]) -> list[list[StartTag]]:
    """:func:`tags_containing` for each of ``searches`` (words, accept, names), with one pass over the page per
    group of words that share their first four letters, across all the searches (Hacker News' ``titleline`` posts
    and ``title`` cells: one pass for both)."""
    states = [_Search(accept, names) for _words, accept, names in searches]
    entries = [
        (word, index) for index, (words, _accept, _names) in enumerate(searches) for word in dict.fromkeys(words)
    ]
    for probe, group in _probes(entries):
        # Each word's hits are taken as the plain one-word search takes them (non-overlapping, left to right).
        next_allowed = dict.fromkeys(group, 0)
        hit = source.find(probe)
        while hit >= 0:
            for entry in group:
                word = entry[0]
                if hit < next_allowed[entry] or not source.startswith(word, hit):
                    continue
                next_allowed[entry] = hit + len(word)
                if _class_token_at(source, hit, len(word)):
                    state = states[entry[1]]
                    _confirm(source, hit, len(word), state.found, state.known, state.accept, state.named)
            hit = source.find(probe, hit + 1)
    return [[state.found[start] for start in sorted(state.found)] for state in states]


class _Reading(NamedTuple):
    """What a tag's markup alone decides: its name, attributes, whether it is void, and accept()'s answer."""

    length: int
    name: str
    attrs: LazyAttrs
    void: bool
    accepted: bool


def _confirm(
    source: str,
    hit: int,
    length: int,
    found: dict[int, StartTag],
    known: dict[str, _Reading | None],
    accept: Callable[[StartTag], bool],
    named: re.Pattern[str] | None,
) -> None:
    """Add the start tag holding the word at ``hit`` to ``found`` when it is one (and ``accept`` takes it)."""
    lt = source.rfind("<", 0, hit)
    if lt < 0 or lt in found:
        return
    gt = source.find(">", lt)
    if gt < 0:
        _confirm_slowly(source, lt, hit + length, found, accept, named)
        return
    if gt < hit:
        # A ">" before the word: the word is text unless a quote before that ">" could be hiding it.
        if source.find('"', lt, gt) < 0 and source.find("'", lt, gt) < 0:
            return
        _confirm_slowly(source, lt, hit + length, found, accept, named)
        return
    raw = source[lt : gt + 1]
    reading = known.get(raw, _UNREAD)
    if reading is _UNREAD:
        reading = known[raw] = _read_markup(raw, accept, named)
    if reading is None:
        # Not readable from its first ">" alone (a quote hides that ">", a name runs into a quote): read it in place.
        _confirm_slowly(source, lt, hit + length, found, accept, named)
    elif reading.accepted and lt + reading.length > hit + length:
        found[lt] = StartTag(lt, lt + reading.length, reading.name, reading.attrs, reading.void)


_UNREAD = _Reading(0, "", LazyAttrs("<>", 1), False, False)


def _read_markup(raw: str, accept: Callable[[StartTag], bool], named: re.Pattern[str] | None) -> _Reading | None:
    """The reading of a tag whose markup is exactly ``raw`` (up to its first ">"), or None when the tag at that
    ``<`` may not end at that ">" (then it depends on what follows)."""
    if named is not None and named.match(raw) is None:
        return _Reading(len(raw), "", LazyAttrs("<>", 1), False, False)
    tag = start_tag_at(raw, 0)
    if tag is None or tag.end != len(raw) or _START_TAG.fullmatch(raw) is None:
        return None
    return _Reading(len(raw), tag.name, tag.attrs, tag.void, accept(tag))


def _confirm_slowly(
    source: str,
    lt: int,
    word_end: int,
    found: dict[int, StartTag],
    accept: Callable[[StartTag], bool],
    named: re.Pattern[str] | None,
) -> None:
    if named is not None and named.match(source, lt) is None:
        return
    tag = start_tag_at(source, lt)
    if tag is not None and tag.end > word_end and accept(tag):
        found[lt] = tag


def _probes(entries: list[tuple[str, int]]) -> list[tuple[str, list[tuple[str, int]]]]:
    """Words sharing their first four letters are looked for with one search of their common prefix (one pass
    over the page for ``comment`` and ``commtext`` instead of two)."""
    groups: dict[str, list[tuple[str, int]]] = {}
    for entry in entries:
        groups.setdefault(entry[0][:4], []).append(entry)
    return [(_common_prefix([word for word, _index in group]), group) for group in groups.values()]


def _common_prefix(words: list[str]) -> str:
    prefix = words[0]
    for word in words[1:]:
        while not word.startswith(prefix):
            prefix = prefix[:-1]
    return prefix


def _class_token_at(source: str, hit: int, length: int) -> bool:
    """Whether the word at ``hit`` could be a whole class name: class lists split at whitespace only, so a letter,
    digit, ``-``, ``_``, ``<`` or ``/`` right before it (``</title>``), or a letter, digit, ``-``, ``_``, ``/`` or
    ``=`` right after it (an attribute name, ``title=``), makes it part of something else."""
    before = source[hit - 1] if hit > 0 else " "
    after = source[hit + length] if hit + length < len(source) else " "
    return not (before.isalnum() or before in "-_</" or after.isalnum() or after in "-_/=")


_NAMED: dict[tuple[str, ...], re.Pattern[str]] = {}


def _named(names: tuple[str, ...]) -> re.Pattern[str]:
    """Matches at a ``<`` opening a tag of one of ``names`` (any case; the name not running on into letters/digits)."""
    pattern = _NAMED.get(names)
    if pattern is None:
        alternatives = "|".join(re.escape(name) for name in names)
        pattern = _NAMED[names] = re.compile(r"<(?:" + alternatives + r")(?![^\W_])", re.IGNORECASE)
    return pattern


def merged(found: Iterable[StartTag]) -> list[StartTag]:
    """Candidates from several patterns, in source order, each start tag once."""
    unique = {tag.start: tag for tag in found}
    return [unique[start] for start in sorted(unique)]


class Regions:
    """Where elements of some names are open, paired the way the full scanner pairs them (an end tag closes the
    innermost open element of its name), ignoring what sits in opaque parts and inside other tags."""

    def __init__(self, source: str, names: Iterable[str], opaque: Opaque) -> None:
        names = sorted(names)
        pattern = re.compile(r"<(?=[/" + initials(names) + r"])(/?)(" + any_case_names(names) + r")(?=[\s/>])")
        open_stack: list[tuple[str, int]] = []
        spans: list[tuple[int, int]] = []
        for match in pattern.finditer(source):
            lt = match.start()
            if opaque.covers(lt) or inside_tag(source, lt):
                continue
            name = match.group(2).lower()
            if not match.group(1):
                tag = start_tag_at(source, lt)
                if tag is not None and not tag.void:
                    open_stack.append((name, lt))
                continue
            for index in range(len(open_stack) - 1, -1, -1):
                if open_stack[index][0] == name:
                    spans.extend((start, lt) for _name, start in open_stack[index:])
                    del open_stack[index:]
                    break
        spans.extend((start, len(source)) for _name, start in open_stack)
        self.starts: list[int] = []
        self.ends: list[int] = []
        for start, end in sorted(spans):
            if self.ends and start <= self.ends[-1]:
                self.ends[-1] = max(self.ends[-1], end)
            else:
                self.starts.append(start)
                self.ends.append(end)

    def covers(self, offset: int) -> bool:
        index = bisect.bisect_left(self.starts, offset) - 1
        return index >= 0 and offset < self.ends[index]


# End tags that close a table cell even when the cell's own end tag is missing.
CELL_ENDERS = frozenset({"td", "th", "tr", "table", "tbody", "thead", "tfoot", "body", "html"})


def children(source: str, parent: StartTag) -> list[StartTag]:
    """The start tags directly inside ``parent`` (a small element such as a table cell), paired like the full
    scanner pairs them; comments and raw-text bodies skipped."""
    found: list[StartTag] = []
    open_names: list[str] = []
    cursor, length = parent.end, len(source)
    while (lt := source.find("<", cursor, length)) >= 0:
        follower = source[lt + 1 : lt + 2]
        if follower in ("!", "?"):
            cursor = opaque_end(source, lt, None)
        elif follower == "/":
            gt = source.find(">", lt)
            name = source[lt + 2 : gt if gt >= 0 else length].strip().split(" ")[0].lower()
            if name in open_names:
                del open_names[len(open_names) - 1 - open_names[::-1].index(name) :]
            elif name == parent.name or name in CELL_ENDERS:
                break
            cursor = length if gt < 0 else gt + 1
        elif (tag := start_tag_at(source, lt)) is None:
            cursor = lt + 1
        else:
            if not open_names:
                found.append(tag)
            if not tag.void:
                open_names.append(tag.name)
            cursor = opaque_end(source, lt, tag.name) if tag.name in RAW_TEXT_TAGS else tag.end
    return found


# Elements whose end tag closes a table row still open inside them (the full scanner pops every element above).
TABLE_PARTS = ("table", "tbody", "thead", "tfoot", "body", "html")


def _overlaps_itself(word: str) -> bool:
    """Whether two occurrences of ``word`` can overlap ("abab" in "ababab"): then searching backwards could find
    occurrences the forward search steps over."""
    return any(word[:size] == word[-size:] for size in range(1, len(word)))


class OpenAncestors:
    """Elements whose tag contains one of ``words`` that may enclose a post (Hacker News' ``tr.athing`` rows):
    for an offset, the nearest one before it if it is still open there. Between the two, start and end tags of its name
    and of the table parts are paired like the full scanner pairs them; an end tag with nothing to pair closes it."""

    def __init__(self, source: str, words: tuple[str, ...], accept: Callable[[StartTag], bool], opaque: Opaque):
        self.source = source
        self.opaque = opaque
        self.words = tuple(dict.fromkeys(words))
        self.accept = accept
        self._found: dict[int, StartTag] = {}
        self._known: dict[str, _Reading | None] = {}
        self._all: list[StartTag] | None = None
        self._patterns: dict[str, re.Pattern[str]] = {}

    def nearest_open(self, offset: int) -> StartTag | None:
        tag = self.nearest_before(offset)
        if tag is None:
            return None
        opened: list[str] = []
        for match in self._structure(tag.name).finditer(self.source, tag.end, offset):
            if self.opaque.covers(match.start()):
                continue
            name = match.group(2).lower()
            if not match.group(1):
                opened.append(name)
            elif name in opened:
                del opened[len(opened) - 1 - opened[::-1].index(name) :]
            else:
                return None
        return tag

    def nearest_before(self, offset: int) -> StartTag | None:
        """The last of the elements (as ``tags_containing`` finds them, outside opaque parts and other tags) that
        starts before ``offset``. Searched backwards from ``offset`` (a few hundred characters on Hacker News)
        instead of mapping every row of the page: only the few marked posts ask."""
        if self.source.startswith("<", offset) and not any(_overlaps_itself(word) for word in self.words):
            return self._search_back(offset)
        if self._all is None:
            self._all = [tag for tag in tags_containing(self.source, self.words, self.accept) if self._usable(tag)]
        index = bisect.bisect_left([tag.start for tag in self._all], offset) - 1
        return self._all[index] if index >= 0 else None

    def _search_back(self, offset: int) -> StartTag | None:
        # A word right before the "<" at offset reads back to a "<" before it; one after it cannot (that "<" is
        # nearer). Words that cannot overlap themselves are found here exactly as the forward search finds them.
        source = self.source
        hits = {word: source.rfind(word, 0, offset) for word in self.words}
        while True:
            word = max(hits, key=hits.__getitem__)
            hit = hits[word]
            if hit < 0:
                return None
            if _class_token_at(source, hit, len(word)):
                _confirm(source, hit, len(word), self._found, self._known, self.accept, None)
                tag = self._found.get(source.rfind("<", 0, hit))
                if tag is not None and self._usable(tag):
                    return tag
            hits[word] = source.rfind(word, 0, hit + len(word) - 1)

    def _usable(self, tag: StartTag) -> bool:
        return not self.opaque.covers(tag.start) and not inside_tag(self.source, tag.start)

    def _structure(self, name: str) -> re.Pattern[str]:
        if name not in self._patterns:
            names = "|".join(re.escape(n) for n in sorted({name, *TABLE_PARTS}))
            self._patterns[name] = re.compile(r"<(/?)(" + names + r")(?=[\s/>])", re.IGNORECASE)
        return self._patterns[name]
