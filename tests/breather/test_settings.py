from __future__ import annotations

from pathlib import Path

import pytest

from breather import settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [s.env_var for s in settings.SETTINGS if s.env_var not in readme]
    assert missing == []


def test_environment_overrides_default_and_flag_overrides_environment() -> None:
    values = settings.resolve({"proxy_port": 9999}, environ={"BREATHER_PROXY_PORT": "9000", "BREATHER_WEB_PORT": "0"})
    assert values["proxy_port"] == 9999
    assert values["web_port"] == 0


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ValueError, match="BREATHER_DETAILED_LOG"):
        settings.resolve(environ={"BREATHER_DETAILED_LOG": "maybe"})
