"""Real Firefox ESR driven over Marionette, for the end-to-end extension test.

Firefox is started by hand (``-marionette -headless -profile DIR``) on a fresh profile whose ``user.js`` sets the
Marionette port, a fixed internal UUID for the extension (so its ``moz-extension://`` pages have a known address)
and a few prefs that keep a test browser quiet. The Breather CA is put into the profile's own NSS store with
``certutil`` before Firefox starts: that is how a person's Firefox on Linux trusts it too.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from marionette_driver.marionette import Marionette

FIREFOX = "firefox-esr"
EXTENSION_ID = "breather@breather.local"
EXTENSION_UUID = "3f6d2a4e-8b1c-4e7a-9d35-b0c1e2f3a4d5"
EXTENSION_BASE = f"moz-extension://{EXTENSION_UUID}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prefs(marionette_port: int, local_names: tuple[str, ...]) -> dict[str, Any]:
    return {
        "marionette.port": marionette_port,
        "extensions.webextensions.uuids": json.dumps({EXTENSION_ID: EXTENSION_UUID}),
        # The optional-permission doorhanger cannot be clicked in headless mode: with this pref Firefox grants
        # what permissions.request() asks for, still only when called from the page's click handler.
        "extensions.webextOptionalPermissionPrompts": False,
        # Names the test serves on 127.0.0.1 without DNS (a site outside the rules, reached directly).
        "network.dns.localDomains": ",".join(local_names),
        "network.dns.disableIPv6": True,
        # The extension's console (background and pages) goes to Firefox's log, which a failure shows.
        "devtools.console.stdout.content": True,
        "devtools.console.stdout.chrome": True,
        "browser.shell.checkDefaultBrowser": False,
        "browser.startup.homepage_override.mstone": "ignore",
        "browser.aboutwelcome.enabled": False,
        "datareporting.policy.dataSubmissionEnabled": False,
        "toolkit.telemetry.reportingpolicy.firstRun": False,
        "app.update.disabledForTesting": True,
        "network.captive-portal-service.enabled": False,
        "network.connectivity-service.enabled": False,
        "dom.security.https_only_mode": False,
        "dom.security.https_first": False,
    }


def _trust_ca(profile: Path, ca_pem: Path) -> None:
    certutil = shutil.which("certutil")
    if certutil is None:
        pytest.fail("certutil (libnss3-tools) is needed to trust the Breather CA in the Firefox profile")
    database = f"sql:{profile}"
    subprocess.run([certutil, "-N", "-d", database, "--empty-password"], check=True, capture_output=True)
    subprocess.run(
        [certutil, "-A", "-d", database, "-n", "Breather CA", "-t", "C,,", "-i", str(ca_pem)],
        check=True,
        capture_output=True,
    )


def _marionette_class() -> type[Marionette]:
    # mozrunner/mozinfo (imported by the driver) use telnetlib and distro.linux_distribution at import time.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from marionette_driver.marionette import Marionette

    return Marionette


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Firefox exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    pytest.fail(f"Firefox's Marionette port did not open in {timeout:.0f}s:\n{log.read_text(errors='replace')[-3000:]}")


@dataclass
class Firefox:
    client: Marionette
    profile: Path
    log: Path

    def install_extension(self, folder: Path) -> str:
        from marionette_driver.addons import Addons

        return str(Addons(self.client).install(str(folder), temp=True))

    def tab_with_url(self, prefix: str, timeout: float = 20) -> str:
        """The handle of the tab whose address starts with ``prefix`` (waiting for it to open)."""
        client = self.client
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for handle in client.window_handles:
                client.switch_to_window(handle, focus=False)
                if client.get_url().startswith(prefix):
                    return str(handle)
            time.sleep(0.2)
        pytest.fail(f"no tab at {prefix} opened within {timeout:.0f}s")

    def page_script(self, handle: str, script: str, args: tuple[Any, ...] = ()) -> Any:
        """Run ``script`` in the page's own scope (an extension page sees ``browser.*``) without focusing its tab."""
        self.client.switch_to_window(handle, focus=False)
        return self.client.execute_async_script(script, script_args=args, sandbox=None, script_timeout=20_000)


@contextlib.contextmanager
def firefox(profile: Path, ca_pem: Path, local_names: tuple[str, ...] = ()) -> Iterator[Firefox]:
    if shutil.which(FIREFOX) is None:
        pytest.fail(f"{FIREFOX} is needed for this end-to-end test (apt-get install firefox-esr)")
    profile.mkdir(parents=True)
    port = _free_port()
    lines = [
        f"user_pref({json.dumps(name)}, {json.dumps(value)});\n" for name, value in _prefs(port, local_names).items()
    ]
    (profile / "user.js").write_text("".join(lines), encoding="utf-8")
    _trust_ca(profile, ca_pem)
    log = profile.parent / f"{profile.name}.log"
    env = {**os.environ, "MOZ_HEADLESS": "1"}
    command = [FIREFOX, "-marionette", "-headless", "-no-remote", "-profile", str(profile)]
    with log.open("wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env)
    client = None
    try:
        _wait_for_port(port, process, log, 60)
        client = _marionette_class()(host="127.0.0.1", port=port)
        client.start_session()
        yield Firefox(client, profile, log)
    except BaseException:
        # What the extension logged (its console goes to stdout) is shown with the failure.
        print(f"--- Firefox log ({log}) ---\n{log.read_text(errors='replace')[-6000:]}")
        raise
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.delete_session()
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
