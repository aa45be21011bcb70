"""A user test: no helpline ever appeared on Mastodon (the pipeline passed JSON adapters no crisis line). Its CW is
text the person reads before the post, so self-harm and eating-disorder warnings name the helpline there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from breather.proxy import flows
from breather.proxy.adapters.mastodon import MastodonAdapter
from breather.proxy.feed_warnings import FeedWarnings
from breather.rules.crisis import crisis_line
from tests.proxy.adapters.helpers import DISTRESSING, context, dumps
from tests.proxy.adapters.test_json_adapters import status
from tests.proxy.test_feed_warnings import GENEROUS, listing, reddit_flow, run
from tests.rules.test_crisis import WITH_AN_EATING_DISORDER_LINE

GB = crisis_line("GB")


def marked(*statuses: dict[str, Any], **ctx: Any) -> list[dict[str, Any]]:
    result = MastodonAdapter().rewrite(dumps(list(statuses)), context(**ctx))
    assert result is not None
    return json.loads(result.body)


def test_a_self_harm_cw_names_the_helpline_in_a_few_words() -> None:
    [flagged] = marked(status("2", DISTRESSING), crisis=GB)
    assert flagged["spoiler_text"] == "Breather: self-harm · Samaritans 116 123"
    assert flagged["sensitive"] is True


def test_an_eating_disorder_cw_too_and_the_authors_cw_is_kept_first() -> None:
    [flagged] = marked(status("3", "I stopped eating again", spoiler="food, recovery"), crisis=GB)
    assert flagged["spoiler_text"] == "food, recovery · Breather: eating disorders · Samaritans 116 123"


def test_an_eating_disorder_cw_names_the_countrys_eating_disorder_line(tmp_path: Path) -> None:
    own = tmp_path / "crisis_lines.toml"
    own.write_text(WITH_AN_EATING_DISORDER_LINE, encoding="utf-8")
    [flagged] = marked(status("3", "I stopped eating again"), crisis=crisis_line("GB", override=own))
    assert flagged["spoiler_text"] == "Breather: eating disorders · An eating-disorder line 0800 123 456"


def test_other_categories_get_no_helpline() -> None:
    [flagged] = marked(status("4", "He was covered in blood"), crisis=GB)
    assert flagged["spoiler_text"] == "Breather: violence"


def test_an_unknown_country_gets_the_directory() -> None:
    [flagged] = marked(status("5", DISTRESSING), crisis=crisis_line("KE"))
    assert flagged["spoiler_text"] == "Breather: self-harm · Find A Helpline findahelpline.com"


def test_a_collapsed_post_shows_the_helpline_in_its_filter_title() -> None:
    [flagged] = marked(status("6", DISTRESSING), crisis=GB, hidden_topics=frozenset({"self_harm"}))
    assert flagged["filtered"][0]["filter"]["title"] == "Breather: self-harm (topic quiet hours) · Samaritans 116 123"


def mastodon_flow(body: bytes) -> Any:
    flow = reddit_flow(body)
    flow.request.host = "mastodon.social"
    flow.request.path = "/api/v1/timelines/home"
    flow.metadata[flows.SITE] = "mastodon.social"
    flow.metadata[flows.ADAPTER] = "mastodon"
    return flow


def test_the_pipeline_passes_mastodon_the_profiles_helpline(make_runtime) -> None:
    runtime = make_runtime(**GENEROUS)  # the test rules' household country is GB
    flow = mastodon_flow(dumps([status("7", DISTRESSING)]))
    run(FeedWarnings(runtime), flow)
    said = json.loads(flow.response.content)[0]["spoiler_text"]  # the real classifier: "self-harm, violence"
    assert said.startswith("Breather: self-harm") and said.endswith(" · Samaritans 116 123")


def test_reddit_whose_field_is_a_flag_is_still_spared_the_look_up(make_runtime, monkeypatch) -> None:
    from breather.proxy import feed_warnings

    looked_up: list[Any] = []
    real = feed_warnings.crisis_for
    monkeypatch.setattr(feed_warnings, "crisis_for", lambda *a, **k: looked_up.append(a) or real(*a, **k))
    run(FeedWarnings(make_runtime(**GENEROUS)), reddit_flow(listing(DISTRESSING)))
    assert looked_up == []
