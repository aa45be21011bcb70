"""`breather serve`."""

from __future__ import annotations

import argparse
import logging
import signal
from typing import Any

from breather import settings as breather_settings
from breather.errors import CommandError
from breather.paths import Paths

HELP = "run the proxy, the dashboard web server and the scheduler"


# The settings `serve` takes as flags (over BREATHER_<NAME>), which `breather run` passes on to the serve it starts.
SETTING_FLAGS: tuple[tuple[str, str, str, str], ...] = (
    ("--listen-host", "listen_host", "HOST", "address the proxy listens on (default 127.0.0.1)"),
    ("--proxy-port", "proxy_port", "PORT", "proxy port (default 8080; 0 picks a free one)"),
    ("--web-port", "web_port", "PORT", "dashboard port (default 8765; 0 picks a free one)"),
)


def add_setting_arguments(parser: argparse.ArgumentParser) -> None:
    for flag, name, metavar, help_text in SETTING_FLAGS:
        parser.add_argument(flag, type=breather_settings.flag_type(name), default=None, metavar=metavar, help=help_text)


def setting_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The setting flags as ``settings.resolve`` overrides (None where not given)."""
    return {name: getattr(args, name) for _flag, name, _metavar, _help in SETTING_FLAGS}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_setting_arguments(parser)
    parser.add_argument(
        "-s",
        "--script",
        dest="scripts",
        action="append",
        default=[],
        metavar="FILE",
        help="load an extra mitmproxy addon script, exactly like mitmdump -s (repeatable)",
    )
    parser.add_argument(
        "--set",
        dest="set_options",
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="set a mitmproxy option, exactly like mitmdump --set (repeatable)",
    )


def run(args: argparse.Namespace, paths: Paths) -> int:
    from breather.service import STOP_SIGNALS, ServeOptions, serve

    try:
        settings = breather_settings.resolve(setting_overrides(args))
    except ValueError as exc:
        raise CommandError(str(exc), exit_code=2) from exc
    configure_logging(paths, settings["log_level"], args.debug)
    try:
        return serve(paths, settings, ServeOptions(scripts=args.scripts, set_options=args.set_options))
    finally:
        # The process is on its way out (the interpreter's exit takes a moment): another SIGTERM or Ctrl-C must not
        # turn a clean stop into exit 143 (a robustness test's third SIGTERM did).
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)


def configure_logging(paths: Paths, level: str, debug: bool) -> None:
    """Service logs go to stderr (``breather run`` points that at ``paths.log_file``)."""
    chosen = logging.DEBUG if debug else getattr(logging, level.upper(), logging.INFO)
    root = logging.getLogger()
    root.setLevel(chosen)
    for noisy in ("hpack", "asyncio", "waitress.queue", "mitmproxy.proxy.server", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(chosen, logging.WARNING))
    del paths
