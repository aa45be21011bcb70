"""The desktop window: the dashboard inside pywebview (Qt backend), in a process of its own.

Only ``breather open`` imports this module. The window is a client of the running service and nothing more, so
closing it ends this process and leaves the proxy and its boundaries running.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import socket
import sys
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Final

log = logging.getLogger(__name__)

WINDOW_TITLE = "Breather"
GUI_BACKEND: Final = "qt"
SANDBOX_ENV = "QTWEBENGINE_CHROMIUM_FLAGS"
X11_SOCKET_DIR = "/tmp/.X11-unix"
X11_TCP_BASE_PORT = 6000
DISPLAY_TIMEOUT_S = 0.5  # a display that answers does so in well under a millisecond; this only bounds a dead one

# Read by the self-test: what the page says its title is and the colour it paints its background with.
_SELF_TEST_PROBE = (
    "JSON.stringify({title: document.title, background: getComputedStyle(document.body).backgroundColor,"
    " userSelect: getComputedStyle(document.body).userSelect})"
)


@dataclass(frozen=True)
class GuiCheck:
    available: bool
    reason: str


def check_gui(environ: Mapping[str, str] | None = None) -> GuiCheck:
    """Whether a window can open here; when it cannot, why, in words a person understands.

    Qt aborts the whole process (no exception) when it finds no display, or one whose server does not answer, so
    the display is checked, and connected to, before Qt is ever imported.
    """
    env = os.environ if environ is None else environ
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return GuiCheck(False, "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)")
    problem = display_problem(env)
    if problem is not None:
        return GuiCheck(False, problem)
    for module in ("webview", "PyQt6.QtWebEngineWidgets"):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            return GuiCheck(False, f"the window toolkit is not installed ({module}: {exc}); install breather[gui]")
    return GuiCheck(True, "")


def display_problem(env: Mapping[str, str]) -> str | None:
    """None when the display named in ``env`` answers, else why not ("DISPLAY=:1 does not answer (...)").

    A variable being set is not a display: ssh with a dead X forward, or a DISPLAY a tmux session kept from an
    earlier login, names a server that is gone, and Qt then aborts the process. So the server's socket is
    connected to (and closed at once), as Qt would: the X socket of ``:N`` (its abstract name, then the file),
    TCP port 6000+N of ``host:N``, the Wayland socket in ``$XDG_RUNTIME_DIR``. Either display answering is enough.
    """
    if not hasattr(socket, "AF_UNIX"):  # Windows: no X or Wayland sockets to try; Qt draws without them
        return None
    problems = []
    for name, probe in (("WAYLAND_DISPLAY", _wayland_problem), ("DISPLAY", _x11_problem)):
        value = env.get(name)
        if value:
            problem = probe(value, env)
            if problem is None:
                return None
            problems.append(f"{name}={value} {problem}")
    return "; ".join(problems) if problems else "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"


def _x11_problem(display: str, env: Mapping[str, str]) -> str | None:
    """``[protocol/][host]:N[.S]`` as libxcb reads it; a path (macOS's launchd socket) is a socket file."""
    if display.startswith("/"):
        candidates = [display, display.rpartition(":")[0]] if ":" in display else [display]
        return _first_answer([(socket.AF_UNIX, path) for path in candidates if path])
    host, sep, number = display.rpartition(":")
    screenless = number.split(".", 1)[0]
    if not sep or not screenless.isdigit():
        return "is not a display name such as :0 or localhost:10.0"
    protocol, _, host = host.rpartition("/")
    if protocol == "unix" or (not protocol and host in ("", "unix")):
        path = f"{X11_SOCKET_DIR}/X{screenless}"
        return _first_answer([(socket.AF_UNIX, "\0" + path), (socket.AF_UNIX, path)], shown=path)
    port = X11_TCP_BASE_PORT + int(screenless)
    return _first_answer([(None, (host.strip("[]"), port))], shown=f"{host}:{port}")


def _wayland_problem(name: str, env: Mapping[str, str]) -> str | None:
    if os.path.isabs(name):
        return _first_answer([(socket.AF_UNIX, name)])
    runtime_dir = env.get("XDG_RUNTIME_DIR")
    if not runtime_dir:
        return "names no socket (XDG_RUNTIME_DIR is not set)"
    return _first_answer([(socket.AF_UNIX, os.path.join(runtime_dir, name))])


def _first_answer(addresses: list[tuple[Any, Any]], shown: str | None = None) -> str | None:
    """Connect to each address in turn (``(None, (host, port))`` is TCP); None at the first that answers, else
    "does not answer (where: why)"."""
    error: OSError | None = None
    for family, address in addresses:
        try:
            if family is None:
                socket.create_connection(address, timeout=DISPLAY_TIMEOUT_S).close()
            else:
                with socket.socket(family, socket.SOCK_STREAM) as probe:
                    probe.settimeout(DISPLAY_TIMEOUT_S)
                    probe.connect(address)
            return None
        except OSError as exc:
            error = exc
    where = shown or str(addresses[-1][1])
    reason = error.strerror if error is not None and error.strerror else str(error)
    return f"does not answer ({where}: {reason})"


def allow_root_sandboxless(environ: MutableMapping[str, str] | None = None) -> None:
    """Qt WebEngine's Chromium refuses to start as root with its sandbox on; only then is it switched off."""
    env = os.environ if environ is None else environ
    if os.geteuid() != 0:
        return
    flags = env.get(SANDBOX_ENV, "")
    if "--no-sandbox" not in flags.split():
        env[SANDBOX_ENV] = f"{flags} --no-sandbox".strip()


def open_window(url: str, *, self_test: bool = False) -> None:
    """Show ``url`` in the Breather window and return once the window is closed."""
    import webview

    allow_root_sandboxless()
    # text_select: a person copies a helpline number or a week's figures from the window; pywebview's default (off)
    # would also inject an inline <style>, which the dashboard's CSP refuses with a console error.
    window = webview.create_window(WINDOW_TITLE, url, width=1200, height=860, min_size=(640, 480), text_select=True)
    if self_test:
        webview.start(_self_test, (window,), gui=GUI_BACKEND)
    else:
        webview.start(gui=GUI_BACKEND)


def _self_test(window: Any) -> None:
    """Report what the window shows on stdout, then stay open until stdin closes (the test's screenshot time).

    The probe goes through ``run_js`` (Qt's ``runJavaScript``, which page scripts' CSP does not govern) rather than
    ``evaluate_js``: the latter wraps the code in ``eval()``, and the dashboard's ``script-src 'self'`` rightly
    refuses eval.
    """
    try:
        print(json.dumps(_probe(window)), flush=True)
        sys.stdin.read()
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
    finally:
        window.destroy()


def _probe(window: Any) -> dict[str, Any]:
    if not window.events.loaded.wait(60):
        return {"error": "the page did not load within 60 s"}
    raw = window.run_js(_SELF_TEST_PROBE)
    if not isinstance(raw, str):
        return {"error": f"the page answered {raw!r} instead of JSON"}
    report: dict[str, Any] = json.loads(raw)
    report["window_title"] = window.title
    report["url"] = window.get_current_url()
    return report
