"""Calm on Mastodon's live WebSocket stream: decided per connection as messages arrive, with the real rules."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from breather.proxy.calm_live import CalmLive
from breather.proxy.calm_stream import HOLD, calm_socket_message
from tests.proxy.test_calm import opened_anyway, quiet_hours_now
from tests.proxy.test_calm_pipeline import RULES
from tests.proxy.test_calm_stream import ANNOUNCEMENT, CONVERSATION, NOTIFICATION, status


def socket_message(event: str, payload: Any) -> str:
    text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    return json.dumps({"stream": ["user"], "event": event, "payload": text}, separators=(",", ":"))


def payload_of(text: str) -> Any:
    return json.loads(json.loads(text)["payload"])


def test_socket_messages_are_calmed_like_stream_events() -> None:
    update = calm_socket_message(socket_message("update", status("1")))
    assert update is not None and update.text is not None and not update.hold
    assert json.loads(update.text)["stream"] == ["user"]
    calmed = payload_of(update.text)
    assert (calmed["replies_count"], calmed["reblogs_count"], calmed["favourites_count"]) == (0, 0, 0)
    assert calm_socket_message(socket_message("notification", NOTIFICATION)) == HOLD
    assert calm_socket_message(socket_message("announcement", ANNOUNCEMENT)) == HOLD
    conversation = calm_socket_message(socket_message("conversation", CONVERSATION))
    assert conversation is not None and conversation.text is not None
    assert payload_of(conversation.text)["unread"] is False


def test_other_and_unknown_socket_messages_pass() -> None:
    assert calm_socket_message(socket_message("delete", "12345")) is None
    assert calm_socket_message(socket_message("update", status("1", replies=0, reblogs=0, favourites=0))) is None
    assert calm_socket_message(socket_message("update", "not json")) is None
    assert calm_socket_message('{"type": "subscribe", "stream": "user"}') is None
    assert calm_socket_message("not json at all") is None
    assert calm_socket_message("[1, 2]") is None


def live_flow(*messages: tuple[bool, str]) -> Any:
    from mitmproxy.test import tflow
    from mitmproxy.websocket import WebSocketMessage
    from wsproto.frame_protocol import Opcode

    from breather.proxy import flows

    flow = tflow.twebsocketflow(messages=False)
    flow.request.host = "streaming.mastodon.social"
    flow.metadata.update({flows.SITE: "mastodon.social", flows.ADAPTER: "mastodon", flows.PROFILE: "me"})
    for from_client, text in messages:
        flow.websocket.messages.append(WebSocketMessage(Opcode.TEXT, from_client, text.encode()))
    return flow


def deliver(addon: CalmLive, flow: Any, from_client: bool, text: str) -> Any:
    """Append one message and run the hook, as mitmproxy does for each message."""
    from mitmproxy.websocket import WebSocketMessage
    from wsproto.frame_protocol import Opcode

    message = WebSocketMessage(Opcode.TEXT, from_client, text.encode())
    flow.websocket.messages.append(message)
    addon.websocket_message(flow)
    return message


def test_in_quiet_hours_the_live_stream_is_calmed(make_runtime: Any) -> None:
    runtime = make_runtime(RULES.format(calm="true", quiet=quiet_hours_now()))
    addon, flow = CalmLive(runtime), live_flow()
    update = deliver(addon, flow, False, socket_message("update", status("1")))
    assert payload_of(update.text)["favourites_count"] == 0
    notification = deliver(addon, flow, False, socket_message("notification", NOTIFICATION))
    assert notification.dropped
    subscribe = '{"type":"subscribe","stream":"user","favourites_count":5}'
    assert deliver(addon, flow, True, subscribe).text == subscribe, "the client's own messages are never touched"


@pytest.mark.parametrize(("calm", "quiet"), [("false", True), ("true", False)], ids=["calm-off", "outside-window"])
def test_calm_off_or_outside_the_window_leaves_messages_as_they_came(make_runtime: Any, calm: str, quiet: bool) -> None:
    runtime = make_runtime(RULES.format(calm=calm, quiet=quiet_hours_now() if quiet else ""))
    addon, flow = CalmLive(runtime), live_flow()
    for event, payload in (("update", status("1")), ("notification", NOTIFICATION)):
        text = socket_message(event, payload)
        message = deliver(addon, flow, False, text)
        assert message.content == text.encode() and not message.dropped


class Window:
    """A boundary decision that a test can switch, counting how often it is asked."""

    def __init__(self, kind: str) -> None:
        self.kind, self.asked = kind, 0

    def __call__(self, _profile: str, _site: str, _at: datetime, **_how: Any) -> Any:
        self.asked += 1
        return self


def test_the_window_is_rechecked_as_the_connection_lives(make_runtime: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from breather.proxy import calm_live

    clock = [1000.0]
    monkeypatch.setattr(calm_live.time, "monotonic", lambda: clock[0])
    runtime = make_runtime(RULES.format(calm="true", quiet=""))
    window = Window("allow")
    addon, flow = CalmLive(runtime, decide=window), live_flow()
    text = socket_message("update", status("1"))
    assert deliver(addon, flow, False, text).text == text
    window.kind = "quiet_hours"
    assert deliver(addon, flow, False, text).text == text, "remembered for a few seconds"
    assert window.asked == 1
    clock[0] += calm_live.RECHECK_S + 1
    assert payload_of(deliver(addon, flow, False, text).text)["favourites_count"] == 0
    assert window.asked == 2


def test_a_failing_decision_sends_the_message_as_it_was(make_runtime: Any) -> None:
    def broken(*_args: Any) -> Any:
        raise RuntimeError("decision exploded")

    runtime = make_runtime(RULES.format(calm="true", quiet=""))
    addon, flow = CalmLive(runtime, decide=broken), live_flow()
    text = socket_message("notification", NOTIFICATION)
    message = deliver(addon, flow, False, text)
    assert message.text == text and not message.dropped
    assert runtime.counters.snapshot()["passed_after_error"] == 1


def test_other_sites_and_binary_messages_are_left_alone(make_runtime: Any) -> None:
    from mitmproxy.websocket import WebSocketMessage
    from wsproto.frame_protocol import Opcode

    from breather.proxy import flows

    runtime = make_runtime(RULES.format(calm="true", quiet=quiet_hours_now()))
    addon = CalmLive(runtime)
    flow = live_flow()
    flow.metadata[flows.ADAPTER] = "youtube"
    text = socket_message("notification", NOTIFICATION)
    assert not deliver(addon, flow, False, text).dropped
    binary = live_flow()
    binary.websocket.messages.append(WebSocketMessage(Opcode.BINARY, False, text.encode()))
    addon.websocket_message(binary)
    assert not binary.websocket.messages[-1].dropped


def test_the_service_chain_calms_the_live_stream(make_runtime: Any) -> None:
    """The addon is part of what ``breather serve`` loads, not only usable on its own: with the site opened past
    quiet hours (so the block lets the stream through), the chain calms what arrives."""
    from breather.proxy.addon import make_addons

    runtime = make_runtime(RULES.format(calm="true", quiet=quiet_hours_now()))
    opened_anyway(runtime, "mastodon.social")
    addons, flow = make_addons(runtime), live_flow()

    def through_the_chain(text: str) -> Any:
        from mitmproxy.websocket import WebSocketMessage
        from wsproto.frame_protocol import Opcode

        message = WebSocketMessage(Opcode.TEXT, False, text.encode())
        flow.websocket.messages.append(message)
        for addon in addons:
            hook = getattr(addon, "websocket_message", None)
            if hook is not None:
                hook(flow)
        return message

    update = through_the_chain(socket_message("update", status("1")))
    assert not update.dropped, "open anyway: the stream flows"
    calmed = payload_of(update.text)
    assert (calmed["reblogs_count"], calmed["favourites_count"]) == (0, 0)
    assert through_the_chain(socket_message("notification", NOTIFICATION)).dropped
