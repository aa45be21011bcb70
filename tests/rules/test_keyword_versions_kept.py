"""A service that runs for weeks sees many versions of a member's own keyword list (every save of the Rules page,
every hand edit): only the recent ones stay compiled in memory, not every version ever saved."""

from breather.rules import classify as classifier
from breather.rules.classify import KEYWORD_PHRASES_KEPT, KEYWORD_SCREENERS_KEPT, classify, screen


def test_old_versions_of_a_keyword_list_are_let_go() -> None:
    versions = KEYWORD_SCREENERS_KEPT + 40
    for version in range(versions):
        keywords = [f"topic {version} word {n}" for n in range(3)]
        screen("a post about the weather", keywords)
        classify("a post about the weather", keywords=keywords)

    assert classifier._keyword_screener.cache_info().currsize <= KEYWORD_SCREENERS_KEPT < versions
    assert classifier._compile_one.cache_info().maxsize == KEYWORD_PHRASES_KEPT


def test_the_list_in_force_still_matches_after_many_others() -> None:
    in_force = ["my ex's new flat", "lindenstrasse"]
    for version in range(KEYWORD_SCREENERS_KEPT + 5):
        screen("nothing here", [f"other {version}"])

    verdict = classify("Photos from my ex's new flat, finally", keywords=in_force)

    assert verdict.flagged
