from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from breather.cli import main
from breather.paths import Paths
from breather.rules.loader import first_run_rules_text, parse_rules

FAMILY = """
[household]
timezone = "Europe/London"

[sites.reddit]
domains = ["reddit.com", "old.reddit.com"]

[profiles.parent]
default = true
daily_limit = "2h"
[profiles.parent.quiet_hours]
weekdays = "21:00-07:00"

[profiles.sam]
inherits = "parent"
user = "sam"
password = "pw"
daily_limit = "45m"
[profiles.sam.warnings]
violence = "high"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    return path


def test_check_creates_the_default_on_first_run_and_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "check"]) == 0
    rules_file = Paths.resolve().rules_file
    assert rules_file.read_text() == first_run_rules_text()  # the default, the country picked for this machine
    captured = capsys.readouterr()
    site_groups = len(parse_rules(first_run_rules_text()).groups)  # the default's own count: a new site changes both
    assert f"valid (1 profile, {site_groups} site groups)" in captured.out
    assert "wrote the default rules" in captured.err


def test_check_lists_every_problem_one_per_line_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, FAMILY.replace('daily_limit = "45m"', 'daily_limit = "lots"').replace("high", "loud"))
    assert main(["rules", "check", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        'rules.toml:18:1: profiles.sam.daily_limit: expected a duration like "45m" or "1h30m", got "lots"',
        'rules.toml:20:1: profiles.sam.warnings.violence: unknown sensitivity "loud" (one of: off, low, medium, high)',
    ]


def test_check_reports_a_syntax_error_with_its_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, FAMILY.replace('user = "sam"', "user = sam"))
    assert main(["rules", "check", str(path)]) == 2
    assert capsys.readouterr().err.strip() == (
        'rules.toml:16:8: TOML syntax error: invalid value (text values need quotes, like daily_limit = "1h")'
    )


def test_explain_prints_the_decision_and_its_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, FAMILY)
    code = main(["rules", "explain", "--file", str(path), "--profile", "sam", "--site", "reddit.com",
                 "--at", "2026-11-25T21:30"])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "quiet_hours: Quiet hours for sam: Wed 21:00–07:00 (until 07:00 tomorrow)"
    assert "no usage recorded yet: counted as zero" in out


def test_explain_with_used_minutes_reaches_the_childs_own_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, FAMILY)
    args = ["rules", "explain", "--file", str(path), "--profile", "sam", "--site", "old.reddit.com"]
    assert main([*args, "--at", "2026-11-25T12:00", "--used", "50m", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "limit_reached"
    assert data["limit_minutes"] == 45
    assert data["reason"] == "Daily limit for sam on all sites: 50m used of 45m (resets at 00:00 tomorrow)"


def test_explain_reads_todays_usage_from_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import UTC, datetime

    from breather.store.writer import Heartbeat, Writer

    paths = Paths.resolve().ensure()
    paths.rules_file.write_text(FAMILY)
    writer = Writer(paths.database)
    writer.start()
    writer.heartbeat(Heartbeat("sam", "old.reddit.com", datetime(2026, 11, 25, 11, 0, tzinfo=UTC), duration_s=3000))
    writer.flush(10)
    writer.close()
    assert main(["rules", "explain", "--profile", "sam", "--site", "reddit.com", "--at", "2026-11-25T12:00"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("limit_reached: Daily limit for sam on all sites: 50m used of 45m")
    assert "usage from the store: 50m today" in out


def test_explain_counts_the_active_time_since_the_last_break_from_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A user test: explain said "next break in 1m" while the proxy showed a break: it never read active time."""
    from datetime import UTC, datetime

    from breather.store.writer import Heartbeat, Writer

    paths = Paths.resolve().ensure()
    paths.rules_file.write_text(FAMILY.replace('daily_limit = "2h"', 'daily_limit = "2h"\nbreak_after = "30m"'))
    writer = Writer(paths.database).start()
    writer.heartbeat(Heartbeat("parent", "old.reddit.com", datetime(2026, 11, 25, 11, 40, tzinfo=UTC), duration_s=1200))
    writer.flush(10)
    writer.close()
    assert main(["rules", "explain", "--profile", "parent", "--site", "reddit.com", "--at", "2026-11-25T12:00"]) == 0
    out = capsys.readouterr().out
    assert "next break in 10m" in out and "20m since the last break" in out


def test_explain_bad_flags_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, FAMILY)
    base = ["rules", "explain", "--file", str(path), "--site", "reddit.com"]
    assert main([*base, "--at", "tomorrow"]) == 2
    assert main([*base, "--used", "lots"]) == 2
    assert main([*base, "--profile", "nobody"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        'breather rules: --at: expected a time like "2026-11-25T21:30", got "tomorrow"',
        'breather rules: --used: expected a duration like "45m" or "1h30m", got "lots"',
        'breather rules: no profile named "nobody" (profiles: parent, sam)',
    ]


def test_explain_on_a_broken_file_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, FAMILY.replace('"45m"', '"x"').replace('"2h"', '"y"'))
    assert main(["rules", "explain", "--file", str(path), "--site", "reddit.com"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"(and 1 more: run `breather rules check {path}`)" in err
    assert "Traceback" not in err


def test_rules_hints_name_the_home_given_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "other home"
    paths = Paths.resolve(home).ensure()
    paths.rules_file.write_text(FAMILY)
    assert main(["rules", "check", "--home", str(home)]) == 0
    assert f"`breather rules password sam --home '{home}'` hashes it" in capsys.readouterr().out
    paths.rules_file.write_text(FAMILY.replace('"45m"', '"x"').replace('"2h"', '"y"'))
    assert main(["rules", "--home", str(home), "show"]) == 2
    assert f"(and 1 more: run `breather rules check --home '{home}'`)" in capsys.readouterr().err


def test_show_prints_the_profile_after_inheritance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, FAMILY)
    assert main(["rules", "show", "--file", str(path), "--profile", "sam"]) == 0
    out = capsys.readouterr().out
    shown = tomllib.loads(out)["profiles"]["sam"]
    assert shown["daily_limit"] == "45m"
    assert shown["quiet_hours"]["mon"] == ["21:00-07:00"]
    assert shown["warnings"]["violence"] == "high"
    assert shown["warnings"]["self_harm"] == "medium"
    # a user test pasted the output back: password = "(none)" would have become the password
    assert "password" not in shown and "# password: set (never shown" in out
    assert main(["rules", "show", "--file", str(path), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["profile"] == "parent"


def test_rules_without_an_action_shows_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 2
    assert "check" in capsys.readouterr().out


def test_rules_password_stores_a_hash_that_the_proxy_accepts(tmp_path, capsys, monkeypatch) -> None:
    import io

    from breather.rules.loader import load_rules
    from breather.rules.passwords import verify_password

    path = write(tmp_path, FAMILY.replace('user = "sam"\npassword = "pw"\n', "# sam signs in on the laptop\n"))
    monkeypatch.setattr("sys.stdin", io.StringIO("a long walk\n"))
    assert main(["rules", "password", "sam", "--stdin", "--file", str(path)]) == 0
    text = path.read_text()
    assert "a long walk" not in text and "# sam signs in on the laptop" in text
    sam = load_rules(path).profiles["sam"]
    assert sam.user == "sam" and verify_password(sam.password, "a long walk")
    assert main(["rules", "check", str(path)]) == 0
    assert "plain text" not in capsys.readouterr().out


def test_rules_check_names_profiles_with_plain_text_passwords(tmp_path, capsys) -> None:
    assert main(["rules", "check", str(write(tmp_path, FAMILY))]) == 0
    assert "profile 'sam' keeps its password in plain text" in capsys.readouterr().out


def test_rules_check_names_a_site_group_with_no_domains(tmp_path, capsys) -> None:
    """A review: `domains = []` is valid (a group no longer looked after), but a limit on it never applies."""
    text = FAMILY.replace("[sites.reddit]", "[sites.forum]\ndomains = []\n\n[sites.reddit]")
    assert main(["rules", "check", str(write(tmp_path, text))]) == 0
    assert "site group forum lists no domains" in capsys.readouterr().out


def test_rules_check_says_a_limit_on_part_of_a_site_counts_the_whole_site(tmp_path, capsys) -> None:
    """A review: `"old.reddit.com" = "5m"` looked like a limit on old Reddit alone; it counts all of reddit.com."""
    text = FAMILY + '\n[profiles.sam.limits]\n"old.reddit.com" = "5m"\n'
    assert main(["rules", "check", str(write(tmp_path, text))]) == 0
    assert (
        'note: the limit on "old.reddit.com" (sam) counts and closes all of reddit.com: Breather counts a site as a '
        'whole; writing "reddit.com" says so' in capsys.readouterr().out
    )


def test_rules_check_says_a_site_group_without_an_adapter_is_read_as_plain_pages(tmp_path, capsys) -> None:
    """A user test added `[sites.fosstodon]` (a Mastodon server) with its domains only: read with the generic
    adapter, its JSON was never read, and nothing said so."""
    text = FAMILY.replace("[sites.reddit]", '[sites.fosstodon]\ndomains = ["fosstodon.org"]\n\n[sites.reddit]')
    assert main(["rules", "check", str(write(tmp_path, text))]) == 0
    out = capsys.readouterr().out
    assert "note: the site group fosstodon names no adapter, so Breather reads its pages as plain web pages" in out
    assert 'adapter = "mastodon"' in out
    named = text.replace("[sites.fosstodon]\ndomains", '[sites.fosstodon]\nadapter = "generic"\ndomains')
    assert main(["rules", "check", str(write(tmp_path, named))]) == 0
    assert "names no adapter" not in capsys.readouterr().out


def test_rules_check_says_a_site_limit_past_the_daily_limit_is_never_reached(tmp_path, capsys) -> None:
    """A user test wrote youtube = "1h30m" under a daily limit of 1h and nothing said the first never comes."""
    text = FAMILY + '\n[profiles.sam.limits]\nreddit = "2h"\n'
    assert main(["rules", "check", str(write(tmp_path, text))]) == 0
    out = capsys.readouterr().out
    assert "note: sam's limit on reddit (2h) is longer than sam's daily limit (45m), so it is never reached" in out


def test_rules_password_for_an_unknown_profile_changes_nothing(tmp_path, capsys, monkeypatch) -> None:
    import io

    path = write(tmp_path, FAMILY)
    monkeypatch.setattr("sys.stdin", io.StringIO("pw\n"))
    assert main(["rules", "password", "nobody", "--stdin", "--file", str(path)]) == 2
    assert 'no profile named "nobody"' in capsys.readouterr().err
    assert path.read_text() == FAMILY


def test_a_rules_file_moved_away_is_not_replaced_by_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    """A user test: with the file deleted while the service ran, `breather rules check` wrote the defaults and the
    service took them in (tightenings at once, loosenings held). Once rules were in force here, a command that reads
    says where the last ones are kept instead."""
    paths = Paths.resolve().ensure()
    paths.last_good_rules.write_text(FAMILY)
    assert main(["rules", "check"]) == 2
    assert not paths.rules_file.exists()
    error = capsys.readouterr().err
    assert f"{paths.rules_file}: no rules file" in error
    assert str(paths.last_good_rules) in error
    assert main(["rules", "show"]) == 0  # the rules in force: the last good copy, with a note
    assert not paths.rules_file.exists()
    assert 'daily_limit = "2h"' in capsys.readouterr().out


def test_explain_reads_a_pasted_address_as_its_site(capsys: pytest.CaptureFixture[str]) -> None:
    """A user test: `--site https://www.reddit.com/r/all` said "allow: ... is not one of the sites Breather looks
    after", a wrong answer, where the person meant reddit."""
    assert main(["rules", "check"]) == 0
    capsys.readouterr()
    noon = ["--at", "2026-11-25T12:00"]  # outside the default quiet hours: a run at 23:00 read them first
    assert main(["rules", "explain", "--site", "https://www.reddit.com/r/all", "--used", "0m", *noon]) == 0
    assert capsys.readouterr().out.startswith("allow: Allowed for me: 0m of 1h used today")
    assert main(["rules", "explain", "--site", "https://www.reddit.com/r/all", "--used", "2h", *noon]) == 0
    assert capsys.readouterr().out.startswith("limit_reached: Daily limit for me")


def test_check_reads_a_file_saved_with_a_byte_order_mark(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Windows Notepad starts a UTF-8 file with an invisible mark; the CLI said "TOML syntax error" on line 1."""
    path = tmp_path / "rules.toml"
    path.write_bytes(b"\xef\xbb\xbf" + FAMILY.encode("utf-8"))
    assert main(["rules", "check", str(path)]) == 0
    assert "valid (2 profiles, 1 site group)" in capsys.readouterr().out
