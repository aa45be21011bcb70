"""A mistake in the person's own crisis table does not take the helpline off a self-harm warning."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

from breather.proxy.feed_warnings import crisis_for
from breather.rules.crisis import OVERRIDE_FILE


def test_a_broken_override_falls_back_to_the_shipped_line_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / OVERRIDE_FILE).write_text("[GB\nservice = 'oops'\n", encoding="utf-8")
    member = SimpleNamespace(country="GB")
    with caplog.at_level(logging.WARNING):
        first = crisis_for(member, tmp_path)
        again = crisis_for(member, tmp_path)
    assert first is not None and again is not None
    assert "Samaritans" in first.service
    said = [record for record in caplog.records if "cannot be read" in record.getMessage()]
    assert len(said) == 1
