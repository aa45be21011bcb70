"""Service settings: each declared exactly once, with its default and help.

Settings are about how the service runs (ports, caps, logging). What a person's boundaries are lives in the
rules file instead. Each setting can be given as an environment variable ``BREATHER_<NAME>`` (upper case) or on
the command line where a command offers it. ``tests/breather/test_settings.py`` checks that the README documents
every setting below.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str

    @property
    def env_var(self) -> str:
        return "BREATHER_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "listen_host",
        "127.0.0.1",
        "Address the proxy listens on. Beyond loopback, per-member credentials are required.",
    ),
    Setting("proxy_port", 8080, "Port of the proxy that browsers use.", int),
    Setting("web_port", 8765, "Port of the dashboard, the extension API and /healthz (0 picks a free one).", int),
    Setting("body_size_cap", 4 * 1024 * 1024, "Responses larger than this many bytes pass through unchanged.", int),
    Setting(
        "classify_budget_ms",
        250,
        "Most milliseconds spent classifying one response; the rest passes through unmarked. Only a page of "
        "posts never seen before gets near it: verdicts are cached.",
        int,
    ),
    Setting("writer_flush_ms", 250, "How often the usage writer commits queued rows (milliseconds).", int),
    Setting("log_level", "INFO", "Logging level: DEBUG, INFO, WARNING or ERROR."),
    Setting(
        "detailed_log",
        False,
        "Also store full URLs for the person's own review. Off by default.",
        _parse_bool,
    ),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


def setting(name: str) -> Setting:
    return _BY_NAME[name]


def resolve(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Defaults, then environment variables, then explicit overrides (command-line flags)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for item in SETTINGS:
        value = item.default
        if item.env_var in env:
            try:
                value = item.parse(env[item.env_var])
            except ValueError as exc:
                raise ValueError(f"{item.env_var}: {exc}") from exc
        values[item.name] = value
    for name, value in (overrides or {}).items():
        if name not in _BY_NAME:
            raise ValueError(f"unknown setting {name!r}")
        if value is not None:
            values[name] = value
    return values
