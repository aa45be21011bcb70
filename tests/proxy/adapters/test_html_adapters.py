from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

import pytest

from breather.proxy.adapters import adapter_for
from breather.proxy.adapters.generic import GenericAdapter
from breather.proxy.adapters.hackernews import HackerNewsAdapter
from breather.proxy.adapters.htmlmark import merge_class
from breather.proxy.adapters.reddit_html import OldRedditAdapter
from tests.proxy.adapters.helpers import DISTRESSING, as_read, context

PAGE = """<!doctype html><html><head><title>x</title></head><body>
<table><tr class="athing comtr" id="101"><td><div class="comment"><span class="commtext c00">Great write-up,
thanks</span></div></td></tr>
<tr class="athing comtr" id="102"><td><div class='comment'><span class="commtext c00">{text}</span></div></td></tr>
</table></body></html>"""


@dataclass
class Crisis:
    country: str = "GB"
    service: str = "Samaritans"
    phone: str = "116 123"


class ElementIndex(HTMLParser):
    """Which start tags carry which attributes, to check the output as a browser would read it."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def elements(page: str) -> list[tuple[str, dict[str, str]]]:
    index = ElementIndex()
    index.feed(page)
    return index.tags


def test_hackernews_comment_gets_blur_class_evidence_and_reveal_control() -> None:
    page = PAGE.format(text=DISTRESSING)
    result = HackerNewsAdapter().rewrite(page.encode(), context(nonce="n0nce"))
    assert result is not None
    out = result.body.decode()
    marked = [attrs for tag, attrs in elements(out) if "breather-cw" in attrs.get("class", "")]
    assert len(marked) == 1
    assert marked[0]["class"] == "comment breather-cw"
    assert marked[0]["data-breather-categories"] == "self_harm"
    assert "data-breather-evidence" not in marked[0], "the words are in the note, behind one more step"
    assert 'class="breather-warning"' in out and "Content warning: self-harm." in out
    assert '<style nonce="n0nce" data-breather="warnings">' in out.split("</head>")[0]
    assert '<script nonce="n0nce" data-breather="reveal">' in out
    assert [(m.field, m.post_id) for m in result.marked] == [("html", "102")]
    # Everything outside the marked element and the injected assets is untouched.
    assert out.replace(out[out.index("<style") : out.index("</head>")], "").count("Great write-up,\nthanks") == 1


def test_the_warnings_stylesheet_is_not_put_inside_the_sites_own_script() -> None:
    """A ``</head>`` in the site's inline JSON state is text: the stylesheet and reveal script inserted there broke
    the script (and the page's data) on every page with a flagged post."""
    state = '<script type="application/json">{"post":"Tip: put your analytics tag before </head>."}</script>'
    page = PAGE.format(text=DISTRESSING).replace("</head>", state + "</head>")
    result = HackerNewsAdapter().rewrite(page.encode(), context(nonce="n0nce"))
    assert result is not None
    out = result.body.decode()
    assert state + '<style nonce="n0nce" data-breather="warnings">' in out


def test_reveal_control_names_the_crisis_line_for_self_harm_only() -> None:
    crisis = Crisis()
    self_harm = HackerNewsAdapter().rewrite(PAGE.format(text=DISTRESSING).encode(), context(crisis=crisis))
    violence = HackerNewsAdapter().rewrite(PAGE.format(text="He was covered in blood").encode(), context(crisis=crisis))
    assert self_harm is not None and violence is not None
    assert 'Samaritans — call <a href="tel:116123">116 123</a>' in as_read(self_harm.body.decode())
    assert "Samaritans" not in violence.body.decode()


def test_topic_quiet_hours_collapse_the_post_without_removing_it() -> None:
    page = PAGE.format(text=DISTRESSING)
    result = HackerNewsAdapter().rewrite(page.encode(), context(hidden_topics=frozenset({"self_harm"})))
    assert result is not None
    out = result.body.decode()
    assert "breather-cw breather-collapsed" in out and DISTRESSING in out
    assert "Hidden during your topic quiet hours" in out and result.marked[0].collapsed


def test_unflagged_page_and_failed_screen_give_none() -> None:
    page = PAGE.format(text="A calm comment").encode()
    assert HackerNewsAdapter().rewrite(page, context()) is None
    # Adapters that walk every tag screen the page first; a failed screen means no scan at all.
    reddit = f'<div class="thing" data-fullname="t1_a"><div class="md"><p>{DISTRESSING}</p></div></div>'.encode()
    assert OldRedditAdapter().rewrite(reddit, context()) is not None
    assert OldRedditAdapter().rewrite(reddit, context(screen=lambda _text: False)) is None


def test_adapters_that_jump_to_their_posts_leave_screening_to_the_judge() -> None:
    """Hacker News finds its posts more cheaply than a page screen, and the classifier screens each post itself."""
    screened: list[str] = []

    def screen(text: str) -> bool:
        screened.append(text)
        return False

    flagged = PAGE.format(text=DISTRESSING).encode()
    result = HackerNewsAdapter().rewrite(flagged, context(screen=screen))
    assert result is not None and [m.post_id for m in result.marked] == ["102"]
    assert screened == []


def test_generic_marks_articles_and_loose_paragraphs_but_not_navigation() -> None:
    page = (
        "<html><body><nav><p>I want to end it all menu</p></nav>"
        f"<article id='a1'><h2>Title</h2><p>{DISTRESSING}</p></article>"
        f"<p>Calm</p><p>{DISTRESSING}<div>after</div></body></html>"
    )
    result = GenericAdapter().rewrite(page.encode(), context())
    assert result is not None
    out = result.body.decode()
    marked = [(tag, attrs.get("id")) for tag, attrs in elements(out) if "breather-cw" in attrs.get("class", "")]
    assert marked == [("article", "a1"), ("p", None)]
    assert "<style data-breather" in out.split("<body>", 1)[1] or "<style data-breather" in out


def test_old_reddit_marks_titles_and_comment_bodies_with_fullnames() -> None:
    page = (
        '<html><head></head><body><div class="thing link" data-fullname="t3_abc"><p class="title">'
        f'<a class="title may-blank" href="/r/x">{DISTRESSING}</a></p></div>'
        '<div class="thing comment" data-fullname="t1_def"><div class="usertext-body"><div class="md">'
        "<p>I stopped eating again this week</p></div></div></div></body></html>"
    )
    result = OldRedditAdapter().rewrite(page.encode(), context())
    assert result is not None
    assert [(m.post_id, m.categories) for m in result.marked] == [
        ("t3_abc", ("self_harm",)),
        ("t1_def", ("eating_disorder",)),
    ]


def test_merge_class_keeps_the_original_classes_in_every_quoting_style() -> None:
    assert merge_class('<div class="a b">', "x") == '<div class="a b x">'
    assert merge_class("<div class='a'>", "x") == '<div class="a x">'
    assert merge_class("<div class=a id=1>", "x") == '<div class="a x" id=1>'
    assert merge_class("<div id=1>", "x") == '<div class="x" id=1>'
    assert merge_class("<p>", "x") == '<p class="x">'


def test_html_registry_falls_back_to_generic() -> None:
    assert isinstance(adapter_for("hackernews", "/item", "text/html; charset=utf-8"), HackerNewsAdapter)
    assert isinstance(adapter_for("twitter", "/home", "text/html"), GenericAdapter)


def test_invalid_utf8_and_fragments_never_raise() -> None:
    assert HackerNewsAdapter().rewrite(b"\xff\xfe<div class='comment'>", context()) is None
    fragment = f"<div class='comment'>{DISTRESSING}".encode()
    result = HackerNewsAdapter().rewrite(fragment, context())
    assert result is not None and result.body.startswith(b"<style data-breather")


def test_reveal_control_shows_the_real_crisis_line_for_the_country() -> None:
    from breather.rules.crisis import crisis_line

    page = PAGE.format(text="I stopped eating again, I feel disgusting").encode()
    result = HackerNewsAdapter().rewrite(page, context(crisis=crisis_line("GB")))
    assert result is not None
    out = as_read(result.body.decode())
    note = out[out.index('<span class="breather-crisis">') :].split("</span>", 1)[0]
    assert (
        'Samaritans — call <a href="tel:116123">116 123</a> (24/7) · Shout: text SHOUT to <a href="sms:85258">85258</a>'
        in note
    )
    assert '<a href="https://www.samaritans.org" target="_blank" rel="noopener noreferrer">' in note


@pytest.mark.parametrize(
    ("country", "said"),
    [
        # one number for both: a tel: and an sms: link
        (
            "US",
            '988 Suicide &amp; Crisis Lifeline — call <a href="tel:988">988</a> (24/7)'
            ' or text <a href="sms:988">988</a>',
        ),
        ("NZ", 'call <a href="tel:1737">1737</a> (24/7) or text <a href="sms:1737">1737</a>'),
        ("AU", 'call <a href="tel:131114">13 11 14</a> (24/7) · text <a href="sms:0477131114">0477 13 11 14</a>'),
    ],
)
def test_the_helpline_says_once_how_to_reach_it(country: str, said: str) -> None:
    from breather.rules.crisis import crisis_line

    page = PAGE.format(text=DISTRESSING).encode()  # a self-harm post: the crisis line (not an eating-disorder line)
    result = HackerNewsAdapter().rewrite(page, context(crisis=crisis_line(country)))
    assert result is not None
    assert said in as_read(result.body.decode())


def test_an_unclosed_paragraph_ends_with_its_list_item() -> None:
    """Otherwise the calm paragraph would swallow the next item's text and be blurred for it."""
    page = f"<ul><li><p>A calm note about gardening</li><li>{DISTRESSING}</li></ul>"
    assert GenericAdapter().rewrite(page.encode(), context()) is None


def test_new_reddit_shreddit_slots_are_marked_with_their_thing_ids() -> None:
    page = (
        '<html><head></head><body><shreddit-post id="t3_new" post-title="x">'
        f'<a slot="title" href="/r/x/comments/new">{DISTRESSING}</a><div slot="text-body"><p>calm body</p></div>'
        '</shreddit-post><shreddit-comment thingid="t1_c1"><div slot="comment"><p>I stopped eating again</p></div>'
        '</shreddit-comment><div slot="title">not inside a post</div></body></html>'
    )
    result = OldRedditAdapter().rewrite(page.encode(), context())
    assert result is not None
    assert [(m.post_id, m.category) for m in result.marked] == [("t3_new", "self_harm"), ("t1_c1", "eating_disorder")]


def test_a_warning_says_when_it_rests_on_the_wording_not_on_a_phrase() -> None:
    """A model-only flag's "why" is the words it weighed most, which can look harmless on their own ("old car",
    "the garage"): the note says the post was read as a whole instead of presenting them as the reason."""
    from breather.proxy.adapters.base import Finding
    from breather.proxy.adapters.htmlmark import warning_control

    phrase = warning_control(Finding(("self_harm",), ("want to end it all",)), context(), collapsed=False)
    worded = warning_control(Finding(("self_harm",), ("old car", "the garage"), worded=True), context(), False)
    assert "Flagged for: “want to end it all”" in as_read(phrase)
    assert "wording as a whole" not in phrase
    assert "Flagged for its wording as a whole; the words that weighed most: “old car”, “the garage”" in as_read(worded)


def test_the_classifier_tells_the_warning_which_flags_rest_on_the_wording() -> None:
    from breather.proxy.adapters.base import finding_from_verdict
    from breather.rules.classify import classify

    narrative = (
        "Sat in my old car in the garage for three hours last night with the engine running and the door shut. "
        "It did not work and I am still here. I keep thinking about doing it properly next time, maybe this "
        "weekend when the house is empty."
    )
    worded, phrased = finding_from_verdict(classify(narrative)), finding_from_verdict(classify(DISTRESSING))
    assert worded is not None and worded.worded
    assert phrased is not None and not phrased.worded


def test_a_match_of_the_persons_own_words_says_your_topic_not_custom() -> None:
    """A user test set ``keywords = ["bandcamp"]`` and read "Content warning: custom. ... Show post (custom)"."""
    from breather.proxy.adapters.base import AdapterContext
    from breather.proxy.feed_warnings import profile_judge
    from breather.rules.loader import parse_rules

    rules = parse_rules('[profiles.me]\ndefault = true\nkeywords = ["bandcamp"]\n')
    page = PAGE.format(text="New album is up on bandcamp tonight")
    result = HackerNewsAdapter().rewrite(page.encode(), AdapterContext(judge=profile_judge(rules.profiles["me"])))
    assert result is not None
    out = result.body.decode()
    assert "Content warning: your topic." in out and "Show post (your topic)" in out
    assert "Content warning: custom" not in out
