"""ISO 3166-1 alpha-2 country codes, to check the country used for crisis resources; and the country a first run
picks for a new household, from the machine's time zone or else its language setting (never the network)."""

from __future__ import annotations

import os
import re
import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

_CODES = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC
CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE
GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM
KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH
SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG
VI VN VU WF WS YE YT ZA ZM ZW
"""

COUNTRY_CODES: frozenset[str] = frozenset(_CODES.split())

# The country a rules file without one gets (the loader's fallback), and a first run's when nothing names another.
DEFAULT_COUNTRY = "US"


def check_country(raw: str) -> str:
    """``"gb"`` → ``"GB"``; anything that is not an ISO 3166-1 alpha-2 code raises ``ValueError``."""
    code = raw.strip().upper()
    if code == "UK":
        raise ValueError('"UK" is not an ISO country code: use "GB" for the United Kingdom')
    if code not in COUNTRY_CODES:
        named = code_of_name(raw)
        hint = f' (write "{named}" for {country_phrase(named).rpartition(" (")[0]})' if named else ""
        raise ValueError(f'expected a two-letter ISO country code like "GB" or "US", got "{raw}"{hint}')
    return code


def code_of_name(name: str) -> str | None:
    """``Germany`` → ``DE``: the code of a country written by its name (a user test typed "Germany" where the code
    goes), or None."""
    wanted = name.strip().casefold().removeprefix("the ")
    names = {**_system_names(), **_NAMES}
    return next((code for code, known in names.items() if known.casefold() == wanted), None)


# --- A first run's guess -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountryGuess:
    """The country a first run writes, and what it was read from: ``"zone"``, ``"locale"`` or ``None`` (nothing
    named one, so it is ``DEFAULT_COUNTRY``). ``zone`` and ``locale`` are what the machine said (None: nothing)."""

    code: str
    source: str | None
    zone: str | None
    locale: str | None


def guess_country(zone: str | None, environ: Mapping[str, str] | None = None) -> CountryGuess:
    """The country of the IANA ``zone`` (the machine's), else the territory of the locale in ``environ``
    (``LANG=en_GB.UTF-8`` → GB), else ``DEFAULT_COUNTRY``. Reads only local files: the zone tables on the system
    or in the ``tzdata`` package."""
    environ = os.environ if environ is None else environ
    setting = _locale_setting(environ)
    from_zone = country_of_zone(zone) if zone else None
    if from_zone is not None:
        return CountryGuess(from_zone, "zone", zone, setting)
    from_locale = country_of_locale(setting) if setting else None
    if from_locale is not None:
        return CountryGuess(from_locale, "locale", zone, setting)
    return CountryGuess(DEFAULT_COUNTRY, None, zone, setting)


_LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")
_TERRITORY = re.compile(r"^[A-Za-z]{2,3}_([A-Za-z]{2})(?=$|[.@])")


def _locale_setting(environ: Mapping[str, str]) -> str | None:
    """The first locale variable set (as the C library reads them), preferring one that names a territory."""
    values = [environ.get(name, "").strip() for name in _LOCALE_VARIABLES]
    values = [value for value in values if value]
    return next((value for value in values if _TERRITORY.match(value)), values[0] if values else None)


def country_of_locale(setting: str) -> str | None:
    """``en_GB.UTF-8`` → ``GB``; ``C.UTF-8``, ``POSIX`` or a territory that is no country → None."""
    found = _TERRITORY.match(setting.strip())
    code = found.group(1).upper() if found else None
    return code if code in COUNTRY_CODES else None


def country_of_zone(name: str) -> str | None:
    """The country the IANA zone ``name`` is listed under in ``zone.tab`` (one country a zone), else the first of
    the countries ``zone1970.tab`` lists for it (``Europe/Zurich``: CH, DE, LI → CH); an old or alias name
    (``Asia/Calcutta``, ``GB``) is followed to the zone it stands for. None for ``UTC`` or a name found nowhere."""
    for source in _zone_sources():
        for candidate in source.names_for(name):
            code = source.country(candidate)
            if code is not None:
                return code
    return None


class _ZoneData:
    """One copy of the IANA tables: a zoneinfo folder (``/usr/share/zoneinfo``) or the ``tzdata`` package's."""

    def __init__(self, read: dict[str, str], folder: Path | None = None) -> None:
        self.folder = folder
        self.zone_tab = _table(read.get("zone.tab", ""), every_country=False)
        self.zone1970 = _table(read.get("zone1970.tab", ""), every_country=True)
        self.links = _links(read.get("tzdata.zi", ""))

    def country(self, zone: str) -> str | None:
        code = self.zone_tab.get(zone) or self.zone1970.get(zone)
        return code if code in COUNTRY_CODES else None

    def names_for(self, name: str) -> Iterator[str]:
        """``name``, then what it links to (the data's link lines, then the folder's own symbolic links)."""
        seen = {name}
        yield name
        current = name
        while (target := self.links.get(current)) is not None and target not in seen:
            seen.add(target)
            yield target
            current = target
        real = self._linked_file(name)
        if real is not None and real not in seen:
            yield real

    def _linked_file(self, name: str) -> str | None:
        if self.folder is None or name.startswith(("/", ".")) or ".." in name.split("/"):
            return None
        try:
            real = (self.folder / name).resolve(strict=True).relative_to(self.folder.resolve())
        except (OSError, ValueError):
            return None
        return real.as_posix()


def _table(text: str, every_country: bool) -> dict[str, str]:
    """zone name → country code, from the tab-separated lines ``codes<TAB>coordinates<TAB>zone[<TAB>comment]``."""
    table: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) >= 3:
            codes = fields[0].split(",") if every_country else [fields[0]]
            table.setdefault(fields[2].strip(), codes[0].strip().upper())
    return table


def _links(text: str) -> dict[str, str]:
    """``L Europe/London GB`` lines of ``tzdata.zi``: alias → the zone it stands for."""
    links: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "L":
            links[parts[2]] = parts[1]
    return links


_DATA_FILES = ("zone.tab", "zone1970.tab", "tzdata.zi")


def _zone_sources() -> Iterator[_ZoneData]:
    """The system's zoneinfo folders (Python's own search path), then the ``tzdata`` package when installed."""
    for folder in map(Path, zoneinfo.TZPATH):
        read = {name: _read(folder / name) for name in _DATA_FILES}
        if read["zone.tab"] or read["zone1970.tab"]:
            yield _ZoneData(read, folder)
    try:
        package = resources.files("tzdata").joinpath("zoneinfo")
        read = {name: package.joinpath(name).read_text(encoding="utf-8") for name in _DATA_FILES}
    except (ImportError, OSError):
        return
    yield _ZoneData(read)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


# --- Names, for people ---------------------------------------------------------------------------------------------

# Where the zone tables' short names are not what a person calls their country.
_NAMES = {"GB": "United Kingdom", "KR": "South Korea", "KP": "North Korea", "US": "United States"}
# Names read with "the": "for the United Kingdom (GB)".
_WITH_THE = frozenset(
    {"Netherlands", "Philippines", "Bahamas", "Gambia", "Maldives", "Czech Republic", "Dominican Republic"}
)


def country_name(code: str, known: str | None = None) -> str:
    """``GB`` → ``United Kingdom``: ``known`` (a crisis table's name) if given, else the system's ``iso3166.tab``,
    else the code itself."""
    if known:
        return known
    return _NAMES.get(code) or _system_names().get(code) or code


@cache
def _system_names() -> dict[str, str]:
    """The system's ``iso3166.tab`` as code → name, read once (the Rules and Setup pages name every member's
    country on each showing)."""
    names: dict[str, str] = {}
    for folder in map(Path, zoneinfo.TZPATH):
        for line in _read(folder / "iso3166.tab").splitlines():
            fields = line.split("\t")
            if len(fields) == 2 and not line.startswith("#"):
                names.setdefault(fields[0], fields[1].strip())
    return names


def country_phrase(code: str, known: str | None = None) -> str:
    """``the United Kingdom (GB)``, ``Iceland (IS)``: a country as a sentence names it."""
    name = country_name(code, known)
    if name == code:
        return code
    article = "the " if name.startswith("United ") or name.endswith("Islands") or name in _WITH_THE else ""
    return f"{article}{name} ({code})"
