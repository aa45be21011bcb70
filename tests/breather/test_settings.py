from __future__ import annotations

from pathlib import Path

import pytest

from breather import settings
from breather.cli import main
from breather.paths import HOME_ENV

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def readme_settings_rows() -> dict[str, list[str]]:
    """``BREATHER_<NAME>`` -> the cells of its row in the README's Settings table: variable, default, what it does."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = [
        [cell.strip() for cell in line.split("|")[1:-1]]
        for line in table.splitlines()
        if line.startswith("| `BREATHER_")
    ]
    return {cells[0].strip("`"): cells for cells in rows}


def test_the_readme_settings_table_gives_each_settings_default_as_the_code_has_it() -> None:
    documented = {variable: cells[1].strip("`") for variable, cells in readme_settings_rows().items()}
    assert {s.env_var: documented.get(s.env_var) for s in settings.SETTINGS} == {
        s.env_var: str(s.default) for s in settings.SETTINGS
    }


def test_the_readme_settings_table_says_what_each_setting_does_in_the_words_of_its_help() -> None:
    """The help is written once, in settings.py; the README's row is the same sentence (code spans aside)."""
    documented = {variable: cells[2].replace("`", "") for variable, cells in readme_settings_rows().items()}
    assert {s.env_var: documented.get(s.env_var) for s in settings.SETTINGS} == {
        s.env_var: s.help for s in settings.SETTINGS
    }


def test_the_readme_settings_table_has_a_row_only_for_a_variable_breather_reads() -> None:
    assert set(readme_settings_rows()) == {s.env_var for s in settings.SETTINGS} | {HOME_ENV}


def test_environment_overrides_default_and_flag_overrides_environment() -> None:
    values = settings.resolve({"proxy_port": 9999}, environ={"BREATHER_PROXY_PORT": "9000", "BREATHER_WEB_PORT": "0"})
    assert values["proxy_port"] == 9999
    assert values["web_port"] == 0


def test_no_setting_stores_urls() -> None:
    """The privacy promise is "never URLs": no setting may offer to keep them (there was an unused detailed_log)."""
    assert "detailed_log" not in {s.name for s in settings.SETTINGS}
    assert [s.name for s in settings.SETTINGS if "URL" in s.help.upper()] == []
    assert "detailed_log" not in settings.resolve(environ={"BREATHER_DETAILED_LOG": "true"})


@pytest.mark.parametrize(
    ("variable", "raw", "expected"),
    [
        ("BREATHER_WEB_PORT", "abc", "a port number from 0 to 65535"),
        ("BREATHER_PROXY_PORT", "70000", "a port number from 0 to 65535"),
        ("BREATHER_PROXY_PORT", "-1", "a port number from 0 to 65535"),
        ("BREATHER_BODY_SIZE_CAP", "4MB", "a whole number (0 or more)"),
        ("BREATHER_CLASSIFY_BUDGET_MS", "-5", "a whole number (0 or more)"),
        ("BREATHER_WRITER_FLUSH_MS", "0", "a whole number (1 or more)"),
        ("BREATHER_LOG_LEVEL", "loud", "one of DEBUG, INFO, WARNING, ERROR"),
        ("BREATHER_LISTEN_HOST", " ", "a host name or address"),
    ],
)
def test_bad_environment_value_names_the_variable_the_value_and_what_is_expected(
    variable: str, raw: str, expected: str
) -> None:
    with pytest.raises(ValueError) as raised:
        settings.resolve(environ={variable: raw})
    assert str(raised.value) == f"{variable}: expected {expected}, got {raw!r}"


@pytest.mark.parametrize(
    ("variable", "raw", "value"),
    [
        ("BREATHER_WEB_PORT", " 8766 ", 8766),
        ("BREATHER_PROXY_PORT", "0", 0),
        ("BREATHER_WRITER_FLUSH_MS", "1", 1),
        ("BREATHER_LOG_LEVEL", "debug", "DEBUG"),
        ("BREATHER_LISTEN_HOST", "0.0.0.0", "0.0.0.0"),
    ],
)
def test_good_environment_values_are_parsed(variable: str, raw: str, value: object) -> None:
    name = variable.removeprefix("BREATHER_").lower()
    assert settings.resolve(environ={variable: raw})[name] == value


def test_serve_with_a_bad_port_variable_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BREATHER_WEB_PORT", "abc")
    assert main(["serve"]) == 2
    assert capsys.readouterr().err == (
        "breather serve: BREATHER_WEB_PORT: expected a port number from 0 to 65535, got 'abc'\n"
    )


@pytest.mark.parametrize("command", ["serve", "run"])
def test_a_bad_port_flag_gets_the_same_message(
    command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*_args: object, **_kwargs: object) -> int:
        pytest.fail("a service was started with a port out of range")

    monkeypatch.setattr("breather.service.serve", never)
    monkeypatch.setattr("breather.commands.run.ensure_service", never)
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--web-port", "70000"])
    assert exit_info.value.code == 2
    assert "argument --web-port: expected a port number from 0 to 65535, got '70000'" in capsys.readouterr().err
