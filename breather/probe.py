"""Find the running ``breather serve``: its service file, whether its pid is alive, and what ``/healthz`` says.

``run``, ``open`` and ``status`` all ask the same question, and a stale service file (left by a killed service)
must never be mistaken for a running one, so the answer is: file + live pid + a 200 from ``/healthz``.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from breather.paths import Paths

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class ServiceInfo:
    pid: int
    web_port: int
    proxy_port: int | None
    # which code it runs (absent from a service older than 0.2.0) and since when (ISO, as the service wrote it)
    version: str | None = None
    code: str | None = None
    started_at: str | None = None

    @property
    def dashboard_url(self) -> str:
        return f"http://{LOOPBACK}:{self.web_port}/"

    @property
    def healthz_url(self) -> str:
        return f"http://{LOOPBACK}:{self.web_port}/healthz"


def parse_service_file(text: str, source: str = "service.json") -> ServiceInfo:
    """Raise ``ValueError`` naming the file and the field when the content is not what ``breather serve`` writes."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{source}: expected a JSON object, got {type(data).__name__}")
    pid = _int_field(data, "pid", source)
    web_port = _int_field(data, "web_port", source)
    proxy_port = _int_field(data, "proxy_port", source) if data.get("proxy_port") is not None else None
    return ServiceInfo(
        pid=pid,
        web_port=web_port,
        proxy_port=proxy_port,
        version=_text_field(data, "version"),
        code=_text_field(data, "code"),
        started_at=_text_field(data, "started_at"),
    )


def _text_field(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) and value else None


def _int_field(data: dict[str, Any], name: str, source: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{source}: {name}: expected a positive integer, got {value!r}")
    return value


def read_service_file(paths: Paths) -> ServiceInfo | None:
    """The service file's content, or None when there is none. A malformed file raises ``ValueError``."""
    try:
        text = paths.service_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return parse_service_file(text, str(paths.service_file))


def pid_alive(pid: int) -> bool:
    if sys.platform == "win32":
        # os.kill(pid, 0) is no probe on Windows: any signal but Ctrl-C/Ctrl-Break terminates the process there
        return _windows_process_running(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _exited_unreaped(pid)


def _windows_process_running(pid: int) -> bool:
    import ctypes

    query_limited_information, still_active = 0x1000, 259
    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(query_limited_information, False, pid)
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == still_active
    finally:
        kernel32.CloseHandle(handle)


def _exited_unreaped(pid: int) -> bool:
    """A process that has exited but whose parent has not collected it yet (a zombie: `breather run`'s window still
    open over the service it started) is gone, though its pid still answers signals. Linux only (/proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 : stat.rfind(")") + 3] == "Z"  # the state letter follows "(command name) "


def fetch_health(info: ServiceInfo, timeout: float = 2.0) -> dict[str, Any] | None:
    """``/healthz`` as a dict when it answers 200 with JSON, else None."""
    try:
        with urllib.request.urlopen(info.healthz_url, timeout=timeout) as response:
            if response.status != 200:
                return None
            body = json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError):
        return None
    return body if isinstance(body, dict) else {"status": body}


@dataclass(frozen=True)
class RunningService:
    info: ServiceInfo
    health: dict[str, Any]


def find_running_service(paths: Paths) -> RunningService | None:
    """The service when its file names a live pid whose ``/healthz`` answers; None otherwise (stale files too)."""
    try:
        info = read_service_file(paths)
    except ValueError:
        return None
    if info is None or not pid_alive(info.pid):
        return None
    health = fetch_health(info)
    if health is None:
        return None
    return RunningService(info=info, health=health)


def running_code(running: RunningService) -> tuple[str | None, str | None]:
    """(version, code fingerprint) of the running service, from ``/healthz`` or else its service file."""
    health = running.health
    return _text_field(health, "version") or running.info.version, _text_field(health, "code") or running.info.code
