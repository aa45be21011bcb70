"""Service settings: each declared exactly once, with its default and help.

Settings are about how the service runs (ports, caps, logging). What a person's boundaries are lives in the
rules file instead. Each setting can be given as an environment variable ``BREATHER_<NAME>`` (upper case) or on
the command line where a command offers it. ``tests/breather/test_settings.py`` checks that the README's table gives
every setting below with its default and, word for word, its help.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


def _whole_number(low: int, high: int | None = None, expected: str | None = None) -> Callable[[str], int]:
    """A parser for a whole number from ``low`` (to ``high``), digits only: "4MB", "-1" and "1e3" are refused."""
    expected = expected or f"a whole number ({low} or more)"

    def parse(raw: str) -> int:
        text = raw.strip()
        if text.isascii() and text.isdigit() and int(text) >= low and (high is None or int(text) <= high):
            return int(text)
        raise ValueError(f"expected {expected}, got {raw!r}")

    return parse


def _one_of(*choices: str) -> Callable[[str], str]:
    """A parser for one of ``choices``, any case, given back as written in ``choices``."""

    def parse(raw: str) -> str:
        for choice in choices:
            if raw.strip().lower() == choice.lower():
                return choice
        raise ValueError(f"expected one of {', '.join(choices)}, got {raw!r}")

    return parse


def _host(raw: str) -> str:
    text = raw.strip()
    if not text or any(char.isspace() for char in text):
        raise ValueError(f"expected a host name or address, got {raw!r}")
    return text


_port = _whole_number(0, 65535, "a port number from 0 to 65535")


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    # Raises ValueError("expected ..., got '...'"); ``resolve`` puts the variable's name in front.
    parse: Callable[[str], Any]

    @property
    def env_var(self) -> str:
        return "BREATHER_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "listen_host",
        "127.0.0.1",
        "Address the proxy listens on. Beyond loopback, per-member credentials are required.",
        _host,
    ),
    Setting("proxy_port", 8080, "Port of the proxy that browsers use (0 picks a free one).", _port),
    Setting("web_port", 8765, "Port of the dashboard, the extension API and /healthz (0 picks a free one).", _port),
    Setting(
        "body_size_cap",
        4 * 1024 * 1024,
        "Responses larger than this many bytes pass through unchanged.",
        _whole_number(0),
    ),
    Setting(
        "classify_budget_ms",
        250,
        "Most milliseconds spent classifying one response; the rest passes through unmarked. Only a page of "
        "posts never seen before gets near it: verdicts are cached.",
        _whole_number(0),
    ),
    Setting("writer_flush_ms", 250, "How often the usage writer commits queued rows (milliseconds).", _whole_number(1)),
    Setting(
        "log_level",
        "INFO",
        "Logging level: DEBUG, INFO, WARNING or ERROR.",
        _one_of("DEBUG", "INFO", "WARNING", "ERROR"),
    ),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


def setting(name: str) -> Setting:
    return _BY_NAME[name]


def flag_type(name: str) -> Callable[[str], Any]:
    """The setting's parser as an argparse ``type=``: a bad flag gets the message a bad variable gets."""
    parse = setting(name).parse

    def parse_flag(raw: str) -> Any:
        try:
            return parse(raw)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse_flag


def resolve(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Defaults, then environment variables, then explicit overrides (command-line flags, already parsed).

    A bad variable raises ``ValueError("BREATHER_<NAME>: expected ..., got '...'")``.
    """
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
