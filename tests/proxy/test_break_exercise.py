"""The break screen's self-care exercise: picked by the proxy's local API each time a break is shown, rotated."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from mitmproxy.test import taddons, tflow

from breather.proxy import flows
from breather.proxy.intercept import Intercept
from breather.proxy.local_api import LocalApi
from breather.rules.exercises import load_exercises

OWN_EXERCISES = """\
[[exercise]]
id = "window"
kind = "grounding"
title = "Look out of the window"
steps = ["Find the farthest thing you can see.", "Watch it for ten slow breaths."]

[[exercise]]
id = "shoulders"
kind = "stretch"
title = "Shoulder rolls"
steps = ["Roll both shoulders back five times.", "Then forward five times."]
"""


def local_call(runtime: Any, name: str, body: bytes, profile: str) -> Any:
    """One ``POST /__breather__/<name>`` from the overlay on old.reddit.com, through the real addons."""
    intercept, local_api = Intercept(runtime), LocalApi(runtime)
    flow = tflow.tflow()
    flow.request.host = "old.reddit.com"
    flow.request.method = "POST"
    flow.request.path = f"/__breather__/{name}"
    flow.request.content = body
    flow.request.headers["x-breather"] = "1"
    with taddons.context(intercept, local_api):
        intercept.requestheaders(flow)
        flow.metadata[flows.PROFILE] = profile
        local_api.request(flow)
    assert flow.response is not None and flow.response.status_code == 200
    return json.loads(flow.response.content)


def break_shown(runtime: Any, profile: str = "me") -> dict[str, Any]:
    """One break: its screen shown, then the break taken (shown again before that, it is the same break)."""
    answer: dict[str, Any] = local_call(runtime, "break-shown", b'{"reason": "cadence"}', profile)
    local_call(runtime, "break", b"{}", profile)
    return answer


def test_two_breaks_in_a_row_offer_different_exercises_of_different_kinds(make_runtime, events_of) -> None:
    runtime = make_runtime()
    first, second = break_shown(runtime)["exercise"], break_shown(runtime)["exercise"]
    assert first["id"] != second["id"]
    assert first["kind"] != second["kind"]
    for exercise in (first, second):
        assert exercise["title"] and exercise["steps"], exercise
    logged = [json.loads(event["detail"]) for event in events_of(runtime) if event["kind"] == "break_shown"]
    assert [entry["exercise"] for entry in logged] == [first["id"], second["id"]]


def test_a_run_of_breaks_never_repeats_one_of_the_last_few(make_runtime) -> None:
    runtime = make_runtime()
    shown = [break_shown(runtime)["exercise"]["id"] for _ in range(8)]
    for index in range(1, len(shown)):
        assert shown[index] not in shown[max(0, index - 4) : index], shown
    assert len(set(shown)) >= 5


def test_each_profile_has_its_own_rotation(make_runtime) -> None:
    runtime = make_runtime()
    with runtime.paths.rules_file.open("a", encoding="utf-8") as rules:
        rules.write('\n[profiles.kid]\ndaily_limit = "1h"\n')
    assert runtime.rules.reload(), runtime.rules.last_error
    mine = break_shown(runtime, "me")["exercise"]["id"]
    theirs = break_shown(runtime, "kid")["exercise"]["id"]
    assert mine == theirs, "a profile's first break does not depend on another profile's breaks"
    assert runtime.sessions.read("me").recent_exercises == [mine]


def test_a_persons_own_exercises_file_replaces_the_shipped_one(make_runtime) -> None:
    runtime = make_runtime()
    (runtime.paths.config_dir / "exercises.toml").write_text(OWN_EXERCISES, encoding="utf-8")
    shown = {break_shown(runtime)["exercise"]["title"] for _ in range(2)}
    assert shown == {"Look out of the window", "Shoulder rolls"}


def test_an_own_exercise_named_in_words_is_logged_as_a_label(make_runtime, events_of) -> None:
    """The store keeps labels only (no sentence fits in an event's detail): an exercise the person named "a walk
    round the block" is logged under a label made of its name, and its break is logged at all."""
    runtime = make_runtime()
    own = OWN_EXERCISES.replace('id = "window"', 'id = "a walk / round the block"')
    (runtime.paths.config_dir / "exercises.toml").write_text(own, encoding="utf-8")
    shown = [break_shown(runtime)["exercise"]["id"] for _ in range(2)]
    logged = [json.loads(event["detail"])["exercise"] for event in events_of(runtime) if event["kind"] == "break_shown"]
    assert sorted(logged) == ["a-walk-round-the-block", "shoulders"], shown


def test_an_exercises_file_nested_too_deeply_to_read_leaves_the_shipped_ones(
    make_runtime, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = make_runtime()
    own = runtime.paths.config_dir / "exercises.toml"
    own.write_text("steps = " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="breather.proxy.break_exercise"):
        exercise = break_shown(runtime)["exercise"]
    assert exercise["id"] in {shipped.id for shipped in load_exercises(None)}
    assert f"{own}:1: arrays or inline tables nested too deeply to read" in caplog.text


def test_a_broken_exercises_file_is_reported_with_its_place_and_the_shipped_ones_are_used(
    make_runtime, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = make_runtime()
    own = runtime.paths.config_dir / "exercises.toml"
    own.write_text(OWN_EXERCISES.replace('kind = "stretch"', 'kind = "yoga"'), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="breather.proxy.break_exercise"):
        exercise = break_shown(runtime)["exercise"]
    assert exercise["id"] in {shipped.id for shipped in load_exercises(None)}
    assert f"{own}: exercise 2: kind must be one of" in caplog.text
