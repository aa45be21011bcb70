"""Find the running ``breather serve``: its service file, whether its pid is alive, and what ``/healthz`` says.

``run``, ``open``, ``status`` and ``stop`` all ask the same question, and a stale service file (left by a killed
service) must never be mistaken for a running one, so the answer is: file + live pid + a 200 from ``/healthz`` whose
``pid`` is the file's. After a power cut the file's pid may belong to another program by now, and its port to another
Breather (another home's): ``stop`` must never signal that program.

A ``breather serve`` also holds ``paths.service_lock`` for its whole life, from before it listens, so a second one for
the same home refuses to start, and ``run`` can tell a service still starting (no file yet) from none.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeGuard

from breather.paths import Paths

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; there a second service may start beside one still starting
    fcntl = None  # type: ignore[assignment]

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
    """The service when its file names a live pid and that very process answers ``/healthz``; None otherwise (stale
    files too, and a file whose port another process answers on)."""
    try:
        info = read_service_file(paths)
    except ValueError:
        return None
    if info is None or not pid_alive(info.pid):
        return None
    health = fetch_health(info)
    if not answered_by(health, info.pid):
        return None
    return RunningService(info=info, health=health)


def answered_by(health: dict[str, Any] | None, pid: int) -> TypeGuard[dict[str, Any]]:
    """Whether ``/healthz`` was answered by the process ``pid``: every ``breather serve`` has said its ``pid`` there
    since the first one (0.1.0), so a body without it, or with another, is some other process on that port."""
    return health is not None and health.get("pid") == pid


def hold_service_lock(paths: Paths) -> IO[bytes] | None:
    """The service lock, held for as long as the returned file stays open (a killed process's lock goes with it, so
    none is ever stale); None when another process holds it. Without fcntl (Windows) nothing is locked."""
    paths.ensure()
    handle = paths.service_lock.open("ab")
    if fcntl is None:
        return handle
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def service_lock_held(paths: Paths) -> bool:
    """Whether another process holds the service lock: a ``breather serve`` running or still starting. Creates
    nothing (no lock file: no service ever ran here)."""
    if fcntl is None:
        return False
    try:
        handle = paths.service_lock.open("rb")
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def running_code(running: RunningService) -> tuple[str | None, str | None]:
    """(version, code fingerprint) of the running service, from ``/healthz`` or else its service file."""
    health = running.health
    return _text_field(health, "version") or running.info.version, _text_field(health, "code") or running.info.code
