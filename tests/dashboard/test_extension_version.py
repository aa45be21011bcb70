"""The service tells the extension which version of it ships beside the running code, so a browser still running an
older one (Chromium kept the old code after a user test's `git pull`) can say so in its popup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from breather import version
from tests.dashboard.conftest import pair


def _config(client: FlaskClient) -> dict[str, object]:
    token = pair(client)
    answer = client.get("/api/v1/config", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert isinstance(answer, dict)
    return answer


def test_config_names_the_extension_version_of_this_checkout(client: FlaskClient, project_root: Path) -> None:
    manifest = json.loads((project_root / "extension" / "manifest.json").read_text(encoding="utf-8"))
    assert _config(client)["extension_version"] == manifest["version"]


def test_without_an_extension_beside_the_code_the_field_is_left_out(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(version, "source_root", lambda: tmp_path)  # an installed wheel: no extension/ there
    assert "extension_version" not in _config(client)
