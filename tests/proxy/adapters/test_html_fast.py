"""The fast post reader (pairing only a post's own tags, text by one substitution) against the careful walker.

``htmljump.read_post`` must give exactly what ``htmljump.walk_post`` (the full scanner's code) gives: same end, same
text, so the same verdict and the same splice. Where its shortcut could read the markup differently it must walk.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from breather.proxy.adapters import htmljump
from breather.proxy.adapters.base import AdapterContext, Finding
from breather.proxy.adapters.hackernews import HackerNewsAdapter, is_post_tag
from breather.proxy.adapters.htmljump import (
    StartTag,
    read_post,
    simple_post_end,
    start_tag_at,
    tags_matching,
    walk_post,
)
from breather.proxy.adapters.htmlscan import PostSpan
from tests.proxy.adapters.test_html_jump import html_fixtures


def as_row(read: tuple[object, int]) -> tuple[object, ...]:
    post, end = read
    return (post.tag, post.start, post.tag_end, post.post_id, post.text, end)  # type: ignore[attr-defined]


def both_readings(source: str, lt: int) -> tuple[tuple[object, ...], tuple[object, ...], bool]:
    tag = start_tag_at(source, lt)
    assert tag is not None
    fast = simple_post_end(source, tag) >= 0
    return as_row(read_post(source, tag, "id")), as_row(walk_post(source, tag, "id")), fast


@pytest.mark.fixtures
@pytest.mark.parametrize("name", html_fixtures())
def test_fast_reading_equals_the_walk_for_every_element_of_real_pages(shared_fixtures: Path, name: str) -> None:
    """Every span, div, a and p start tag of every real page (not only posts): the broadest check available."""

    source = (shared_fixtures / "feeds" / name).read_text(encoding="utf-8", errors="replace")
    tags = tags_matching(
        source, re.compile(r"<(?:span|div|a|li|td|p|article)(?=[\s/>])", re.IGNORECASE), lambda tag: True
    )
    fast_count = 0
    for tag in tags[:3000]:
        fast, careful = as_row(read_post(source, tag, None)), as_row(walk_post(source, tag, None))
        assert fast == careful, (name, tag.start)
        fast_count += simple_post_end(source, tag) >= 0
    assert not tags or fast_count > 0  # the shortcut is really taken on real markup


@pytest.mark.fixtures
def test_the_benchmark_hacker_news_posts_all_take_the_shortcut(shared_fixtures: Path) -> None:
    source = (shared_fixtures / "feeds" / "hackernews" / "newhackers_ask_comments.html").read_text(encoding="utf-8")
    posts = [tag for tag in tags_matching(source, re.compile(r"<(?:span|div)"), is_post_tag)]
    assert len(posts) > 50
    assert all(simple_post_end(source, tag) >= 0 for tag in posts)


TRAPS = {
    "script inside": '<span class="c">a <script>var s = "</span>";</script> b</span> tail',
    "style inside": '<span class="c">a <style>p:after{content:"</span>"}</style> b</span>',
    "comment inside": '<span class="c">a <!-- </span> --> b</span> tail',
    "quoted end tag in attribute": '<span class="c">a <a title="</span>">x</a> b</span> tail',
    "quoted > in attribute": '<span class="c">a <a title="1 > 0">x</a> b</span>',
    "stray <": '<span class="c">x<3 and y < 4</span>',
    "odd end tag": '<span class="c">a </span x> b</span> c</span>',
    "end tag with slash": '<span class="c">a </span/> b</span>',
    "spaced end tag": '<span class="c">a </ span> b</span>',
    "textarea inside": '<div class="c">a <textarea></div></textarea> b</div>',
    "title inside": '<div class="c">a <title></div></title> b</div>',
    "never closed": '<span class="c">a <b>b</b> and on',
    "nested same name": '<span class="c">a <span>b <SPAN>c</SPAN></span> d</span> e',
    "self-closed same name": '<span class="c">a <span/> b</span> c</span>',
    "upper-case end": '<span class="c">a <i>b</i></SPAN > c',
    "entities across tags": '<span class="c">&am<b>p;</b> &lt;b&gt; caf&eacute; &nbsp;x</span>',
    "declaration inside": '<span class="c">a <!x> </span> b</span>',
    "open quote": '<span class="c">a <a title="x>y</a> b</span> c</span>',
    "paragraph": "<p>first<p>second</p>",
    "paragraph closed by a block": "<p>first <b>bold</b><div>block</div>",
    "paragraph closed by its parent": "<li><p>in a list</li><li>next",
    "paragraph with an odd end tag": "<div><p>text </div x> more</div>",
    "paragraph closed by upper case": "<p>a <i>b</i><TABLE><tr><td>x",
    "paragraph never closed": "<p>to the end <i>of</i> the page",
    "paragraph with a comment": "<p>a <!-- <div> --> b</p>",
    "long text": '<span class="c">' + "many words here " * 600 + "<b>end</b></span> after",
    "long markup, short text": '<div class="c">' + ('<b data-x="' + "y" * 60 + '">w</b> ') * 400 + "</div> after",
}


@pytest.mark.parametrize("markup", TRAPS.values(), ids=TRAPS.keys())
def test_markup_the_shortcut_could_misread_is_read_exactly_like_the_walk(markup: str) -> None:
    fast, careful, _ = both_readings(markup, 0)
    assert fast == careful


def test_a_post_with_much_markup_but_little_text_takes_the_shortcut() -> None:
    markup = TRAPS["long markup, short text"]
    tag = start_tag_at(markup, 0)
    assert tag is not None and len(markup) > 3 * 8000
    end = htmljump.simple_post_end(markup, tag)
    assert end == markup.rindex("</div>") and htmljump.simple_text(markup[tag.end : end]) is not None


@pytest.mark.parametrize(
    "name",
    [
        "script inside",
        "style inside",
        "comment inside",
        "quoted end tag in attribute",
        "stray <",
        "odd end tag",
        "textarea inside",
        "declaration inside",
        "open quote",
        "paragraph with an odd end tag",
        "paragraph never closed",
        "paragraph with a comment",
        "long text",
    ],
)
def test_regions_with_scripts_comments_or_odd_markup_fall_back_to_the_walk(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    walked: list[int] = []

    def counting_walk(source: str, tag: StartTag, post_id: str | None) -> tuple[PostSpan, int]:
        walked.append(tag.start)
        return walk_post(source, tag, post_id)

    monkeypatch.setattr(htmljump, "walk_post", counting_walk)
    tag = start_tag_at(TRAPS[name], 0)
    assert tag is not None
    htmljump.read_post(TRAPS[name], tag, None)
    assert walked == [0]


PIECES = ['<span class="c">', "<span>", "</span>", "<SPAN/>", "<b>", "</b>", "<!--", "-->", "<script>", "</script>"]
PIECES += ['"', "'", "<a t='", ">", "<", "&amp;", " x", "\n", "<p>", "</p>", "<div>", "</div x>", "</li>"]


@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
def test_any_mix_of_tags_quotes_and_comments_reads_like_the_walk(pieces: str) -> None:
    for opening in ('<span class="c">', "<p>"):
        fast, careful, _ = both_readings(opening + pieces, 0)
        assert fast == careful


def test_hacker_news_page_with_only_simple_posts_is_marked_by_the_shortcut() -> None:
    from tests.proxy.adapters.helpers import DISTRESSING, context

    page = (
        '<html><head></head><body><table><tr class="athing comtr" id="5"><td><div class="comment">'
        f'<div class="commtext c00">Fine <i>really</i>.<p>{DISTRESSING}</p></div></div></td></tr></table></body></html>'
    )
    result = HackerNewsAdapter().rewrite(page.encode(), context())
    assert result is not None
    assert [(m.post_id, m.categories) for m in result.marked] == [("5", ("self_harm",))]


CALM = "We walked along the river and talked about the garden, the weather and the new library. "


def long_calm_page(post_open: str, post_close: str, last: str) -> str:
    """Over 10,000 characters of calm posts (the classifier's screen reads no further), then one more post."""
    posts = "".join(f"{post_open}{CALM * 3}{post_close}\n" for _ in range(60))
    return f"<html><head></head><body>{posts}{post_open}{last}{post_close}</body></html>"


LATE = "I have the pills ready and I want to kill myself tonight."


@pytest.mark.parametrize(
    ("adapter_name", "post_open", "post_close"),
    [
        ("hackernews", '<tr class="athing" id="9"><td><div class="commtext c00">', "</div></td></tr>"),
        ("generic", "<article>", "</article>"),
        ("reddit", '<div class="thing" data-fullname="t1_x"><div class="md">', "</div></div>"),
    ],
)
def test_a_distressing_post_far_down_a_long_page_is_still_screened_in_and_flagged(
    adapter_name: str, post_open: str, post_close: str
) -> None:
    """The page-wide screen used to read only the first 10,000 characters of the visible text."""
    from breather.proxy.adapters import adapter_for
    from breather.proxy.adapters.base import AdapterContext, judge_with
    from breather.rules.classify import classify, screen

    assert not screen(CALM * 200) and screen(LATE)
    ctx = AdapterContext(judge=judge_with(classify), screen=screen)
    adapter = adapter_for(adapter_name, "/", "text/html")
    assert adapter is not None
    assert adapter.rewrite(long_calm_page(post_open, post_close, CALM).encode(), ctx) is None
    result = adapter.rewrite(long_calm_page(post_open, post_close, LATE).encode(), ctx)
    assert result is not None
    assert [m.category for m in result.marked] == ["self_harm"]


def test_screen_long_reads_every_piece_of_a_long_text_and_phrases_cut_at_a_boundary() -> None:
    from breather.proxy.adapters.htmlmark import SCREEN_CHARS, screen_long
    from breather.rules.classify import MAX_CHARS
    from tests.proxy.adapters.helpers import context

    assert SCREEN_CHARS <= MAX_CHARS
    seen: list[int] = []

    def screen(text: str) -> bool:
        seen.append(len(text))
        assert len(text) <= SCREEN_CHARS
        return "end it all" in text

    for offset in range(SCREEN_CHARS - 20, SCREEN_CHARS + 5):
        text = "x" * offset + "end it all" + "y" * 30_000
        assert screen_long(text, context(screen=screen))
    assert not screen_long("calm " * 10_000, context(screen=screen))


@pytest.mark.parametrize(
    "page",
    [
        '<div class="comment">{text}</div><div class="comment">calm</div>',
        '<html><body><div class="comment">{text}</div></body></html>',
        '<html><head><title>t</title></head><body><div class="comment">{text}</div></body></html>',
    ],
    ids=["fragment starting with the post", "no head", "head"],
)
def test_marks_and_assets_go_in_in_one_splice_and_a_marked_page_is_left_alone(page: str) -> None:
    from tests.proxy.adapters.helpers import DISTRESSING, context

    source = page.format(text=DISTRESSING)
    result = HackerNewsAdapter().rewrite(source.encode(), context(nonce="abc"))
    assert result is not None
    out = result.body.decode()
    assert out.count('data-breather="warnings"') == 1 and out.count('data-breather="reveal"') == 1
    assert out.count(DISTRESSING) == 1 and out.count('class="comment breather-cw"') == 1
    assert out.index('data-breather="warnings"') < out.index('class="breather-warning"')
    # Take the inserted pieces out again: what is left is the original, byte for byte.
    assets = out[out.index("<style") : out.index("</script>") + len("</script>")]
    rest = out.replace(assets, "", 1)
    warning = rest[rest.index('<span class="breather-warning"') : rest.index("<div data-breather")]
    rest = rest.replace(warning, "", 1).replace(" breather-cw", "", 1)
    added = r' data-breather-categories="[^"]*" inert data-breather-id="[0-9a-f]+"'
    assert re.sub(added, "", rest, count=1) == source
    assert HackerNewsAdapter().rewrite(out.encode(), context(nonce="abc")) is None


CLASS_TRAPS = """<table><tr class="athing" id="1"><td><div class="comments">not a post</div>
<div class="x comment">post one</div><div class='comment'>post two</div><div class=comment>post three</div>
<div class="comment-tree">no</div><div class="my_comment">no</div><div class="comment/">no</div>
<div class="commtext
c00">post four</div><div data-note="a > b" class="comment">post five</div>
<p>5 comments about the titleline and a title</p><div title="comment">no</div></td></tr></table>"""


def test_class_names_are_found_only_as_whole_class_names_like_the_full_scanner() -> None:
    from breather.proxy.adapters.htmlscan import find_posts

    adapter = HackerNewsAdapter()
    jumped = adapter.jump(CLASS_TRAPS)
    assert jumped is not None
    full = find_posts(CLASS_TRAPS, adapter.select, adapter.post_id, adapter.hints)
    assert [(p.start, p.text, p.ident()) for p in jumped] == [(p.start, p.text, p.post_id) for p in full]
    assert [p.text for p in jumped] == ["post one", "post two", "post three", "post four", "post five"]


TAG_PIECES = ["<", "a", "B", "1", " ", "\n", "/", ">", '"', "'", "=", "x", "<b", "/>", "é"]


@given(st.lists(st.sampled_from(TAG_PIECES), max_size=16).map("".join))
def test_one_pattern_start_tag_reads_like_the_step_by_step_reader(markup: str) -> None:
    for offset, char in enumerate(markup):
        if char == "<":
            fast, slow = htmljump.start_tag_at(markup, offset), htmljump._start_tag_slowly(markup, offset)
            as_tuple = lambda tag: None if tag is None else (tag.start, tag.end, tag.name, dict(tag.attrs), tag.void)  # noqa: E731
            assert as_tuple(fast) == as_tuple(slow)


def flag_everything(text: str) -> Finding | None:
    return Finding(categories=("violence",), evidence=(text[:12],))


FACEBOOK_TRAPS = """<html><head></head><body><div class="_5rgt"><p>story <b>one</b></p></div>
<div class="msg" data-commentid="c1">old style</div><div data-sigil="comment-body x" data-commentid="c2">body</div>
<script>var s = '<div class="_5rgt">in a script</div>';</script><div class="_5rgt-like">no</div>
<code><!-- <div class="_5rgt">deferred <i>one</i></div><div data-sigil="comment-body" data-commentid="c3">two</div>
<script>x</script> --></code><div class="_5rgt"><!-- <div class="msg">inside a post's comment</div> -->outer</div>
<!-- unterminated <div class="msg">tail</div>"""


@pytest.mark.parametrize("source", ["fixtures", "traps"])
def test_facebook_jumping_marks_exactly_what_the_full_scan_marks(request: pytest.FixtureRequest, source: str) -> None:
    """Every post flagged: the jumped page must equal the fully scanned one byte for byte, deferred markup too."""
    from breather.proxy.adapters.facebook import FacebookAdapter
    from breather.proxy.adapters.htmlmark import mark_found, mark_html
    from tests.conftest import fixtures_root

    pages = [FACEBOOK_TRAPS]
    if source == "fixtures":
        root = fixtures_root()
        if root is None:
            request.getfixturevalue("shared_fixtures")  # skips (or fails in CI) like every fixture test
            return
        pages = [path.read_text(encoding="utf-8") for path in sorted((root / "feeds" / "facebook").glob("*.html"))]
        assert pages, "no Facebook pages among the fixtures: nothing would be compared"
    adapter = FacebookAdapter()
    ctx = AdapterContext(judge=flag_everything)
    for page in pages:
        full = mark_html(page, ctx, adapter.select, adapter.post_id, inside_comments=True)
        jumped = mark_found(page, adapter.jump(page), ctx)
        assert (full is None) == (jumped is None)
        if full is not None and jumped is not None:
            assert jumped[0] == full[0]
            assert jumped[1] == full[1]
    if source == "traps":
        assert full is not None and len(full[1]) == 8  # 3 page posts, one around a comment, 4 in comments


OPAQUE_PIECES = ["<", "!", "--", "?", "script", "SCRIPT", "Style", "title", "x", " ", ">", "/", "iframe", "t"]


@given(st.lists(st.sampled_from(OPAQUE_PIECES), max_size=20).map("".join))
def test_the_dispatching_opaque_pattern_finds_what_the_plain_one_finds(text: str) -> None:
    from breather.proxy.adapters.htmlscan import RAW_TEXT_TAGS

    names = "|".join(sorted(RAW_TEXT_TAGS))
    plain = re.compile(r"<!--|<[!?]|<(" + names + r")(?=[\s/>])", re.IGNORECASE)
    found = [(m.start(), m.group(0), m.group(1)) for m in htmljump._OPAQUE_START.finditer(text)]
    assert found == [(m.start(), m.group(0), m.group(1)) for m in plain.finditer(text)]
