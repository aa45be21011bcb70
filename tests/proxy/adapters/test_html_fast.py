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
    tags = tags_matching(source, re.compile(r"<(?:span|div|a|li|td)(?=[\s/>])", re.IGNORECASE), lambda tag: True)
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
}


@pytest.mark.parametrize("markup", TRAPS.values(), ids=TRAPS.keys())
def test_markup_the_shortcut_could_misread_is_read_exactly_like_the_walk(markup: str) -> None:
    fast, careful, _ = both_readings(markup, 0)
    assert fast == careful


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
        "paragraph",
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
PIECES += ['"', "'", "<a t='", ">", "<", "&amp;", " x", "\n"]


@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
def test_any_mix_of_tags_quotes_and_comments_reads_like_the_walk(pieces: str) -> None:
    source = '<span class="c">' + pieces
    fast, careful, _ = both_readings(source, 0)
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
