"""`breather rules show` and `rules explain` describe the rules in force, not only the file as written (a user test).

Each test builds a real home: the rules file, the copy of the last good rules the service's watcher keeps (made by a
real ``RulesWatcher``), and a real store with a parent's yes given on the real dashboard.
"""

from __future__ import annotations

import io
import json
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from breather.cli import main
from breather.paths import Paths
from breather.rules.watcher import RulesWatcher

RULES = """\
[household]
timezone = "UTC"
cooling_off = "24h"

[sites.reddit]
domains = ["reddit.com", "old.reddit.com"]

[profiles.parent]
default = true

[profiles.sam]
daily_limit = "45m"
"""
BROKEN = RULES.replace('daily_limit = "45m"', 'daily_limit = "lots"')
LOOSENED = RULES.replace('daily_limit = "45m"', 'daily_limit = "2h"')
# The dashboard's clock when the parent says yes (a Wednesday evening).
APPROVED_AT = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)


def home_in_force(tmp_path: Path, text: str) -> tuple[str, Paths, RulesWatcher]:
    """A home whose service took ``text`` in (and so keeps it as the last good rules)."""
    home = tmp_path / "home"
    paths = Paths.resolve(home).ensure()
    paths.rules_file.write_text(text, encoding="utf-8")
    watcher = RulesWatcher(paths.rules_file, last_good=paths.last_good_rules, cool_loosening=True)
    assert paths.last_good_rules.exists()
    return str(home), paths, watcher


def explain_sam(home: str, *more: str) -> list[str]:
    return ["rules", "explain", "--profile", "sam", "--site", "reddit.com", "--used", "50m", "--home", home, *more]


def test_a_broken_file_shows_the_last_good_version_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home, paths, _ = home_in_force(tmp_path, RULES)
    paths.rules_file.write_text(BROKEN, encoding="utf-8")  # a half-finished edit
    problem = 'rules.toml has a problem at line 12: profiles.sam.daily_limit: expected a duration like "45m" or "1h30m"'

    assert main(["rules", "show", "--profile", "sam", "--home", home]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith(f"# {problem}")
    assert first.endswith("; Breather keeps the last good version, shown below")
    assert tomllib.loads(out)["profiles"]["sam"]["daily_limit"] == "45m"

    assert main(explain_sam(home)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(problem) and lines[0].endswith("; Breather keeps the last good version, used below")
    assert lines[1] == "limit_reached: Daily limit for sam on all sites: 50m used of 45m (resets at 00:00 tomorrow)"

    # The file as written is still there to look at: it is the broken one.
    assert main(["rules", "show", "--profile", "sam", "--file", "--home", home]) == 2
    assert 'profiles.sam.daily_limit: expected a duration like "45m" or "1h30m", got "lots"' in capsys.readouterr().err


def test_a_held_loosening_shows_the_tighter_setting_until_its_cooling_off_ends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home, paths, watcher = home_in_force(tmp_path, RULES)
    paths.rules_file.write_text(LOOSENED, encoding="utf-8")  # a hand edit: 45m becomes 2h
    watcher.reload()
    (held,) = watcher.held
    ends = held.takes_effect.astimezone(UTC)
    note = f"Your edit loosening sam's daily limit (45m → 2h) takes effect at {ends:%H:%M}"

    assert main(["rules", "show", "--profile", "sam", "--home", home]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"# {note}")
    assert "(cooling-off); until then the old setting is in force, shown below\n" in out
    assert tomllib.loads(out)["profiles"]["sam"]["daily_limit"] == "45m"

    assert main(explain_sam(home)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(note)
    assert lines[1].startswith("limit_reached: Daily limit for sam on all sites: 50m used of 45m")

    after = (ends + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    assert main(explain_sam(home, "--at", after, "--json")) == 0
    decision = json.loads(capsys.readouterr().out)
    assert decision["kind"] == "allow" and decision["limit_minutes"] == 120
    assert decision["notes"] == []

    assert main(["rules", "show", "--profile", "sam", "--file", "--home", home, "--format", "json"]) == 0
    as_written = json.loads(capsys.readouterr().out)
    assert as_written["daily_limit"] == "2h" and as_written["notes"] == []


def approve_more_time_on_the_dashboard(paths: Paths, site: str | None) -> None:
    """Sam asks for more time on ``site`` (a real event in the store); a parent says "1 hour" on the Requests page."""
    from breather.dashboard import context
    from breather.dashboard.app import create_app
    from breather.store.model import Event
    from breather.store.writer import Writer
    from tests.dashboard.conftest import PASSPHRASE, TEST_SCRYPT, form_token, set_passphrase

    writer = Writer(paths.database).start()
    writer.event(Event("sam", "more_time_asked", APPROVED_AT - timedelta(minutes=5), site=site, detail={"minutes": 60}))
    assert writer.flush(10)
    writer.close()
    config = {"TESTING": True, "HOME": str(paths.config_dir.parent), "SCRYPT_COST": TEST_SCRYPT}
    app = create_app({**config, "CLOCK": lambda: APPROVED_AT, "WRITER_FLUSH_MS": 10})
    try:
        client = app.test_client()
        set_passphrase(client)
        page = client.get("/requests").get_data(as_text=True)
        event_id = page.split("/requests/", 1)[1].split("/approve", 1)[0]
        token = form_token(client, "/requests")
        form = {"csrf_token": token, "grant": "60", "passphrase": PASSPHRASE}
        assert client.post(f"/requests/{event_id}/approve", data=form).status_code == 302
    finally:
        context.close_own_writer(app)


def test_explain_tells_of_more_time_a_parent_granted_while_it_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home, paths, _ = home_in_force(tmp_path, RULES)
    approve_more_time_on_the_dashboard(paths, "reddit.com")
    base = ["rules", "explain", "--profile", "sam", "--site", "old.reddit.com", "--used", "50m", "--home", home]

    assert main([*base, "--at", "2026-03-04T20:10"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "allow: Allowed for sam: 50m of 45m used today on all sites; extra time until 21:00"
    assert lines[1] == (
        "more time on reddit.com until 21:00, approved on the dashboard at 20:00: Breather lets it through until then"
    )

    assert main([*base, "--at", "2026-03-04T21:00"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("limit_reached: Daily limit for sam on all sites: 50m used of 45m")
    assert not any(line.startswith("more time") for line in lines)


def test_the_rules_described_are_the_ones_a_restarted_service_enforces(tmp_path: Path) -> None:
    from breather.rules.watcher import read_in_force

    _, paths, watcher = home_in_force(tmp_path, RULES)
    paths.rules_file.write_text(LOOSENED, encoding="utf-8")
    watcher.reload()
    described = read_in_force(paths.rules_file, paths.last_good_rules, datetime.now(UTC))
    restarted = RulesWatcher(paths.rules_file, last_good=paths.last_good_rules, cool_loosening=True)
    assert (described.rules, described.held, described.refused) == (restarted.current, restarted.held, None)

    paths.rules_file.write_text(BROKEN, encoding="utf-8")
    described = read_in_force(paths.rules_file, paths.last_good_rules, datetime.now(UTC))
    restarted = RulesWatcher(paths.rules_file, last_good=paths.last_good_rules, cool_loosening=True)
    # the loosening held before the file broke still waits, for the restarted service and for the description
    assert described.rules == restarted.current and described.held == restarted.held
    assert [change.setting for change in described.held] == ["daily_limit"]
    assert described.refused is not None and str(described.refused) == restarted.last_error


def test_each_held_loosening_keeps_its_own_time_through_later_edits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A user test: a loosening held at 07:54 was said to take effect at 08:08 after an unrelated edit then."""
    home, paths, _ = home_in_force(tmp_path, RULES)
    moment = [datetime(2026, 3, 4, 7, 54, tzinfo=UTC)]
    watcher = RulesWatcher(
        paths.rules_file, last_good=paths.last_good_rules, cool_loosening=True, clock=lambda: moment[0]
    )
    paths.rules_file.write_text(LOOSENED, encoding="utf-8")
    watcher.reload()
    moment[0] = datetime(2026, 3, 4, 8, 8, tzinfo=UTC)
    more = 'daily_limit = "2h"\nbreak_length = "1m"\ncalm = true'
    paths.rules_file.write_text(LOOSENED.replace('daily_limit = "2h"', more), encoding="utf-8")
    watcher.reload()

    assert main(explain_sam(home, "--at", "2026-03-04T09:00")) == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        "Your edit loosening sam's daily limit (45m → 2h) takes effect at 07:54 tomorrow; "
        "sam's break length (5m → 1m) at 08:08 tomorrow (cooling-off); "
        "until then the old settings are in force, used below"
    )
    assert main(explain_sam(home, "--at", "2026-03-05T08:00", "--json")) == 0
    decision = json.loads(capsys.readouterr().out)
    assert decision["kind"] == "allow" and decision["limit_minutes"] == 120  # the first is in force by then
    assert decision["notes"] == [
        "Your edit loosening sam's break length (5m → 1m) takes effect at 08:08 (cooling-off); "
        "until then the old setting is in force, used below"
    ]


def test_a_loosening_the_dashboard_applied_long_ago_typed_back_by_hand_waits_again(tmp_path: Path) -> None:
    """A user test: a limit the Rules page loosened (and applied after its wait) weeks ago, tightened since, and then
    typed back in by hand, was taken for "asked on the dashboard weeks ago" and applied at once."""
    from breather.dashboard import context
    from breather.dashboard.app import create_app
    from tests.dashboard.conftest import PASSPHRASE, TEST_SCRYPT, form_token, service_watcher, set_passphrase

    _, paths, _ = home_in_force(tmp_path, RULES)
    moment = [APPROVED_AT]
    watcher = service_watcher(paths, moment)
    config = {"TESTING": True, "HOME": str(paths.config_dir.parent), "SCRYPT_COST": TEST_SCRYPT}
    app = create_app({**config, "CLOCK": lambda: moment[0], "WRITER_FLUSH_MS": 10})
    try:
        client = app.test_client()
        set_passphrase(client)
        form = {"profile": "sam", "daily_limit": "2h", "action": "save", "passphrase": PASSPHRASE}
        client.post("/rules", data={"csrf_token": form_token(client, "/rules"), **form})
        moment[0] = APPROVED_AT + timedelta(hours=25)
        client.get("/rules")  # due: the dashboard writes the loosening to the file
        loosened = paths.rules_file.read_text(encoding="utf-8")
        watcher.reload()
        assert watcher.current is not None and watcher.current.profiles["sam"].daily_limit == timedelta(hours=2)
        assert watcher.held == ()  # the dashboard held it already
    finally:
        context.close_own_writer(app)

    moment[0] = APPROVED_AT + timedelta(days=20)
    paths.rules_file.write_text(loosened.replace('daily_limit = "2h"', 'daily_limit = "45m"'), encoding="utf-8")
    watcher.reload()
    moment[0] = APPROVED_AT + timedelta(days=21)
    paths.rules_file.write_text(loosened, encoding="utf-8")
    watcher.reload()
    assert watcher.current.profiles["sam"].daily_limit == timedelta(minutes=45)
    assert [change.takes_effect for change in watcher.held] == [moment[0] + timedelta(hours=24)]


def test_rules_password_leaves_a_rules_file_made_by_hand_readable_by_its_owner_only(
    breather_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A review: `breather rules password` wrote a member's password hash into a rules.toml the person had made by
    hand (0644), readable by every account on the machine."""
    rules_file = Paths.resolve(breather_home).rules_file
    rules_file.parent.mkdir(parents=True, exist_ok=True)
    rules_file.write_text(RULES, encoding="utf-8")
    rules_file.chmod(0o644)
    monkeypatch.setattr("sys.stdin", io.StringIO("KidPassword-123\n"))
    assert main(["rules", "password", "sam", "--stdin"]) == 0
    assert "scrypt:" in rules_file.read_text()
    assert oct(rules_file.stat().st_mode & 0o777) == "0o600"
