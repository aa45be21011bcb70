"""A feed with a muted looping video in it (reddit's and X's "GIF" posts: muted, looping, autoplaying videos), left
open while nobody touches the computer: a real ``breather serve``, real Chromium through it, the page and its clip
from the local HTTPS "internet".

A review found the overlay counting any playing video as watched, muted or not, so such a page counted as use for
as long as it stayed open; the extension counts a tab with no input only while it plays sound. A video that can be
heard (a YouTube video watched without touching anything) still counts.

The page's clock is Playwright's: two and a half minutes without input pass in a moment, with the overlay's own
timers (a heartbeat every 30 s, idle after a minute) firing as they would.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import SOCIAL_HOST, Service

pytestmark = pytest.mark.e2e

RULES = """\
[household]
timezone = "UTC"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "old.reddit.com", "www.reddit.com"]

[profiles.me]
default = true
"""
POST = (
    "<!doctype html><html><head><title>r/aww</title></head><body><h1>Recorded old.reddit.com</h1>"
    "<p>A cat, as a looping GIF post:</p>"
    '<video id="clip" src="/clip.webm" autoplay {sound} loop playsinline width="160" height="120"></video>'
    "</body></html>"
)
PLAYING = "() => { const v = document.getElementById('clip'); return !v.paused && !v.ended && v.readyState > 2; }"
# A two-second clip of a moving square, recorded by Chromium itself (WebM, VP8), so no media file is kept.
RECORD_CLIP = """() => new Promise((resolve) => {
  const canvas = document.createElement("canvas"); canvas.width = 160; canvas.height = 120;
  const paint = canvas.getContext("2d"); let x = 0;
  const draw = setInterval(() => { paint.fillStyle = "#fff"; paint.fillRect(0, 0, 160, 120);
    paint.fillStyle = "#c33"; paint.fillRect(x % 160, 40, 40, 40); x += 4; }, 40);
  const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType: "video/webm;codecs=vp8" });
  const parts = [];
  recorder.ondataavailable = (event) => parts.push(event.data);
  recorder.onstop = () => { clearInterval(draw); const reader = new FileReader();
    reader.onload = () => resolve(reader.result.split(",")[1]);
    reader.readAsDataURL(new Blob(parts, { type: "video/webm" })); };
  recorder.start(); setTimeout(() => recorder.stop(), 2000);
})"""
HEARTBEATS = 5  # 30 s apart: two and a half minutes


def recorded_clip(browser: Any) -> bytes:
    page = browser.new_page()
    try:
        page.set_content("<!doctype html><title>clip</title>")
        return base64.b64decode(page.evaluate(RECORD_CLIP))
    finally:
        page.close()


def heartbeats_of_a_page_left_alone(
    serve: Callable[..., Service], upstream: Any, chromium: Any, sound: str
) -> list[tuple[bool, bool]]:
    """(said in use, counted by the proxy) for each overlay heartbeat over two and a half minutes without input, on
    a post whose video plays with ``sound`` ("muted" or "")."""
    service = serve(RULES)
    browser = chromium(service, "--autoplay-policy=no-user-gesture-required")
    upstream.route(SOCIAL_HOST, "/clip.webm", recorded_clip(browser), "video/webm")
    upstream.route(SOCIAL_HOST, "/r/aww/", POST.format(sound=sound))
    browser.clock.install()
    tab = browser.new_page()
    # in the order the overlay sent them: the fake clock sends them a moment apart, and answers may come back crossed
    sent: list[Any] = []
    tab.on("request", lambda request: sent.append(request) if "/__breather__/heartbeat" in request.url else 0)
    answers: list[Any] = []
    tab.on("response", lambda response: answers.append(response) if "/__breather__/heartbeat" in response.url else 0)
    tab.goto(f"https://{SOCIAL_HOST}/r/aww/")
    tab.wait_for_selector("html[data-breather='on']", timeout=15_000)  # Breather's overlay is on the page
    tab.wait_for_function(PLAYING, polling=100, timeout=15_000)

    browser.clock.run_for(HEARTBEATS * 30_000)  # no key, no pointer, no scroll: the person is away
    for _ in range(100):
        if len(answers) >= HEARTBEATS:
            break
        tab.wait_for_timeout(100)
    assert tab.evaluate(PLAYING), "the clip still plays"
    answered = [request.response() for request in sent[: len(answers)]]
    return [(bool(answer.request.post_data_json["active"]), bool(answer.json()["counted"])) for answer in answered]


def test_a_muted_looping_video_nobody_watches_is_not_time_on_the_site(
    serve: Callable[..., Service], upstream: Any, chromium: Any
) -> None:
    beats = heartbeats_of_a_page_left_alone(serve, upstream, chromium, "muted")
    assert len(beats) == HEARTBEATS, beats
    assert beats[0] == (True, True), "the first half minute after the page loaded is use"
    assert beats[2:] == [(False, False)] * (HEARTBEATS - 2), (
        f"a muted looping video counted as watched with nobody at the computer: {beats}"
    )


def test_a_video_with_sound_watched_without_touching_anything_is_still_time_on_the_site(
    serve: Callable[..., Service], upstream: Any, chromium: Any
) -> None:
    beats = heartbeats_of_a_page_left_alone(serve, upstream, chromium, "")
    assert beats == [(True, True)] * HEARTBEATS
