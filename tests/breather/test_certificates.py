"""Breather's CA checked before the proxy starts (``breather.certificates``), as a person meets it in `breather ca`
and `breather serve`: a robustness test emptied the CA folder (a new CA came in silence, and every browser that
trusted the old one failed on every social site), cut the key file short (mitmproxy stopped the service naming
neither the file nor a way out) and replaced the public copy with garbage (handed out as it was)."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from breather.cli import main
from breather.paths import Paths


@pytest.fixture
def paths(breather_home: Path, capsys: pytest.CaptureFixture[str]) -> Paths:
    paths = Paths.resolve().ensure()
    assert main(["ca", "--path"]) == 0  # the CA made once, as a first run makes it
    capsys.readouterr()
    return paths


def test_a_public_copy_that_is_not_the_cas_is_made_again(paths: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    good = paths.ca_certificate.read_bytes()
    paths.ca_certificate.write_bytes(b"garbage")
    assert main(["ca", "--path"]) == 0
    assert paths.ca_certificate.read_bytes() == good


def test_a_key_file_that_does_not_read_is_named_with_the_way_out(
    paths: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = paths.mitmproxy_confdir / "mitmproxy-ca.pem"
    key_file.write_bytes(key_file.read_bytes()[:300])
    served = subprocess.run(
        [sys.executable, "-m", "breather", "serve", "--proxy-port", "0", "--web-port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert served.returncode == 1
    said = served.stderr.strip().splitlines()[-1]
    assert f"the CA's key file {key_file} cannot be read" in said, served.stderr
    assert f"move {paths.mitmproxy_confdir} aside and start again" in said


def test_a_new_ca_for_a_home_that_used_one_is_said(paths: Paths, caplog: pytest.LogCaptureFixture) -> None:
    from breather.certificates import check_ca
    from breather.commands.ca import ensure_ca

    with caplog.at_level(logging.WARNING):
        check_ca(paths)  # the CA in use, noted
        assert caplog.text == ""
        for file in paths.mitmproxy_confdir.iterdir():
            file.unlink()
        check_ca(paths)
        assert "is missing: a new one is made now" in caplog.text
        caplog.clear()
        assert main(["ca", "--path"]) == 0  # a new CA, as the start makes it
        check_ca(paths)
        assert caplog.text == "", "said twice (review)"
        for file in paths.mitmproxy_confdir.iterdir():
            file.unlink()
        ensure_ca(paths)  # replaced while Breather was not looking (another program's CA put in its place)
        check_ca(paths)
        assert "is not the one Breather used before" in caplog.text
