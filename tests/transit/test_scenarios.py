"""The scenario matrix: a terminal written from cardkit.crypto.purse against the card."""

from __future__ import annotations

import pytest

from applets.runtime import SimulatedCard
from applets.transit import LogRecord
from cardkit.crypto.purse import PurseAlgorithm, TransactionType

from .kit import (
    DATE,
    TERMINAL,
    TIME,
    Terminal,
    apdu,
    applet,
    init_apdu,
    make_card,
    make_dgis,
    select,
    send,
)

SW_OK = 0x9000
SW_INSUFFICIENT = 0x9401
SW_MAC = 0x9302
SW_CONDITIONS = 0x6985
SW_KEY_INDEX = 0x9403
SW_P1P2 = 0x6A86
SW_LENGTH = 0x6700
SW_RECORD = 0x6A83
SW_NO_PROOF = 0x9406
SW_LOCKED = 0x9303
SW_COUNTER = 0x9402


@pytest.fixture
def card() -> SimulatedCard:
    c = make_card()
    select(c)
    return c


def test_select_fci_and_files(card: SimulatedCard) -> None:
    data, sw = send(card, "00A4040008A00000063201010500")
    assert sw == SW_OK
    assert data.hex().upper() == "6F1A" "8408A000000632010105" "A50E" "50075452414E534954" "9F08020001"
    issuer, sw = send(card, "00B0950000")
    assert sw == SW_OK and len(issuer) == 30 and issuer[8] == 0x03 and issuer[10:20].hex() == "31000000000000000018"
    holder, sw = send(card, "00B0960000")
    assert sw == SW_OK and len(holder) == 55 and holder[2:11] == b"ZHANG/SAN"
    record, sw = send(card, "00B201BC00")
    assert sw == SW_OK and len(record) == 48 and record[0] == 0x01
    assert send(card, "00B202BC00")[1] == SW_RECORD
    assert send(card, "00B201C400")[1] == SW_RECORD  # empty log


def test_listed_in_ef_dir(card: SimulatedCard) -> None:
    send(card, "00A40000023F00")
    records = [send(card, apdu(0x00, 0xB2, n, 30 << 3 | 4, le=0))[0] for n in (1,)]
    assert bytes.fromhex("A000000632010105") in records[0] and b"TRANSIT" in records[0]


def test_load(card: SimulatedCard) -> None:
    t = Terminal(card)
    out = t.load(2_000)
    assert out.sw == SW_OK and out.answer == out.expected["tac"]
    assert t.balance() == 3_000
    state = applet(card).state()
    assert (state.online_counter, state.offline_counter) == (6, 0x12)
    assert applet(card).log_records()[0] == LogRecord(5, 0, 2_000, TransactionType.EP_LOAD, TERMINAL, DATE, TIME)
    proof, sw = t.prove(TransactionType.EP_LOAD, 5)
    assert (proof, sw) == (out.expected["mac2"] + out.expected["tac"], SW_OK)


def test_purchase_and_log(card: SimulatedCard) -> None:
    t = Terminal(card)
    out = t.purchase(300)
    assert out.sw == SW_OK and out.answer == out.expected["tac"] + out.expected["mac2"]
    assert t.balance() == 700
    log = applet(card).log_records()
    assert log == (LogRecord(0x12, 0, 300, TransactionType.EP_PURCHASE, TERMINAL, DATE, TIME),)
    assert applet(card).state().offline_counter == 0x13
    raw, sw = send(card, "00B201C417")
    assert sw == SW_OK and LogRecord.parse(raw) == log[0]


def test_compound_purchase_writes_the_capp_record(card: SimulatedCard) -> None:
    t = Terminal(card)
    record = b"\x01" + bytes(range(1, 48))
    out = t.purchase(200, capp=record)
    assert out.sw == SW_OK and out.answer == out.expected["tac"] + out.expected["mac2"]
    assert send(card, "00B201BC00") == (record, SW_OK)
    assert applet(card).log_records()[0].txn_type == TransactionType.CAPP_PURCHASE
    proof, sw = t.prove(TransactionType.CAPP_PURCHASE, 0x12)
    assert (proof, sw) == (out.expected["mac2"] + out.expected["tac"], SW_OK)
    assert t.prove(TransactionType.EP_PURCHASE, 0x12)[1] == SW_NO_PROOF  # wrong type


def test_compound_purchase_without_update_keeps_the_record(card: SimulatedCard) -> None:
    before = send(card, "00B201BC00")
    assert Terminal(card).purchase(0, compound=True).sw == SW_OK
    assert send(card, "00B201BC00") == before


def test_capp_update_dropped_when_debit_fails(card: SimulatedCard) -> None:
    before = send(card, "00B201BC00")
    out = Terminal(card).purchase(200, capp=b"\x01" + b"\xaa" * 47, wrong_mac=True)
    assert out.sw == SW_MAC
    assert send(card, "00B201BC00") == before
    assert Terminal(card).balance() == 1000


def test_capp_update_rules(card: SimulatedCard) -> None:
    record = b"\x01" + bytes(47)
    assert send(card, apdu(0x80, 0xDC, 0x01, 0xB8, record))[1] == SW_CONDITIONS  # outside a CAPP purchase
    send(card, init_apdu(0x01, 10))
    assert send(card, apdu(0x80, 0xDC, 0x01, 0xB8, record))[1] == SW_CONDITIONS  # plain purchase
    for cmd, sw in (
        (apdu(0x80, 0xDC, 0x01, 0xBC, record), SW_P1P2),
        (apdu(0x80, 0xDC, 0x02, 0xB8, b"\x02" + bytes(47)), SW_RECORD),
        (apdu(0x80, 0xDC, 0x01, 0xB8, record[:-1]), SW_LENGTH),
        (apdu(0x80, 0xDC, 0x01, 0xB8, b"\x02" + bytes(47)), 0x6A80),
    ):
        assert send(card, init_apdu(0x03, 10))[1] == SW_OK
        assert send(card, cmd)[1] == sw
        # the failed update ended the purchase
        assert send(card, apdu(0x80, 0x54, 0x01, 0x00, bytes(15)))[1] == SW_CONDITIONS


def test_insufficient_balance(card: SimulatedCard) -> None:
    assert Terminal(card).purchase(1001).sw == SW_INSUFFICIENT
    assert Terminal(card).purchase(1001, compound=True).sw == SW_INSUFFICIENT
    assert applet(card).state().balance == 1000 and applet(card).log_records() == ()


def test_overdraft_allows_a_negative_balance() -> None:
    card = make_card(make_dgis(balance=100, overdraft=500))
    select(card)
    t = Terminal(card)
    assert t.purchase(601).sw == SW_INSUFFICIENT
    out = t.purchase(600)
    assert out.sw == SW_OK
    assert applet(card).state().balance == -500
    assert t.balance() == 0xFFFFFFFF - 499  # two's complement on the wire
    init, sw = send(card, init_apdu(0x01, 0))
    assert sw == SW_OK and init[6:9] == (500).to_bytes(3, "big")


def test_wrong_mac1_counts_and_refuses(card: SimulatedCard) -> None:
    out = Terminal(card).purchase(100, wrong_mac=True)
    assert out.sw == SW_MAC
    state = applet(card).state()
    assert (state.balance, state.offline_counter, state.mac_failures) == (1000, 0x12, 1)
    assert applet(card).log_records() == ()
    assert Terminal(card).purchase(100).sw == SW_OK
    assert applet(card).state().mac_failures == 0  # a good transaction resets the count


def test_wrong_mac2_counts_and_refuses(card: SimulatedCard) -> None:
    out = Terminal(card).load(100, wrong_mac=True)
    assert out.sw == SW_MAC
    state = applet(card).state()
    assert (state.balance, state.online_counter, state.mac_failures) == (1000, 5, 1)
    assert Terminal(card).prove(TransactionType.EP_LOAD, 5)[1] == SW_NO_PROOF


def test_mac_failures_lock_the_purse(card: SimulatedCard) -> None:
    t = Terminal(card)
    for _ in range(3):
        assert t.purchase(1, wrong_mac=True).sw == SW_MAC
    assert t.purchase(1).sw == SW_LOCKED
    assert t.load(1).sw == SW_LOCKED
    assert t.balance() == 1000  # reading still works
    assert send(card, "00B0950000")[1] == SW_OK


def test_max_balance_exceeded(card: SimulatedCard) -> None:
    t = Terminal(card)
    assert t.load(99_001).sw == SW_CONDITIONS
    assert t.load(99_000).sw == SW_OK
    assert t.balance() == 100_000
    assert t.load(1).sw == SW_CONDITIONS


def test_order_and_parameters(card: SimulatedCard) -> None:
    debit = apdu(0x80, 0x54, 0x01, 0x00, bytes(15), 8)
    credit = apdu(0x80, 0x52, 0x00, 0x00, bytes(11), 4)
    assert send(card, debit)[1] == SW_CONDITIONS  # DEBIT without INIT
    assert send(card, credit)[1] == SW_CONDITIONS  # CREDIT without INIT
    send(card, init_apdu(0x00, 1))
    assert send(card, debit)[1] == SW_CONDITIONS  # DEBIT after a load INIT
    send(card, init_apdu(0x01, 1))
    assert send(card, credit)[1] == SW_CONDITIONS  # CREDIT after a purchase INIT
    assert send(card, init_apdu(0x01, 1))[1] == SW_OK
    assert send(card, init_apdu(0x01, 1))[1] == SW_CONDITIONS  # INIT twice
    assert send(card, debit)[1] == SW_CONDITIONS  # ... and both are gone
    assert send(card, init_apdu(0x01, 1, key_index=2))[1] == SW_KEY_INDEX
    assert send(card, apdu(0x80, 0x50, 0x01, 0x01, bytes(11)))[1] == SW_P1P2  # ED
    assert send(card, apdu(0x80, 0x50, 0x02, 0x02, bytes(11)))[1] == SW_P1P2
    assert send(card, apdu(0x80, 0x50, 0x01, 0x02, bytes(10)))[1] == SW_LENGTH
    assert send(card, apdu(0x80, 0x5C, 0x00, 0x01, le=4))[1] == SW_P1P2
    assert send(card, apdu(0x80, 0x5A, 0x00, 0x07, b"\x00\x01"))[1] == SW_P1P2
    assert send(card, apdu(0x80, 0x5A, 0x00, 0x06, b"\x01"))[1] == SW_LENGTH
    assert send(card, apdu(0x00, 0x5C, 0x00, 0x02, le=4))[1] == 0x6E00  # purse INS with CLA 00
    assert send(card, apdu(0x80, 0xB0, 0x95, 0x00, le=0))[1] == 0x6E00  # file INS with CLA 80
    assert send(card, apdu(0x80, 0x99, 0x00, 0x00))[1] == 0x6D00
    assert send(card, apdu(0x00, 0xD6, 0x95, 0x00, b"\x00"))[1] == 0x6982  # files are read-only


def test_any_other_command_abandons_the_transaction(card: SimulatedCard) -> None:
    t = Terminal(card)
    init, sw = send(card, init_apdu(0x01, 100))
    assert sw == SW_OK
    assert send(card, "00B0950000")[1] == SW_OK  # a read in between
    cmd, _ = t.debit_apdu(init, 100, TransactionType.EP_PURCHASE)
    assert send(card, cmd)[1] == SW_CONDITIONS
    assert applet(card).state().balance == 1000


def test_reselect_abandons_the_transaction(card: SimulatedCard) -> None:
    t = Terminal(card)
    init, _ = send(card, init_apdu(0x00, 100))
    select(card)
    cmd, _ = t.credit_apdu(init, 100)
    assert send(card, cmd)[1] == SW_CONDITIONS


def test_prove_after_purchase_and_after_a_later_transaction(card: SimulatedCard) -> None:
    t = Terminal(card)
    first = t.purchase(100)
    assert t.prove(TransactionType.EP_PURCHASE, 0x12) == (first.expected["mac2"] + first.expected["tac"], SW_OK)
    assert t.prove(TransactionType.EP_PURCHASE, 0x13)[1] == SW_NO_PROOF  # not done yet
    t.load(50)
    assert t.prove(TransactionType.EP_PURCHASE, 0x12)[1] == SW_NO_PROOF  # no longer the last one


def test_log_is_cyclic_ten_newest_first(card: SimulatedCard) -> None:
    t = Terminal(card)
    for amount in range(1, 13):
        assert t.purchase(amount).sw == SW_OK
    log = applet(card).log_records()
    assert len(log) == 10
    assert [r.amount for r in log] == list(range(12, 2, -1))
    assert [r.counter for r in log] == list(range(0x12 + 11, 0x12 + 1, -1))


def test_counter_at_its_limit() -> None:
    card = make_card(make_dgis(offline=0xFFFF, online=0xFFFF))
    select(card)
    assert send(card, init_apdu(0x01, 1))[1] == SW_COUNTER
    assert send(card, init_apdu(0x00, 1))[1] == SW_COUNTER


def test_sm4_profile_round_trip() -> None:
    keys = (bytes(range(16)), bytes(range(16, 32)), bytes(range(32, 48)))
    card = make_card(make_dgis(algorithm=PurseAlgorithm.SM4, keys=keys))
    select(card)
    t = Terminal(card, dlk=keys[0], dpk=keys[1], dtk=keys[2], algorithm=PurseAlgorithm.SM4)
    load = t.load(500)
    assert load.sw == SW_OK and load.init[7] == 0x04 and load.answer == load.expected["tac"]
    buy = t.purchase(200, capp=b"\x01" + b"\x55" * 47)
    assert buy.sw == SW_OK and buy.answer == buy.expected["tac"] + buy.expected["mac2"]
    assert t.balance() == 1300


def test_unpersonalized_applet_refuses_purse_commands() -> None:
    from applets.runtime import new_blank_card
    from applets.transit import TransitApplet

    card = new_blank_card(serial="8986000000000000018")
    card.register(TransitApplet())
    card.power_on()
    select(card)
    assert send(card, init_apdu(0x01, 1))[1] == SW_CONDITIONS
    assert send(card, "805C000204")[1] == SW_CONDITIONS
