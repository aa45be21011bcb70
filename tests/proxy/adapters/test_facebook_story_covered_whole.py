"""A flagged Facebook story is covered whole: its text and its attachment (the photo, inside a link) behind one note.

A reviewer's render of the real m.facebook.com group page: the story's text (``div._5rgt``) was covered, but its
photo (``div._5rgu``, the next element) stayed in full view and still opened on a tap, right under "Content warning:
self-harm". The covered element is now the story's ``div.story_body_container`` (author line, text, attachment);
the note's "Show post" reveals all of it, and the story's footer (Like, Comment, Share) stays as it was.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from breather.proxy.adapters.facebook import FacebookAdapter
from tests.proxy.adapters.helpers import DISTRESSING, context
from tests.proxy.adapters.test_real_feeds import strip_breather
from tests.proxy.conftest import CspSite

# A 1x1 PNG: the story's photo, so that the browser has an image to lay out.
PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
)


def story(text: str, attachment: str = "") -> str:
    """A story as m.facebook.com writes it: the container holds the author line, the text and the attachment."""
    return (
        '<article class="_55wo _5rgr _5gh8" data-ft="{&quot;tn&quot;:&quot;-R&quot;}">'
        '<div class="story_body_container"><header><h3><a href="/someone">Someone</a></h3></header>'
        f'<div class="_5rgt _5nk5 _5msi" data-ft="{{}}"><div><span><p>{text}</p></span></div></div>'
        f'<div class="_5rgu _7dc9 _27x0" data-ft="{{}}">{attachment}</div></div>'
        '<footer><a href="/like" class="like">Like</a></footer></article>'
    )


def photo(name: str) -> str:
    return f'<a href="/photos/{name}" class="_39pi"><img src="{PIXEL}" width="360" height="360" alt="{name}"></a>'


def shared(text: str, attachment: str) -> str:
    """A shared story inside the attachment, laid out as the real page lays it out (its photo before its text)."""
    return (
        '<div class="_5rgr _5ysf _5s1m"><div class="story_body_container">'
        f'<div class="_5rgu _7dc9 _6ocu">{attachment}</div>'
        f'<div class="_3q6s _78cw"><header>Original poster</header><div class="_5rgt _5nk5"><p>{text}</p></div></div>'
        "</div></div>"
    )


def page(*stories: str) -> str:
    return (
        '<!doctype html><html><head><title>Group</title></head><body><section class="storyStream">'
        + "".join(stories)
        + "</section></body></html>"
    )


class Cover(HTMLParser):
    """For each image and link of a page: whether it sits inside a covered (``.breather-cw``), inert element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, bool]] = []  # (tag, covered and inert)
        self.covered: list[dict[str, str | None]] = []
        self.images: dict[str, bool] = {}
        self.footer_covered = False
        self.text_covered: dict[str, bool] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        inside = any(covered for _tag, covered in self.open)
        marks = "breather-cw" in (found.get("class") or "").split() and "inert" in found
        if marks:
            self.covered.append(found)
        if tag == "img":
            self.images[found.get("alt") or ""] = inside
            return
        self.footer_covered |= tag == "footer" and inside
        self.open.append((tag, marks))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                return

    def handle_data(self, data: str) -> None:
        if DISTRESSING in data:
            self.text_covered[data] = any(covered for _tag, covered in self.open)


def read_cover(markup: str) -> Cover:
    cover = Cover()
    cover.feed(markup)
    cover.close()
    return cover


def marked(source: str) -> str:
    result = FacebookAdapter().rewrite(source.encode(), context())
    assert result is not None
    assert [m.field for m in result.marked] == ["html"]
    out = result.body.decode()
    assert unmarked(out) == source  # nothing else on the page changed
    return out


def unmarked(out: str) -> str:
    """``strip_breather``, with the id that pairs a note with its post taken out too."""
    return strip_breather(re.sub(r' data-breather-id="[^"]*"', "", out))


def test_the_photo_of_a_flagged_story_is_covered_with_its_text_and_the_footer_is_not() -> None:
    source = page(story("Lovely walk today", photo("calm")), story(DISTRESSING, photo("distressing")))
    out = marked(source)
    cover = read_cover(out)
    [container] = cover.covered
    assert "story_body_container" in (container["class"] or "").split()
    assert cover.images == {"calm": False, "distressing": True}
    assert list(cover.text_covered.values()) == [True]
    assert not cover.footer_covered
    # The note is right before the covered story: reveal.js shows the element after it, text and photo together.
    note_end = out.index("</button></span>", out.index('class="breather-warning"')) + len("</button></span>")
    after_note = re.match(r"<div [^>]*>", out[note_end:])
    assert after_note is not None and 'class="story_body_container breather-cw"' in after_note.group(0)


def test_a_flagged_shared_story_is_covered_with_the_story_that_shares_it() -> None:
    source = page(story("Look at this", shared(DISTRESSING, photo("shared"))), story("Calm", photo("calm")))
    cover = read_cover(marked(source))
    assert len(cover.covered) == 1
    assert cover.images == {"shared": True, "calm": False}
    assert list(cover.text_covered.values()) == [True]


def test_a_calm_story_page_is_left_alone() -> None:
    source = page(story("Lovely walk today", photo("calm")), story("Look at this", shared("Nice", photo("s"))))
    assert FacebookAdapter().rewrite(source.encode(), context()) is None


def test_story_text_outside_any_story_container_is_still_covered_on_its_own() -> None:
    source = page(f'<div class="_5rgt"><p>{DISTRESSING}</p></div><div class="_5rgu">{photo("loose")}</div>')
    cover = read_cover(marked(source))
    assert len(cover.covered) == 1 and list(cover.text_covered.values()) == [True]


# --- the real pages -----------------------------------------------------------------------------------------------

STORY_TEXT = re.compile(r'<div class="_5rgt[^"]*"[^>]*>')
REAL_PAGES = ["m_facebook_group_117507531664134.html", "m_facebook_Nintendo_posts_page.html"]


def article_around(out: str, offset: int) -> str:
    start = out.rindex("<article", 0, offset)
    return out[start : out.index("</article>", offset) + len("</article>")]


class Attachments(HTMLParser):
    """The images inside ``div._5rgu`` attachments of one story, and whether each is inside the covered element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, bool, bool]] = []  # (tag, an attachment, covered and inert)
        self.photos: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if tag == "img":
            if any(attachment for _tag, attachment, _covered in self.open):
                self.photos.append(any(covered for _tag, _attachment, covered in self.open))
            return
        self.open.append((tag, "_5rgu" in classes, "breather-cw" in classes and "inert" in found))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                return


@pytest.mark.fixtures
@pytest.mark.parametrize("name", REAL_PAGES)
def test_every_story_of_a_real_page_is_covered_with_its_attachment(shared_fixtures: Path, name: str) -> None:
    """Each story's text in turn made distressing: one note, and every photo of the story's attachments (a shared
    story's included) inside the covered, inert element; the rest of the page byte for byte as it was."""
    source = (shared_fixtures / "feeds" / "facebook" / name).read_text(encoding="utf-8")
    texts = list(STORY_TEXT.finditer(source))
    assert texts
    with_photos = 0
    for text in texts:
        swapped = source[: text.end()] + DISTRESSING + " " + source[text.end() :]
        out = marked(swapped)
        assert out.count('class="breather-warning"') == 1
        attachments = Attachments()
        attachments.feed(article_around(out, out.index(DISTRESSING)))
        assert all(attachments.photos), f"{name}: a photo of the flagged story at {text.start()} is in full view"
        with_photos += bool(attachments.photos)
    assert with_photos >= 1


# --- in Chromium --------------------------------------------------------------------------------------------------

NONCE = "st0ry"
CSP = f"default-src 'none'; script-src 'nonce-{NONCE}'; style-src 'nonce-{NONCE}'; img-src data:; connect-src 'self'"
PHOTO_STATE = """() => {
  const img = document.querySelector('img[alt="distressing"]');
  let blurred = false;
  for (let e = img; e; e = e.parentElement) if (getComputedStyle(e).filter !== 'none') blurred = true;
  return {blurred, inert: !!img.closest('[inert]')};
}"""


@pytest.mark.e2e
def test_in_chromium_the_photo_is_blurred_and_unreachable_until_show_post_reveals_it(headless_chromium: Any) -> None:
    source = page(story("Lovely walk today", photo("calm")), story(DISTRESSING, photo("distressing")))
    result = FacebookAdapter().rewrite(source.encode(), context(nonce=NONCE))
    assert result is not None
    site = CspSite(result.body, CSP)
    browser_page = headless_chromium.new_page()
    try:
        browser_page.goto(site.url)
        assert browser_page.evaluate(PHOTO_STATE) == {"blurred": True, "inert": True}
        browser_page.locator("button.breather-reveal").click()
        browser_page.wait_for_function("() => document.querySelector('.breather-cw.breather-revealed') !== null")
        assert browser_page.evaluate(PHOTO_STATE) == {"blurred": False, "inert": False}
        assert browser_page.locator(f"text={DISTRESSING}").is_visible()
    finally:
        browser_page.close()
        site.close()
