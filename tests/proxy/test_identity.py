from __future__ import annotations

import asyncio
import base64

import pytest
from mitmproxy.test import taddons, tflow

from breather.errors import CommandError
from breather.proxy import flows
from breather.proxy.identity import Identity, parse_basic
from breather.service import check_listen_host
from tests.proxy.conftest import rules_text

FAMILY = """
[profiles.sam]
user = "sam"
password = "correct horse"
daily_limit = "30m"

[profiles.kid]
client_ips = ["192.168.1.50/32"]
"""


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def listening_on(listen_host: str, identity: Identity) -> Identity:
    """The Identity addon as mitmproxy configures it for a server on ``listen_host``."""
    with taddons.context(identity) as tctx:
        tctx.configure(identity, listen_host=listen_host)
    return identity


def connect_flow(client_ip: str = "127.0.0.1", auth: str | None = None) -> tflow.http.HTTPFlow:
    flow = tflow.tflow()
    flow.client_conn.peername = (client_ip, 50000)
    if auth is not None:
        flow.request.headers["proxy-authorization"] = auth
    return flow


def test_without_credentials_the_client_ip_or_the_default_profile_is_used(make_runtime) -> None:
    runtime = make_runtime(rules_text(extra_profiles='[profiles.kid]\nclient_ips = ["192.168.1.50/32"]\n'))
    identity = Identity(runtime)
    by_ip = connect_flow("192.168.1.50")
    identity.requestheaders(by_ip)
    assert by_ip.metadata[flows.PROFILE] == "kid"
    other = connect_flow("127.0.0.1")
    identity.requestheaders(other)
    assert other.metadata[flows.PROFILE] == "me"
    assert other.response is None


def test_with_credentials_in_the_rules_everyone_must_sign_in(make_runtime) -> None:
    identity = Identity(make_runtime(rules_text(extra_profiles=FAMILY)))
    anonymous = connect_flow()
    identity.http_connect(anonymous)
    assert anonymous.response is not None and anonymous.response.status_code == 407
    assert "Basic" in anonymous.response.headers["proxy-authenticate"]

    wrong = connect_flow(auth=basic("sam", "wrong"))
    identity.http_connect(wrong)
    assert wrong.response is not None and wrong.response.status_code == 407


def test_a_signed_in_tunnel_carries_the_member_to_the_requests_inside_it(make_runtime) -> None:
    identity = Identity(make_runtime(rules_text(extra_profiles=FAMILY)))
    connect = connect_flow(auth=basic("Sam", "correct horse"))
    identity.http_connect(connect)
    assert connect.response is None
    assert connect.metadata[flows.PROFILE] == "sam"
    assert "proxy-authorization" not in connect.request.headers

    inner = tflow.tflow()
    inner.client_conn = connect.client_conn
    identity.requestheaders(inner)
    assert inner.metadata[flows.PROFILE] == "sam"


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("Bearer abc", "expected HTTP Basic"),
        ("Basic !!!", "not valid base64"),
        ("Basic " + base64.b64encode(b"nocolon").decode(), "no ':'"),
    ],
)
def test_malformed_credentials_say_what_is_wrong(header: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_basic(header)


def test_listening_beyond_loopback_needs_member_credentials(make_runtime) -> None:
    alone = make_runtime().current_rules()
    with pytest.raises(CommandError, match=r"refusing to listen on 0\.0\.0\.0"):
        check_listen_host("0.0.0.0", alone)
    check_listen_host("127.0.0.1", alone)
    check_listen_host("::1", alone)
    family = make_runtime(rules_text(extra_profiles=FAMILY)).current_rules()
    check_listen_host("0.0.0.0", family)


def test_a_device_named_by_ip_needs_no_sign_in_even_when_others_have_credentials(make_runtime) -> None:
    identity = Identity(make_runtime(rules_text(extra_profiles=FAMILY)))
    flow = connect_flow("192.168.1.50")
    identity.http_connect(flow)
    assert flow.response is None
    assert flow.metadata[flows.PROFILE] == "kid"


def test_a_hashed_password_in_the_rules_signs_the_member_in(make_runtime) -> None:
    from breather.rules.passwords import hash_password

    hashed = FAMILY.replace('password = "correct horse"', f'password = "{hash_password("correct horse")}"')
    identity = Identity(make_runtime(rules_text(extra_profiles=hashed)))
    signed_in = connect_flow(auth=basic("sam", "correct horse"))
    checking = identity.http_connect(signed_in)  # a hashed password is checked off the event loop: await it
    assert checking is not None
    asyncio.run(checking)
    assert signed_in.response is None and signed_in.metadata[flows.PROFILE] == "sam"
    wrong = connect_flow(auth=basic("sam", "correct horse!"))
    checking = identity.http_connect(wrong)
    assert checking is not None
    asyncio.run(checking)
    assert wrong.response is not None and wrong.response.status_code == 407


NAMES_ONLY = """
[profiles.maya]
user = "maya"
daily_limit = "30m"

[profiles.sam]
user = "sam"
password = "correct horse"
"""


def test_on_one_machine_a_member_name_without_a_password_picks_that_profile(make_runtime) -> None:
    """A family shares a laptop, each browser profile set to sign in as its member: with no passwords in the rules
    the name alone must pick the member's boundaries, not the default's (a user test got the parent's rules)."""
    identity = listening_on(
        "127.0.0.1", Identity(make_runtime(rules_text(extra_profiles=NAMES_ONLY.split("[profiles.sam]")[0])))
    )
    maya = connect_flow(auth=basic("Maya", "anything"))
    identity.requestheaders(maya)
    assert maya.metadata[flows.PROFILE] == "maya"
    assert maya.response is None
    assert "proxy-authorization" not in maya.request.headers  # never forwarded to the site
    nobody = connect_flow(auth=basic("stranger", ""))
    identity.requestheaders(nobody)
    assert nobody.metadata[flows.PROFILE] == "me"


def test_a_member_without_a_password_signs_in_by_name_beside_members_with_one(make_runtime) -> None:
    identity = listening_on("127.0.0.1", Identity(make_runtime(rules_text(extra_profiles=NAMES_ONLY))))
    maya = connect_flow(auth=basic("maya", ""))
    identity.http_connect(maya)
    assert maya.response is None and maya.metadata[flows.PROFILE] == "maya"
    impostor = connect_flow(auth=basic("sam", ""))  # a name with a password needs the password
    identity.http_connect(impostor)
    assert impostor.response is not None and impostor.response.status_code == 407


def test_beyond_loopback_a_name_without_a_password_proves_nothing(make_runtime) -> None:
    identity = listening_on("0.0.0.0", Identity(make_runtime(rules_text(extra_profiles=NAMES_ONLY))))
    maya = connect_flow("192.168.1.20", auth=basic("maya", ""))
    identity.http_connect(maya)
    assert maya.response is not None and maya.response.status_code == 407


def test_shared_beyond_loopback_a_rules_edit_that_drops_every_password_does_not_open_the_proxy(make_runtime) -> None:
    """The service refuses to start beyond loopback without passwords; the rules losing their last one while it runs
    must not let anyone on the network in as the default member."""
    identity = listening_on(
        "0.0.0.0", Identity(make_runtime(rules_text(extra_profiles=FAMILY.replace('password = "correct horse"\n', ""))))
    )
    from_the_network = connect_flow("192.168.1.77")
    identity.http_connect(from_the_network)
    assert from_the_network.response is not None and from_the_network.response.status_code == 403
    assert b"breather rules password" in from_the_network.response.content
    on_this_machine = connect_flow("127.0.0.1")
    identity.http_connect(on_this_machine)
    assert on_this_machine.response is None
    assert on_this_machine.metadata[flows.PROFILE] == "me"


def test_a_members_proxy_sign_in_never_goes_on_to_a_site(make_runtime) -> None:
    """Browsers send the sign-in with every plain-HTTP request through a proxy that asked for it; a review found it
    reaching every ``http://`` site from the second request of a signed-in connection (name and password in base64).
    Here: first request, a later one on the same connection, and a name-only member (a device named by address: in
    the next test)."""
    identity = Identity(make_runtime(rules_text(extra_profiles=FAMILY)))
    first = connect_flow(auth=basic("sam", "correct horse"))
    identity.requestheaders(first)
    later = connect_flow(auth=basic("sam", "correct horse"))
    later.client_conn = first.client_conn
    identity.requestheaders(later)
    assert later.response is None and later.metadata[flows.PROFILE] == "sam"

    names_only = listening_on("127.0.0.1", Identity(make_runtime(rules_text(extra_profiles=NAMES_ONLY))))
    maya = connect_flow(auth=basic("maya", ""))
    names_only.requestheaders(maya)
    maya_later = connect_flow(auth=basic("maya", ""))
    maya_later.client_conn = maya.client_conn
    names_only.requestheaders(maya_later)

    for flow in (first, later, maya, maya_later):
        assert "proxy-authorization" not in flow.request.headers


def test_on_a_device_named_by_address_a_sign_in_sent_anyway_picks_its_member(make_runtime) -> None:
    """The member named by the sign-in first, else the device's address: an app set up with sam's sign-in on the
    kid's laptop is sam; a wrong password there is refused like anywhere else."""
    identity = Identity(make_runtime(rules_text(extra_profiles=FAMILY)))
    sam = connect_flow("192.168.1.50", auth=basic("sam", "correct horse"))
    identity.requestheaders(sam)
    assert sam.response is None and sam.metadata[flows.PROFILE] == "sam"
    assert "proxy-authorization" not in sam.request.headers
    wrong = connect_flow("192.168.1.50", auth=basic("sam", "guess"))
    identity.requestheaders(wrong)
    assert wrong.response is not None and wrong.response.status_code == 407
    nothing_sent = connect_flow("192.168.1.50")
    identity.requestheaders(nothing_sent)
    assert nothing_sent.response is None and nothing_sent.metadata[flows.PROFILE] == "kid"
