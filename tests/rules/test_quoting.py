"""Quoted passages: counter-speech quotes what it condemns, and violence and harassment read the post without it."""

from __future__ import annotations

from breather.rules.quoting import LONGEST_READ_APART, PLACEHOLDER, split_quoted


def test_a_quote_in_its_own_framing_is_set_apart() -> None:
    frame, quoted = split_quoted('I will report every comment like "you people should all be shot" that I see.')
    assert frame == f"I will report every comment like  {PLACEHOLDER}  that I see."
    assert quoted == "you people should all be shot"


def test_curly_quotes_and_several_passages() -> None:
    text = "Posts saying \u201cget out\u201d and \u201cnobody wants you\u201d get you banned here."
    frame, quoted = split_quoted(text)
    assert frame.count(PLACEHOLDER) == 2
    assert quoted == "get out nobody wants you"


def test_a_post_that_is_mostly_quote_is_read_whole() -> None:
    """A quote-tweet with a two-word reply: the frame is too short to say how the quote is meant."""
    text = '"you are all worthless and everyone here knows it" lol same'
    assert split_quoted(text) == (text, "")


def test_posts_without_a_closed_quote_are_read_whole() -> None:
    for text in ("no quotes at all here, just a post", 'an unclosed " quote that runs on and on', ""):
        assert split_quoted(text) == (text, "")


def test_a_long_post_is_read_whole() -> None:
    """In a long post a quote is a small share of the words, and reading it twice costs the most."""
    short = 'I will report every comment like "you people should all be shot" that I see.'
    long = short + " And that is all I have to say about this thread today." * 8
    assert split_quoted(short)[1]
    assert len(long) > LONGEST_READ_APART
    assert split_quoted(long) == (long, "")
