"""What a household member's name may be: one check for the rules file and the usage store alike.

The rules accepted "zoë" while the store refused every record under it, so a member's time never counted. Both now
ask :func:`member_name_problem`, so a name the rules take is a name the store keeps. A name is what people call each
other: letters and digits of any script (with their accents and vowel signs), spaces between words, and ``_ . : ' -``.
It is shown on every page and written into exports and URLs, never used as a path.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

MEMBER_NAME_MAX = 64
# Besides letters, digits and single spaces between words. "’" is the apostrophe phones and Macs type for "'".
MEMBER_NAME_MARKS = frozenset("_.:'’-")
MEMBER_NAME_ALLOWED = (
    f"letters and digits (any script), single spaces between words and _ . : ' - (not first), "
    f"at most {MEMBER_NAME_MAX} characters"
)


def _is_letter_or_digit(char: str) -> bool:
    return unicodedata.category(char)[0] in "LN"


def _is_mark(char: str) -> bool:
    """An accent or vowel sign written after its letter: "ë" typed as "e" and "¨", the signs of "प्रिया"."""
    return unicodedata.category(char)[0] == "M"


def _odd_character(name: str) -> str | None:
    for char in name:
        if not (_is_letter_or_digit(char) or _is_mark(char) or char == " " or char in MEMBER_NAME_MARKS):
            return char
    return None


def _shown(char: str) -> str:
    """A refused character as a message can show it: an invisible one, or an accent on nothing, by its code point."""
    if char.isprintable() and not char.isspace() and not _is_mark(char):
        return f'"{char}"'
    return f"U+{ord(char):04X} ({unicodedata.name(char, 'a control character').lower()})"


def member_name_problem(name: Any) -> str | None:
    """What is wrong with a member's name, in a sentence that says what a name may be; None: it is a good name."""
    if not isinstance(name, str):
        return f"a member's name must be text, got {type(name).__name__}"
    if not name.strip():
        return "a member's name cannot be empty"
    quoted = name if len(name) <= MEMBER_NAME_MAX else name[:MEMBER_NAME_MAX] + "…"
    if len(name) > MEMBER_NAME_MAX:
        return f'member name "{quoted}" is {len(name)} characters long; a name may be at most {MEMBER_NAME_MAX}'
    if name != name.strip():
        return f'member name "{name}" starts or ends with a space; a name may hold {MEMBER_NAME_ALLOWED}'
    odd = _odd_character(name)
    if odd is not None:
        # an invisible character escaped, as TOML writes it
        shown = f'"{name}"' if name.isprintable() else json.dumps(name, ensure_ascii=False)
        return f"member name {shown} has {_shown(odd)}; a name may hold {MEMBER_NAME_ALLOWED}"
    if "  " in name:
        # a page shows two spaces as one: "Zoë  Ann" and "Zoë Ann" would be two members that look the same
        return f'member name "{name}" has two spaces in a row; a name may hold {MEMBER_NAME_ALLOWED}'
    if name.startswith("-") or _is_mark(name[0]):
        # "-sam" reads as an option to `breather rules password NAME`, and as a formula in a spreadsheet's export
        return f'member name "{name}" starts with {_shown(name[0])}; a name may hold {MEMBER_NAME_ALLOWED}'
    if not any(_is_letter_or_digit(char) for char in name):
        return f'member name "{name}" needs a letter or digit; a name may hold {MEMBER_NAME_ALLOWED}'
    return None


def check_member_name(name: Any, what: str = "member name") -> str:
    """``name`` when it is a good member's name, else ``ValueError`` saying why (prefixed by ``what``)."""
    problem = member_name_problem(name)
    if problem is not None:
        raise ValueError(f"{what}: {problem}")
    return str(name)
