"""Failed proxy sign-ins are limited per device and per member name, and checking them never stalls other flows.

A user test: a 12-year-old tried 20 wrong passwords for ``sam`` in 0.7 s, each one answered, so guessing had no
cost; and each wrong hashed password was a scrypt check on mitmproxy's event loop, where every flow waits.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from mitmproxy.test import tflow

from breather.proxy import flows
from breather.proxy.identity import FREE_FAILURES, MAX_TRACKED, Identity, SignInLimits
from breather.rules.passwords import hash_password
from tests.proxy.conftest import rules_text
from tests.proxy.sign_in import Clock, answer, connect_flow, sign_in

SAM_HASH = hash_password("correct horse")

FAMILY = f"""
[profiles.sam]
user = "sam"
password = "{SAM_HASH}"
daily_limit = "30m"

[profiles.maya]
user = "maya"
password = "maya's own"

[profiles.kid]
client_ips = ["192.168.1.50/32"]
"""


def signed_in_as(flow: tflow.http.HTTPFlow, profile: str) -> bool:
    return flow.response is None and flow.metadata.get(flows.PROFILE) == profile


def refused(flow: tflow.http.HTTPFlow) -> str:
    """The 407's text, or "" when the flow was let through."""
    if flow.response is None:
        return ""
    assert flow.response.status_code == 407
    return flow.response.get_text() or ""


def test_after_a_run_of_wrong_passwords_even_the_right_one_is_refused(make_runtime) -> None:
    identity = Identity(make_runtime(rules_text(extra_profiles=FAMILY)))
    answers = [refused(sign_in(identity, "127.0.0.1", "sam", f"guess {n}")) for n in range(20)]
    assert all(answers)
    assert "try again in 30 seconds" in answers[FREE_FAILURES - 1]
    assert "try again in" not in answers[FREE_FAILURES - 2]
    right = sign_in(identity, "127.0.0.1", "sam", "correct horse")
    assert "too many wrong sign-ins" in refused(right)
    assert right.response is not None and right.response.headers["Retry-After"] == "30"
    assert "proxy-authenticate" in right.response.headers  # still a sign-in prompt, not an error page


def test_a_flood_of_guesses_gets_only_a_few_password_checks(make_runtime, caplog) -> None:
    """Twenty guesses arriving at once: the ones queued behind the fifth failure are refused unchecked."""
    identity = Identity(make_runtime(rules_text(extra_profiles=FAMILY)))
    guesses = [connect_flow("127.0.0.1", "sam", f"guess {n}") for n in range(20)]

    async def flood() -> None:
        pending = [identity.http_connect(flow) for flow in guesses]
        await asyncio.gather(*(checking for checking in pending if checking is not None))

    with caplog.at_level(logging.INFO, logger="breather.proxy.identity"):
        asyncio.run(flood())
    assert all(refused(flow) for flow in guesses)
    wrong = [r for r in caplog.records if "wrong name or password" in r.getMessage()]
    assert len(wrong) == FREE_FAILURES


def test_after_the_pause_the_right_password_works_and_each_failure_after_a_pause_doubles_it(make_runtime) -> None:
    clock = Clock()
    identity = Identity(make_runtime(rules_text(extra_profiles=FAMILY)), SignInLimits(clock))
    for n in range(FREE_FAILURES):
        sign_in(identity, "127.0.0.1", "sam", f"guess {n}")
    clock.now += 29
    assert refused(sign_in(identity, "127.0.0.1", "sam", "correct horse"))
    clock.now += 2
    assert "try again in 60 seconds" in refused(sign_in(identity, "127.0.0.1", "sam", "one more guess"))
    clock.now += 59
    assert refused(sign_in(identity, "127.0.0.1", "sam", "correct horse"))
    clock.now += 2
    assert signed_in_as(sign_in(identity, "127.0.0.1", "sam", "correct horse"), "sam")
    # a right password starts the count afresh: a typo after it is one of five again
    assert "try again" not in refused(sign_in(identity, "127.0.0.1", "sam", "typo"))


def test_the_pause_stops_growing_at_fifteen_minutes(make_runtime) -> None:
    clock = Clock()
    identity = Identity(make_runtime(rules_text(extra_profiles=FAMILY)), SignInLimits(clock))
    for n in range(FREE_FAILURES + 12):
        sign_in(identity, "127.0.0.1", "maya", f"guess {n}")
        clock.now += 15 * 60 + 1  # past any pause: every guess is checked
    assert "try again in 900 seconds" in refused(sign_in(identity, "127.0.0.1", "maya", "guess again"))


def test_a_paused_name_is_refused_from_every_device(make_runtime) -> None:
    identity = Identity(make_runtime(rules_text(extra_profiles=FAMILY)))
    for n in range(FREE_FAILURES):
        sign_in(identity, f"192.168.1.{10 + n}", "Maya", f"guess {n}")  # a new device for every guess
    assert refused(sign_in(identity, "192.168.1.99", "maya", "maya's own"))
    assert signed_in_as(sign_in(identity, "192.168.1.99", "sam", "correct horse"), "sam")


def test_a_paused_device_is_refused_for_every_name(make_runtime) -> None:
    """Guessing made-up names, or a different member each time, still counts against the device."""
    identity = Identity(make_runtime(rules_text(extra_profiles=FAMILY)))
    for name in ("dad", "mum", "admin", "sam", "maya"):
        sign_in(identity, "192.168.1.20", name, "guess")
    assert refused(sign_in(identity, "192.168.1.20", "maya", "maya's own"))
    assert signed_in_as(sign_in(identity, "192.168.1.21", "maya", "maya's own"), "maya")


def test_each_pause_is_logged_once(make_runtime, caplog) -> None:
    identity = Identity(make_runtime(rules_text(extra_profiles=FAMILY)))
    with caplog.at_level(logging.INFO, logger="breather.proxy.identity"):
        for n in range(20):
            sign_in(identity, "192.168.1.30", "maya", f"guess {n}")
    pauses = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert pauses == [
        "5 failed proxy sign-ins from 192.168.1.30: sign-ins from there are refused for 30 s",
        "5 failed proxy sign-ins as 'maya': sign-ins for that name are refused for 30 s",
    ]


def test_failures_are_forgotten_after_an_hour_without_any(make_runtime) -> None:
    clock = Clock()
    identity = Identity(make_runtime(rules_text(extra_profiles=FAMILY)), SignInLimits(clock))
    for n in range(FREE_FAILURES - 1):
        sign_in(identity, "127.0.0.1", "maya", f"guess {n}")
    clock.now += 60 * 60 + 1
    assert "try again" not in refused(sign_in(identity, "127.0.0.1", "maya", "one more"))


def test_a_flood_of_devices_pushes_out_the_oldest_instead_of_growing() -> None:
    limits = SignInLimits(Clock())
    for _ in range(FREE_FAILURES - 1):
        limits.failed("192.168.1.40", None)
    for n in range(MAX_TRACKED):
        limits.failed(f"10.0.{n // 256}.{n % 256}", None)
    limits.failed("192.168.1.40", None)  # its earlier failures were pushed out: this is its first
    assert limits.paused_for("192.168.1.40", None) == 0


def test_while_guesses_are_checked_other_flows_go_on(make_runtime) -> None:
    """A hashed password costs a scrypt check (~25 ms here): five guesses from five devices must not hold up a
    device that needs no sign-in, as they did when the checks ran on the event loop."""
    identity = Identity(make_runtime(rules_text(extra_profiles=FAMILY)))
    finished: list[str] = []

    async def request(name: str, flow: tflow.http.HTTPFlow) -> None:
        checking = identity.requestheaders(flow)
        if checking is not None:
            await checking
        finished.append(name)

    async def browse() -> None:
        guesses = [request("guess", connect_flow(f"192.168.1.{60 + n}", "sam", "guess")) for n in range(5)]
        tasks = [asyncio.create_task(guess) for guess in guesses]
        tasks.append(asyncio.create_task(request("kid", connect_flow("192.168.1.50"))))
        await asyncio.gather(*tasks)

    asyncio.run(browse())
    assert finished[0] == "kid", finished


@pytest.mark.parametrize("hook", ["http_connect", "requestheaders"])
def test_a_signed_in_member_is_let_through_either_way(make_runtime, hook: str) -> None:
    identity = Identity(make_runtime(rules_text(extra_profiles=FAMILY)))
    flow = connect_flow("127.0.0.1", "sam", "correct horse")
    answer(getattr(identity, hook), flow)
    assert signed_in_as(flow, "sam")
    assert "proxy-authorization" not in flow.request.headers  # never forwarded to the site


def test_on_the_household_machine_one_members_guesses_do_not_lock_out_the_others(make_runtime) -> None:
    """Everyone browsing on the machine itself comes from 127.0.0.1: a child guessing maya's password must not stop
    sam (or the parent) signing in there; maya's name is paused wherever she signs in from."""
    identity = Identity(make_runtime(rules_text(extra_profiles=FAMILY)))
    for n in range(FREE_FAILURES + 2):
        sign_in(identity, "127.0.0.1", "maya", f"guess {n}")
    assert signed_in_as(sign_in(identity, "127.0.0.1", "sam", "correct horse"), "sam")
    assert "too many wrong sign-ins" in refused(sign_in(identity, "127.0.0.1", "maya", "maya's own"))
