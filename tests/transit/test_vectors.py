"""Known answers through the applet: the REFERENCE.md regression vector and the public trace layout."""

from __future__ import annotations

from applets.transit.layout import InitAnswerPurchase
from cardkit.crypto.purse import TransactionType

from .kit import (
    DATE,
    TERMINAL,
    TIME,
    Terminal,
    apdu,
    fixed_random,
    init_apdu,
    make_card,
    make_dgis,
    select,
    send,
)

SW_OK = 0x9000


# source: REFERENCE.md "PBOC electronic purse", self-computed regression vector (DLK 3F01x8, DPK 3E01x8,
# DTK 34x16, terminal 112233445566, amount 00000064, old balance 000003E8, random 1A2B3C4D, online counter
# 0005, offline counter 0012, 20230308 112233, terminal transaction no 00000001)
def test_load_regression_vector() -> None:
    card = make_card()
    select(card)
    init, sw = send(card, "805000020B" "01" "00000064" "112233445566" "10")
    assert sw == SW_OK
    assert init.hex().upper() == "000003E8" "0005" "01" "00" "1A2B3C4D" "7ACC62D2"
    tac, sw = send(card, "805200000B" "20230308" "112233" "837F7444" "04")
    assert (tac.hex().upper(), sw) == ("DE5B9A1E", SW_OK)
    assert Terminal(card).balance() == 0x44C


def test_purchase_regression_vector() -> None:
    card = make_card()
    select(card)
    init, sw = send(card, "805001020B" "01" "00000064" "112233445566" "0F")
    assert sw == SW_OK
    assert init.hex().upper() == "000003E8" "0012" "000000" "01" "00" "1A2B3C4D"
    answer, sw = send(card, "805401000F" "00000001" "20230308" "112233" "FD043C55" "08")
    assert (answer.hex().upper(), sw) == ("635489A0" "5DB3575E", SW_OK)  # TAC, MAC2
    prove, sw = send(card, "805A000602" "0012" "08")
    assert (prove.hex().upper(), sw) == ("5DB3575E" "635489A0", SW_OK)  # MAC2, TAC


# source: REFERENCE.md "PBOC electronic purse", the public transit trace (format checks only; its keys
# are unknown): `805003020B 01 000000C8 200041599997` -> `000162AF 0036 000320 01 00 84176AD7 9000`;
# `805401000F 00000057 20180313 164329 66CBC863` -> `C630C2C8 ABCC913B 9000`.
def test_public_trace_initialize_for_capp_purchase_layout() -> None:
    card = make_card(make_dgis(balance=0x162AF, offline=0x36, overdraft=0x320), fixed_random(bytes.fromhex("84176AD7")))
    select(card)
    init, sw = send(card, "805003020B" "01" "000000C8" "200041599997" "0F")
    assert (init.hex().upper(), sw) == ("000162AF" "0036" "000320" "01" "00" "84176AD7", SW_OK)
    parsed = InitAnswerPurchase.parse(init)
    assert (parsed.balance, parsed.offline_counter, parsed.overdraft_limit) == (0x162AF, 0x36, 0x320)
    # The trace's DEBIT carries a MAC1 under unknown keys: same length, refused as a wrong MAC.
    _, sw = send(card, "805401000F" "00000057" "20180313" "164329" "66CBC863" "08")
    assert sw == 0x9302


def test_public_trace_debit_answer_layout() -> None:
    card = make_card(make_dgis(balance=0x162AF, offline=0x36, overdraft=0x320))
    select(card)
    t = Terminal(card, terminal=bytes.fromhex("200041599997"), date=bytes.fromhex("20180313"),
                 time=bytes.fromhex("164329"), txn_no=0x57)
    out = t.purchase(0xC8, compound=True)
    assert out.sw == SW_OK and len(out.answer) == len(bytes.fromhex("C630C2C8ABCC913B"))
    assert out.answer == out.expected["tac"] + out.expected["mac2"]


def test_constants_match_the_regression_inputs() -> None:
    assert (TERMINAL.hex(), DATE.hex(), TIME.hex()) == ("112233445566", "20230308", "112233")
    assert init_apdu(0x01, 100) == apdu(0x80, 0x50, 0x01, 0x02, bytes.fromhex("0100000064112233445566"), 0x0F)
    assert int(TransactionType.CAPP_PURCHASE) == 0x09
