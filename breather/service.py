"""``breather serve``: one process with the proxy, the web server and the scheduler.

mitmproxy's master owns the main thread's asyncio loop; the Flask app runs under waitress in a thread and is bound
(port 0 allowed) before the proxy starts, so nothing can open the dashboard before it listens; the usage writer and
the rules watcher have threads of their own. Ports and pid go to ``paths.service_file`` once everything listens, and
only then do the scheduler's jobs start (a service that never came up prunes nothing and applies no held change).
The whole life of the process holds ``paths.service_lock``: one service per home, even while it is still starting.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from breather.certificates import check_ca
from breather.commands import command_hint
from breather.errors import EXIT_ALREADY_RUNNING, CommandError
from breather.net import is_loopback, listen_hosts
from breather.paths import Paths
from breather.probe import hold_service_lock
from breather.runtime import Runtime, StoreUsage
from breather.version import code_fingerprint, version

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeOptions:
    """What ``breather serve`` was asked for, beyond the settings."""

    scripts: Sequence[str] = ()
    set_options: Sequence[str] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def check_listen_host(host: str, rules: Any) -> None:
    """Beyond loopback, everyone on the network could use the proxy: refuse unless members must sign in."""
    if is_loopback(host):
        return
    if not proxy_credentials(rules):
        raise CommandError(
            f"refusing to listen on {host or 'every interface'}: beyond loopback the proxy must ask who is using it. "
            "Set `user` and `password` for the profiles in the rules file (`breather rules password NAME`; a member "
            "without them cannot use the proxy then), or listen on 127.0.0.1"
        )


def proxy_credentials(rules: Any) -> dict[str, str]:
    """Proxy-auth user name → password for every profile that has both."""
    return {p.user: p.password for p in rules.profiles.values() if p.user and p.password}


def load_rules_watcher(paths: Paths) -> Any:
    from breather.rules.loader import ensure_rules_file
    from breather.rules.watcher import RulesWatcher

    # The commented default only on a first run: a file away for a moment at a later start (a sync folder not mounted
    # yet at login) must not be replaced by it, or its stricter values apply and the person's own come back as held
    # loosenings; the last good rules carry the start instead.
    if not paths.last_good_rules.exists():
        ensure_rules_file(paths.rules_file)
    watcher = RulesWatcher(
        paths.rules_file, last_good=paths.last_good_rules, cool_loosening=True, asked_at=dashboard_asked_at(paths)
    )
    if watcher.current is None:  # a person's own broken file, and no good rules from an earlier run: exit 2, as a check
        raise CommandError(
            f"the rules file {paths.rules_file} cannot be used and there are no earlier good rules to start with; "
            f"mend it (`{command_hint('rules', 'check', home=paths.home)}` says what is wrong again) and start "
            f"Breather again:\n{watcher.last_error}",
            exit_code=2,
        )
    return watcher


def dashboard_asked_at(paths: Paths) -> Callable[[str, datetime], datetime | None]:
    """When a rules version was asked for on the dashboard's Rules page (which held it for its cooling-off already),
    for the rules watcher; None for a version the dashboard is not holding, or when its tables are not there yet."""

    def asked_at(text: str, now: datetime) -> datetime | None:
        import sqlite3

        from breather.dashboard.db import connect
        from breather.pending_rules import asked_on_the_page

        if not paths.database.exists():
            return None
        try:
            db = connect(str(paths.database))
        except sqlite3.Error:
            return None
        try:
            return asked_on_the_page(db, text, now)
        except sqlite3.Error:
            return None
        finally:
            db.close()

    return asked_at


def start_writer(paths: Paths, settings: dict[str, Any]) -> Any:
    from breather.dashboard.migrations import migrations as dashboard_migrations
    from breather.scheduler import SCHEDULER_MIGRATIONS
    from breather.store.writer import Writer

    # every table the service writes to, so a usage file deleted while it runs is made again whole
    tables = [SCHEDULER_MIGRATIONS, dashboard_migrations]
    writer = Writer(paths.database, flush_ms=settings["writer_flush_ms"], migrations=tables)
    writer.start()
    return writer


def build_runtime(paths: Paths, settings: dict[str, Any]) -> Runtime:
    paths.ensure()
    watcher = load_rules_watcher(paths)
    check_listen_host(settings["listen_host"], watcher.current)
    writer = start_writer(paths, settings)
    return Runtime(paths=paths, settings=settings, rules=watcher, writer=writer)


def write_service_file(runtime: Runtime) -> None:
    info = {
        "pid": os.getpid(),
        "proxy_host": runtime.settings["listen_host"],
        "proxy_port": runtime.proxy_port,
        "web_host": "127.0.0.1",
        "web_port": runtime.web_port,
        "started_at": runtime.started_at.isoformat(),
        "version": version(),
        "code": code_fingerprint(),
    }
    target = runtime.paths.service_file
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(info, indent=2), encoding="utf-8")
    os.replace(temporary, target)


def remove_service_file(paths: Paths) -> None:
    try:
        info = json.loads(paths.service_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if info.get("pid") == os.getpid():
        paths.service_file.unlink(missing_ok=True)


class WebServer:
    """The Flask app under waitress, in a thread; bound in ``__init__`` so the port is known at once."""

    def __init__(self, runtime: Runtime, host: str, port: int) -> None:
        import waitress

        self._server = waitress.create_server(make_web_app(runtime), host=host, port=port, threads=4)
        self.port: int = int(self._server.effective_port)
        self._thread = threading.Thread(target=self._server.run, name="breather-web", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Close the listener and every open connection, in waitress's own loop thread (its trigger runs the call
        there): waitress loops until its socket map is empty, and ``server.close()`` alone leaves a dashboard tab's
        keep-alive connection in it, so a stop waited out the whole join timeout."""
        if not self._thread.is_alive():  # never started, or its loop already ended
            self._close_everything()
            return
        self._server.trigger.pull_trigger(self._close_everything)
        self._thread.join(timeout=5)

    def _close_everything(self) -> None:
        from waitress.channel import HTTPChannel

        for dispatcher in list(self._server._map.values()):
            if isinstance(dispatcher, HTTPChannel):
                dispatcher.handle_close()
        self._server.close()


def restore_what_still_runs(runtime: Runtime) -> None:
    """After a restart, what the proxy kept in memory and is still running goes back into it: a parent's yes to more
    time, a "continue anyway", a snooze (one connection for all of them)."""
    try:
        from breather.dashboard.db import connect
        from breather.grants import restore_grants
        from breather.proxy.restore import restore_recent_choices

        db = connect(str(runtime.paths.database))
    except Exception:
        log.exception("could not open the store to restore what was running before the restart")
        return
    now = datetime.now(UTC)
    restorers = (("grant(s) of more time", restore_grants), ("override(s) and snooze(s)", restore_recent_choices))
    try:
        for what, restore in restorers:
            try:
                restored = restore(runtime, db, now)
            except Exception:
                log.exception("could not restore the %s from before the restart", what)
                continue
            if restored:
                log.info("restored %d %s still running", restored, what)
    finally:
        db.close()


def make_web_app(runtime: Runtime) -> Any:
    """The dashboard; if it cannot be loaded, /healthz alone, so a broken dashboard never switches the proxy off."""
    try:
        from breather.dashboard.app import create_app

        return create_app(None, runtime=runtime)
    except Exception:
        log.exception("the dashboard could not be loaded; serving /healthz only")
        return _health_only_app(runtime)


def _health_only_app(runtime: Runtime) -> Any:
    from flask import Flask, jsonify

    app = Flask("breather.service")

    @app.get("/healthz")
    def healthz() -> Any:
        body = runtime.health()
        return jsonify(body), 200 if body["status"] == "ok" else 503

    return app


def start_scheduler(runtime: Runtime) -> Any:
    from breather.dashboard import jobs as dashboard_jobs
    from breather.scheduler import start_scheduler as start

    scheduler = start(runtime)
    dashboard_jobs.register(scheduler, runtime)
    # A Rules-page change that became due while the service was down applies now, not a minute after the start.
    scheduler.modify_job(dashboard_jobs.JOB_HELD_RULE_CHANGES, next_run_time=datetime.now(UTC))
    return scheduler


class SchedulerOnceListening:
    """Starts the scheduler's jobs in mitmproxy's ``running`` hook, right after ``Lifecycle``'s (this addon comes after
    it) has marked the proxy up. A start that fails (the proxy's port taken) never reaches ``running``: it never
    prunes, rolls up or applies a held rule change on its way out, and nothing logs after mitmproxy's loop closed."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.scheduler: Any = None

    def running(self) -> None:
        if self.scheduler is None and self.runtime.proxy_ready.is_set():
            self.scheduler = start_scheduler(self.runtime)

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None


async def run_master(
    runtime: Runtime, options: ServeOptions, *more_addons: Any, stop: threading.Event | None = None
) -> None:
    """Build mitmproxy's master with Breather's addons (then ``more_addons``), run it until SIGINT/SIGTERM (or at once
    when ``stop`` was already set by one during the start), then close the listeners; however it ends, mitmproxy's
    log handlers leave the root logger with it."""
    from mitmproxy import options as mitm_options
    from mitmproxy.tools.dump import DumpMaster

    settings = runtime.settings
    opts = mitm_options.Options(
        listen_host=settings["listen_host"],
        listen_port=settings["proxy_port"],
        confdir=str(runtime.paths.mitmproxy_confdir),
    )
    master = DumpMaster(opts, with_termlog=False, with_dumper=False)
    _check_only_the_proxys_own_start(master)
    try:
        await _run_until_stopped(master, runtime, options, more_addons, stop or threading.Event())
    finally:
        _remove_mitmproxy_log_handlers()


async def _run_until_stopped(
    master: Any, runtime: Runtime, options: ServeOptions, more_addons: Sequence[Any], stop: threading.Event
) -> None:
    from mitmproxy import exceptions

    from breather.proxy.addon import make_addons

    opts = master.options
    master.addons.add(*make_addons(runtime), *more_addons)
    try:
        opts.update(stream_large_bodies=str(runtime.settings["body_size_cap"]), **options.extra)
        opts.set(*options.set_options, defer=True)
        if options.scripts:
            opts.update(scripts=[os.path.abspath(script) for script in options.scripts])
    except exceptions.OptionsError as exc:
        raise CommandError(str(exc), exit_code=2) from exc
    # ``--set listen_host=...`` and a mode's own ``@host:port`` reach mitmproxy directly: check where it will listen.
    for host in listen_hosts(opts.mode, opts.listen_host, opts.listen_port):
        check_listen_host(host, runtime.rules.current)
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, master.shutdown)
    if stop.is_set():  # a signal came before the loop's handlers took over from ``catch_stop_signals``'
        master.shutdown()
    try:
        await master.run()
    finally:
        # Taken back from the loop at once: closing it would give them their defaults (SIGTERM ends the process, exit
        # 143) for the rest of the stop (a robustness test's second SIGTERM did).
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
        catch_stop_signals(stop)
        # The client connections still open are cancelled as the loop closes, and asyncio logged each as an ERROR
        # with a traceback (a soak test: 54 KB of log at one stop under load); a stop is not an error.
        logging.getLogger("asyncio").addFilter(_not_a_connection_cancelled)
        proxyserver = master.addons.get("proxyserver")
        if proxyserver is not None:
            await proxyserver.servers.update([])


def _check_only_the_proxys_own_start(master: Any) -> None:
    """mitmproxy's start-up check exits on any ERROR logged until its ``running`` hook is done, from any thread. The
    dashboard, the usage writer, the rules watcher and the usage refresher already run then, and each logs its own
    trouble and carries on: one of them logging at the wrong moment must not stop the whole service. Errors logged on
    the proxy's own thread (a port taken, an unknown ``--set`` option, a ``-s`` script that fails) still stop it."""
    errorcheck = master.addons.get("errorcheck")
    if errorcheck is None:
        return
    proxy_thread = threading.get_ident()
    errorcheck.logger.addFilter(lambda record: record.thread == proxy_thread)


def _remove_mitmproxy_log_handlers() -> None:
    """mitmproxy's master puts handlers on the root logger and removes them in its ``done`` hook, which a failed
    start (a port taken) never reaches: each later log line from another thread (the writer, the rules watcher)
    then went to a closed loop and wrote an "Event loop is closed" traceback into the log."""
    from mitmproxy.log import MitmLogHandler

    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, MitmLogHandler):
            root.removeHandler(handler)


def _not_a_connection_cancelled(record: logging.LogRecord) -> bool:
    return not (record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError))


def _stop_signals() -> tuple[int, ...]:
    """SIGINT, SIGTERM, and SIGHUP: `breather serve` in a terminal that closes lost what it had not saved (its
    default ends the process). Not SIGHUP when the process was started ignoring it (`nohup`): that is asked for."""
    hangup = getattr(signal, "SIGHUP", None)
    wanted = hangup is not None and signal.getsignal(hangup) is not signal.SIG_IGN
    return (signal.SIGINT, signal.SIGTERM, *((hangup,) if wanted and hangup is not None else ()))


STOP_SIGNALS = _stop_signals()  # as the process started, before `serve` takes them


def catch_stop_signals(stop: threading.Event) -> dict[int, Any]:
    """From here until mitmproxy's loop takes them (and again once it has closed), SIGTERM, SIGINT and SIGHUP only ask
    for a stop: the start goes on to its end and stops there, cleaning up as any stop does, where SIGTERM's default
    ended the process at once (exit 143, the store's writer and the service file left as they were). Returns the
    handlers they had, for ``serve`` to give back as it returns."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        return {}
    return {signum: signal.signal(signum, lambda _signum, _frame: stop.set()) for signum in STOP_SIGNALS}


def check_proxy_port(settings: dict[str, Any], options: ServeOptions) -> None:
    """Bind the proxy's address for a moment before mitmproxy does, to say a port in use in one line naming
    Breather's option (mitmproxy's own message advises its ``--mode regular@PORT``, which ``serve`` has not). A
    ``--set`` of where mitmproxy listens is mitmproxy's to report."""
    host, port = settings["listen_host"], settings["proxy_port"]
    if port and port == settings["web_port"]:
        raise CommandError(
            f"--proxy-port and --web-port are both {port}: the proxy and the dashboard each need a port of their own",
            exit_code=2,
        )
    if not port or any(option.split("=")[0].strip() in _WHERE_OPTIONS for option in options.set_options):
        return
    try:
        for family, kind, proto, _name, address in socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        ):
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's servers: TIME_WAIT is fine
                if family == socket.AF_INET6:
                    probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                probe.bind(address)
    except OSError as exc:
        advice = ""
        if exc.errno == errno.EADDRINUSE:
            advice = "; another program has that port: choose another with --proxy-port PORT (0 picks a free one)"
        raise CommandError(f"cannot listen on {host or '*'}:{port} for the proxy: {exc}{advice}") from exc


_WHERE_OPTIONS = frozenset({"mode", "listen_host", "listen_port"})


def serve(paths: Paths, settings: dict[str, Any], options: ServeOptions) -> int:
    """Run the service until SIGINT/SIGTERM, holding the service lock all along; refuse when another holds it."""
    stop = threading.Event()
    before = catch_stop_signals(stop)
    try:
        lock = hold_service_lock(paths)
        if lock is None:
            raise CommandError(
                f"Breather is already running or starting for this home (another `breather serve` holds "
                f"{paths.service_lock}); `breather status` shows it and `breather stop` stops it",
                exit_code=EXIT_ALREADY_RUNNING,
            )
        with lock:
            return _serve(paths, settings, options, stop)
    finally:
        for signum, handler in before.items():  # a caller that goes on (a test, an embedding) gets its own back
            if handler is not None:  # None: set outside Python, and cannot be given back
                signal.signal(signum, handler)


def _serve(paths: Paths, settings: dict[str, Any], options: ServeOptions, stop: threading.Event) -> int:
    code_fingerprint()  # once, as the code starts: a `git pull` while it runs must not change what it says it runs
    check_ca(paths)
    runtime = build_runtime(paths, settings)
    usage = StoreUsage(runtime)
    web: WebServer | None = None
    scheduler = SchedulerOnceListening(runtime)
    try:
        check_proxy_port(settings, options)
        try:
            web = WebServer(runtime, "127.0.0.1", settings["web_port"])
        except OSError as exc:
            advice = ""
            if exc.errno == errno.EADDRINUSE:
                advice = "; another program has that port: choose another with --web-port PORT (0 picks a free one)"
            raise CommandError(
                f"cannot listen on 127.0.0.1:{settings['web_port']} for the dashboard: {exc}{advice}"
            ) from exc
        runtime.web_port = web.port
        web.start()
        restore_what_still_runs(runtime)
        runtime.web_ready.set()
        runtime.rules.start()
        usage.start()
        if not stop.is_set():
            asyncio.run(run_master(runtime, options, scheduler, stop=stop))
    finally:
        catch_stop_signals(stop)  # closing the loop gave SIGTERM its default back: the clean-up must not be cut
        runtime.proxy_ready.clear()
        remove_service_file(paths)
        scheduler.stop()
        if web is not None:
            web.stop()
        usage.stop()
        runtime.rules.stop()
        runtime.writer.close()
    return 0
