from __future__ import annotations

import difflib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from breather.rules.cooling import apply_change
from breather.rules.editing import in_force_text, set_value, set_value_in_text
from breather.rules.errors import RulesError
from breather.rules.loader import default_rules_text, ensure_rules_file, load_rules, parse_rules

NOW = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)


def changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_changing_one_value_keeps_every_comment_and_line(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    ensure_rules_file(path)
    before = path.read_text()
    rules = set_value(path, "profiles.me.daily_limit", "45m")
    after = path.read_text()
    assert changed_lines(before, after) == ['-daily_limit = "1h"', '+daily_limit = "45m"']
    assert rules.profile("me").daily_limit == timedelta(minutes=45)
    assert load_rules(path).profile("me").daily_limit == timedelta(minutes=45)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rules.toml"]


def test_adding_a_key_into_an_existing_table_with_a_dotted_domain(tmp_path: Path) -> None:
    text = default_rules_text()
    after = set_value_in_text(text, 'profiles.me.limits."news.ycombinator.com"', timedelta(minutes=20))
    assert changed_lines(text, after) == ['+"news.ycombinator.com" = "20m"']
    after = set_value_in_text(after, ["profiles", "me", "limits", "reddit"], "30m")
    assert '\nreddit = "30m"\n' in after
    assert "# Limits for one site group or one domain" in after


def test_adding_a_new_table_and_removing_a_key() -> None:
    text = default_rules_text()
    after = set_value_in_text(text, "profiles.me.topic_quiet_hours.violence", {"daily": "21:00-07:00"})
    assert changed_lines(text, after) == ['+violence = {daily = "21:00-07:00"}']
    removed = set_value_in_text(after, "profiles.me.break_after", None)
    assert "break_after" not in removed.replace("# After this much active use", "").split("[profiles.me.warnings]")[0]
    assert changed_lines(after, removed) == ['-break_after = "25m"']


def test_an_invalid_edit_is_refused_and_the_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    ensure_rules_file(path)
    before = path.read_text()
    with pytest.raises(RulesError) as caught:
        set_value(path, "profiles.me.daily_limit", "lots")
    assert str(caught.value).startswith("rules.toml:")
    assert "profiles.me.daily_limit" in str(caught.value)
    assert path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rules.toml"]


def test_the_file_mode_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    ensure_rules_file(path)
    path.chmod(0o600)
    set_value(path, "profiles.me.calm", True)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_rules(path).profile("me").calm is True


def test_a_rules_file_kept_as_a_link_stays_a_link_and_the_file_it_points_to_changes(tmp_path: Path) -> None:
    """A rules file kept in a dotfiles repository (stow, chezmoi): a save that replaced the link with a plain file
    left the repository's copy behind, and every later edit or pull there went unseen."""
    target = tmp_path / "dotfiles" / "rules.toml"
    target.parent.mkdir()
    ensure_rules_file(target)
    target.chmod(0o600)
    link = tmp_path / "config" / "rules.toml"
    link.parent.mkdir()
    link.symlink_to(target)
    set_value(link, "profiles.me.calm", True)
    assert link.is_symlink()
    assert load_rules(target).profile("me").calm is True
    assert target.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in link.parent.iterdir()) == ["rules.toml"]


def test_a_table_written_with_its_own_header_is_updated_in_place_with_its_comments() -> None:
    """The rules in force written back as a file (a held loosening put back) gave [profiles.me.quiet_hours] as one
    inline table of seven days, and the comments under it were lost."""
    text = default_rules_text()
    after = set_value_in_text(text, "profiles.me.quiet_hours", {"daily": "21:00-07:00"})
    assert changed_lines(text, after) == ['-daily = "23:00-07:00"', '+daily = "21:00-07:00"']
    emptied = set_value_in_text(after, "profiles.me.quiet_hours", {})
    assert changed_lines(after, emptied) == ['-daily = "21:00-07:00"']
    assert "[profiles.me.quiet_hours]" in emptied


def test_the_rules_in_force_written_as_a_file_keep_the_quiet_hours_as_the_person_wrote_them() -> None:
    """23:00-07:00 → 21:00-06:00 with the morning hour held: the file of the rules in force says 21:00-07:00 in
    place of the person's line, comments and all."""
    text = default_rules_text()
    old = parse_rules(text)
    asked = text.replace('daily = "23:00-07:00"', 'daily = "21:00-06:00"')
    in_force, held = apply_change(old, parse_rules(asked), NOW)
    written = in_force_text(asked, in_force, held)
    assert written is not None
    assert changed_lines(text, written) == ['-daily = "23:00-07:00"', '+daily = "21:00-07:00"']


def test_a_new_setting_of_a_profile_goes_after_its_last_setting_not_among_its_sub_tables_comments() -> None:
    text = default_rules_text()
    after = set_value_in_text(text, "profiles.me.keywords", ["spoiler"])
    lines = after.splitlines()
    assert changed_lines(text, after) == ['+keywords = ["spoiler"]']
    assert lines[lines.index('keywords = ["spoiler"]') - 1] == 'friction_delay = "10s"'
