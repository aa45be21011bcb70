"""Where Breather keeps its files.

One object answers every "where does X live" question, so tests (and people who want a portable setup) can point
everything at one folder with ``--home DIR`` or ``BREATHER_HOME`` and never touch the real user directories.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "breather"
HOME_ENV = "BREATHER_HOME"


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path
    state_dir: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike[str] | None = None) -> Paths:
        """``home`` (from ``--home``) wins, then ``BREATHER_HOME``, then the platform's user directories."""
        chosen = home if home is not None else os.environ.get(HOME_ENV) or None
        if chosen is not None:
            root = Path(chosen).expanduser().resolve()
            return cls(config_dir=root / "config", data_dir=root / "data", state_dir=root / "state")
        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP_NAME)),
            data_dir=Path(platformdirs.user_data_dir(APP_NAME)),
            state_dir=Path(platformdirs.user_state_dir(APP_NAME)),
        )

    @property
    def home(self) -> Path | None:
        """The one folder every Breather file is under (``--home`` or ``BREATHER_HOME``); None with the platform's
        own folders."""
        root = self.config_dir.parent
        own = (root / "config", root / "data", root / "state")
        return root if (self.config_dir, self.data_dir, self.state_dir) == own else None

    def holds(self, path: Path) -> bool:
        """Whether ``path`` is one of Breather's own folders or inside one."""
        return any(
            path == folder or folder in path.parents for folder in (self.config_dir, self.data_dir, self.state_dir)
        )

    @property
    def rules_file(self) -> Path:
        return self.config_dir / "rules.toml"

    @property
    def last_good_rules(self) -> Path:
        """The service's copy of the rules it last took in: what it starts with while ``rules.toml`` is broken."""
        return self.data_dir / "rules.last-good.toml"

    @property
    def shown_warnings(self) -> Path:
        """Salted digests of the warned posts shown in the last hours, so a restart does not count them again."""
        return self.data_dir / "shown-warnings.json"

    @property
    def database(self) -> Path:
        return self.data_dir / "breather.db"

    @property
    def mitmproxy_confdir(self) -> Path:
        """mitmproxy's confdir: the Breather CA lives here, never in ``~/.mitmproxy``."""
        return self.data_dir / "mitmproxy"

    @property
    def ca_certificate(self) -> Path:
        return self.mitmproxy_confdir / "mitmproxy-ca-cert.pem"

    @property
    def service_file(self) -> Path:
        """Written by a running ``breather serve``: its ports and pid, so ``run``/``open``/``status`` can find it."""
        return self.state_dir / "service.json"

    @property
    def service_lock(self) -> Path:
        """Locked by a ``breather serve`` for its whole life, from before it listens: one service per home."""
        return self.state_dir / "service.lock"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "breather.log"

    def ensure(self) -> Paths:
        for directory in (self.config_dir, self.data_dir, self.state_dir):
            directory.mkdir(parents=True, exist_ok=True)
        return self
