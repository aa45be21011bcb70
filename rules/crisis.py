"""Crisis lines per country, from a local, dated, editable table (``data/crisis_lines.toml``).

Self-harm and eating-disorder warnings show the entry for the person's country (the rules say which). An
unknown country gets an international directory and advice to call the local emergency number. A
``crisis_lines.toml`` in the Breather config folder overrides or adds entries, country by country.
"""

from __future__ import annotations

import stat
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from breather.paths import Paths
from breather.rules.tomltext import read_toml

INTERNATIONAL = "INTERNATIONAL"
OVERRIDE_FILE = "crisis_lines.toml"
_REQUIRED = ("country", "service", "web", "source", "checked")
# Names people write instead of the ISO code.
_ALIASES = {
    "UK": "GB",
    "ENGLAND": "GB",
    "SCOTLAND": "GB",
    "WALES": "GB",
    "NORTHERN IRELAND": "GB",
    "GREAT BRITAIN": "GB",
    "USA": "US",
    "KOREA": "KR",
}


@dataclass(frozen=True)
class CrisisLine:
    code: str
    country: str
    service: str
    phone: str
    web: str
    source: str
    checked: str
    hours: str = ""
    text: str = ""
    emergency: str = ""
    also: str = ""

    @property
    def is_international(self) -> bool:
        return self.code == INTERNATIONAL

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_table(data: Mapping[str, Any], origin: str) -> dict[str, CrisisLine]:
    """Entries keyed by upper-case country code; raises ValueError naming the file, the table and the field."""
    table: dict[str, CrisisLine] = {}
    for code, entry in data.items():
        where = f"{origin}: [{code}]"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where}: expected a table of fields")
        missing = [name for name in _REQUIRED if not str(entry.get(name, "")).strip()]
        if missing:
            raise ValueError(f"{where}: missing {', '.join(missing)}")
        if not any(str(entry.get(name, "")).strip() for name in ("phone", "text", "web")):
            raise ValueError(f"{where}: needs at least a phone, text or web contact")
        known = set(CrisisLine.__dataclass_fields__) - {"code"}
        unknown = sorted(set(entry) - known)
        if unknown:
            raise ValueError(f"{where}: unknown field {unknown[0]!r} (fields: {', '.join(sorted(known))})")
        table[code.upper()] = CrisisLine(code=code.upper(), **{name: str(value) for name, value in entry.items()})
    return table


def _load(path: Path) -> dict[str, CrisisLine]:
    data = read_toml(path.read_text(encoding="utf-8"), str(path))
    return parse_table(data, str(path))


@cache
def shipped_table() -> dict[str, CrisisLine]:
    text = resources.files("breather.rules").joinpath("data/crisis_lines.toml").read_text(encoding="utf-8")
    return parse_table(tomllib.loads(text), "crisis_lines.toml")


def load_table(override: Path | None = None) -> Mapping[str, CrisisLine]:
    """The shipped table with the person's override file (if it exists) laid over it (read-only).

    The proxy asks on every page it marks: the merged table is kept until the file's size or time changes, so a
    page costs one ``stat`` instead of a TOML parse."""
    if override is None:
        override = Paths.resolve().config_dir / OVERRIDE_FILE
    try:
        found = override.stat()
    except OSError:
        return _shipped_view()
    if not stat.S_ISREG(found.st_mode):
        return _shipped_view()
    return _merged(str(override), found.st_mtime_ns, found.st_size)


@cache
def _shipped_view() -> Mapping[str, CrisisLine]:
    return MappingProxyType(shipped_table())


@lru_cache(maxsize=8)
def _merged(path: str, _mtime_ns: int, _size: int) -> Mapping[str, CrisisLine]:
    return MappingProxyType({**shipped_table(), **_load(Path(path))})


def crisis_line(country: str | None, *, override: Path | None = None) -> CrisisLine:
    """The entry for ``country`` (ISO code such as "GB", or a name such as "Germany"); international otherwise."""
    table = load_table(override)
    code = _code_for(country or "", table)
    return table.get(code) or table[INTERNATIONAL]


def _code_for(country: str, table: Mapping[str, CrisisLine]) -> str:
    wanted = country.strip().upper()
    if wanted in table:
        return wanted
    if wanted in _ALIASES:
        return _ALIASES[wanted]
    for code, entry in table.items():
        if entry.country.upper() == wanted:
            return code
    return INTERNATIONAL
