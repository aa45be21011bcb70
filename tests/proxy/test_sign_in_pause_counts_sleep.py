"""The pause after too many wrong proxy sign-ins says "try again in N seconds": those are seconds of the clock on the
wall. A pause begun just before the lid was closed is over after a night asleep, not N awake seconds after it."""

from __future__ import annotations

import pytest

from breather.proxy import flows
from breather.proxy.identity import FREE_FAILURES, MAX_PAUSE_S, Identity
from breather.rules.passwords import hash_password
from tests.breather.suspend import sleep_through
from tests.proxy.conftest import rules_text
from tests.proxy.sign_in import sign_in

FAMILY = f"""
[profiles.sam]
user = "sam"
password = "{hash_password("correct horse")}"
"""


def test_a_sign_in_pause_runs_out_while_the_laptop_sleeps(make_runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    identity = Identity(make_runtime(rules_text(extra_profiles=FAMILY)))
    for n in range(FREE_FAILURES):
        sign_in(identity, "127.0.0.1", "sam", f"guess {n}")
    paused = sign_in(identity, "127.0.0.1", "sam", "correct horse")
    assert paused.response is not None and "try again in" in (paused.response.get_text() or "")

    sleep_through(monkeypatch, MAX_PAUSE_S + 60)
    right = sign_in(identity, "127.0.0.1", "sam", "correct horse")
    assert right.response is None and right.metadata.get(flows.PROFILE) == "sam"
