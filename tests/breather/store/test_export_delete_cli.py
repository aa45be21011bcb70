from __future__ import annotations

import csv
import io
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from breather.cli import main
from breather.paths import Paths
from breather.store.db import open_database
from breather.store.model import Event, Heartbeat
from breather.store.writer import Writer

DAY1 = datetime(2026, 5, 3, 10, 0, tzinfo=UTC)
DAY2 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def paths(breather_home: Path) -> Paths:
    return Paths.resolve(breather_home)


@pytest.fixture
def recorded(paths: Paths) -> Paths:
    writer = Writer(paths.database, flush_ms=20).start()
    for moment in (DAY1, DAY2):
        writer.heartbeat(Heartbeat("sam", "reddit.com", moment, duration_s=600))
        writer.event(
            Event("sam", "warning_shown", moment, site="reddit.com", category="violence", detail={"field": "sensitive"})
        )
    writer.close()
    db = open_database(paths.database)
    db.table("api_tokens").create({"token_hash": str, "profile": str}, pk="token_hash")
    db["api_tokens"].insert({"token_hash": "secret-hash", "profile": "sam"})
    db.close()
    return paths


def export(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["export", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_export_holds_the_usage_and_nothing_secret(recorded: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = export(capsys, "--format", "json", "--tz", "UTC")
    assert code == 0
    document = json.loads(out)
    assert document["format"] == "breather-export"
    tables = document["tables"]
    assert set(tables) == {"profiles", "activity", "events", "daily_rollups"}
    assert [(row["site"], row["duration_s"]) for row in tables["activity"]] == [("reddit.com", 600.0)] * 2
    assert tables["events"][0]["detail"] == {"field": "sensitive"}
    assert tables["activity"][0]["start"] == "2026-05-03T10:00:00.000000+00:00"
    assert "secret-hash" not in out
    assert "://" not in out


def test_since_keeps_only_that_local_day_onwards(recorded: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = export(capsys, "--since", "2026-05-04", "--tz", "Europe/Berlin")
    assert code == 0
    tables = json.loads(out)["tables"]
    assert [row["at"][:10] for row in tables["events"]] == ["2026-05-04"]
    assert [row["start"][:10] for row in tables["activity"]] == ["2026-05-04"]
    assert [row["name"] for row in tables["profiles"]] == ["sam"]


def test_csv_to_stdout_has_one_section_per_table(recorded: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = export(capsys, "--format", "csv")
    assert code == 0
    sections = {
        block.splitlines()[0].removeprefix("# table: "): list(
            csv.DictReader(io.StringIO("\n".join(block.splitlines()[1:])))
        )
        for block in out.strip().split("\n\n")
    }
    assert list(sections) == ["profiles", "activity", "events", "daily_rollups"]
    assert [row["kind"] for row in sections["events"]] == ["warning_shown", "warning_shown"]
    assert sections["daily_rollups"] == []


def test_csv_into_a_folder_writes_one_file_per_table(
    recorded: Paths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "out"
    code, _, err = export(capsys, "--format", "csv", "--output", f"{folder}/")
    assert code == 0
    assert sorted(path.name for path in folder.iterdir()) == [
        "activity.csv",
        "daily_rollups.csv",
        "events.csv",
        "profiles.csv",
    ]
    with (folder / "activity.csv").open(newline="") as handle:
        assert [row["site"] for row in csv.DictReader(handle)] == ["reddit.com", "reddit.com"]
    assert "wrote 4 files" in err


def test_json_into_a_file(recorded: Paths, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "usage.json"
    code, out, err = export(capsys, "--output", str(target))
    assert (code, out) == (0, "")
    assert len(json.loads(target.read_text())["tables"]["events"]) == 2
    assert not target.with_name("usage.json.partial").exists()
    assert str(target) in err


def test_export_without_data_says_so(paths: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = export(capsys)
    assert code == 1
    assert out == ""
    assert err.strip() == f"breather export: no usage data yet: {paths.database} does not exist"
    assert not paths.database.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "last week"], "expected a date like 2026-01-31, got 'last week'"),
        (["--tz", "Mars/Olympus"], 'unknown time zone "Mars/Olympus"'),
        (["--format", "xml"], "invalid choice: 'xml'"),
    ],
)
def test_bad_arguments_get_one_clear_line(
    recorded: Paths, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    try:
        code = main(["export", *args])
    except SystemExit as exit_info:
        code = int(exit_info.code or 0)
    assert code == 2
    assert message in capsys.readouterr().err


def test_delete_with_yes_removes_the_database_files(recorded: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    holder = open_database(recorded.database)  # a reader keeps -wal/-shm in place, as the dashboard would
    holder.execute("SELECT COUNT(*) FROM events").fetchone()
    try:
        assert main(["delete", "--all", "--yes"]) == 0
    finally:
        holder.close()
    out = capsys.readouterr().out
    for suffix in ("", "-wal", "-shm"):
        assert f"removed {recorded.database}{suffix}\n" in out
    assert not any(path.name.startswith("breather.db") for path in recorded.data_dir.iterdir())
    assert main(["delete", "--all", "--yes"]) == 0
    assert "nothing to delete" in capsys.readouterr().out
    assert main(["export"]) == 1  # and nothing is left to export


def test_delete_refuses_without_yes_when_not_on_a_terminal(
    recorded: Paths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))
    assert main(["delete", "--all"]) == 2
    assert "refusing to delete without --yes" in capsys.readouterr().err
    assert recorded.database.exists()


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "code", "kept"), [("yes\n", 0, False), ("no\n", 1, True), ("\n", 1, True)])
def test_delete_asks_on_a_terminal(
    recorded: Paths,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    code: int,
    kept: bool,
) -> None:
    monkeypatch.setattr("sys.stdin", FakeTerminal(answer))
    assert main(["delete", "--all"]) == code
    assert "Type 'yes' to confirm" in capsys.readouterr().out
    assert recorded.database.exists() is kept


def test_delete_refuses_while_the_service_runs(recorded: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    recorded.service_file.parent.mkdir(parents=True, exist_ok=True)
    recorded.service_file.write_text(json.dumps({"pid": os.getpid(), "web_port": 8765, "proxy_port": 8080}))
    assert main(["delete", "--all", "--yes"]) == 1
    assert "service is running" in capsys.readouterr().err
    assert recorded.database.exists()


def test_delete_needs_all(recorded: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["delete"])
    assert exit_info.value.code == 2
    assert "--all" in capsys.readouterr().err
    assert recorded.database.exists()
