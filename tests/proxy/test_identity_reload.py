"""Review findings on the members' proxy sign-in (a real `breather serve` reproduced each one):

* A sign-in lasted its whole connection: once a rules edit removed the member (or changed the password, say after it
  leaked), an open connection went on browsing, and as the household's default member (often a parent with no
  limit), because a name no longer in the rules picks the default profile.
* A wrong password for a member's name cost a scrypt check (~100 ms) and any other name none, and only members' names
  were ever paused: anyone who could reach the proxy learnt the members' names, the guesser's target.
* Each right sign-in of a member, from anywhere, forgot every failure counted against the name: a guesser got five
  fresh guesses after every 30 s pause instead of a pause that doubles while the member browses.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from mitmproxy.test import taddons, tflow

from breather.proxy import flows
from breather.proxy import identity as identity_module
from breather.proxy.identity import FREE_FAILURES, Identity, SignInLimits
from breather.rules.passwords import hash_password
from breather.rules.watcher import RulesWatcher
from breather.runtime import Runtime
from tests.proxy.conftest import rules_text
from tests.proxy.sign_in import Clock, answer, awaited, connect_flow, sign_in

SAM_HASH = hash_password("correct horse")

HOUSEHOLD = f"""
[profiles.sam]
user = "sam"
password = "{SAM_HASH}"
daily_limit = "30m"

[profiles.kid]
user = "kid"
password = "kidpass1234"
daily_limit = "0m"
"""


def inside(tunnel: tflow.http.HTTPFlow) -> tflow.http.HTTPFlow:
    """The next request inside a tunnel (no Proxy-Authorization of its own, as in a browser's)."""
    flow = tflow.tflow()
    flow.client_conn = tunnel.client_conn
    return flow


def signed_in_as(flow: tflow.http.HTTPFlow, profile: str) -> bool:
    return flow.response is None and flow.metadata.get(flows.PROFILE) == profile


def refused(flow: tflow.http.HTTPFlow) -> str:
    if flow.response is None:
        return ""
    assert flow.response.status_code == 407
    return flow.response.get_text() or ""


def edit_rules(runtime: Runtime, tmp_path: Path, text: str) -> None:
    """The rules in force become ``text``, as the watcher makes them once an edit is in force."""
    edited = tmp_path / "edited-rules.toml"
    edited.write_text(text, encoding="utf-8")
    watcher = RulesWatcher(edited)
    assert watcher.current is not None, watcher.last_error
    runtime.rules.current = watcher.current


# A sign-in lasts only while the rules still give its name the password it signed in with.


def test_a_member_removed_from_the_rules_must_sign_in_again_on_an_open_connection(make_runtime, tmp_path) -> None:
    runtime = make_runtime(rules_text(extra_profiles=HOUSEHOLD))
    identity = Identity(runtime)
    tunnel = sign_in(identity, "192.168.1.30", "kid", "kidpass1234")
    assert signed_in_as(tunnel, "kid")

    edit_rules(runtime, tmp_path, rules_text(extra_profiles=HOUSEHOLD[: HOUSEHOLD.index("[profiles.kid]")]))
    after = inside(tunnel)
    answer(identity.requestheaders, after)
    assert after.metadata.get(flows.PROFILE) != "me", "the removed member browses as the default member"
    assert "sign in" in refused(after)
    again = inside(tunnel)  # and it stays signed out: no fallback on a later request either
    answer(identity.requestheaders, again)
    assert refused(again)


def test_a_changed_password_ends_the_sign_ins_made_with_the_old_one(make_runtime, tmp_path) -> None:
    runtime = make_runtime(rules_text(extra_profiles=HOUSEHOLD))
    identity = Identity(runtime)
    kid = sign_in(identity, "192.168.1.30", "kid", "kidpass1234")
    sam = sign_in(identity, "192.168.1.31", "sam", "correct horse")
    assert signed_in_as(kid, "kid") and signed_in_as(sam, "sam")

    edit_rules(runtime, tmp_path, rules_text(extra_profiles=HOUSEHOLD.replace("kidpass1234", "brandnew-5678")))
    kid_after, sam_after = inside(kid), inside(sam)
    answer(identity.requestheaders, kid_after)
    answer(identity.requestheaders, sam_after)
    assert refused(kid_after)
    assert signed_in_as(sam_after, "sam")  # a member whose password did not change browses on
    assert signed_in_as(sign_in(identity, "192.168.1.30", "kid", "brandnew-5678"), "kid")


def test_a_rehashed_password_ends_the_sign_ins_made_with_the_old_hash(make_runtime, tmp_path) -> None:
    """`breather rules password sam` run again (same or new password) writes a new salt: the sign-in is asked again,
    which is what a parent changing a leaked password needs."""
    runtime = make_runtime(rules_text(extra_profiles=HOUSEHOLD))
    identity = Identity(runtime)
    sam = sign_in(identity, "192.168.1.31", "sam", "correct horse")
    edit_rules(runtime, tmp_path, rules_text(extra_profiles=HOUSEHOLD.replace(SAM_HASH, hash_password("new-horse-1"))))
    after = inside(sam)
    answer(identity.requestheaders, after)
    assert refused(after)


def test_an_edit_that_leaves_the_member_alone_keeps_its_sign_ins(make_runtime, tmp_path) -> None:
    runtime = make_runtime(rules_text(extra_profiles=HOUSEHOLD))
    identity = Identity(runtime)
    kid = sign_in(identity, "192.168.1.30", "Kid", "kidpass1234")
    edit_rules(runtime, tmp_path, rules_text(extra_profiles=HOUSEHOLD.replace('"30m"', '"20m"')))
    after = inside(kid)
    answer(identity.requestheaders, after)
    assert signed_in_as(after, "kid")


def test_on_one_machine_a_name_that_is_given_a_password_must_sign_in_with_it(make_runtime, tmp_path) -> None:
    without = '[profiles.teen]\nuser = "teen"\ndaily_limit = "1h"\n'
    runtime = make_runtime(rules_text(extra_profiles=HOUSEHOLD + without))
    identity = Identity(runtime)
    with taddons.context(identity) as tctx:
        tctx.configure(identity, listen_host="127.0.0.1")
    named = connect_flow("127.0.0.1", "teen", "")
    answer(identity.http_connect, named)
    assert signed_in_as(named, "teen")

    edit_rules(runtime, tmp_path, rules_text(extra_profiles=HOUSEHOLD + without + 'password = "teen-pass-99"\n'))
    after = inside(named)
    answer(identity.requestheaders, after)
    assert refused(after)


# A wrong sign-in looks the same, in time and in answer, for a member's name and for any other.


def test_a_wrong_sign_in_for_a_name_no_member_has_costs_the_same_scrypt_check(make_runtime, monkeypatch) -> None:
    checked: list[str] = []
    verify = identity_module.verify_password

    def recording(stored: str, given: str) -> bool:
        checked.append(stored.split("$", 1)[0])
        return verify(stored, given)

    monkeypatch.setattr(identity_module, "verify_password", recording)
    identity = Identity(make_runtime(rules_text(extra_profiles=HOUSEHOLD)))
    for user in ("sam", "nobody", "kid"):  # a hashed member, a made-up name, a member with a plain-text password
        flow = connect_flow("192.168.1.40", user, "wrong guess")
        checking = identity.http_connect(flow)
        assert checking is not None, f"a wrong sign-in as {user!r} was answered without a scrypt check"
        asyncio.run(awaited(checking))
        assert refused(flow)
    scrypt = SAM_HASH.split("$", 1)[0]
    assert checked.count(scrypt) == 3, checked


def test_a_right_plain_text_password_is_still_answered_at_once(make_runtime) -> None:
    identity = Identity(make_runtime(rules_text(extra_profiles=HOUSEHOLD)))
    flow = connect_flow("192.168.1.40", "kid", "kidpass1234")
    assert identity.http_connect(flow) is None
    assert signed_in_as(flow, "kid")


def test_without_any_hashed_password_no_sign_in_pays_for_scrypt(make_runtime) -> None:
    plain_only = HOUSEHOLD.replace(SAM_HASH, "sams own password")
    identity = Identity(make_runtime(rules_text(extra_profiles=plain_only)))
    for user in ("sam", "nobody"):
        flow = connect_flow("192.168.1.40", user, "wrong guess")
        assert identity.http_connect(flow) is None
        assert refused(flow)


@pytest.mark.parametrize("name", ["sam", "nobody"])
def test_on_the_household_machine_a_made_up_name_is_paused_as_a_members_is(make_runtime, name: str) -> None:
    """Loopback is counted by name only: a name that never paused there was no member's."""
    identity = Identity(make_runtime(rules_text(extra_profiles=HOUSEHOLD)), SignInLimits(Clock()))
    answers = [refused(sign_in(identity, "127.0.0.1", name, f"guess {n}")) for n in range(FREE_FAILURES + 1)]
    assert "try again" not in answers[FREE_FAILURES - 2]
    assert "try again in 30 seconds" in answers[FREE_FAILURES - 1]
    assert "try again in 30 seconds" in answers[FREE_FAILURES]


def test_made_up_names_never_pause_a_member() -> None:
    limits = SignInLimits(Clock())
    for n in range(2000):
        limits.failed("127.0.0.1", None, "sam-" + str(n))
    for _ in range(FREE_FAILURES - 1):
        limits.failed("127.0.0.1", "sam")
    assert limits.paused_for("127.0.0.1", "sam") == 0
    limits.failed("127.0.0.1", "sam")  # the member's own failures were kept through the flood: this is the fifth
    assert limits.paused_for("127.0.0.1", "sam") == 30


# A right sign-in forgives the failures made where it was made, never a guesser's elsewhere.


def test_a_members_sign_in_elsewhere_does_not_reset_the_pause_on_their_name(make_runtime) -> None:
    clock = Clock()
    identity = Identity(make_runtime(rules_text(extra_profiles=HOUSEHOLD)), SignInLimits(clock))
    for n in range(FREE_FAILURES):
        sign_in(identity, "127.0.0.1", "sam", f"guess {n}")  # a guesser on the household machine
    clock.now += 31
    assert signed_in_as(sign_in(identity, "192.168.1.31", "sam", "correct horse"), "sam")  # sam's own laptop
    assert "try again in 60 seconds" in refused(sign_in(identity, "127.0.0.1", "sam", "guess 5"))
    clock.now += 61
    assert signed_in_as(sign_in(identity, "192.168.1.31", "sam", "correct horse"), "sam")
    assert "try again in 120 seconds" in refused(sign_in(identity, "127.0.0.1", "sam", "guess 6"))


def test_a_members_own_typos_are_forgiven_by_their_right_sign_in_there() -> None:
    limits = SignInLimits(Clock())
    for _ in range(3):
        limits.failed("192.168.1.30", "sam")  # a guesser's laptop
    limits.failed("192.168.1.31", "sam")  # a typo of sam's, on sam's laptop
    limits.succeeded("192.168.1.31", "sam")
    limits.failed("192.168.1.31", "sam")
    assert limits.paused_for("192.168.1.31", "sam") == 0  # 3 + 1: sam's earlier typo was forgiven ...
    limits.failed("192.168.1.30", "sam")
    assert limits.paused_for("192.168.1.31", "sam") == 30  # ... the guesser's were not
