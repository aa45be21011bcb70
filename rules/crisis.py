"""Crisis lines per country, from a local, dated, editable table (``data/crisis_lines.toml``).

Self-harm and eating-disorder warnings show the entry for the person's country (the rules say which). An
unknown country gets an international directory and advice to call the local emergency number. A
``crisis_lines.toml`` in the Breather config folder corrects or adds entries, field by field: its ``[GB]`` lays the
fields it names over the shipped entry, its ``[GB.eating_disorder]`` over the shipped eating-disorder line (or adds
one), and a country Breather does not ship needs every field (:func:`laid_over`).

How a line is said (the same everywhere: a warning's note, the heavy-run break, the block pages, the Learn page) is
here too, as :class:`Piece` lists: plain text, or a link (``tel:``/``sms:`` with digits only, or the https page).
"""

from __future__ import annotations

import logging
import re
import stat
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from breather.paths import Paths
from breather.rules.tomltext import read_toml

INTERNATIONAL = "INTERNATIONAL"
log = logging.getLogger(__name__)

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
    web: str
    source: str
    checked: str
    phone: str = ""  # a line may be reached by text or on the web only
    hours: str = ""
    text: str = ""
    emergency: str = ""
    also: str = ""
    # A line for eating disorders in particular, where the country has one: shown on an eating-disorder warning
    # instead of this one (a self-harm warning always shows this one). Same fields; country and emergency are this
    # line's.
    eating_disorder: CrisisLine | None = None

    @property
    def is_international(self) -> bool:
        return self.code == INTERNATIONAL

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def line_for_categories(line: Any, categories: Iterable[str]) -> Any:
    """The line a warning of ``categories`` shows: the country's eating-disorder line for an eating-disorder warning
    when it has one, else its crisis line; self-harm comes first (a post that is both gets the crisis line). Like the
    functions below, it takes any object with a crisis line's fields."""
    eating = getattr(line, "eating_disorder", None)
    flagged = set(categories)
    if eating is not None and "eating_disorder" in flagged and "self_harm" not in flagged:
        return eating
    return line


_TEXT_FIELDS = frozenset(CrisisLine.__dataclass_fields__) - {"code", "eating_disorder"}
# An eating-disorder line names its service; the country and the emergency number are its country's.
_SUB_REQUIRED = ("service", "web", "source", "checked")
_SUB_FIELDS = _TEXT_FIELDS - {"country", "emergency"}


def parse_table(data: Mapping[str, Any], origin: str) -> dict[str, CrisisLine]:
    """Entries keyed by upper-case country code; raises ValueError naming the file, the table and the field."""
    return {code.upper(): _entry(code, entry, origin) for code, entry in data.items()}


def laid_over(shipped: Mapping[str, CrisisLine], data: Mapping[str, Any], origin: str) -> dict[str, CrisisLine]:
    """``shipped`` with the person's table ``data`` (from ``origin``) laid over it field by field: a country table
    replaces just the fields it names (an empty one clears an optional field), its ``eating_disorder`` sub-table the
    fields of the shipped eating-disorder line, and a lone ``[GB.eating_disorder]`` adds to the shipped country. A
    country (or an eating-disorder line) the shipped table lacks needs every field; an error names ``origin`` and
    the table."""
    table = dict(shipped)
    for code, entry in data.items():
        base = shipped.get(code.upper())
        if base is None:
            table[code.upper()] = _entry(code, entry, origin, (_NEW_COUNTRY, _NEW_LINE))
        else:
            line_note = _NEW_LINE if base.eating_disorder is None else ""
            table[code.upper()] = _entry(code, _over(_raw(base), entry), origin, ("", line_note))
    return table


# Said after "missing …" where the shipped table has nothing for the fields to be laid over.
_NEW_COUNTRY = " (a country Breather does not ship needs every field)"
_NEW_LINE = " (an eating-disorder line Breather does not ship needs every field)"


def _entry(code: str, entry: Any, origin: str, notes: tuple[str, str] = ("", "")) -> CrisisLine:
    """One country's line (and its eating-disorder line); ``notes`` follow a missing field in each."""
    fields = _fields(entry, f"{origin}: [{code}]", _REQUIRED, _TEXT_FIELDS | {"eating_disorder"}, notes[0])
    sub = fields.pop("eating_disorder", None)
    own = {name: str(value) for name, value in fields.items()}
    eating = None
    if sub is not None:
        sub_fields = _fields(sub, f"{origin}: [{code}.eating_disorder]", _SUB_REQUIRED, _SUB_FIELDS, notes[1])
        eating = CrisisLine(
            code=code.upper(),
            country=own["country"],
            emergency=own.get("emergency", ""),
            eating_disorder=None,
            **{name: str(value) for name, value in sub_fields.items()},
        )
    return CrisisLine(code=code.upper(), eating_disorder=eating, **own)


def _raw(line: CrisisLine) -> dict[str, Any]:
    """A parsed entry as the table's fields again (its eating-disorder line as a sub-table), to lay a person's over."""
    fields: dict[str, Any] = {name: getattr(line, name) for name in _TEXT_FIELDS if getattr(line, name)}
    if line.eating_disorder is not None:
        eating = line.eating_disorder
        fields["eating_disorder"] = {name: getattr(eating, name) for name in _SUB_FIELDS if getattr(eating, name)}
    return fields


def _over(base: dict[str, Any], entry: Any) -> Any:
    """``entry``'s fields over ``base``'s, one level into ``eating_disorder``; anything but a table is left for
    :func:`_fields` to refuse, located."""
    if not isinstance(entry, Mapping):
        return entry
    merged = {**base, **entry}
    sub, base_sub = entry.get("eating_disorder"), base.get("eating_disorder")
    if isinstance(sub, Mapping) and base_sub is not None:
        merged["eating_disorder"] = {**base_sub, **sub}
    return merged


def _fields(entry: Any, where: str, required: tuple[str, ...], known: frozenset[str], note: str = "") -> dict[str, Any]:
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where}: expected a table of fields")
    missing = [name for name in required if not str(entry.get(name, "")).strip()]
    if missing:
        raise ValueError(f"{where}: missing {', '.join(missing)}{note}")
    if not any(str(entry.get(name, "")).strip() for name in ("phone", "text", "web")):
        raise ValueError(f"{where}: needs at least a phone, text or web contact")
    unknown = sorted(set(entry) - known)
    if unknown:
        raise ValueError(f"{where}: unknown field {unknown[0]!r} (fields: {', '.join(sorted(known))})")
    return dict(entry)


def _load(path: Path) -> dict[str, CrisisLine]:
    data = read_toml(path.read_text(encoding="utf-8"), str(path))
    return laid_over(shipped_table(), data, str(path))


@cache
def shipped_table() -> dict[str, CrisisLine]:
    text = resources.files("breather.rules").joinpath("data/crisis_lines.toml").read_text(encoding="utf-8")
    return parse_table(tomllib.loads(text), "crisis_lines.toml")


def load_table(override: Path | None = None) -> Mapping[str, CrisisLine]:
    """The shipped table with the person's override file (if it exists) laid over it field by field (read-only).

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
    return MappingProxyType(_load(Path(path)))


def table_in_force(override: Path | None = None) -> tuple[Mapping[str, CrisisLine], str | None]:
    """The table Breather shows, and why the person's file is not in it when that file does not read: a mistake in
    their own table must never take the helpline off a self-harm warning, so the shipped table stands in (also when
    the file cannot be read at all: no permission, a folder in its place)."""
    try:
        return load_table(override), None
    except ValueError as exc:
        return _shipped_view(), str(exc)
    except OSError as exc:
        return _shipped_view(), f"{exc.filename or override}: cannot read ({exc.strerror or exc})"


_PROBLEMS_SAID: set[str] = set()  # each problem of the person's table is logged once, not on every page


def helpline_for(country: str | None, config_dir: Path | None = None) -> CrisisLine:
    """The line Breather shows for ``country``: from the table in force under ``config_dir`` (the service's own, so
    it is not resolved from the environment on every page, ~0.1 ms); a table that does not read is logged once."""
    table, problem = table_in_force(config_dir / OVERRIDE_FILE if config_dir is not None else None)
    if problem is not None and problem not in _PROBLEMS_SAID:
        _PROBLEMS_SAID.add(problem)
        log.warning("the person's crisis lines cannot be read, so the shipped table is used: %s", problem)
    return line_for(country, table)


def crisis_line(country: str | None, *, override: Path | None = None) -> CrisisLine:
    """The entry for ``country`` (ISO code such as "GB", or a name such as "Germany"); international otherwise."""
    return line_for(country, load_table(override))


def line_for(country: str | None, table: Mapping[str, CrisisLine]) -> CrisisLine:
    """``country``'s entry in ``table``; the international directory for a country it does not hold."""
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


# How the table's ``checked`` date is described wherever it is shown: it is the day the table was compiled (from
# each service's own page, without a fresh visit), not a check.
DATE_SAID = "from the service's own page, as compiled on {checked}; numbers change: check the service's site"
HOURS_NOT_KNOWN = "hours not known"
# A run of digits, spaces and dashes between two digits (an optional leading "+"): "116 123", "0570-783-556".
_NUMBER = re.compile(r"\+?\d(?:[\d -]*\d)?")
# A text line that is not SMS (a messaging app, a web chat): its number is not an ``sms:`` link.
_NOT_SMS = re.compile(r"whatsapp|signal|telegram|messenger|chat|\bapp\b", re.IGNORECASE)
_ADDRESS = re.compile(r"https://[^\s<>\"]+")
_PARENTHESES = re.compile(r"\s*\([^()]*\)")


@dataclass(frozen=True)
class Piece:
    """A bit of a crisis line as shown: ``href`` empty for plain text, else ``tel:…``, ``sms:…`` or ``https://…``."""

    text: str
    href: str = ""


def date_said(line: Any) -> str:
    return DATE_SAID.format(checked=_field(line, "checked"))


def hours_said(line: Any) -> str:
    return _field(line, "hours") or HOURS_NOT_KNOWN


def number_pieces(value: str, scheme: str) -> tuple[Piece, ...]:
    """``value`` with each number in it a ``scheme:`` link (digits only: "tel:116123"); the words between stay."""
    pieces: list[Piece] = []
    cursor = 0
    for match in _NUMBER.finditer(value):
        digits = re.sub(r"[^\d+]", "", match.group())
        if len(digits.lstrip("+")) < 3:  # "24/7", a lone digit: not a number to dial
            continue
        if match.start() > cursor:
            pieces.append(Piece(value[cursor : match.start()]))
        pieces.append(Piece(match.group(), f"{scheme}:{digits}"))
        cursor = match.end()
    if cursor < len(value):
        pieces.append(Piece(value[cursor:]))
    return tuple(pieces)


def phone_pieces(line: Any) -> tuple[Piece, ...]:
    return number_pieces(_field(line, "phone"), "tel")


def text_pieces(line: Any) -> tuple[Piece, ...]:
    """The text line, its number an ``sms:`` link; a line on a messaging app or web chat stays plain text."""
    text = _field(line, "text")
    return (Piece(text),) if _NOT_SMS.search(text) else number_pieces(text, "sms")


def emergency_pieces(line: Any) -> tuple[Piece, ...]:
    """The local emergency number, a ``tel:`` link; the international entry's advice names examples from several
    countries ("112 in the EU, 911 in North America"), which stay plain text: none of them is known to be the
    person's."""
    emergency = _field(line, "emergency")
    return (Piece(emergency),) if _field(line, "code") == INTERNATIONAL else number_pieces(emergency, "tel")


def link_pieces(value: str) -> tuple[Piece, ...]:
    """``value`` with each https address in it a link (the table's ``also`` note)."""
    pieces: list[Piece] = []
    cursor = 0
    for match in _ADDRESS.finditer(value):
        address = match.group().rstrip(".,;)")
        pieces += [Piece(value[cursor : match.start()]), Piece(address, address)]
        cursor = match.start() + len(address)
    pieces.append(Piece(value[cursor:]))
    return tuple(piece for piece in pieces if piece.text)


def web_piece(line: Any) -> Piece | None:
    web = _field(line, "web", "url")
    return Piece(web, web) if web.startswith("https://") else None


def contact_pieces(line: Any) -> tuple[Piece, ...]:
    """What to do, said once: "988 Suicide & Crisis Lifeline — call 988 (24/7) or text 988 · https://…",
    "Samaritans — call 116 123 (24/7) · Shout: text SHOUT to 85258 · https://…". Hours go with the phone ("hours not
    known" when the table does not say). An unknown country's line (the international directory) ends with the
    advice to call the local emergency number."""
    service, phone, text = _field(line, "service", "name"), _field(line, "phone"), _field(line, "text")
    contact: list[Piece] = []
    if phone:
        contact += [Piece("call "), *phone_pieces(line), Piece(f" ({hours_said(line)})")]
    if text:
        contact.append(Piece((" or " if text == phone else " · ") if contact else ""))
        contact += [Piece("text " if text[:1].isdigit() else ""), *text_pieces(line)]
    pieces: list[Piece] = [Piece(service)] if service else []
    if contact:
        pieces += [Piece(" — " if pieces else ""), *contact]
    web = web_piece(line)
    if web is not None:
        pieces += [Piece(" · " if pieces else ""), web]
    emergency = _field(line, "emergency")
    if _field(line, "code") == INTERNATIONAL and emergency:
        pieces.append(Piece(f" · In an emergency, call {emergency}."))
    return tuple(piece for piece in pieces if piece.text)


def short_line(line: Any) -> str:
    """The line in a few words, for a platform's own warning text: "Samaritans 116 123", "988 Suicide & Crisis
    Lifeline" (the number is in its name), "Find A Helpline findahelpline.com"."""
    service = _PARENTHESES.sub("", _field(line, "service", "name")).strip()
    phone, text, web = _field(line, "phone"), _field(line, "text"), _field(line, "web", "url")
    reach = phone or (text if text[:1].isdigit() else "") or web.removeprefix("https://").removeprefix("www.")
    reach = reach.rstrip("/")
    if reach and re.sub(r"\D", "", reach) and re.sub(r"\D", "", reach) in re.sub(r"\D", "", service):
        return service
    return " ".join(part for part in (service, reach) if part)


def _field(obj: Any, *names: str) -> str:
    for name in names:
        value = getattr(obj, name, None)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""
