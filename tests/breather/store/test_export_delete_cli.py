from __future__ import annotations

import codecs
import csv
import io
import json
import os
import stat
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from breather.cli import main
from breather.dashboard import context
from breather.dashboard.app import create_app
from breather.dashboard.db import connect
from breather.dashboard.pages.pairing import paired_browsers
from breather.dashboard.security import passphrase_is_set
from breather.paths import Paths
from breather.rules.loader import parse_rules
from breather.store.db import apply_migrations, open_database
from breather.store.model import Event, Heartbeat
from breather.store.queries import SHOWN_WARNINGS_KEY, get_meta, set_meta
from breather.store.writer import Writer

DAY1 = datetime(2026, 5, 3, 10, 0, tzinfo=UTC)
DAY2 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
# A domain nothing else in the file could contain, to look for in the raw bytes after a delete.
TELLTALE_SITE = "quokka-telltale-forum.example"
RULES = """
[household]
timezone = "UTC"

[profiles.sam]
"""


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


def _database_files(paths: Paths) -> list[Path]:
    """The store and whichever of its companions exist."""
    candidates = [paths.database.with_name(paths.database.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")]
    return [path for path in candidates if path.exists()]


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


def test_without_tz_days_are_cut_in_the_zone_in_force_not_one_waiting_out_its_cooling_off(
    recorded: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    """An audit changed the household zone by hand: while the change was held, the export said the new zone and cut
    --since in it, though the service still cut every day in the old one."""
    paths = recorded
    paths.ensure()
    paths.last_good_rules.write_text(RULES, encoding="utf-8")  # what the service took in
    paths.rules_file.write_text(RULES.replace('"UTC"', '"Pacific/Auckland"'), encoding="utf-8")  # held a day
    code, out, _ = export(capsys)
    assert code == 0 and json.loads(out)["time_zone"] == "UTC"
    code, out, _ = export(capsys, "--since", "2026-05-04")
    assert [row["at"][:10] for row in json.loads(out)["tables"]["events"]] == ["2026-05-04"]  # from UTC midnight


def test_since_leaves_out_the_goals_of_weeks_before_it(paths: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    """Goals are keyed by ISO week ("2026-W02"): compared as text with "2026-06-01", every goal was after it."""
    from breather.dashboard import migrations as dashboard_migrations

    db = open_database(paths.database, extra=[dashboard_migrations.migrations])
    weeks = {"2026-W02": "January", "2026-W22": "the week before", "2026-W23": "since's week", "2026-W30": "July"}
    db["weekly_goals"].insert_all(
        {"week": week, "goal": goal, "saved_at": "2026-01-05"} for week, goal in weeks.items()
    )
    db.close()
    code, out, _ = export(capsys, "--since", "2026-06-03", "--tz", "UTC")  # the Wednesday of 2026-W23
    assert code == 0
    assert [row["goal"] for row in json.loads(out)["tables"]["weekly_goals"]] == ["since's week", "July"]


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
    with (folder / "activity.csv").open(newline="", encoding="utf-8-sig") as handle:
        assert [row["site"] for row in csv.DictReader(handle)] == ["reddit.com", "reddit.com"]
    assert "wrote 4 files" in err


def test_csv_into_a_zip_archive_opens_in_a_spreadsheet(
    recorded: Paths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A user test: a goal typed as "Maya’s phone — café 🙂" read "Mayaâ€™s phone â€” cafÃ©" in a spreadsheet (no
    byte-order mark), and one starting "-30 min" is a formula to a spreadsheet."""
    db = open_database(recorded.database)
    goals = ["-30 min of TikTok", "Maya’s phone — café 🙂", "=HYPERLINK(1)"]
    db["weekly_goals"].insert_all(  # type: ignore[union-attr]
        [{"week": f"2026-W1{n}", "goal": goal, "saved_at": "2026-03-01T19:00:00+00:00"} for n, goal in enumerate(goals)]
    )
    db.close()
    target = tmp_path / "export.zip"
    assert export(capsys, "--format", "csv", "--output", str(target))[0] == 0
    with zipfile.ZipFile(target) as archive:
        raw = archive.read("weekly_goals.csv")
        assert set(archive.namelist()) >= {"activity.csv", "events.csv", "weekly_goals.csv"}
    assert raw.startswith(codecs.BOM_UTF8)
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [row["goal"] for row in rows] == ["'-30 min of TikTok", "Maya’s phone — café 🙂", "'=HYPERLINK(1)"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    _, streamed, _ = export(capsys, "--format", "csv")  # for a script: the values as stored
    assert "\n2026-W10,-30 min of TikTok," in streamed


def test_json_into_a_file(recorded: Paths, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "usage.json"
    code, out, err = export(capsys, "--output", str(target))
    assert (code, out) == (0, "")
    assert len(json.loads(target.read_text())["tables"]["events"]) == 2
    assert not target.with_name("usage.json.partial").exists()
    assert str(target) in err


@pytest.fixture
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_exported_files_are_readable_by_their_owner_only(
    recorded: Paths, tmp_path: Path, capsys: pytest.CaptureFixture[str], usual_umask: None
) -> None:
    """A review found every member's records exported 0644, readable by every account on the machine, though the
    store they come from is 0600."""
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "events.csv").write_text("an earlier export\n")  # 0644, written over
    assert export(capsys, "--output", str(tmp_path / "usage.json"))[0] == 0
    assert export(capsys, "--format", "csv", "--output", f"{folder}/")[0] == 0
    files = [tmp_path / "usage.json", *sorted(folder.iterdir())]
    assert len(files) == 5 and "warning_shown" in (folder / "events.csv").read_text()
    assert {path.name: oct(path.stat().st_mode & 0o777) for path in files} == {path.name: "0o600" for path in files}


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


def usage_rows(paths: Paths) -> int:
    db = open_database(paths.database)
    try:
        return sum(db[table].count for table in ("activity", "events", "profiles"))
    finally:
        db.close()


def test_delete_with_yes_empties_the_usage_and_keeps_the_file(
    recorded: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    holder = open_database(recorded.database)  # an idle reader keeps -wal/-shm in place, as the dashboard would
    holder.execute("SELECT COUNT(*) FROM events").fetchone()
    try:
        assert main(["delete", "--all", "--yes"]) == 0
    finally:
        holder.close()
    out = capsys.readouterr().out
    for line in ("deleted 2 rows from activity", "deleted 2 rows from events", "deleted 1 row from profiles"):
        assert f"{line}\n" in out
    assert f"compacted {recorded.database}" in out
    assert "kept the household passphrase, paired browsers" in out
    assert usage_rows(recorded) == 0
    assert main(["delete", "--all", "--yes"]) == 0  # again: nothing left, still fine
    assert "deleted 0 rows from events" in capsys.readouterr().out
    code, out, _ = export(capsys)
    assert code == 0
    assert all(rows == [] for rows in json.loads(out)["tables"].values())


def test_delete_says_when_a_reader_kept_old_pages_in_the_log(
    recorded: Paths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("breather.store.queries.compact", lambda db: False)  # a reader stayed on an old snapshot
    assert main(["delete", "--all", "--yes"]) == 1
    captured = capsys.readouterr()
    assert "deleted 2 rows from events" in captured.out
    assert "the usage data is deleted, but another program is reading" in captured.err
    assert "run 'breather delete --all' again" in captured.err
    assert usage_rows(recorded) == 0


def test_delete_without_a_database_has_nothing_to_do(paths: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["delete", "--all", "--yes"]) == 0
    assert "nothing to delete" in capsys.readouterr().out
    assert not paths.database.exists()


def test_delete_refuses_without_yes_when_not_on_a_terminal(
    recorded: Paths, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))
    assert main(["delete", "--all"]) == 2
    assert "refusing to delete without --yes" in capsys.readouterr().err
    assert usage_rows(recorded) == 5


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "code", "left"), [("yes\n", 0, 0), ("no\n", 1, 5), ("\n", 1, 5)])
def test_delete_asks_on_a_terminal(
    recorded: Paths,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    code: int,
    left: int,
) -> None:
    monkeypatch.setattr("sys.stdin", FakeTerminal(answer))
    assert main(["delete", "--all"]) == code
    out = capsys.readouterr().out
    assert "Type 'yes' to confirm" in out
    assert "Rules, pairings and the passphrase stay." in out
    assert usage_rows(recorded) == left


def test_delete_refuses_while_the_service_runs(recorded: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    recorded.service_file.parent.mkdir(parents=True, exist_ok=True)
    recorded.service_file.write_text(json.dumps({"pid": os.getpid(), "web_port": 8765, "proxy_port": 8080}))
    assert main(["delete", "--all", "--yes"]) == 1
    assert "service is running" in capsys.readouterr().err
    assert usage_rows(recorded) == 5


def test_delete_needs_all(recorded: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["delete"])
    assert exit_info.value.code == 2
    assert "--all" in capsys.readouterr().err
    assert usage_rows(recorded) == 5


def test_delete_all_removes_usage_but_keeps_the_passphrase_and_pairings(
    paths: Paths, breather_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The user test: after `delete --all --yes` Setup said the passphrase was "Not set yet" (the file was gone)."""
    from tests.dashboard.conftest import FAMILY_RULES, TEST_SCRYPT, pair, set_passphrase

    paths.rules_file.parent.mkdir(parents=True, exist_ok=True)
    paths.rules_file.write_text(FAMILY_RULES, encoding="utf-8")
    app = create_app({"TESTING": True, "HOME": str(breather_home), "SCRYPT_COST": TEST_SCRYPT, "WRITER_FLUSH_MS": 10})
    client = app.test_client()
    set_passphrase(client)
    token = pair(client, "teen")
    writer = Writer(paths.database, flush_ms=20).start()
    for moment in (DAY1, DAY2):
        writer.heartbeat(Heartbeat("teen", TELLTALE_SITE, moment, duration_s=600))
        writer.event(Event("teen", "warning_shown", moment, site=TELLTALE_SITE, category="violence"))
    writer.call(lambda db: set_meta(db, SHOWN_WARNINGS_KEY, "00" * 16))
    writer.close()
    context.close_own_writer(app)  # the service is stopped, as delete requires
    assert TELLTALE_SITE.encode() in paths.database.read_bytes()  # checkpointed into the main file

    assert main(["delete", "--all", "--yes"]) == 0
    capsys.readouterr()

    for path in _database_files(paths):  # gone from the file itself: no free page or WAL frame keeps the old rows
        assert TELLTALE_SITE.encode() not in path.read_bytes(), path
    db = connect(str(paths.database))
    try:
        assert [db[table].count for table in ("activity", "events", "profiles", "daily_rollups")] == [0, 0, 0, 0]
        assert get_meta(db, SHOWN_WARNINGS_KEY) is None  # the key of the warned posts' digests goes with them
        assert passphrase_is_set(db)
        assert [browser.profile for browser in paired_browsers(db)] == ["teen"]
    finally:
        db.close()
    assert "It is set." in client.get("/setup").get_data(as_text=True)
    assert client.get("/api/v1/config", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    context.close_own_writer(app)


# One row in every table Breather creates, and what `delete --all` must do with it.
DELETED = (
    "activity",
    "events",
    "daily_rollups",
    "profiles",
    "weekly_reviews",
    "day_limits",
    "time_answers",
    "weekly_goals",
)
KEPT = ("household", "api_tokens", "pairing_codes", "pending_rule_changes", "meta", "_sqlite_migrations")


def test_delete_all_decides_for_every_table_breather_creates(paths: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    from breather.scheduler import SCHEDULER_MIGRATIONS, record_day_limits, snapshot_week
    from breather.store import queries

    db = connect(str(paths.database))
    apply_migrations(db, [SCHEDULER_MIGRATIONS])
    writer = Writer(paths.database, flush_ms=20).start()
    writer.heartbeat(Heartbeat("sam", TELLTALE_SITE, DAY1, duration_s=600))
    writer.event(Event("sam", "more_time_asked", DAY1, site=TELLTALE_SITE))
    writer.close()
    queries.rollup_day(db, DAY1.date(), UTC)
    snapshot_week(db, parse_rules(RULES), DAY1.date() - timedelta(days=DAY1.weekday()), DAY1)
    record_day_limits(db, parse_rules(RULES), DAY1)
    db["time_answers"].insert({"event_id": 1, "profile": "sam", "site": TELLTALE_SITE, "status": "declined"})
    db["weekly_goals"].insert({"week": "2026-W19", "goal": f"less {TELLTALE_SITE}", "saved_at": "2026-05-03"})
    db["household"].insert({"key": "passphrase_hash", "value": "scrypt$kept"})
    db["api_tokens"].insert({"token_hash": "kept-hash", "profile": "sam", "last_seen_at": "2026-05-03T10:00:00"})
    db["pairing_codes"].insert({"code": "ABCD-2345", "profile": "sam", "expires_at": "2026-05-03T10:10:00"})
    db["pending_rule_changes"].insert({"submitted_at": "2026-05-03", "text": "[household]", "summary": "kept"})
    queries.set_meta(db, "quiet_hours", "{}")
    assert set(db.table_names()) == set(DELETED) | set(KEPT)  # a new table needs a decision here and in queries
    assert all(db[table].count > 0 for table in (*DELETED, *KEPT))
    before = {table: list(db[table].rows) for table in KEPT if table != "api_tokens"}
    db.close()

    assert main(["export"]) == 0  # "everything": each table `delete --all` empties, none it keeps
    exported = json.loads(capsys.readouterr().out)["tables"]
    assert {table for table, rows in exported.items() if rows} == set(DELETED)
    assert isinstance(exported["weekly_reviews"][0]["warnings"], dict)  # JSON in the store, JSON in the export
    assert main(["export", "--since", DAY1.date().isoformat()]) == 0  # a review is for its whole week
    assert len(json.loads(capsys.readouterr().out)["tables"]["weekly_reviews"]) == 1

    assert main(["delete", "--all", "--yes"]) == 0
    assert "deleted 1 row from weekly_reviews" in capsys.readouterr().out

    db = connect(str(paths.database))
    try:
        assert {table: db[table].count for table in DELETED} == dict.fromkeys(DELETED, 0)
        after = {table: list(db[table].rows) for table in before}
        noted = [row for row in after["meta"] if row["key"] == queries.USAGE_DELETED_KEY]
        after["meta"] = [row for row in after["meta"] if row not in noted]
        assert after == before
        assert len(noted) == 1  # when, for the pages to say (not what)
        assert [(row["token_hash"], row["last_seen_at"]) for row in db["api_tokens"].rows] == [("kept-hash", None)]
        assert set(queries.USAGE_TABLES) == set(DELETED)
        assert set(queries.KEPT_TABLES) == set(KEPT)
    finally:
        db.close()
    for path in _database_files(paths):
        assert TELLTALE_SITE.encode() not in path.read_bytes(), path


def test_delete_member_removes_one_members_records_and_keeps_everyone_elses(
    recorded: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    """A member who wanted their own records gone could only have the whole household's deleted (a user test)."""
    writer = Writer(recorded.database, flush_ms=20).start()
    writer.heartbeat(Heartbeat("ana", "youtube.com", DAY2, duration_s=300))
    writer.close()

    assert main(["delete", "--member", "zoe", "--yes"]) == 2
    assert "--member: Breather has no records about 'zoe'; members with records: ana, sam; nothing deleted" in (
        capsys.readouterr().err
    )
    assert main(["delete", "--member", "sam", "--yes"]) == 0
    out = capsys.readouterr().out
    for line in ("deleted 2 rows from activity", "deleted 2 rows from events", "deleted 1 row from profiles"):
        assert f"{line}\n" in out
    assert f"compacted {recorded.database}" in out
    code, out, _ = export(capsys)
    assert code == 0
    tables = json.loads(out)["tables"]
    assert [row["name"] for row in tables["profiles"]] == ["ana"]
    assert {row["profile"] for row in tables["activity"]} == {"ana"} and tables["events"] == []
    db = open_database(recorded.database)
    try:
        assert db["api_tokens"].count == 1  # the paired browser stays
        assert "sam" in (get_meta(db, "member_usage_deleted_at") or "")
    finally:
        db.close()
    assert main(["export", "--member", "sam"]) == 2  # nothing about sam is left to export
    assert main(["delete", "--member", "sam", "--yes"]) == 0  # again, as told when compacting failed: it compacts
    assert "deleted 0 rows from activity" in capsys.readouterr().out


def test_a_member_with_only_a_daily_limit_recorded_has_records_to_export(
    recorded: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    """The scheduler writes each member's daily limit from the rules whether or not they used a site: a review found
    their export (and their deletion) refused as "no records" while rows about them were there."""
    db = open_database(recorded.database)
    db["day_limits"].insert({"day": "2026-05-04", "profile": "cleo", "limit_minutes": 60.0, "recorded_at": "x"})
    db.close()
    code, out, _ = export(capsys, "--member", "cleo")
    assert code == 0 and json.loads(out)["tables"]["day_limits"][0]["profile"] == "cleo"


def test_one_members_csv_into_a_folder_leaves_no_earlier_file_of_the_households(
    recorded: Paths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A review: everyone's export, then sam's into the same folder, left everyone's weekly_goals.csv beside sam's."""
    db = open_database(recorded.database)
    db["weekly_goals"].insert({"week": "2026-W19", "goal": "phones away at dinner", "saved_at": "x"})
    db.close()
    folder = tmp_path / "usage"
    assert main(["export", "--format", "csv", "--output", f"{folder}/"]) == 0
    assert (folder / "weekly_goals.csv").exists()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["export", "--format", "csv", "--member", "sam", "--output", f"{folder}/"]) == 0
    assert not (folder / "weekly_goals.csv").exists()
    assert (folder / "activity.csv").exists() and (folder / "notes.txt").read_text(encoding="utf-8") == "mine"
