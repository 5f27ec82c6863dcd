"""Dispatch: CLA decoding, logical channels, SELECT by DF name, GET RESPONSE, MF fallback."""

from __future__ import annotations

import pytest

from applets.runtime import MF_AID, SimulatedCard, new_blank_card
from applets.runtime.dispatch import decode_cla
from cardkit.apdu import SW

from .helpers import send, sw
from .toy import COUNTER_AID, ChainerApplet, CounterApplet, RefuserApplet

A1 = bytes.fromhex("F000000001")
A2 = bytes.fromhex("F00000000102")
A3 = bytes.fromhex("F00000000103")
REFUSER = bytes.fromhex("F0000000FF")
CHAINER = bytes.fromhex("F0000000CC")


@pytest.fixture
def card() -> SimulatedCard:
    c = new_blank_card(serial="42", applets=[
        CounterApplet(A1), CounterApplet(A2, step=2), CounterApplet(A3), RefuserApplet(REFUSER), ChainerApplet(CHAINER),
    ])
    c.power_on()
    return c


def select(aid: bytes, p2: int = 0x00, cla: int = 0x00) -> bytes:
    return bytes([cla, 0xA4, 0x04, p2, len(aid)]) + aid + b"\x00"


# -- CLA ------------------------------------------------------------------------------------------------
def test_decode_cla() -> None:
    assert decode_cla(0x00) == decode_cla(0x00)
    c = decode_cla(0x1F)
    assert c is not None and (c.channel, c.secure_messaging, c.chained, c.proprietary) == (3, 3, True, False)
    c = decode_cla(0x84)
    assert c is not None and (c.channel, c.secure_messaging, c.proprietary) == (0, 1, True)
    c = decode_cla(0x61)
    assert c is not None and c.channel == 5 and c.secure_messaging == 2
    for bad in (0x20, 0x3F, 0x90, 0xA0, 0xBF, 0xFF):
        assert decode_cla(bad) is None


def test_cla_errors(card: SimulatedCard) -> None:
    assert sw(card, "FF A4 0000") == SW.CLA_NOT_SUPPORTED
    assert sw(card, "20 A4 0000") == SW.CLA_NOT_SUPPORTED
    assert sw(card, "A0 A4 0000") == SW.CLA_NOT_SUPPORTED
    assert sw(card, "01 A4 0000") == SW.LOGICAL_CHANNEL_NOT_SUPPORTED  # channel 1 not open
    assert sw(card, "40 A4 0000") == SW.LOGICAL_CHANNEL_NOT_SUPPORTED  # channel 4: none here
    assert sw(card, "00 60 0000") == SW.INS_NOT_SUPPORTED  # 6X / 9X are invalid INS
    assert sw(card, "00 90 0000") == SW.INS_NOT_SUPPORTED
    assert sw(card, "00 44 0000") == SW.INS_NOT_SUPPORTED  # unknown to the MF applet
    assert sw(card, "00 A4") == SW.WRONG_LENGTH  # malformed
    assert sw(card, "00 A4 0000 05 3F00") == SW.WRONG_LENGTH  # Lc lies


def test_cla_bits_reach_the_applet(card: SimulatedCard) -> None:
    assert sw(card, select(A1)) == SW.OK
    assert send(card, "8C 22 0000 00") == (bytes([0, 3, 0, 1]), SW.OK)
    assert sw(card, "90 22 0000 00") == SW.CLA_NOT_SUPPORTED
    assert sw(card, "10 22 0000 00") == SW.CHAINING_NOT_SUPPORTED  # applet does not chain
    assert sw(card, "08 B0 0000 01") != SW.OK  # SM bits pass to the applet, which decides


def test_chaining_for_applets_that_support_it(card: SimulatedCard) -> None:
    assert sw(card, select(CHAINER)) == SW.OK
    assert sw(card, "90 01 0000 02 AABB".replace("90", "10")) == SW.OK
    assert send(card, "00 01 0000 01 CC 00") == (bytes.fromhex("AABBCC"), SW.OK)
    assert sw(card, "10 A4 0400 05 F000000001") == SW.CHAINING_NOT_SUPPORTED


def test_sm_bits_refused_by_the_file_system(card: SimulatedCard) -> None:
    assert sw(card, "0C B0 8200 00") == SW.SECURE_MESSAGING_NOT_SUPPORTED
    assert sw(card, "80 B0 8200 00") == SW.INS_NOT_SUPPORTED  # file commands are interindustry


# -- SELECT by name -------------------------------------------------------------------------------------
def test_default_selection_after_power_on(card: SimulatedCard) -> None:
    assert card.selected(0) is card.applet(MF_AID)
    assert sw(card, select(A1)) == SW.OK
    card.power_on()
    assert card.selected(0) is card.applet(MF_AID)


def test_select_full_partial_next_previous_last(card: SimulatedCard) -> None:
    data, s = send(card, select(A2))
    assert s == SW.OK and data == bytes([0x6F, len(A2) + 2, 0x84, len(A2)]) + A2
    assert card.selected() is card.applet(A2)
    prefix = A1  # F000000001 is a prefix of A1, A2 and A3
    assert sw(card, select(prefix)) == SW.OK and card.selected() is card.applet(A1)
    assert sw(card, select(prefix, 0x02)) == SW.OK and card.selected() is card.applet(A2)
    assert sw(card, select(prefix, 0x02)) == SW.OK and card.selected() is card.applet(A3)
    assert sw(card, select(prefix, 0x02)) == SW.FILE_NOT_FOUND  # no further occurrence
    assert card.selected() is card.applet(A3)  # and the current one stays
    assert sw(card, select(prefix, 0x03)) == SW.OK and card.selected() is card.applet(A2)
    assert sw(card, select(prefix, 0x01)) == SW.OK and card.selected() is card.applet(A3)
    assert sw(card, select(bytes.fromhex("F000"))) == SW.OK and card.selected() is card.applet(A1)


def test_select_p2_0c_returns_no_fci(card: SimulatedCard) -> None:
    assert send(card, bytes([0, 0xA4, 4, 0x0C, len(A1)]) + A1) == (b"", SW.OK)
    assert sw(card, select(A1, 0x10)) == SW.INCORRECT_P1P2


def test_select_unknown_keeps_current_and_deselects_on_switch(card: SimulatedCard) -> None:
    a1 = card.applet(A1)
    assert sw(card, select(A1)) == SW.OK
    assert sw(card, select(bytes.fromhex("A000000003101001"))) == SW.FILE_NOT_FOUND
    assert card.selected() is a1
    assert sw(card, "80 14 0000 00") == SW.OK  # still talking to A1
    assert sw(card, select(REFUSER)) == SW.CONDITIONS_NOT_SATISFIED  # refuses: A1 stays
    assert card.selected() is a1 and a1.deselected == 0  # type: ignore[attr-defined]
    assert sw(card, select(A2)) == SW.OK
    assert a1.deselected == 1  # type: ignore[attr-defined]


def test_select_empty_name_selects_default(card: SimulatedCard) -> None:
    assert sw(card, select(A1)) == SW.OK
    assert sw(card, "00 A4 0400 00") == SW.OK and card.selected() is card.applet(MF_AID)


def test_select_fid_from_an_application_goes_to_the_mf(card: SimulatedCard) -> None:
    assert sw(card, select(A1)) == SW.OK
    assert sw(card, "00 A4 000C 02 7777") == SW.FILE_NOT_FOUND
    assert card.selected() is card.applet(A1)  # failed: the application stays
    assert sw(card, "00 A4 0000 02 3F00 00") == SW.OK and card.selected() is card.applet(MF_AID)
    assert sw(card, select(A1)) == SW.OK
    assert sw(card, "00 A4 080C 02 2FE2") == SW.OK  # path from MF
    assert send(card, "00 B0 0000 00")[1] == SW.OK


def test_get_response_for_long_answers(card: SimulatedCard) -> None:
    assert sw(card, select(A1)) == SW.OK
    data, s = send(card, "80 20 0000 00")
    assert data == bytes(range(200)) + bytes(range(56)) and s == 0x6190  # 144 left
    rest, s = send(card, "00 C0 0000 00")
    assert rest == bytes(range(56, 200)) and s == SW.OK
    assert sw(card, "00 C0 0000 00") == SW.INS_NOT_SUPPORTED  # nothing pending: the applet's call
    data, s = send(card, "80 20 0000 00")
    assert sw(card, "80 14 0000 00") == SW.OK  # another command drops the pending rest
    assert sw(card, "00 C0 0000 00") == SW.INS_NOT_SUPPORTED


# -- MANAGE CHANNEL ------------------------------------------------------------------------------------
def test_open_close_channels(card: SimulatedCard) -> None:
    assert send(card, "00 70 0000 01") == (b"\x01", SW.OK)
    assert send(card, "00 70 0000 01") == (b"\x02", SW.OK)
    assert send(card, "00 70 0003") == (b"", SW.OK)  # open channel 3 explicitly
    assert sw(card, "00 70 0000 01") == SW.FUNCTION_NOT_SUPPORTED  # all four in use
    assert sw(card, "00 70 0002") == SW.INCORRECT_P1P2  # already open
    assert sw(card, "00 70 0080 00") == SW.FUNCTION_NOT_SUPPORTED  # basic channel never closes
    assert sw(card, "00 70 8002") == SW.OK
    assert sw(card, "02 B0 0000 01") == SW.LOGICAL_CHANNEL_NOT_SUPPORTED
    assert sw(card, "00 70 8002") == SW.WARNING_NO_INFO  # closing a closed channel
    assert send(card, "03 70 0000 01") == (b"\x02", SW.OK)  # opened from channel 3
    assert sw(card, "03 70 8003") == SW.OK  # a channel may close itself
    assert sw(card, "00 70 8000") == SW.FUNCTION_NOT_SUPPORTED


def test_manage_channel_errors(card: SimulatedCard) -> None:
    assert sw(card, "00 70 0000") == 0x6C01  # P2 00 needs Le 01
    assert sw(card, "00 70 0000 02") == 0x6C01
    assert sw(card, "00 70 0004") == SW.INCORRECT_P1P2  # channels 4..19 do not exist here
    assert sw(card, "00 70 0014") == SW.FUNCTION_NOT_SUPPORTED  # P2 > 19
    assert sw(card, "00 70 4000") == SW.FUNCTION_NOT_SUPPORTED  # P1 neither 00 nor 80
    assert sw(card, "04 70 0000 01") == SW.SECURE_MESSAGING_NOT_SUPPORTED
    assert sw(card, "10 70 0000 01") == SW.CHAINING_NOT_SUPPORTED
    assert sw(card, "00 70 0001 01 00") == SW.WRONG_LENGTH
    assert sw(card, "80 70 0000 01") == SW.INS_NOT_SUPPORTED  # proprietary class: the applet's INS


def test_channels_have_independent_selection(card: SimulatedCard) -> None:
    assert send(card, "00 70 0000 01") == (b"\x01", SW.OK)
    assert card.selected(1) is card.applet(MF_AID)  # opened from 0: default applet
    assert sw(card, select(A1, cla=0x01)) == SW.OK
    assert card.selected(0) is card.applet(MF_AID) and card.selected(1) is card.applet(A1)
    assert sw(card, "81 10 0000") == SW.OK  # channel 1 -> A1
    assert sw(card, "80 10 0000") == SW.INS_NOT_SUPPORTED  # channel 0 -> MF
    # file selection per channel
    assert sw(card, "00 A4 000C 02 2FE2") == SW.OK
    assert send(card, "02 70 0000 01".replace("02", "00")) == (b"\x02", SW.OK)
    assert sw(card, "02 B0 0000 01") == SW.COMMAND_NOT_ALLOWED_NO_EF  # fresh MF session
    assert send(card, "00 B0 0000 01")[1] == SW.OK
    # opened from channel 1: inherits channel 1's applet
    assert send(card, "01 70 0000 01") == (b"\x03", SW.OK)
    assert card.selected(3) is card.applet(A1)
    assert sw(card, "01 70 8001") == SW.OK
    assert card.selected(1) is None
    card.power_on()
    assert sw(card, "03 B0 0000 01") == SW.LOGICAL_CHANNEL_NOT_SUPPORTED  # reset closes them


def test_pin_state_is_per_channel() -> None:
    from .conftest import build_fs_card

    card = build_fs_card()
    assert send(card, "00 70 0000 01") == (b"\x01", SW.OK)
    assert sw(card, "00 20 0001 04 31323334") == SW.OK
    assert sw(card, "01 20 0001") == 0x63C3
    assert sw(card, "00 20 0001") == SW.OK


def test_single_select_applet_on_two_channels(card: SimulatedCard) -> None:
    assert sw(card, select(CHAINER)) == SW.OK
    assert send(card, "00 70 0000 01") == (b"\x01", SW.OK)
    assert sw(card, select(CHAINER, cla=0x01)) == SW.CONDITIONS_NOT_SATISFIED
    assert send(card, "00 70 0000 01".replace("00 70", "00 70")) == (b"\x02", SW.OK)


def test_open_channel_whose_applet_refuses_closes_it() -> None:
    card = SimulatedCard(applets=[RefuserApplet(REFUSER), CounterApplet()], default_aid=REFUSER)
    card.power_on()
    assert card.selected(0) is None  # the default refused at power-on
    assert sw(card, "00 B0 0000 01") == SW.CONDITIONS_NOT_SATISFIED
    assert sw(card, "00 70 0000 01") == SW.CONDITIONS_NOT_SATISFIED
    assert sw(card, "01 A4 0000") == SW.LOGICAL_CHANNEL_NOT_SUPPORTED
    assert sw(card, bytes([0, 0xA4, 4, 0, len(COUNTER_AID)]) + COUNTER_AID) == SW.OK
