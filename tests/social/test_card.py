"""The card side, command by command: status words, access, PIN, terminal auth, payment, image."""

from __future__ import annotations

from pathlib import Path

import pytest

from applets.runtime import load_card, save_card
from applets.social import SOCIAL_AID, parse_dgis
from cardkit.errors import ProfileError
from cardkit.issuer.demo_keys import DEMO_PURSE_MPK, DEMO_SOCIAL_MAK, DEMO_SOCIAL_MPK
from cardkit.tlv import decode

from .kit import (
    ACCOUNT,
    DATE,
    TERMINAL,
    TIME,
    apdu,
    applet,
    authenticate,
    debit_apdu,
    init_apdu,
    make_card,
    select,
    send,
    unblock_apdu,
    verify,
)


@pytest.fixture
def card():  # type: ignore[no-untyped-def]
    c = make_card()
    select(c)
    return c


def test_select_fci_and_ef_dir() -> None:
    c = make_card()
    data, sw = send(c, apdu(0x00, 0xA4, 0x04, 0x00, SOCIAL_AID, 0))
    assert sw == 0x9000 and SOCIAL_AID in data and b"SOCIAL" in data
    select_mf = send(c, "00A40000023F00")[1]
    assert select_mf == 0x9000
    records = []
    for n in range(1, 10):
        rec, sw = send(c, apdu(0x00, 0xB2, n, 30 << 3 | 4, le=0))
        if sw != 0x9000:
            break
        records.append(rec)
    assert any(SOCIAL_AID in r for r in records)


def test_card_info_is_public(card) -> None:  # type: ignore[no-untyped-def]
    rec, sw = send(card, apdu(0x00, 0xB2, 1, 5 << 3 | 4, le=0))
    assert sw == 0x9000 and decode(rec)[0].value == bytes.fromhex(ACCOUNT.card_number)
    assert send(card, apdu(0x00, 0xB2, 6, 5 << 3 | 4, le=0))[1] == 0x6A83


@pytest.mark.parametrize("sfi", [6, 7, 8])
def test_protected_records_need_terminal_auth(card, sfi: int) -> None:  # type: ignore[no-untyped-def]
    assert send(card, apdu(0x00, 0xB2, 1, sfi << 3 | 4, le=0))[1] == 0x6982
    assert send(card, "805C000204")[1] == 0x6982
    assert authenticate(card) == 0x9000
    expected = 0x6A83 if sfi == 8 else 0x9000  # the log is empty
    assert send(card, apdu(0x00, 0xB2, 1, sfi << 3 | 4, le=0))[1] == expected
    data, sw = send(card, "805C000204")
    assert sw == 0x9000 and int.from_bytes(data, "big") == 80_000


def test_wrong_terminal_key_and_challenge_rules(card) -> None:  # type: ignore[no-untyped-def]
    assert authenticate(card, DEMO_PURSE_MPK) == 0x6300
    assert send(card, apdu(0x00, 0xB2, 1, 6 << 3 | 4, le=0))[1] == 0x6982
    assert send(card, apdu(0x00, 0x82, 0x00, 0x01, bytes(8)))[1] == 0x6985  # no challenge
    send(card, "0084000008")
    send(card, "805C000204")  # anything in between uses the challenge up
    assert send(card, apdu(0x00, 0x82, 0x00, 0x01, bytes(8)))[1] == 0x6985
    assert send(card, "0084010008")[1] == 0x6A86
    assert send(card, "008400000101")[1] == 0x6700
    send(card, "0084000008")
    assert send(card, apdu(0x00, 0x82, 0x00, 0x02, bytes(8)))[1] == 0x6A88
    assert send(card, apdu(0x00, 0x82, 0x01, 0x01, bytes(8)))[1] == 0x6A86
    assert send(card, apdu(0x00, 0x82, 0x00, 0x01, bytes(7)))[1] == 0x6700
    assert authenticate(card, DEMO_SOCIAL_MAK) == 0x9000


def test_records_are_read_only(card) -> None:  # type: ignore[no-untyped-def]
    authenticate(card)
    assert send(card, apdu(0x00, 0xDC, 1, 6 << 3 | 4, b"\x01\x01A"))[1] == 0x6982


def test_pin_wrong_blocked_unblocked(card) -> None:  # type: ignore[no-untyped-def]
    a = applet(card)
    assert verify(card, b"000000") == 0x63C2
    assert verify(card, b"000000") == 0x63C1
    assert verify(card, b"000000") == 0x63C0
    assert verify(card) == 0x6983 and a.pin_tries_left() == 0
    assert send(card, init_apdu(100))[1] == 0x6983
    assert send(card, "002C000106313233343536")[1] == 0x6982  # the plain RESET RETRY COUNTER is refused
    bad = unblock_apdu(card, DEMO_SOCIAL_MPK)
    assert send(card, bad)[1] == 0x6988 and a.pin_tries_left() == 0
    assert send(card, apdu(0x84, 0x2C, 0x00, 0x01, bytes(4)))[1] == 0x6985  # no challenge
    good = unblock_apdu(card)
    assert send(card, good[:-1])[1] == 0x6700
    good = unblock_apdu(card)
    assert send(card, good)[1] == 0x9000 and a.pin_tries_left() == 3
    assert send(card, good)[1] == 0x6985  # the challenge is spent: no replay
    assert verify(card) == 0x9000


def test_pin_change_keeps_six_digits(card) -> None:  # type: ignore[no-untyped-def]
    assert send(card, apdu(0x00, 0x24, 0x00, 0x01, b"123456" + b"1234"))[1] == 0x6A80
    assert send(card, apdu(0x00, 0x24, 0x00, 0x01, b"123456" + b"654321"))[1] == 0x9000
    assert verify(card, b"654321") == 0x9000


def test_payment_happy_path(card) -> None:  # type: ignore[no-untyped-def]
    assert send(card, init_apdu(1_250))[1] == 0x6982  # PIN not verified
    assert verify(card) == 0x9000
    init, sw = send(card, init_apdu(1_250))
    assert sw == 0x9000 and len(init) == 15
    assert int.from_bytes(init[0:4], "big") == 80_000 and init[4:6] == b"\x00\x00" and init[9:11] == b"\x01\x00"
    d = debit_apdu(init, 1_250)
    answer, sw = send(card, d.command)
    assert sw == 0x9000 and answer == d.tac + d.mac2
    a = applet(card)
    assert a.state().balance == 78_750 and a.state().counter == 1
    (entry,) = a.log_records()
    assert (entry.amount, entry.terminal, entry.date, entry.time, entry.balance_after, entry.terminal_txn_no) == (
        1_250, TERMINAL, DATE, TIME, 78_750, 7)
    assert send(card, d.command)[1] == 0x6985  # no second DEBIT


def test_payment_refusals(card) -> None:  # type: ignore[no-untyped-def]
    verify(card)
    assert send(card, init_apdu(80_001))[1] == 0x9401
    assert send(card, init_apdu(0))[1] == 0x6A80
    assert send(card, apdu(0x80, 0x50, 0x01, 0x02, b"\x02" + bytes(10), 0x0F))[1] == 0x9403
    assert send(card, apdu(0x80, 0x50, 0x00, 0x02, b"\x01" + bytes(10), 0x0F))[1] == 0x6A86
    assert send(card, apdu(0x80, 0x50, 0x01, 0x02, b"\x01" + bytes(9), 0x0F))[1] == 0x6700
    init, _ = send(card, init_apdu(500))
    assert send(card, debit_apdu(init, 500, wrong_mac=True).command)[1] == 0x9302
    assert applet(card).state().balance == 80_000 and applet(card).log_records() == ()
    init, _ = send(card, init_apdu(500))
    assert send(card, apdu(0x80, 0x54, 0x01, 0x00, bytes(14), 8))[1] == 0x6700
    init, _ = send(card, init_apdu(500))
    assert send(card, apdu(0x80, 0x54, 0x00, 0x00, bytes(15), 8))[1] == 0x6A86
    assert send(card, apdu(0x80, 0x54, 0x01, 0x00, bytes(15), 8))[1] == 0x6985  # nothing pending
    assert send(card, "805C010204")[1] == 0x6A86
    assert send(card, "805C00020101")[1] == 0x6700


def test_class_and_instruction_errors(card) -> None:  # type: ignore[no-untyped-def]
    assert send(card, "005C000204")[1] == 0x6E00  # account command with CLA 00
    assert send(card, "80B2010C00")[1] == 0x6E00  # file command with CLA 80
    assert send(card, "80CA000000")[1] == 0x6D00
    assert send(card, "00CA000000")[1] == 0x6D00
    assert send(card, "845C000204")[1] == 0x6882


def test_image_round_trip(card, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    verify(card)
    init, _ = send(card, init_apdu(300))
    send(card, debit_apdu(init, 300).command)
    path = tmp_path / "card.json"
    save_card(card, path)
    again = load_card(path)
    again.power_on()
    assert applet(again).state() == applet(card).state() and applet(again).log_records() == applet(card).log_records()
    select(again)
    assert verify(again) == 0x9000 and authenticate(again) == 0x9000


def test_personalization_refuses_bad_dgis() -> None:
    from cardkit.issuer.demo_keys import DEMO_SOCIAL_MTK, DEMO_SOCIAL_MUK
    from cardkit.issuer.social_data import prepare_social

    dgis = prepare_social(ACCOUNT, terminal_auth_master=DEMO_SOCIAL_MAK, purchase_master=DEMO_SOCIAL_MPK,
                          tac_master=DEMO_SOCIAL_MTK, unblock_master=DEMO_SOCIAL_MUK)
    parse_dgis(dgis)
    for broken, match in (({**dgis, 0x9000: bytes(12)}, "check value"), ({**dgis, 0x8010: b"12345a"}, "8010"),
                          ({k: v for k, v in dgis.items() if k != 0x0602}, "0601"), ({**dgis, 0x1234: b""}, "1234"),
                          ({**dgis, 0x0501: b"\x02\x01\x00"}, "0501")):
        with pytest.raises(ProfileError, match=match) as info:
            parse_dgis(broken)
        assert "123456" not in str(info.value)
