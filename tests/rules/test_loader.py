from __future__ import annotations

import re
import textwrap
from datetime import time, timedelta
from pathlib import Path

import pytest

from breather.rules.errors import RulesError
from breather.rules.loader import default_rules_text, ensure_rules_file, load_rules, parse_rules
from breather.rules.model import ADAPTERS, CATEGORIES, Window

SITES = """
[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "old.reddit.com"]

[sites.hackernews]
domains = ["news.ycombinator.com"]
"""


def rules_text(body: str) -> str:
    return SITES + textwrap.dedent(body)


def problems(text: str) -> list[str]:
    with pytest.raises(RulesError) as caught:
        parse_rules(text, "rules.toml")
    return [str(problem) for problem in caught.value.problems]


# A commented-out assignment such as `# keywords = ["spoiler"]` or `# "news.ycombinator.com" = "20m"`; prose never
# starts with a bare or quoted key followed by " = ".
COMMENTED_EXAMPLE = re.compile(r'^(\s*)#\s*((?:[A-Za-z0-9_-]+|"[^"]+")\s*=\s*\S.*)$')


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_default_rules_cover_every_platform_and_one_default_profile() -> None:
    rules = parse_rules(default_rules_text())
    assert set(rules.intercepted_domains()) >= {
        "www.reddit.com",
        "old.reddit.com",
        "oauth.reddit.com",
        "reddit.com",
        "mastodon.social",
        "x.com",
        "api.x.com",
        "twitter.com",
        "api.twitter.com",
        "bsky.app",
        "public.api.bsky.app",
        "bsky.social",
        "news.ycombinator.com",
        "m.facebook.com",
        "www.facebook.com",
        "www.youtube.com",
        "m.youtube.com",
    }
    adapters = {group.adapter for group in rules.groups}
    assert adapters == set(ADAPTERS) - {"generic"}  # every site with an adapter of its own; generic reads the rest
    me = rules.profile("me")
    assert rules.default_profile == "me"
    assert me.daily_limit == timedelta(hours=1)
    assert (me.break_after, me.break_length) == (timedelta(minutes=25), timedelta(minutes=5))
    assert set(me.sensitivity.values()) == {"medium"}
    assert Window(0, time(23), time(7)) in me.quiet_hours


def test_default_rules_file_is_mostly_explanation() -> None:
    lines = default_rules_text().splitlines()
    comments = [line for line in lines if line.lstrip().startswith("#")]
    assert len(comments) > len(lines) / 3


def test_each_commented_example_in_the_default_rules_is_valid_when_uncommented_alone() -> None:
    """People edit the default file by uncommenting an example; one that lands in the wrong table or clashes with
    the rest of the file turns their first edit into an error message."""
    lines = default_rules_text().splitlines(keepends=True)
    examples = [(index, match) for index, line in enumerate(lines) if (match := COMMENTED_EXAMPLE.match(line))]
    assert {"timezone", "keywords", "calm"} <= {match.group(2).split("=")[0].strip() for _, match in examples}
    failures: dict[str, list[str]] = {}
    for index, match in examples:
        uncommented = [*lines[:index], f"{match.group(1)}{match.group(2)}\n", *lines[index + 1 :]]
        try:
            parse_rules("".join(uncommented))
        except RulesError as exc:
            failures[f"line {index + 1}: {match.group(2)}"] = [str(problem) for problem in exc.problems]
    assert failures == {}


def test_ensure_rules_file_writes_once_and_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "config" / "rules.toml"
    assert ensure_rules_file(target) is True
    assert load_rules(target).default_profile == "me"
    target.write_text(target.read_text() + "\n# my note\n")
    assert ensure_rules_file(target) is False
    assert target.read_text().endswith("# my note\n")
    assert [path.name for path in target.parent.iterdir()] == ["rules.toml"]


def test_the_issue_example_error_is_reported_exactly() -> None:
    text = rules_text(
        """
        [profiles.sam]
        default = true
          daily_limit = "lots"
        """
    )
    line = line_of(text, "lots")
    assert problems(text) == [
        f'rules.toml:{line}:3: profiles.sam.daily_limit: expected a duration like "45m" or "1h30m", got "lots"'
    ]


def test_missing_file_is_a_located_error(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read the rules file"):
        load_rules(tmp_path / "absent.toml")


def test_a_profile_warns_unless_every_category_is_off_and_it_has_no_topics_of_its_own() -> None:
    off = "warnings = { " + ", ".join(f"{category} = 'off'" for category in CATEGORIES) + " }"
    rules = parse_rules(
        rules_text(
            f"""
            [profiles.quiet]
            default = true
            {off}
            [profiles.topics]
            {off}
            keywords = ["election*"]
            [profiles.one]
            inherits = "quiet"
            warnings = {{ self_harm = "low" }}
            """
        )
    )
    assert [rules.profile(name).warns for name in ("quiet", "topics", "one")] == [False, True, True]


@pytest.mark.parametrize(
    ("old", "new", "hint"),
    [
        ('daily_limit = "1h"', 'daily_limit = "1h', "a quoted value is not closed on its line: add the closing quote"),
        ('daily_limit = "1h"', 'daily_limit = "1h"\ndaily_limit = "2h"', '"daily_limit" is already set above'),
        ('daily_limit = "1h"', "daily_limit = 1h", 'text values need quotes, like daily_limit = "1h"'),
        ('daily_limit = "1h"', 'daily_limit "1h"', "each setting is written key = value"),
        ("[profiles.me.warnings]", "[profiles.me.warnings", "a [table] header is missing its closing ]"),
    ],
)
def test_syntax_errors_say_what_was_most_likely_mistyped(old: str, new: str, hint: str) -> None:
    text = default_rules_text()
    assert old in text
    (problem,) = problems(text.replace(old, new, 1))
    assert problem.startswith("rules.toml:") and "TOML syntax error" in problem
    assert hint in problem


@pytest.mark.parametrize("quoted", ["\u201c1h\u201d", "\u20181h\u2019", "\u201e1h\u201c", "\u201c1h"])
def test_curly_quotes_are_named_not_reported_as_missing_quotes(quoted: str) -> None:
    """TextEdit, Word and web pages turn "1h" into “1h”: told "text values need quotes", the person looked at quotes
    that look the same and was stuck."""
    (problem,) = problems(default_rules_text().replace('daily_limit = "1h"', f"daily_limit = {quoted}", 1))
    assert "need quotes" not in problem
    assert 'curly quotes: write the value between straight quotes, like daily_limit = "1h"' in problem


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_a_problem_is_on_the_line_an_editor_shows_after_a_pasted_line_separator(separator: str) -> None:
    """A comment pasted from a web page or a chat may carry U+2028 (or U+2029, U+0085): TOML, editors and
    the Rules page count lines at "\\n" only, and every later problem was named (and marked) one line too low."""
    text = default_rules_text().replace("# Breather boundary rules", f"# Breather boundary rules{separator}pasted", 1)
    bad = text.replace('daily_limit = "1h"', 'daily_limit = "lots"', 1)
    line = bad.split("\n").index('daily_limit = "lots"') + 1
    (problem,) = problems(bad)
    assert problem.startswith(f"rules.toml:{line}:1: profiles.me.daily_limit")
    broken = text.replace('daily_limit = "1h"', "daily_limit = 1h", 1)
    (syntax,) = problems(broken)
    assert syntax.startswith(f"rules.toml:{line}:"), "tomllib's own line, and the hint read from that line"
    assert "text values need quotes" in syntax


def test_a_table_declared_twice_is_named_as_the_file_writes_it() -> None:
    """It said "cannot declare ('profiles', 'me') twice": a Python tuple, not the header in the file."""
    text = default_rules_text() + '\n[profiles.me]\ndaily_limit = "2h"\n[sites."my forum"]\ndomains = ["a.example"]\n'
    (problem,) = problems(text)
    assert "cannot declare [profiles.me] twice (this [table] header appears twice" in problem
    (problem,) = problems(text.replace("[profiles.me]\ndaily", "[profiles.kid]\ndaily") + '[sites."my forum"]\n')
    assert 'cannot declare [sites."my forum"] twice' in problem


@pytest.mark.parametrize("text", ["", "\n\n", "# Breather boundary rules\n# =======================\n"])
def test_an_empty_file_is_said_to_be_empty(text: str) -> None:
    """A file saved half-way (nothing but comments) said "no profiles: add at least one"."""
    assert problems(text) == [
        "rules.toml:1:1: the rules file is empty (nothing but blank lines and comments: was it saved half-way?); it "
        'needs its rules back, with at least one member, such as [profiles.me] with "default = true"'
    ]
