"""In LAN mode (`--listen-host 0.0.0.0`) every place that names the proxy names an address the device can use (a
family user test: `breather status` said "proxy on 127.0.0.1" while it listened on every interface, and Setup and
the PAC file gave 127.0.0.1, another device's own loopback)."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from breather.cli import main
from breather.paths import Paths
from tests.dashboard.conftest import flat, pair

THIS_MACHINE = f"{socket.gethostname().lower()}.local"  # a name the dashboard's Host check allows in LAN mode


def address_for_other_devices(listen_host: str) -> str | None:
    from breather.net import address_for_other_devices

    return address_for_other_devices(listen_host)


@pytest.fixture
def lan_app(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Flask:
    monkeypatch.setenv("BREATHER_LISTEN_HOST", "0.0.0.0")
    monkeypatch.setenv("BREATHER_PROXY_PORT", "8080")
    app: Flask = request.getfixturevalue("app")
    return app


def test_the_pac_names_the_host_the_device_fetched_it_from(lan_app: Flask) -> None:
    client = lan_app.test_client()
    remote = client.get("/api/v1/pac", headers={"Host": f"{THIS_MACHINE}:8765"}).get_data(as_text=True)
    assert f'"PROXY {THIS_MACHINE}:8080"' in remote and "127.0.0.1" not in remote
    local = client.get("/api/v1/pac", headers={"Host": "127.0.0.1:8765"}).get_data(as_text=True)
    assert '"PROXY 127.0.0.1:8080"' in local
    assert client.get("/api/v1/pac", headers={"Host": "evil.example"}).status_code == 400  # still checked


def test_the_extensions_config_names_the_same_host_as_the_pac(lan_app: Flask) -> None:
    client = lan_app.test_client()
    token = pair(client)
    remote = {"Authorization": f"Bearer {token}", "Host": THIS_MACHINE}
    assert client.get("/api/v1/config", headers=remote).get_json()["proxy"] == {"host": THIS_MACHINE, "port": 8080}


def test_the_pac_keeps_the_one_address_a_proxy_listens_on(client: FlaskClient) -> None:
    assert '"PROXY 127.0.0.1:' in client.get("/api/v1/pac").get_data(as_text=True)


def test_setup_shows_the_address_other_devices_use_in_lan_mode(lan_app: Flask) -> None:
    page = flat(lan_app.test_client().get("/setup").get_data(as_text=True))
    found = re.search(r'id="other-devices">[^<]*proxy host <code>([^<]+)</code>, port <code>8080</code>', page)
    assert found, "Setup names no address for other devices"
    assert found.group(1) not in ("127.0.0.1", "0.0.0.0")
    assert found.group(1) == address_for_other_devices("0.0.0.0")


def test_setup_on_loopback_offers_no_address_for_other_devices(client: FlaskClient) -> None:
    assert 'id="other-devices"' not in client.get("/setup").get_data(as_text=True)


def test_the_address_for_other_devices() -> None:
    assert address_for_other_devices("127.0.0.1") is None
    assert address_for_other_devices("::1") is None
    assert address_for_other_devices("192.168.1.20") == "192.168.1.20"
    for every in ("0.0.0.0", "::"):
        found = address_for_other_devices(every)
        assert found and found not in ("127.0.0.1", "0.0.0.0", "::")


def test_status_says_the_proxy_listens_on_every_interface(
    breather_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from breather.runtime import Runtime
    from breather.service import WebServer, write_service_file

    paths = Paths.resolve().ensure()
    runtime = Runtime(paths=paths, settings={"listen_host": "0.0.0.0"}, rules=None)
    web = WebServer(runtime, "127.0.0.1", 0)
    runtime.web_port, runtime.proxy_port = web.port, 8080
    web.start()
    runtime.proxy_ready.set()
    runtime.web_ready.set()
    write_service_file(runtime)
    try:
        assert main(["status"]) == 0
    finally:
        web.stop()
        paths.service_file.unlink()
    first = capsys.readouterr().out.splitlines()[0]
    assert "127.0.0.1:8080" not in first
    other = address_for_other_devices("0.0.0.0")
    assert f"proxy on every interface, port 8080 (other devices: {other}:8080)" in first
