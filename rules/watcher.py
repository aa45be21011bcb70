"""Keep the service's rules in step with ``rules.toml``, and keep the last good rules when an edit is broken.

A polling thread (about once a second) compares the file's mtime, size and content hash; polling needs no
platform-specific file events and catches editors that replace the file instead of writing it in place.

With a ``last_good`` path, every version taken in is also copied there, so that a service started while the file is
broken (after a reboot, say) starts with the rules that were last in force instead of none at all.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from breather.rules.errors import RulesError
from breather.rules.model import Rules

log = logging.getLogger(__name__)

ChangeListener = Callable[[Rules], None]
ErrorListener = Callable[[str], None]
Fingerprint = tuple[int, int, str]


class RulesWatcher:
    """``current`` is the last good ``Rules`` (``None`` only if the file was never valid); ``last_error`` the
    located message of the latest refused version (``None`` once the file is valid again)."""

    def __init__(
        self, path: str | os.PathLike[str], interval: float = 1.0, last_good: str | os.PathLike[str] | None = None
    ) -> None:
        self.path = Path(path)
        self.interval = interval
        self.last_good = Path(last_good) if last_good is not None else None
        self.current: Rules | None = None
        self.last_error: str | None = None
        self._fingerprint: Fingerprint | None = None
        self._listeners: list[ChangeListener] = []
        self._error_listeners: list[ErrorListener] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.reload()
        if self.current is None:
            self._fall_back_to_last_good()

    def add_listener(self, listener: ChangeListener) -> None:
        """Called with the new rules, on the watcher's thread, each time a valid change is taken in."""
        self._listeners.append(listener)

    def add_error_listener(self, listener: ErrorListener) -> None:
        """Called with the located message each time a broken version is refused."""
        self._error_listeners.append(listener)

    def reload(self) -> bool:
        """Read the file if it changed. Returns True when new, valid rules were taken in."""
        with self._lock:
            contents = self._read()
            if contents is None:
                return False
            fingerprint, text = contents
            if fingerprint == self._fingerprint:
                return False
            self._fingerprint = fingerprint
            return self._take(text)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._poll, name="breather-rules-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _poll(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.reload()
            except Exception:  # a listener's bug must not end the watching
                log.exception("rules watcher: reloading %s failed", self.path)

    def _read(self) -> tuple[Fingerprint, str] | None:
        try:
            stat = self.path.stat()
            data = self.path.read_bytes()
        except OSError as exc:
            self._refuse(f"{self.path}:1:1: cannot read the rules file: {exc.strerror or exc}")
            return None
        fingerprint = (stat.st_mtime_ns, stat.st_size, hashlib.sha256(data).hexdigest())
        try:
            return fingerprint, data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._fingerprint = fingerprint
            self._refuse(f"{self.path.name}:1:1: the rules file is not UTF-8 text ({exc.reason})")
            return None

    def _take(self, text: str) -> bool:
        from breather.rules.loader import parse_rules

        try:
            rules = parse_rules(text, self.path.name)
        except RulesError as exc:
            self._refuse(str(exc))
            return False
        self.last_error = None
        self._keep_copy(text)
        if rules == self.current:
            return False
        first = self.current is None
        self.current = rules
        if not first:
            log.info("rules reloaded from %s", self.path)
        for listener in self._listeners:
            listener(rules)
        return True

    def _keep_copy(self, text: str) -> None:
        """Copy a version just taken in to ``last_good`` (atomically: a crash never leaves half a copy)."""
        if self.last_good is None:
            return
        try:
            if self.last_good.exists() and self.last_good.read_text(encoding="utf-8") == text:
                return
            self.last_good.parent.mkdir(parents=True, exist_ok=True)
            partial = self.last_good.with_name(self.last_good.name + ".partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(self.last_good)
        except OSError as exc:
            log.warning("could not keep a copy of the last good rules at %s: %s", self.last_good, exc)

    def _fall_back_to_last_good(self) -> None:
        """The file is broken and nothing was in force yet: take the copy of the last version that was."""
        from breather.rules.loader import parse_rules

        if self.last_good is None or not self.last_good.exists():
            return
        try:
            rules = parse_rules(self.last_good.read_text(encoding="utf-8"), self.last_good.name)
        except (OSError, UnicodeDecodeError, RulesError) as exc:
            log.error("the copy of the last good rules at %s is unusable too: %s", self.last_good, exc)
            return
        self.current = rules
        log.warning(
            "%s has errors; using the last good rules (saved at %s) until it is fixed",
            self.path,
            self.last_good,
        )

    def _refuse(self, message: str) -> None:
        if message == self.last_error:
            return
        self.last_error = message
        kept = "keeping the last good rules" if self.current is not None else "no valid rules yet"
        log.error("rules file refused (%s):\n%s", kept, message)
        for listener in self._error_listeners:
            listener(message)
