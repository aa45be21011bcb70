"""`breather serve`."""

from __future__ import annotations

import argparse
import logging

from breather import settings as breather_settings
from breather.errors import CommandError
from breather.paths import Paths

HELP = "run the proxy, the dashboard web server and the scheduler"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--listen-host", default=None, help="address the proxy listens on (default 127.0.0.1)")
    parser.add_argument("--proxy-port", type=int, default=None, help="proxy port (default 8080; 0 picks a free one)")
    parser.add_argument("--web-port", type=int, default=None, help="dashboard port (default 8765; 0 picks a free one)")
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
    from breather.service import ServeOptions, serve

    try:
        settings = breather_settings.resolve(
            {"listen_host": args.listen_host, "proxy_port": args.proxy_port, "web_port": args.web_port}
        )
    except ValueError as exc:
        raise CommandError(str(exc), exit_code=2) from exc
    configure_logging(paths, settings["log_level"], args.debug)
    return serve(paths, settings, ServeOptions(scripts=args.scripts, set_options=args.set_options))


def configure_logging(paths: Paths, level: str, debug: bool) -> None:
    """Service logs go to stderr (``breather run`` points that at ``paths.log_file``)."""
    chosen = logging.DEBUG if debug else getattr(logging, level.upper(), logging.INFO)
    root = logging.getLogger()
    root.setLevel(chosen)
    for noisy in ("hpack", "asyncio", "waitress.queue", "mitmproxy.proxy.server", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(chosen, logging.WARNING))
    del paths
