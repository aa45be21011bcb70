"""How a crisis line is said (a user test outside the US): numbers as tel:/sms: links with digits only, "hours not
known" instead of nothing, an unknown country told to call the local emergency number, the table's date said for
what it is, and a short form for a platform's own warning text."""

from __future__ import annotations

import pytest

from breather.rules.crisis import (
    Piece,
    contact_pieces,
    crisis_line,
    date_said,
    emergency_pieces,
    link_pieces,
    number_pieces,
    shipped_table,
    short_line,
    text_pieces,
)


def links(pieces: tuple[Piece, ...]) -> list[str]:
    return [piece.href for piece in pieces if piece.href]


def said(pieces: tuple[Piece, ...]) -> str:
    return "".join(piece.text for piece in pieces)


@pytest.mark.parametrize(
    ("value", "hrefs"),
    [
        ("116 123", ["tel:116123"]),
        ("0800 111 0 111 or 0800 111 0 222", ["tel:08001110111", "tel:08001110222"]),
        ("14416 or 1-800-891-4416", ["tel:14416", "tel:18008914416"]),
        ("0570-783-556", ["tel:0570783556"]),
    ],
)
def test_phone_numbers_are_tel_links_with_digits_only(value: str, hrefs: list[str]) -> None:
    pieces = number_pieces(value, "tel")
    assert links(pieces) == hrefs
    assert said(pieces) == value  # the words between the numbers ("or") are kept as they were


def test_text_lines_are_sms_links_but_a_messaging_app_is_not() -> None:
    assert links(text_pieces(crisis_line("GB"))) == ["sms:85258"]
    assert said(text_pieces(crisis_line("GB"))) == "Shout: text SHOUT to 85258"
    assert links(text_pieces(crisis_line("ZA"))) == ["sms:31393"]
    assert links(text_pieces(crisis_line("SG"))) == [], "WhatsApp is not SMS"


def test_every_link_in_the_table_is_tel_sms_or_https() -> None:
    for line in shipped_table().values():
        for href in links(contact_pieces(line)):
            scheme, _, rest = href.partition(":")
            assert scheme in {"tel", "sms", "https"}, href
            if scheme != "https":
                assert rest.isdigit(), href


def test_the_web_address_is_a_link() -> None:
    assert "https://www.samaritans.org" in links(contact_pieces(crisis_line("GB")))


def test_unknown_hours_are_said_as_unknown() -> None:
    assert crisis_line("IT").hours == ""
    assert "(hours not known)" in said(contact_pieces(crisis_line("IT")))
    assert "(24/7)" in said(contact_pieces(crisis_line("GB")))


def test_an_unknown_country_is_told_to_call_the_local_emergency_number() -> None:
    text = said(contact_pieces(crisis_line("KE")))
    assert "Find A Helpline" in text and "findahelpline.com" in text
    assert "In an emergency, call your local emergency number" in text
    assert "emergency" not in said(contact_pieces(crisis_line("GB"))), "a known country's warning stays short"


def test_emergency_numbers_are_links_only_when_they_are_the_countrys_own() -> None:
    assert links(emergency_pieces(crisis_line("GB"))) == ["tel:999"]
    assert links(emergency_pieces(crisis_line("IE"))) == ["tel:112", "tel:999"]
    assert links(emergency_pieces(crisis_line("KE"))) == []


def test_the_date_is_said_as_the_day_the_table_was_compiled_not_a_check() -> None:
    text = date_said(crisis_line("GB"))
    assert text == ("from the service's own page, as compiled on 2026-11-25; numbers change: check the service's site")
    assert "checked" not in text


def test_an_address_in_a_note_is_a_link() -> None:
    pieces = link_pieces(crisis_line("KE").also)
    assert links(pieces) == ["https://www.iasp.info/crisis-centres-helplines/"]


@pytest.mark.parametrize(
    ("country", "short"),
    [
        ("GB", "Samaritans 116 123"),
        ("US", "988 Suicide & Crisis Lifeline"),  # the number is in its name: not said twice
        ("SG", "Samaritans of Singapore 1767"),
        ("KE", "Find A Helpline findahelpline.com"),
    ],
)
def test_the_short_line_for_a_platforms_warning_text(country: str, short: str) -> None:
    assert short_line(crisis_line(country)) == short
