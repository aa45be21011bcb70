"""QUIC to an intercepted site is refused in the modes where mitmproxy itself speaks QUIC with the browser.

In transparent, local-capture and WireGuard modes a browser's HTTP/3 reaches mitmproxy's QUIC layers (not the raw
UDP hook). Breather must refuse that handshake for the sites it reads, so the browser falls back to TCP, where the
warnings work. A reverse ``http3`` proxy puts the same QUIC layers behind one UDP port we can reach from a test.
The control is plain mitmdump in the same mode: there the same handshake completes.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RULES = """\
[household]
timezone = "UTC"

[sites.hackernews]
adapter = "hackernews"
domains = ["news.ycombinator.com"]

[profiles.me]
default = true
"""


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def quic_handshake(port: int, server_name: str) -> bool:
    """True when a QUIC (HTTP/3) handshake with ``server_name`` completes through the proxy on ``port``."""
    client = Path(__file__).with_name("quic_client.py")
    result = subprocess.run([sys.executable, str(client), str(port), server_name], timeout=30, check=False)
    return result.returncode == 0


def start_mitmdump(folder: Path, *scripts: Path) -> tuple[subprocess.Popen[bytes], int]:
    """mitmdump as a reverse HTTP/3 proxy (to a dead upstream: only the browser-side handshake matters here) on a
    free UDP port, returned with the port once it listens. A port found free can be taken by another socket before
    mitmdump binds it (a CI run lost one that way): then a new port is tried."""
    folder.mkdir(parents=True)
    for attempt in range(3):
        port = free_udp_port()
        process, log = _mitmdump_on(folder, port, attempt, scripts)
        if process is not None:
            return process, port
        assert "Failed to bind" in log, log
    raise AssertionError("mitmdump found no free UDP port in three tries")


def _mitmdump_on(
    folder: Path, port: int, attempt: int, scripts: tuple[Path, ...]
) -> tuple[subprocess.Popen[bytes] | None, str]:
    mitmdump = Path(sys.executable).with_name("mitmdump")
    mode = f"reverse:http3://127.0.0.1:9@{port}"
    command = [str(mitmdump), "--set", f"confdir={folder / 'mitmproxy'}", "--mode", mode]
    for script in scripts:
        command += ["-s", str(script)]
    log = folder / ("mitmdump.log" if attempt == 0 else f"mitmdump-{attempt}.log")
    with log.open("wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    # With Breather's script mitmdump binds every interface first, then Breather binds it again on loopback: only
    # that second one is the server the test talks to.
    listening = "listening at 127.0.0.1" if scripts else "listening"
    while listening not in log.read_text():
        text = log.read_text()
        if ("Failed to bind" in text and not scripts) or "could not listen again" in text:
            stop(process)
            return None, log.read_text()
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "mitmdump did not start listening"
        time.sleep(0.2)
    if attempt:
        log.replace(folder / "mitmdump.log")  # the test reads the log of the mitmdump it used
    return process, ""


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(20)


def test_quic_to_an_intercepted_site_is_refused_while_plain_mitmproxy_accepts_it(tmp_path, breather_home) -> None:
    (breather_home / "config").mkdir(parents=True)
    (breather_home / "config" / "rules.toml").write_text(RULES)

    plain, plain_port = start_mitmdump(tmp_path / "plain")
    try:
        assert quic_handshake(plain_port, "news.ycombinator.com"), "control: plain mitmdump speaks QUIC"
    finally:
        stop(plain)

    breather, port = start_mitmdump(tmp_path / "breather", PROJECT_ROOT / "proxy" / "addon.py")
    try:
        assert not quic_handshake(port, "news.ycombinator.com")
    finally:
        stop(breather)
    log = (tmp_path / "breather" / "mitmdump.log").read_text()
    assert "refused QUIC to news.ycombinator.com" in log
    assert "No QUIC context" not in log, "a refusal Breather meant is not reported as an error"
