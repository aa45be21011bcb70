"""Breather's mitmproxy addons, in the order they see each flow.

``breather serve`` calls :func:`make_addons` with its runtime. The file also works on its own as
``mitmdump -s proxy/addon.py``: then it builds a runtime from the default Breather home (rules file, usage store),
starts/stops the rules watcher and the store writer with mitmproxy, and keeps ``breather serve``'s rule that beyond
loopback the proxy must ask who is using it: with no ``--listen-host`` it listens on 127.0.0.1, and a host beyond
loopback without proxy credentials in the rules stops mitmdump. Breather's settings that mean something inside a
running proxy are mitmproxy options there (``--set breather_body_size_cap=…``), their defaults read from the
``BREATHER_*`` environment variables.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from mitmproxy import addonmanager, connection, ctx, exceptions
from mitmproxy.proxy import mode_specs
from mitmproxy.utils import asyncio_utils

from breather.net import beyond_loopback, is_loopback, listen_hosts
from breather.proxy.boundaries import Boundaries
from breather.proxy.calm_live import CalmLive
from breather.proxy.feed_warnings import FeedWarnings
from breather.proxy.head_answers import HeadAnswers
from breather.proxy.identity import Identity, credentials_of
from breather.proxy.intercept import Intercept
from breather.proxy.lifecycle import Lifecycle
from breather.proxy.live_events import LiveEvents
from breather.proxy.local_api import LocalApi
from breather.proxy.overlay import Overlay
from breather.proxy.own_machine import OwnMachine
from breather.proxy.sniff import SniffedDocuments
from breather.proxy.traffic_time import TrafficTime
from breather.proxy.validators import Validators
from breather.runtime import Runtime, StoreUsage
from breather.settings import SETTINGS, Setting

log = logging.getLogger(__name__)

LISTEN_OPTIONS = frozenset({"listen_host", "listen_port", "mode"})
BIND_AGAIN_TRIES = 5
BIND_AGAIN_PAUSE_S = 0.2
# Modes whose client ``sockname`` is not the address the client reached mitmproxy on (mitmproxy rewrites it).
SOCKNAME_REWRITTEN = (mode_specs.TransparentMode, mode_specs.WireGuardMode, mode_specs.LocalMode, mode_specs.TunMode)
# Under plain mitmdump, listen_host and proxy_port are mitmproxy's own listen_host and listen_port, and web_port has
# nothing to serve: no dashboard runs there. Every other setting is a ``breather_<name>`` option.
NOT_OPTIONS = frozenset({"listen_host", "proxy_port", "web_port"})
# Under mitmdump this file is not ``breather.proxy.addon`` but a ``__mitmproxy_script__`` module.
BREATHER_LOGGERS = ("breather", __name__)


def option_settings() -> tuple[Setting, ...]:
    return tuple(item for item in SETTINGS if item.name not in NOT_OPTIONS)


def option_name(item: Setting) -> str:
    return f"breather_{item.name}"


def option_value(item: Setting) -> Any:
    """The option's value through the setting's own parser, so ``--set`` refuses what ``BREATHER_*`` refuses, in the
    same words."""
    name = option_name(item)
    try:
        return item.parse(str(getattr(ctx.options, name)))
    except ValueError as exc:
        raise exceptions.OptionsError(f"{name}: {exc}") from None


def make_addons(runtime: Runtime) -> list[Any]:
    """Intercept (which site) → Identity (who) → OwnMachine (other devices may not reach this machine through the
    proxy; after Identity, so a client that has not signed in is asked to first) → LocalApi (answers /__breather__/)
    → Boundaries (limits, quiet hours, breaks) → TrafficTime (minutes from the site's own requests while no overlay
    reports them; after Boundaries, so a request it refused is not time on the site) → SniffedDocuments (a page
    without a Content-Type that the browser shows as HTML is read as HTML) → FeedWarnings (content warnings) →
    LiveEvents (the same on server-sent event streams, streamed live) → CalmLive (calm on live WebSocket streams) →
    Overlay (injected last, into the final HTML) → Validators (an unedited response Breather read has its ETag tagged
    with the rules it was read under: after every step that may edit it; its request side after Boundaries, which
    notes the topic quiet hours in force) → Lifecycle → HeadAnswers (an answer to a HEAD, Breather's own included,
    goes out without a body: after every step that may set one)."""
    boundaries = Boundaries(runtime)
    feed_warnings = FeedWarnings(runtime)
    return [
        Intercept(runtime),
        Identity(runtime),
        OwnMachine(runtime),
        LocalApi(runtime, decide=boundaries.decide),
        boundaries,
        TrafficTime(runtime),
        SniffedDocuments(runtime),
        feed_warnings,
        LiveEvents(runtime, feed_warnings),
        CalmLive(runtime, decide=boundaries.decide),
        Overlay(runtime),
        Validators(runtime),
        Lifecycle(runtime),
        HeadAnswers(),
    ]


class Standalone:
    """Does under plain mitmdump what ``breather serve`` does around the addons: owns the runtime's threads, and keeps
    the proxy from serving beyond loopback unless the rules make members sign in (``check_listen_host``)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.usage = StoreUsage(runtime)
        self.refusal: str | None = None
        self.is_running = False

    def load(self, loader: addonmanager.Loader) -> None:
        """Every option is a string, numbers too: mitmdump loads ``-s`` scripts after parsing ``--set``, and a value
        mitmproxy itself cannot convert for a script's int option (``--set breather_body_size_cap=4MB``) made mitmdump
        run without Breather, silently, on every interface. The setting's parser judges every value instead."""
        for item in option_settings():
            loader.add_option(option_name(item), str, str(self.runtime.settings[item.name]), item.help)

    def configure(self, updated: set[str]) -> None:
        """The listening rule first: a bad ``breather_*`` value stops mitmdump, and until then it keeps to loopback."""
        self._keep_to_loopback(updated)
        self._apply_settings(updated)

    def _keep_to_loopback(self, updated: set[str]) -> None:
        if not updated & LISTEN_OPTIONS:
            return
        if ctx.options.listen_host == "" and "" in self._listen_hosts():
            self._listen_on_loopback()  # sets listen_host, which calls configure again for the check below
            return
        self._refuse_beyond_loopback_without_credentials()

    def running(self) -> None:
        self.is_running = True
        if self.refusal is not None:
            # mitmdump's start-up error check already exits on the logged error; this covers masters without one.
            ctx.master.shutdown()
        self.runtime.rules.start()
        self.usage.start()

    def client_connected(self, client: connection.Client) -> None:
        """Until the servers are bound again on loopback, or while refusing, a client reaching mitmdump beyond
        loopback is cut off; so is one once the rules stop asking who is using the proxy."""
        if self.refusal is not None:
            client.error = self.refusal
        elif self._reached_beyond_loopback(client) and (
            is_loopback(client.proxy_mode.listen_host(ctx.options.listen_host))
            or not credentials_of(self.runtime.current_rules())
        ):
            log.info("refused a client beyond loopback: no profile in the rules has a user and password")
            client.error = "Breather: beyond loopback the proxy must ask who is using it"

    def done(self) -> None:
        self.usage.stop()
        self.runtime.rules.stop()
        if self.runtime.writer is not None:
            self.runtime.writer.close()

    def _apply_settings(self, updated: set[str]) -> None:
        """Every changed option is parsed before any is applied: one bad value leaves all of them as they were (and
        mitmproxy puts the options back)."""
        changed = {item.name: option_value(item) for item in option_settings() if option_name(item) in updated}
        if not changed:
            return
        self.runtime.settings.update(changed)  # the caps and the budget are read from here on every response
        if "log_level" in changed:
            for name in BREATHER_LOGGERS:
                logging.getLogger(name).setLevel(changed["log_level"])
        if "writer_flush_ms" in changed and self.runtime.writer is not None:
            self.runtime.writer.flush_s = changed["writer_flush_ms"] / 1000  # from its next batch on

    def _listen_hosts(self) -> list[str]:
        return listen_hosts(ctx.options.mode, ctx.options.listen_host, ctx.options.listen_port)

    def _listen_on_loopback(self) -> None:
        """mitmproxy's default listen host is every interface; Breather's is loopback, as under ``breather serve``."""
        ctx.options.listen_host = "127.0.0.1"
        log.info(
            "Breather: mitmdump listens on 127.0.0.1 only, since no --listen-host was given. To use the proxy from "
            "other devices, give each member a user and password in %s (`breather rules password NAME`) and start "
            "mitmdump with --listen-host 0.0.0.0",
            self.runtime.paths.rules_file,
        )
        # mitmproxy starts binding its servers before it loads scripts, on every interface: bind them again.
        asyncio_utils.create_task(self._bind_again(), name="breather: listen on loopback", keep_ref=True)

    async def _bind_again(self) -> None:
        proxyserver = ctx.master.addons.get("proxyserver")
        if proxyserver is None:
            return
        await proxyserver.servers.update([])
        if await proxyserver.setup_servers():
            return
        # A UDP socket just closed (an HTTP/3 mode) can hold its port a moment longer: a CI run lost one that way.
        # mitmproxy keeps a server that failed to bind, and asked again it sees nothing to do: start those again.
        for _ in range(BIND_AGAIN_TRIES):
            await asyncio.sleep(BIND_AGAIN_PAUSE_S)
            stopped = [server for server in proxyserver.servers if not server.is_running]
            tries = await asyncio.gather(*(server.start() for server in stopped), return_exceptions=True)
            failures = [str(failure) for failure in tries if isinstance(failure, BaseException)]
            if not failures:
                return
            log.info("Breather: listening on 127.0.0.1 again: %s; trying once more", "; ".join(failures))
        log.error("Breather: mitmdump could not listen again on 127.0.0.1 (see the errors above)")

    def _refuse_beyond_loopback_without_credentials(self) -> None:
        hosts = beyond_loopback(self._listen_hosts())
        if not hosts or credentials_of(self.runtime.current_rules()):
            self.refusal = None
            return
        where = ", ".join(host or "every interface" for host in hosts)
        self.refusal = (
            f"Breather refuses to let mitmdump listen on {where}: beyond loopback the proxy must ask who "
            f"is using it, and no profile in {self.runtime.paths.rules_file} has a user and password. Give each member "
            "one (`breather rules password NAME`), or leave out --listen-host: Breather then listens on 127.0.0.1."
        )
        log.error(self.refusal)
        if self.is_running:
            ctx.master.shutdown()

    @staticmethod
    def _reached_beyond_loopback(client: connection.Client) -> bool:
        if isinstance(client.proxy_mode, SOCKNAME_REWRITTEN) or not client.sockname:
            return False
        return not is_loopback(str(client.sockname[0]))


def standalone_addons() -> list[Any]:
    from breather import settings as breather_settings
    from breather.paths import Paths
    from breather.service import build_runtime

    runtime = build_runtime(Paths.resolve(), breather_settings.resolve())
    return [Standalone(runtime), *make_addons(runtime)]


if __name__.startswith("__mitmproxy_script__"):
    addons = standalone_addons()
