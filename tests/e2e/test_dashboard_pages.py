"""Every dashboard page in a real headless Chromium, served by a real ``breather serve`` on the demo household.

``breather demo`` writes a month for a household of four; ``breather serve`` (a subprocess) serves the dashboard
under waitress; Chromium (no proxy: the dashboard is loopback) screenshots each page. The test reads what a
person would see: the DOM text, that the PNG is not blank (decoded by Chromium itself), that nothing needs
sideways scrolling at 200% zoom, and that the weekly review prints without navigation.

Screenshots land in ``$BREATHER_SCREENSHOTS`` when set (to look at them), else in the test's temporary folder.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, Service, Upstream, start_service

pytestmark = pytest.mark.e2e

# path, what the page's <h1> starts with, text that must be on it (drawn from the demo's data)
PAGES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("/", "Today,", ("Time on social sites", "Minutes per site", "Content warnings today")),
    ("/?member=maya", "Today,", ("Time on social sites", "daily limit")),
    ("/history?days=7", "History: the last 7 days", ("Per day", "Per site", "Per member", "When")),
    ("/history?days=30", "History: the last 30 days", ("Daily average",)),
    ("/history?days=90&member=leo", "History: the last 90 days", ("leo",)),
    ("/family", "Family: the last 7 days", ("alex", "jordan", "maya", "leo", "Warnings seen")),
    ("/review", "Our week", ("Talking points", "Our goal for the week of Monday")),
    ("/rules", "Rules", ("Each member's common settings", "The rules file", "Daily limit")),
    ("/requests", "Asks for more time", ("asks for", "Answered this week")),
    ("/setup", "Setup", ("Trust Breather's certificate", "/api/v1/pac", "Pair the extension")),
    # The demo's newest visits may fall inside the live check's 5 minutes or not: either answer names the site.
    ("/setup?check=reddit.com", "Setup", ("Is it working?", "reddit.com")),
    ("/data", "Your data", ("What is stored", "Delete everything")),
    ("/learn", "Learn", ("How feeds are built to keep you scrolling", "Where to get help")),
    ("/learn/getting-help", "Where to get help", ("Someone to talk to, now", "Samaritans", "116 123")),
    ("/learn/harmful-content", "When you meet harmful content", ("Mastodon", "Bluesky")),
)

# Chromium decodes the PNG; the page counts colours and how much of it differs from the background.
PIXEL_STATS = """
async (data) => {
  const image = new Image();
  image.src = "data:image/png;base64," + data;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width; canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  const colours = new Set();
  let differing = 0, total = 0;
  const [r0, g0, b0] = [pixels[0], pixels[1], pixels[2]];
  for (let i = 0; i < pixels.length; i += 4 * 7) {
    colours.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
    if (Math.abs(pixels[i] - r0) + Math.abs(pixels[i + 1] - g0) + Math.abs(pixels[i + 2] - b0) > 30) differing++;
    total++;
  }
  return {colours: colours.size, ink: differing / total, width: image.width, height: image.height};
}
"""


@pytest.fixture
def demo_service(tmp_path: Path, upstream: Upstream) -> Iterator[Service]:
    home = tmp_path / "demo-home"
    seeded = subprocess.run(
        [sys.executable, "-m", "breather", "demo", "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert seeded.returncode == 0, seeded.stderr
    rules = (home / "config" / "rules.toml").read_text(encoding="utf-8")
    service = start_service(home, rules, upstream)
    yield service
    code = service.stop()
    assert code == 0, f"breather serve exited with {code}:\n{service.log()[-3000:]}"


@pytest.fixture
def chromium_browser() -> Iterator[Any]:
    """The system Chromium, without a proxy: the dashboard is on loopback."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is needed for the end-to-end browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[flag for flag in CHROMIUM_FLAGS if not flag.startswith(("--headless", "--proxy-bypass"))],
        )
        yield browser
        browser.close()


@pytest.fixture
def browser(chromium_browser: Any) -> Iterator[Any]:
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
    yield context
    context.close()


def shots_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("BREATHER_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shot_name(path: str, suffix: str = "") -> str:
    slug = path.strip("/")
    slug = ("today" + slug if slug.startswith("?") else slug or "today").replace("?", "-").replace("=", "-")
    slug = slug.replace("&", "-").replace("/", "-")
    return f"{slug}{suffix}.png"


def pixel_stats(page: Any, png: bytes) -> dict[str, float]:
    stats: dict[str, float] = page.evaluate(PIXEL_STATS, base64.b64encode(png).decode("ascii"))
    return stats


def test_every_page_renders_the_demo_household(demo_service: Service, browser: Any, tmp_path: Path) -> None:
    folder = shots_dir(tmp_path)
    page = browser.new_page()
    problems: list[str] = []
    for path, heading, texts in PAGES:
        response = page.goto(demo_service.web_url + path)
        assert response is not None and response.status == 200, (path, response and response.status)
        title = page.title()
        h1 = page.locator("h1").inner_text()
        body = page.locator("main").inner_text()
        png = page.screenshot(full_page=True, path=str(folder / shot_name(path)))
        stats = pixel_stats(page, png)
        if not title.endswith("· Breather"):
            problems.append(f"{path}: title {title!r}")
        if not h1.startswith(heading):
            problems.append(f"{path}: heading {h1!r}")
        problems += [f"{path}: no {text!r}" for text in texts if text not in body]
        if stats["colours"] < 8 or stats["ink"] < 0.03:
            problems.append(f"{path}: the screenshot looks blank ({stats})")
        if "http://" in body.replace(demo_service.web_url, "") and not path.startswith("/setup"):
            problems.append(f"{path}: an address is shown on the page")
    assert not problems, "\n".join(problems)
    page.goto(demo_service.web_url + "/setup?check=reddit.com")
    assert page.locator("#live-check").inner_text().startswith(("Yes: Breather saw reddit.com", "No: nothing from"))
    page.goto(demo_service.web_url + "/rules")
    assert "[profiles.maya]" in page.input_value("#rules-text")


def test_charts_are_real_svg_drawn_from_the_household_s_use(demo_service: Service, browser: Any) -> None:
    """In a real browser (that each bar and cell says the table's number is checked in test_chart_accessibility)."""
    page = browser.new_page()
    page.goto(demo_service.web_url + "/history?days=30")
    assert page.locator("svg.heatmap rect.heat").count() == 7 * 24
    assert page.locator("svg.columns rect.bar").count() == 30
    busy = page.locator("svg.heatmap rect.heat:not(.h0)").count()
    assert busy > 10, "a month of a family's use lights up more than ten hours of the week"
    page.goto(demo_service.web_url + "/family")
    assert page.locator("article.member").count() == 4


def test_pages_reflow_at_200_percent_zoom(demo_service: Service, chromium_browser: Any, tmp_path: Path) -> None:
    """200% zoom on a 1280-pixel window lays the page out in 640 CSS pixels at twice the density."""
    folder = shots_dir(tmp_path)
    zoomed = chromium_browser.new_context(viewport={"width": 640, "height": 900}, device_scale_factor=2)
    page = zoomed.new_page()
    overflowing = []
    for path, _, _ in PAGES:
        page.goto(demo_service.web_url + path)
        page.screenshot(full_page=False, path=str(folder / shot_name(path, "-zoom200")))
        sideways = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if sideways > 1:
            overflowing.append(f"{path}: {sideways}px of sideways scrolling")
    zoomed.close()
    assert not overflowing, "\n".join(overflowing)


def test_the_weekly_review_prints_without_navigation(demo_service: Service, browser: Any, tmp_path: Path) -> None:
    page = browser.new_page()
    page.goto(demo_service.web_url + "/review")
    page.emulate_media(media="print")
    assert not page.locator("header.masthead").is_visible()
    assert not page.locator("textarea#goal").is_visible()
    assert page.locator("#talking-points li").count() >= 3
    page.screenshot(full_page=True, path=str(shots_dir(tmp_path) / "review-print.png"))
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000


# In print, how each part of the weekly review may be split over pages, and whether the key's colours print.
PRINT_BREAKS = """() => ({
  chartSection: getComputedStyle(document.querySelector('section:has(.chart-box)')).breakInside,
  chart: getComputedStyle(document.querySelector('.chart-box')).breakInside,
  table: getComputedStyle(document.querySelector('#week-table')).breakInside,
  swatch: getComputedStyle(document.querySelector('.chart-key .swatch')).printColorAdjust,
})"""


def test_the_weekly_review_prints_its_chart_without_leaving_page_one_half_empty(
    demo_service: Service, browser: Any
) -> None:
    """An accessibility review printed the review to A4: every section was kept whole, so the chart's section (chart,
    key and table) did not fit under the talking points and page 1 ended half empty. A section may run on now; the
    chart, its key and a table stay whole, and the key's rust swatch prints (a background, left out of print)."""
    page = browser.new_page()
    page.goto(demo_service.web_url + "/review")
    page.emulate_media(media="print")
    breaks = page.evaluate(PRINT_BREAKS)
    assert breaks == {"chartSection": "auto", "chart": "avoid", "table": "avoid", "swatch": "exact"}, breaks


def test_a_guide_prints_with_its_crisis_box_and_without_navigation(
    demo_service: Service, browser: Any, tmp_path: Path
) -> None:
    page = browser.new_page()
    page.goto(demo_service.web_url + "/learn/getting-help")
    page.emulate_media(media="print")
    assert not page.locator("header.masthead").is_visible()
    assert not page.locator(".crumbs").is_visible()
    assert "Samaritans" in page.locator("aside.crisis").inner_text()
    page.screenshot(full_page=True, path=str(shots_dir(tmp_path) / "learn-getting-help-print.png"))
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000


def test_the_goal_forms_answer_is_on_screen_after_saving(demo_service: Service, browser: Any) -> None:
    """A user test saved the week's goal with a mistyped passphrase and saw the top of the page: the answer ("That is
    not the household passphrase; nothing was changed.") was far below, so Save seemed to do nothing."""
    from playwright.sync_api import expect

    page = browser.new_page()
    page.goto(demo_service.web_url + "/review")
    page.fill("textarea#goal", "Phones stay downstairs after nine.")
    page.fill("#goal-passphrase", "not-the-passphrase")
    page.click("text=Save the goal")
    expect(page.locator("#goal-problem")).to_be_in_viewport()
    expect(page.locator("textarea#goal")).to_have_value("Phones stay downstairs after nine.")


def test_a_refused_field_looks_refused_and_a_long_list_of_limits_shows_whole(
    demo_service: Service, browser: Any
) -> None:
    """A rules user test: a refused field looked exactly like the others (its only sign was the message at the top of
    the page), and the limits box, two lines tall, cut the third line off."""
    page = browser.new_page()
    page.goto(demo_service.web_url + "/rules")
    limits = page.locator("#leo-limits")
    limits.fill("reddit = 20m\nyoutube = 30m\ntiktok = 15m")
    page.fill("#leo-daily", "lots")
    page.locator("#leo-daily").press("Enter")  # the member form's first button: Preview
    page.wait_for_selector('#leo-daily[aria-invalid="true"]')
    border = "(element) => getComputedStyle(element).borderTopColor"
    refused, other = page.eval_on_selector("#leo-daily", border), page.eval_on_selector("#leo-break", border)
    assert refused != other, (refused, other)
    shown = page.locator("#leo-limits")
    assert page.evaluate("(box) => box.scrollHeight <= box.clientHeight + 1", shown.element_handle())
