"""flaskr-style fixtures: an app on a temporary home, its test client and CLI runner, and small seeding helpers."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from breather.dashboard import context
from breather.dashboard.app import create_app
from breather.dashboard.security import ScryptCost
from breather.paths import Paths
from breather.store.model import Event, Heartbeat
from breather.store.writer import Writer

# A cheap scrypt cost so tests stay fast; the real cost is measured in bench/dashboard_bench.py.
TEST_SCRYPT = ScryptCost(n=2**10, r=8, p=1)
PASSPHRASE = "correct horse battery"
# The dashboard's clock in tests: a Wednesday evening, so "today" always has a whole day behind it.
NOW = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)

FAMILY_RULES = """\
# Our household
[household]
timezone = "UTC"
retention_days = 90
cooling_off = "24h"

[sites.reddit]
adapter = "reddit"
domains = ["reddit.com", "www.reddit.com", "old.reddit.com"]

[sites.youtube]
adapter = "youtube"
domains = ["www.youtube.com"]

[profiles.parent]
default = true
user = "parent"
daily_limit = "1h"  # a parent's limit
break_after = "25m"

[profiles.parent.limits]
reddit = "30m"

[profiles.teen]
user = "teen"
password = "teen-proxy-pass"
daily_limit = "45m"
break_after = "20m"

[profiles.teen.quiet_hours]
daily = "22:00-07:00"
"""


@pytest.fixture
def app(breather_home: Path) -> Iterator[Flask]:
    rules_file = breather_home / "config" / "rules.toml"
    rules_file.parent.mkdir(parents=True, exist_ok=True)
    rules_file.write_text(FAMILY_RULES, encoding="utf-8")
    yield from dashboard_app(breather_home)


def dashboard_app(home: Path) -> Iterator[Flask]:
    """The dashboard on ``home`` (its rules file already written) at the tests' fixed clock, with a fast writer."""
    app = create_app(
        {"TESTING": True, "HOME": str(home), "SCRYPT_COST": TEST_SCRYPT, "CLOCK": lambda: NOW, "WRITER_FLUSH_MS": 10}
    )
    yield app
    context.close_own_writer(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def csrf_from(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def form_token(client: FlaskClient, path: str = "/setup") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def set_passphrase(client: FlaskClient, passphrase: str = PASSPHRASE) -> None:
    token = form_token(client)
    response = client.post(
        "/setup/passphrase",
        data={"csrf_token": token, "new_passphrase": passphrase, "confirm_passphrase": passphrase},
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def pairing_code(client: FlaskClient, member: str = "teen") -> str:
    """Make a pairing code on Setup, as a parent does; returns the code the page shows."""
    token = form_token(client)
    form = {"csrf_token": token, "member": member, "passphrase": PASSPHRASE}  # needed once a passphrase is set
    page = client.post("/setup/pair", data=form, follow_redirects=True)
    code = re.search(r"Pairing code for " + member + r": ([A-Z]{4}-\d{4})", page.get_data(as_text=True))
    assert code, "no pairing code shown"
    return code.group(1)


def pair(client: FlaskClient, member: str = "teen", origin: str | None = None) -> str:
    """Make a pairing code on Setup and redeem it through the API, as the extension does (from ``origin``, its
    extension origin, when given); returns the token."""
    headers = {"Origin": origin} if origin else {}
    answer = client.post(
        "/api/v1/pair", json={"code": pairing_code(client, member), "browser": "chrome"}, headers=headers
    )
    assert answer.status_code == 200, answer.get_json()
    return str(answer.get_json()["token"])


class Seeder:
    """Writes usage through the real store Writer, the way the proxy does."""

    def __init__(self, database: str) -> None:
        self.writer = Writer(database, flush_ms=20).start()
        self._beats: list[Heartbeat] = []

    def minutes(self, profile: str, site: str, start: datetime, minutes: float) -> None:
        """One heartbeat per 30 s, as the proxy and the extension send them (sent in time order on ``send``)."""
        for index in range(int(minutes * 2) + 1):
            self._beats.append(Heartbeat(profile, site, start + timedelta(seconds=30 * index)))

    def send(self) -> None:
        for beat in sorted(self._beats, key=lambda beat: beat.at):
            self.writer.heartbeat(beat)
        self._beats = []
        self.writer.flush()

    def event(self, profile: str, kind: str, at: datetime, **fields: Any) -> None:
        self.writer.event(Event(profile, kind, at, **fields))

    def close(self) -> None:
        self.send()
        self.writer.close()


@pytest.fixture
def seed(app: Flask) -> Iterator[Seeder]:
    seeder = Seeder(app.config["DATABASE"])
    yield seeder
    seeder.close()


def today_at(hour: int, minute: int = 0) -> datetime:
    return NOW.replace(hour=hour, minute=minute)


def service_watcher(paths: Paths, clock: list[datetime]) -> Any:
    """The service's rules watcher (it holds hand loosenings and knows the Rules page's), on a clock the test moves
    by setting ``clock[0]``."""
    from breather.rules.watcher import RulesWatcher
    from breather.service import dashboard_asked_at

    return RulesWatcher(
        paths.rules_file,
        last_good=paths.last_good_rules,
        cool_loosening=True,
        asked_at=dashboard_asked_at(paths),
        clock=lambda: clock[0],
    )


def write_by_hand(path: Path, text: str) -> None:
    """The rules file edited in a text editor while the dashboard runs."""
    path.write_text(text, encoding="utf-8")
    stamp = path.stat().st_mtime_ns + 1_000_000  # coarse mtimes: the dashboard must see the change
    os.utime(path, ns=(stamp, stamp))


def flat(page: str) -> str:
    """A page's text with its whitespace run together and entities read, to search for what a person reads."""
    return html.unescape(re.sub(r"\s+", " ", page))


class FormReader(HTMLParser):
    """What a browser posts for each form as the page shows it: inputs, selected options, textareas."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append({})
        elif not self.forms:
            return
        elif tag == "input" and found.get("type") != "submit" and "name" in found:
            self.forms[-1][found["name"]] = found.get("value", "")
        elif tag == "select":
            self._select = found["name"]
        elif tag == "option" and self._select and "selected" in found:
            self.forms[-1][self._select] = found.get("value", "\0")  # no value: the option's text, which comes next
        elif tag == "textarea":
            self._textarea = found["name"]
            self.forms[-1][self._textarea] = ""

    def handle_data(self, data: str) -> None:
        if self._select and self.forms[-1].get(self._select) == "\0":
            self.forms[-1][self._select] = data
        if self._textarea:
            self.forms[-1][self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def member_form(page: str, member: str) -> dict[str, str]:
    """What a browser would post from ``member``'s form on the Rules page, its hidden ``shown_`` fields included."""
    reader = FormReader()
    reader.feed(page)
    form = next(form for form in reader.forms if form.get("profile") == member)
    return {key: value.removeprefix("\n") for key, value in form.items()}
