"""The desktop window: the dashboard inside pywebview (Qt backend), in a process of its own.

Only ``breather open`` imports this module. The window is a client of the running service and nothing more, so
closing it ends this process and leaves the proxy and its boundaries running.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Final

log = logging.getLogger(__name__)

WINDOW_TITLE = "Breather"
GUI_BACKEND: Final = "qt"
SANDBOX_ENV = "QTWEBENGINE_CHROMIUM_FLAGS"

# Read by the self-test: what the page says its title is and the colour it paints its background with.
_SELF_TEST_PROBE = (
    "JSON.stringify({title: document.title, background: getComputedStyle(document.body).backgroundColor})"
)


@dataclass(frozen=True)
class GuiCheck:
    available: bool
    reason: str


def check_gui(environ: Mapping[str, str] | None = None) -> GuiCheck:
    """Whether a window can open here; when it cannot, why, in words a person understands.

    Qt aborts the whole process (no exception) when it finds no display, so the display is checked before Qt
    is ever imported.
    """
    env = os.environ if environ is None else environ
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return GuiCheck(False, "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)")
    for module in ("webview", "PyQt6.QtWebEngineWidgets"):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            return GuiCheck(False, f"the window toolkit is not installed ({module}: {exc}); install breather[gui]")
    return GuiCheck(True, "")


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
    window = webview.create_window(WINDOW_TITLE, url, width=1200, height=860, min_size=(640, 480))
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
