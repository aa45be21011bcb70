from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from breather.cli import COMMANDS, build_parser, main


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    listed = [line.split()[0] for line in out.splitlines() if line.startswith("    ") and not line.startswith("     ")]
    assert listed == list(COMMANDS)  # each command on a line of its own, with its help, in the order they are defined
    for name in ("run", "serve", "open", "rules", "classify", "eval", "export", "ca", "status", "delete", "stop"):
        assert name in COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_home(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "--home" in capsys.readouterr().out


def test_module_runs_from_the_checkout_root(project_root: Path) -> None:
    """From the repository root ./breather shadows the installed package; the sibling folders must still map."""
    result = subprocess.run(
        [sys.executable, "-c", "import breather.rules, breather.proxy, breather.dashboard; print('ok')"],
        capture_output=True,
        text=True,
        check=False,
        cwd=project_root,
    )
    assert result.stdout.strip() == "ok", result.stderr
    version = subprocess.run(
        [sys.executable, "-m", "breather", "--version"], capture_output=True, text=True, check=False, cwd=project_root
    )
    assert version.stdout.startswith("breather ")


def _nested_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path that ends in a parser without sub-commands of its own, such as ("rules", "check")."""
    found: list[tuple[str, ...]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _nested_commands(sub, (*path, name)) or [(*path, name)]
    return found


def test_every_nested_command_takes_home_after_it() -> None:
    """The README promises `--home DIR` on every command: `breather rules check --home DIR` too."""
    parser = build_parser()
    nested = [path for path in _nested_commands(parser) if len(path) > 1]
    assert ("rules", "check") in nested
    for path in nested:
        extra = ["nobody"] if path == ("rules", "password") else []
        extra += ["--site", "x.com"] if path == ("rules", "explain") else []
        args = parser.parse_args([*path, *extra, "--home", "/tmp/after", "--debug"])
        assert args.home == "/tmp/after", path
        assert args.debug is True, path


@pytest.mark.parametrize(
    ("argv", "home", "debug"),
    [
        (["rules", "--home", "/tmp/before", "check"], "/tmp/before", False),
        (["rules", "check", "--home", "/tmp/after"], "/tmp/after", False),
        (["rules", "--home", "/tmp/before", "check", "--home", "/tmp/after"], "/tmp/after", False),
        (["rules", "--debug", "check", "--home", "/tmp/after"], "/tmp/after", True),
        (["rules", "check"], None, False),
        (["status", "--home", "/tmp/flat"], "/tmp/flat", False),
    ],
)
def test_home_before_or_after_the_action(argv: list[str], home: str | None, debug: bool) -> None:
    args = build_parser().parse_args(argv)
    assert args.home == home
    assert args.debug is debug


def test_rules_check_with_home_after_the_action_uses_that_home(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "elsewhere"
    assert main(["rules", "check", "--home", str(home)]) == 0
    assert (home / "config" / "rules.toml").exists()
    assert str(home / "config" / "rules.toml") in capsys.readouterr().out


def _closed_pipe_run(argv: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    """Run `breather ARGV` with stdout a pipe whose reader has already gone (as `| head -1` once head exits)."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run(
            [sys.executable, "-m", "breather", *argv],
            env={**os.environ, "BREATHER_HOME": str(home)},
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(writer)


@pytest.mark.parametrize("argv", [["export"], ["status"], ["rules", "show"]])
def test_a_reader_that_goes_away_ends_the_command_quietly(argv: list[str], tmp_path: Path) -> None:
    from breather.paths import Paths
    from breather.rules.loader import ensure_rules_file
    from breather.store.db import open_database

    paths = Paths.resolve(tmp_path / "piped").ensure()
    ensure_rules_file(paths.rules_file)
    open_database(paths.database).close()
    result = _closed_pipe_run(argv, tmp_path / "piped")
    assert result.stderr == ""
    assert result.returncode == 141


def test_export_into_head_stops_quietly(tmp_path: Path) -> None:
    """`breather export | head -1` for real: a large export, a reader that reads one line and goes."""
    from breather.demo import seed_demo
    from breather.paths import Paths

    home = tmp_path / "big"
    seed_demo(Paths.resolve(home), days=7, seed=1)
    process = subprocess.Popen(
        [sys.executable, "-m", "breather", "export", "--home", str(home)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().strip() != ""
    process.stdout.close()
    assert process.wait(timeout=60) == 141
    assert process.stderr.read() == ""


def test_status_says_in_words_what_the_service_holds_and_until_when(
    breather_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A user test: `breather status` said "profiles.me.break_length loosens; it takes effect at 2026-...T08:08",
    and the time had moved to that of a later, unrelated edit. A real service's watcher and web server answer here
    (no proxy: status only reads `/healthz`)."""
    from breather.paths import Paths
    from breather.rules.loader import default_rules_text
    from breather.rules.watcher import RulesWatcher
    from breather.runtime import Runtime
    from breather.service import WebServer, write_service_file

    paths = Paths.resolve().ensure()
    rules = default_rules_text().replace('# timezone = "Europe/London"', 'timezone = "UTC"')
    paths.rules_file.write_text(rules, encoding="utf-8")
    moment = [datetime(2026, 11, 27, 7, 54, tzinfo=UTC)]
    watcher = RulesWatcher(
        paths.rules_file, last_good=paths.last_good_rules, cool_loosening=True, clock=lambda: moment[0]
    )
    rules = rules.replace('break_length = "5m"', 'break_length = "1m"')
    paths.rules_file.write_text(rules, encoding="utf-8")
    watcher.reload()
    moment[0] = datetime(2026, 11, 27, 8, 8, tzinfo=UTC)
    paths.rules_file.write_text(rules.replace("# calm = false", "calm = true"), encoding="utf-8")
    watcher.reload()
    runtime = Runtime(paths=paths, settings={"listen_host": "127.0.0.1"}, rules=watcher)
    web = WebServer(runtime, "127.0.0.1", 0)
    runtime.web_port = web.port
    web.start()
    runtime.proxy_ready.set()
    runtime.web_ready.set()
    write_service_file(runtime)
    try:
        assert main(["status", "--at", "2026-11-27T09:00+00:00"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert main(["status", "--at", "2026-11-27T09:00+00:00", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
    finally:
        web.stop()
        paths.service_file.unlink()
    at = lines.index("  held for the cooling-off:")
    assert lines[at + 1 :] == ["    me's break length (5m → 1m) takes effect at 07:54 tomorrow"]
    assert report["rules"]["held"] == [
        {
            "setting": "profiles.me.break_length",
            "takes_effect": "2026-11-28T07:54+00:00",
            "text": "me's break length (5m → 1m) takes effect at 07:54 tomorrow",
        }
    ]
    machine = "profiles.me.break_length loosens; it takes effect at 2026-11-28T07:54+00:00"
    assert report["service"]["health"]["rules"]["held"] == [machine]  # `/healthz` keeps its machine lines


def test_status_still_says_in_words_what_is_held_while_the_rules_file_is_broken(
    breather_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An audit broke the file while a loosening was held: `breather status` fell back to the service's machine
    lines ("profiles.me.daily_limit loosens; it takes effect at 2026-…")."""
    from breather.paths import Paths
    from breather.rules.loader import default_rules_text
    from breather.rules.watcher import RulesWatcher

    paths = Paths.resolve().ensure()
    rules = default_rules_text().replace('# timezone = "Europe/London"', 'timezone = "UTC"')
    paths.rules_file.write_text(rules, encoding="utf-8")
    moment = datetime(2026, 11, 27, 7, 54, tzinfo=UTC)
    watcher = RulesWatcher(paths.rules_file, last_good=paths.last_good_rules, cool_loosening=True, clock=lambda: moment)
    paths.rules_file.write_text(rules.replace('break_length = "5m"', 'break_length = "1m"'), encoding="utf-8")
    watcher.reload()
    paths.rules_file.write_text(rules + "\nbroken = = \n", encoding="utf-8")
    main(["status", "--at", "2026-11-27T09:00+00:00"])
    lines = capsys.readouterr().out.splitlines()
    at = lines.index("  held for the cooling-off:")
    assert lines[at + 1] == "    me's break length (5m → 1m) takes effect at 07:54 tomorrow"


def _first_run_home(with_store: bool = True) -> object:
    """A home after a first run: the default rules, the rules in force kept, a store the dashboard opened."""
    from breather.dashboard.db import connect
    from breather.paths import Paths
    from breather.rules.loader import default_rules_text, load_rules
    from breather.rules.watcher import RulesWatcher

    paths = Paths.resolve().ensure()
    paths.rules_file.write_text(default_rules_text(), encoding="utf-8")
    RulesWatcher(paths.rules_file, last_good=paths.last_good_rules).reload()
    assert load_rules(paths.rules_file) and paths.last_good_rules.is_file()
    if with_store:
        connect(str(paths.database)).close()
    return paths


def test_status_reports_a_rules_file_that_is_not_utf8_instead_of_failing(
    breather_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A robustness test: `# café` saved in Latin-1 made `breather status` end with "unexpected error: 'utf-8'
    codec can't decode byte 0xe9", and the service's state was not shown at all."""
    paths: Any = _first_run_home()
    paths.rules_file.write_bytes(paths.rules_file.read_bytes() + "# café\n".encode("latin-1"))
    assert main(["status"]) == 3  # not running, said: no "unexpected error"
    out = capsys.readouterr().out
    assert "Breather is not running" in out and "is not UTF-8 text" in out


def test_status_says_where_the_rules_in_force_are_when_the_file_is_deleted(
    breather_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It said the file "does not exist yet (the default is written on first run)": a start writes no default
    once rules were in force; they are kept, and `rules check` says to copy them back."""
    paths: Any = _first_run_home(with_store=False)
    paths.rules_file.unlink()
    main(["status"])
    out = capsys.readouterr().out
    assert f"the rules last in force are kept in {paths.last_good_rules}" in out
    assert "written on first run" not in out


def test_status_counts_todays_minutes_from_the_spans_not_a_rollup_of_a_quarter_hour_ago(tmp_path: Path) -> None:
    """A user test: `breather status` said 2 min while Today and the block page said 3 (today's rollup was read)."""
    from datetime import UTC, datetime, timedelta

    from breather.commands.status import today_usage
    from breather.paths import Paths
    from breather.rules.loader import parse_rules
    from breather.store import queries
    from breather.store.db import open_database
    from breather.store.model import Heartbeat
    from breather.store.writer import Writer

    paths = Paths.resolve(tmp_path).ensure()
    now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    writer = Writer(paths.database, flush_ms=10).start()
    writer.heartbeat(Heartbeat("me", "news.ycombinator.com", now - timedelta(minutes=5), duration_s=120))
    assert writer.flush(5)
    db = open_database(paths.database)
    queries.rollup_day(db, now.date(), UTC)  # the scheduler's rollup, then a minute more of use
    db.close()
    writer.heartbeat(Heartbeat("me", "news.ycombinator.com", now - timedelta(minutes=3), duration_s=60))
    writer.close()
    found = today_usage(paths, parse_rules('[household]\ntimezone = "UTC"\n\n[profiles.me]\ndefault = true\n'), now)
    assert found is not None
    assert found.sites("me") == {"news.ycombinator.com": 3.0} and found.total("me") == 3.0


def _options(command: str) -> list[argparse.Action]:
    sub = next(action for action in build_parser()._actions if action.dest == "command").choices[command]
    return [action for action in sub._actions if action.option_strings]


@pytest.mark.parametrize("command", ["eval", "classify"])
def test_every_eval_and_classify_option_says_what_it_does(command: str) -> None:
    """A review: `eval --format` and `--sensitivity` had no help at all, `classify --sensitivity` only "default:
    medium", and `eval --split` did not give its default."""
    for action in _options(command):
        assert action.help and not action.help.startswith("default:"), action.option_strings
        if action.choices:
            assert "(default: " in action.help, action.option_strings
        if action.dest == "sensitivity":
            assert "low" in action.help and "high" in action.help


def test_classify_help_says_several_words_are_one_post() -> None:
    sub = next(action for action in build_parser()._actions if action.dest == "command").choices["classify"]
    (text,) = [action for action in sub._actions if action.dest == "text"]
    assert text.help is not None and "joined by spaces into one post" in text.help


def test_a_home_that_is_a_file_is_said_plainly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A review: it was an "unexpected error … (run with --debug for details)", as if it were a bug."""
    a_file = tmp_path / "afile"
    a_file.write_text("x", encoding="utf-8")
    assert main(["ca", "--home", str(a_file)]) == 1
    err = capsys.readouterr().err
    assert err == f"breather ca: {a_file / 'data' / 'mitmproxy'}: Not a directory\n"


@pytest.mark.parametrize("doc", ["docs/window.md", "docs/interfaces.md"])
def test_the_docs_give_the_already_running_exit_code(doc: str, project_root: Path) -> None:
    from breather.errors import EXIT_ALREADY_RUNNING

    text = (project_root / doc).read_text(encoding="utf-8")
    assert f"exit code {EXIT_ALREADY_RUNNING}" in text
    assert "refuses with exit code 1" not in text and "(exit code 1)" not in text


def test_the_readme_lists_the_exit_codes_under_its_commands(project_root: Path) -> None:
    from breather.cli import BROKEN_PIPE_EXIT
    from breather.commands.status import NOT_RUNNING_EXIT
    from breather.errors import EXIT_ALREADY_RUNNING

    readme = (project_root / "README.md").read_text(encoding="utf-8")
    commands = readme.split("## Commands", 1)[1].split("\n## ", 1)[0]
    (line,) = [part for part in commands.split("\n\n") if part.startswith("Exit codes:")]
    line = " ".join(line.split())
    assert "0 done" in line and "1 failed" in line and "2 bad input or usage" in line
    assert f"{EXIT_ALREADY_RUNNING} already running" in line and f"{NOT_RUNNING_EXIT} " in line
    assert "130 interrupted" in line and f"{BROKEN_PIPE_EXIT} the reader of the output went away" in line
