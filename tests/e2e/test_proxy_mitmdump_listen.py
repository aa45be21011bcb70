"""Plain ``mitmdump -s proxy/addon.py`` keeps ``breather serve``'s rule: beyond loopback the proxy must ask who is
using it. mitmproxy's own default is every interface; with Breather loaded it is loopback (a user test reached the
default profile from the LAN), and a host beyond loopback without proxy credentials in the rules stops mitmdump."""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import free_port, lan_address

pytestmark = pytest.mark.e2e

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MITMDUMP = Path(sys.executable).with_name("mitmdump")
RULES = """\
[household]
timezone = "UTC"

[sites.hackernews]
adapter = "hackernews"
domains = ["news.ycombinator.com"]

[profiles.me]
default = true
"""
WITH_CREDENTIALS = RULES + '\n[profiles.sam]\nuser = "sam"\npassword = "correct horse"\n'
# Answered by Breather itself (its local API), so no upstream is needed to tell who answered.
HEARTBEAT = b"GET http://news.ycombinator.com/__breather__/heartbeat HTTP/1.1\r\nHost: news.ycombinator.com\r\n\r\n"


class Mitmdump:
    """A real ``mitmdump -s proxy/addon.py`` on the test's Breather home, its output collected line by line."""

    def __init__(self, tmp_path: Path, *arguments: str) -> None:
        self.port = free_port()
        command = [
            str(MITMDUMP),
            *arguments,
            "-p",
            str(self.port),
            "--set",
            f"confdir={tmp_path / 'mitmproxy'}",
            "-s",
            str(PROJECT_ROOT / "proxy" / "addon.py"),
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert self.process.poll() is None, self.output
            assert time.monotonic() < deadline, f"no {text!r} in:\n{self.output}"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(20)
        self._reader.join(5)


def listening_addresses(port: int) -> set[str]:
    """The local addresses of the TCP sockets listening on ``port``, from ``/proc/net/tcp`` and ``tcp6``."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            host_hex, port_hex = local.split(":")
            if state != "0A" or int(port_hex, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(host_hex)  # the kernel writes each 32-bit word in host (little-endian) order
            host = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            addresses.add(str(ipaddress.ip_address(host)))
    return addresses


def first_line_of_answer(host: str, port: int) -> str | None:
    """What the proxy answers a heartbeat from ``host``: its status line, "" when it cuts the connection, None when
    nothing listens there."""
    try:
        with socket.create_connection((host, port), timeout=5) as client:
            client.sendall(HEARTBEAT)
            return client.recv(200).split(b"\r\n")[0].decode()
    except ConnectionRefusedError:
        return None
    except ConnectionResetError:
        return ""


def test_without_a_listen_host_mitmdump_with_breather_listens_on_loopback_only(tmp_path, breather_home) -> None:
    (breather_home / "config").mkdir(parents=True)
    (breather_home / "config" / "rules.toml").write_text(RULES)
    mitmdump = Mitmdump(tmp_path)
    try:
        mitmdump.wait_for(f"listening at 127.0.0.1:{mitmdump.port}")
        assert listening_addresses(mitmdump.port) == {"127.0.0.1"}
        assert first_line_of_answer(lan_address(), mitmdump.port) is None  # nothing listens on the network
        assert first_line_of_answer("127.0.0.1", mitmdump.port) == "HTTP/1.1 403 Forbidden"  # Breather's API answers
        said = mitmdump.output
        assert "listens on 127.0.0.1 only" in said and "--listen-host 0.0.0.0" in said
        assert str(breather_home / "config" / "rules.toml") in said and "breather rules password" in said
    finally:
        mitmdump.stop()


def test_a_listen_host_beyond_loopback_without_credentials_stops_mitmdump(tmp_path, breather_home) -> None:
    (breather_home / "config").mkdir(parents=True)
    (breather_home / "config" / "rules.toml").write_text(RULES)
    lan = lan_address()
    answers: list[str | None] = []
    mitmdump = Mitmdump(tmp_path, "--listen-host", "0.0.0.0")

    def knock_from_the_network() -> None:
        while mitmdump.process.poll() is None:
            answers.append(first_line_of_answer(lan, mitmdump.port))

    knocking = threading.Thread(target=knock_from_the_network, daemon=True)
    knocking.start()
    try:
        assert mitmdump.process.wait(30) == 1
        knocking.join(10)
        said = mitmdump.output
        assert "Breather refuses to let mitmdump listen on 0.0.0.0" in said
        assert str(breather_home / "config" / "rules.toml") in said and "breather rules password" in said
        assert not any(answers), answers  # never answered from the network, not even while it was stopping
        assert listening_addresses(mitmdump.port) == set()
    finally:
        mitmdump.stop()


def test_a_listen_host_beyond_loopback_with_credentials_asks_who_is_browsing(tmp_path, breather_home) -> None:
    (breather_home / "config").mkdir(parents=True)
    (breather_home / "config" / "rules.toml").write_text(WITH_CREDENTIALS)
    mitmdump = Mitmdump(tmp_path, "--listen-host", "0.0.0.0")
    try:
        mitmdump.wait_for(f"listening at *:{mitmdump.port}")  # mitmproxy writes 0.0.0.0 as *
        assert listening_addresses(mitmdump.port) == {"0.0.0.0"}
        client = lan_address() or "127.0.0.1"
        assert first_line_of_answer(client, mitmdump.port) == "HTTP/1.1 407 Proxy Authentication Required"
    finally:
        mitmdump.stop()


def test_breather_serve_refuses_a_mode_that_names_its_own_host_beyond_loopback(tmp_path) -> None:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "rules.toml").write_text(RULES)
    mode = f"regular@0.0.0.0:{free_port()}"
    result = subprocess.run(
        [sys.executable, "-m", "breather", "serve", "--home", str(home), "--web-port", "0", "--set", f"mode={mode}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "refusing to listen on 0.0.0.0" in result.stderr
