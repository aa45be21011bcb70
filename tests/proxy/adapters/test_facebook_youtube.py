from __future__ import annotations

import json

from breather.proxy.adapters import adapter_for
from breather.proxy.adapters.facebook import FacebookAdapter, FacebookPayloadAdapter
from breather.proxy.adapters.youtube import YouTubeHtmlAdapter, YouTubeJsonAdapter
from tests.proxy.adapters.helpers import DISTRESSING, context


def test_facebook_marks_story_text_and_deferred_markup_inside_comments() -> None:
    page = (
        "<html><head></head><body>"
        f'<div class="_5rgt _5nk5"><p>{DISTRESSING}</p></div>'
        '<code><!-- <div class="msg">Calm</div>'
        f'<div data-commentid="99" data-sigil="comment-body">I stopped eating again</div> --></code>'
        "</body></html>"
    )
    result = FacebookAdapter().rewrite(page.encode(), context())
    assert result is not None
    out = result.body.decode()
    assert [(m.post_id, m.category) for m in result.marked] == [(None, "self_harm"), ("99", "eating_disorder")]
    comment = out[out.index("<!--") : out.index("-->")]
    assert 'class="breather-cw"' in comment and "breather-warning" in comment
    assert out.count('data-breather="warnings"') == 1


def test_facebook_for_loop_payload_keeps_its_guard_and_marks_the_html_strings() -> None:
    payload = {"payload": {"actions": [{"cmd": "replace", "html": f'<div class="_5rgt">{DISTRESSING}</div>'}]}}
    body = b"for (;;);" + json.dumps(payload, separators=(",", ":")).encode()
    adapter = adapter_for("facebook", "/page_content_list_view/more/", "application/x-javascript; charset=utf-8")
    assert isinstance(adapter, FacebookPayloadAdapter)
    result = adapter.rewrite(body, context())
    assert result is not None and result.body.startswith(b"for (;;);{")
    html = json.loads(result.body[len(b"for (;;);") :])["payload"]["actions"][0]["html"]
    assert 'class="_5rgt breather-cw"' in html and "<style" in html


def video(video_id: str, title: str) -> dict[str, object]:
    return {"videoId": video_id, "title": {"runs": [{"text": title}]}, "descriptionSnippet": {"simpleText": "x"}}


def test_youtube_page_title_warning_and_script_safety() -> None:
    data = {"contents": {"items": [{"gridVideoRenderer": video("a", DISTRESSING + " </script><b>")}]}}
    page = f"<html><script>var ytInitialData = {json.dumps(data)};</script><p>after</p></html>"
    result = YouTubeHtmlAdapter().rewrite(page.encode(), context())
    assert result is not None
    out = result.body.decode()
    script = out[out.index("<script>") + len("<script>") : out.index("</script>")]
    assert script.startswith("var ytInitialData = ") and out.endswith(";</script><p>after</p></html>")
    decoded = json.loads(script.removeprefix("var ytInitialData = ").removesuffix(";"))
    title = decoded["contents"]["items"][0]["gridVideoRenderer"]["title"]["runs"][0]["text"]
    assert title == f"⚠ Breather: self-harm — {DISTRESSING} </script><b>"
    assert result.marked[0].post_id == "a" and result.marked[0].field == "title"


def test_youtube_json_is_marked_once_even_if_proxied_twice() -> None:
    body = json.dumps({"items": [video("b", DISTRESSING), video("c", "Cooking pasta")]}).encode()
    first = YouTubeJsonAdapter().rewrite(body, context())
    assert first is not None and len(first.marked) == 1
    assert YouTubeJsonAdapter().rewrite(first.body, context()) is None
