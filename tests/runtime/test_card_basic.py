"""SimulatedCard at a basic level: power, default selection, a few commands."""

from __future__ import annotations

import pytest

from applets.runtime import MF_AID, SimulatedCard, new_blank_card
from cardkit.apdu import SW
from cardkit.errors import CardTornError

from .helpers import send, sw


def test_power_on_returns_atr_and_selects_mf() -> None:
    card = new_blank_card(serial="1234")
    assert card.power_on() == card.atr
    assert card.powered
    assert card.selected(0) is card.applet(MF_AID)
    data, s = send(card, "00 A4 00 00 02 3F00 00")
    assert s == SW.OK and data[0] == 0x6F


def test_transmit_unpowered_raises_torn() -> None:
    card = new_blank_card(serial="1")
    with pytest.raises(CardTornError):
        card.transmit(b"\x00\xa4\x00\x00")
    card.power_on()
    card.power_off()
    assert not card.powered
    with pytest.raises(CardTornError):
        card.transmit(b"\x00\xa4\x00\x00")


def test_empty_card_answers() -> None:
    card = SimulatedCard()
    card.power_on()
    assert sw(card, "00 B0 0000 00") == SW.CONDITIONS_NOT_SATISFIED
    assert sw(card, "00 A4 04 00 05 A000000001") == SW.FILE_NOT_FOUND


def test_reset_keeps_interface() -> None:
    card = new_blank_card(serial="1")
    assert card.power_on(contactless=True) == card.contactless.atr
    assert card.reset() == card.contactless.atr
    assert card.power_on() == card.atr
    assert card.reset() == card.atr


def test_enum_status_words_from_applets_are_fine() -> None:
    from .toy import EnumSwApplet

    aid = bytes.fromhex("F0000000E1")
    card = SimulatedCard(applets=[EnumSwApplet(aid)], default_aid=aid)
    card.power_on()
    assert card.transmit(bytes.fromhex("80010000")) == bytes.fromhex("019000")
