"""Quoted passages, for the categories where quoting is how people condemn.

Counter-speech quotes what it condemns: 'I will report posts like "kill all of them"'. Read as a whole, that post
holds the very threat it objects to. So for violence and harassment (``QUOTE_BLIND``) the learned model reads the
post with each quoted passage replaced by one placeholder word, and gets the lexicon's scores of the passages as
inputs of their own (``quoted:<category>``), which training holds at or below zero: a quote may lower a score, never
raise it as the writer's own words would. Every other category reads the whole post: in "I keep thinking "I want to
die"" the quote is the writer's own.

A post that is mostly quote (a quote-tweet with "lol" after it) is read whole: its frame is too short to say how
the quote is meant. So is a post longer than ``LONGEST_READ_APART`` characters.
"""

from __future__ import annotations

import re

QUOTE_BLIND = ("violence", "harassment")
PLACEHOLDER = "quotedpassage"
# Chosen on dev (template split, out of fold): framing of four words or more ("I will not tolerate posts like")
# says how the quote is meant; quote-tweets on the Davidson set with a two-word reply do not.
MIN_FRAME_WORDS = 4
MAX_QUOTED_SHARE = 0.85
# A longer post is read whole: in it a quote is a small share of the words the model reads, and reading the post a
# second time costs the most there (~0.5 ms for 600 characters, which took the cold 100-post page's p99 from ~24 to
# ~34 ms). Counter-speech is short: every quoting HateCheck case and all but one Davidson tweet are under this.
LONGEST_READ_APART = 400

_QUOTED = re.compile('"([^"\n]{2,})"|\u201c([^\u201c\u201d\n]{2,})\u201d')  # posts are short here: no length cap


def split_quoted(text: str) -> tuple[str, str]:
    """(the post with each quoted passage replaced by ``PLACEHOLDER``, the passages joined), or (text, "") when it
    quotes nothing or too little of it is the writer's own framing."""
    if len(text) > LONGEST_READ_APART or ('"' not in text and "\u201c" not in text):
        return text, ""
    passages = [match.group(1) or match.group(2) for match in _QUOTED.finditer(text)]
    if not passages:
        return text, ""
    frame = _QUOTED.sub(f" {PLACEHOLDER} ", text)
    quoted = " ".join(passages)
    frame_words = len(frame.split())
    quoted_words = len(quoted.split())
    if frame_words < MIN_FRAME_WORDS or quoted_words > MAX_QUOTED_SHARE * (quoted_words + frame_words):
        return text, ""
    return frame, quoted
