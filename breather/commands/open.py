"""`breather open`: the dashboard of the running service in a desktop window (or the web browser)."""

from __future__ import annotations

import argparse
import webbrowser

from breather.commands import command_hint
from breather.errors import CommandError
from breather.paths import Paths
from breather.probe import find_running_service

HELP = "open the dashboard in a desktop window"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=None, help="open this dashboard URL instead of the running service's")
    parser.add_argument(
        "--browser",
        action="store_true",
        help="open the dashboard in the web browser instead of a desktop window",
    )
    # For tests: report the page's title and colours on stdout, stay open until stdin closes.
    parser.add_argument("--self-test", action="store_true", help=argparse.SUPPRESS)


def dashboard_url(paths: Paths, explicit: str | None, home: str | None = None) -> str:
    """``explicit``, else the running service's; ``home`` is the ``--home`` given, for the hint when none runs."""
    if explicit:
        return explicit
    service = find_running_service(paths)
    if service is None:
        run, serve = command_hint("run", home=home), command_hint("serve", home=home)
        raise CommandError(f"Breather is not running: start it with `{run}` (or `{serve}`)")
    return service.info.dashboard_url


def show_dashboard(
    url: str, *, prefer_browser: bool = False, self_test: bool = False, browserless_ok: bool = False
) -> int:
    """The window when one can open here, else the system browser, said in one line.

    ``browserless_ok``: with neither a display nor a browser (a server over SSH), printing the URL is enough.
    """
    from breather.dashboard.window import check_gui, open_window

    if prefer_browser:
        return _open_in_browser(url, "as asked", browserless_ok)
    gui = check_gui()
    if not gui.available:
        if self_test:
            raise CommandError(f"cannot run the window self-test: {gui.reason}")
        return _open_in_browser(url, f"no desktop window: {gui.reason}", browserless_ok)
    open_window(url, self_test=self_test)
    return 0


def _open_in_browser(url: str, why: str, browserless_ok: bool) -> int:
    if not webbrowser.open(url):
        message = f"{why}, and no web browser could be started; open {url} yourself"
        if browserless_ok:
            print(message[0].upper() + message[1:])
            return 0
        raise CommandError(message)
    print(f"Opened the dashboard in your web browser ({why}): {url}")
    return 0


def run(args: argparse.Namespace, paths: Paths) -> int:
    url = dashboard_url(paths, args.url, args.home)
    return show_dashboard(url, prefer_browser=args.browser, self_test=args.self_test)
