"""PurseClient against the fake transit card: select, load, purchase, compound purchase, refusals, log."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from cardkit.crypto.purse import TransactionType
from cardkit.purse import (
    BalanceLimitExceeded,
    ConditionsNotSatisfied,
    InsufficientBalance,
    KeyIndexNotSupported,
    LogEntry,
    MacInvalid,
    Psam,
    PurseClient,
    PurseDataError,
    PurseError,
    PurseUsageError,
    TransactionKind,
)
from cardkit.purse import issuer as host

from .conftest import WHEN, Authorize
from .fakecard import MLK, MPK, MTK, SERIAL, TERMINAL, FakeTransitCard, capp_record


def test_select_reads_issuer_holder_and_balance(client: PurseClient, card: FakeTransitCard) -> None:
    info = client.select()
    assert info.serial == SERIAL and info.diversifier == bytes.fromhex(SERIAL)[-8:]
    assert info.start == date(2024, 1, 1) and info.expiry == date(2034, 12, 31)
    assert info.valid_on(date(2030, 6, 1)) and not info.valid_on(date(2035, 1, 1))
    assert (info.app_type, info.version, info.issuer_id) == (0x02, 0x01, bytes.fromhex("0000000000003105"))
    assert info.holder_name == "张三" and info.id_number == "110101199003071234"
    assert info.balance == card.balance == 1000
    assert client.info is info


def test_select_without_the_application(client: PurseClient) -> None:
    client.aid = bytes.fromhex("A000000632010106")
    with pytest.raises(PurseError) as err:
        client.select()
    assert err.value.sw == 0x6A82


def test_load_with_the_host(client: PurseClient, card: FakeTransitCard, authorize: Authorize) -> None:
    client.select()
    result = client.load(500, TERMINAL, authorize, WHEN)
    assert result.kind == "load" and result.kind is TransactionKind.LOAD
    assert (result.amount, result.balance_before, result.balance_after) == (500, 1000, 1500)
    assert result.counter == 5 and card.online_counter == 6 and card.balance == 1500
    assert result.terminal_txn_no is None and not result.recovered and result.when == WHEN
    assert client.balance() == 1500 and client.info is not None and client.info.balance == 1500
    host.verify_load_tac(MTK, client.info, result)  # the host checks the TAC
    with pytest.raises(MacInvalid):
        host.verify_load_tac(MTK, client.info, replace(result, tac=bytes(4)))


def test_load_step_by_step(client: PurseClient, card: FakeTransitCard) -> None:
    info = client.select()
    init = client.initialize_load(250, TERMINAL)
    assert (init.old_balance, init.online_counter, init.amount, init.terminal_id) == (1000, 5, 250, TERMINAL)
    assert card.sent(0x50)[-1].to_bytes() == bytes.fromhex("805000020B01000000FA11223344556610")
    mac2 = host.load_mac2(MLK, info, init, WHEN)
    result = client.credit_for_load(init, mac2, WHEN)
    assert card.sent(0x52)[-1].data == bytes.fromhex("20230308112233") + mac2
    assert result.balance_after == 1250 == card.balance
    host.verify_load_tac(MTK, info.diversifier, init, WHEN, result.tac)
    host.verify_load_tac(MTK, info, result)


def test_wrong_mac1_is_refused_by_the_host(client: PurseClient, card: FakeTransitCard) -> None:
    wrong_host = lambda info, init, when: host.load_mac2(MPK, info, init, when)  # noqa: E731 (wrong key)
    client.select()
    with pytest.raises(MacInvalid) as err:
        client.load(100, TERMINAL, wrong_host, WHEN)
    assert err.value.sw is None and not err.value.by_card
    assert card.balance == 1000 and not card.sent(0x52)  # the card never saw a CREDIT


def test_wrong_mac2_from_the_host(client: PurseClient, card: FakeTransitCard) -> None:
    client.select()
    with pytest.raises(MacInvalid) as err:
        client.load(100, TERMINAL, lambda info, init, when: b"\x01\x02\x03\x04", WHEN)
    assert err.value.sw == 0x9302 and err.value.by_card
    assert card.balance == 1000 and card.online_counter == 5 and client.pending == []


def test_purchase_with_the_psam(client: PurseClient, card: FakeTransitCard, psam: Psam) -> None:
    client.select()
    result = client.purchase(120, psam, WHEN)
    assert result.kind == "purchase" and result.balance_after == 880 == card.balance
    assert result.counter == 0x12 and card.offline_counter == 0x13
    assert result.terminal_txn_no == 1 and psam.next_txn_no == 2 and result.terminal_id == TERMINAL
    debit = card.sent(0x54)[-1]
    assert debit.header == bytes.fromhex("80540100") and debit.le == 8
    assert debit.data[:11] == bytes.fromhex("00000001" "20230308" "112233")
    assert (result.mac2, result.tac) == card.proofs[(TransactionType.EP_PURCHASE, 0x12)]
    second = client.purchase(30, psam, datetime(2023, 3, 8, 11, 25, 0))
    assert (second.counter, second.terminal_txn_no, second.balance_after) == (0x13, 2, 850)


def test_purchase_checks_mac2_and_tac(client: PurseClient, card: FakeTransitCard, psam: Psam) -> None:
    info = client.select()
    init = client.initialize_purchase(10, TERMINAL)
    result = client.debit_for_purchase(init, psam, WHEN)
    psam.verify_tac(info, init, 1, WHEN, result.tac)
    with pytest.raises(MacInvalid):
        psam.verify_tac(info, init, 2, WHEN, result.tac)  # another transaction number
    with pytest.raises(MacInvalid):
        psam.verify_mac2(info, init, 1, bytes(4))


def test_card_with_other_tac_key_is_caught_by_the_psam(card: FakeTransitCard, client: PurseClient) -> None:
    psam = Psam(MPK, MLK, terminal_id=TERMINAL)  # right purchase key, wrong TAC key
    client.select()
    with pytest.raises(MacInvalid, match="as done"):
        client.purchase(10, psam, WHEN)


def test_wrong_mac1_debits_nothing(client: PurseClient, card: FakeTransitCard) -> None:
    psam = Psam(MLK, MTK, terminal_id=TERMINAL)  # the PSAM holds the wrong purchase key
    client.select()
    with pytest.raises(MacInvalid) as err:
        client.purchase(100, psam, WHEN)
    assert err.value.sw == 0x9302
    assert card.balance == 1000 and card.offline_counter == 0x12 and client.balance() == 1000


def test_insufficient_balance(client: PurseClient, card: FakeTransitCard, psam: Psam) -> None:
    client.select()
    with pytest.raises(InsufficientBalance) as err:
        client.purchase(1001, psam, WHEN)
    assert err.value.sw == 0x9401 and "9401" in str(err.value)
    assert card.balance == 1000 and psam.next_txn_no == 1  # no PSAM number spent


def test_compound_purchase_updates_the_record(client: PurseClient, card: FakeTransitCard, psam: Psam) -> None:
    client.select()
    seen: list[bytes] = []

    def enter_station(old: bytes) -> bytes:
        seen.append(old)
        return capp_record(station=0x0123, flag=1)

    result = client.compound_purchase(200, psam, WHEN, update=enter_station)
    assert seen == [capp_record()] and card.capp[1] == capp_record(station=0x0123, flag=1)
    assert result.kind == "capp" and result.balance_after == 800 == card.balance
    assert (result.mac2, result.tac) == card.proofs[(TransactionType.CAPP_PURCHASE, 0x12)]
    order = [c.ins for c in card.commands[-4:]]
    assert order == [0xB2, 0x50, 0xDC, 0x54]  # read, INIT CAPP, UPDATE CAPP DATA CACHE, DEBIT
    assert card.sent(0xDC)[-1].header == bytes.fromhex("80DC01B8")
    assert card.sent(0x50)[-1].p1 == 0x03
    assert client.read_capp_record() == capp_record(station=0x0123, flag=1)


def test_compound_purchase_refused_keeps_the_record(client: PurseClient, card: FakeTransitCard) -> None:
    client.select()
    with pytest.raises(MacInvalid):
        client.compound_purchase(200, Psam(MLK, MTK, terminal_id=TERMINAL), WHEN,
                                 update=lambda old: capp_record(station=7))
    assert card.capp[1] == capp_record() and card.balance == 1000


def test_compound_update_of_another_length_sends_nothing(client: PurseClient, card: FakeTransitCard,
                                                         psam: Psam) -> None:
    client.select()
    with pytest.raises(PurseUsageError):
        client.compound_purchase(1, psam, WHEN, update=lambda old: old + b"\x00")
    assert not card.sent(0x50)


def test_log(client: PurseClient, psam: Psam, authorize: Authorize) -> None:
    client.select()
    assert client.log() == []
    client.load(500, TERMINAL, authorize, WHEN)
    client.purchase(120, psam, datetime(2023, 3, 9, 8, 0, 1))
    newest, oldest = client.log()
    assert newest == LogEntry(0x12, 0, 120, TransactionType.EP_PURCHASE, TERMINAL, datetime(2023, 3, 9, 8, 0, 1))
    assert oldest == LogEntry(5, 0, 500, TransactionType.EP_LOAD, TERMINAL, WHEN)


def test_load_over_the_maximum_balance(client: PurseClient, card: FakeTransitCard, authorize: Authorize) -> None:
    client.select()
    with pytest.raises(BalanceLimitExceeded) as err:
        client.load(100_000, TERMINAL, authorize, WHEN)
    assert err.value.sw == 0x6985 and isinstance(err.value, ConditionsNotSatisfied) and card.balance == 1000


def test_compound_update_must_keep_the_identifier(client: PurseClient, card: FakeTransitCard, psam: Psam) -> None:
    client.select()
    with pytest.raises(PurseUsageError, match="identifier"):
        client.compound_purchase(1, psam, WHEN, update=lambda old: b"\x02" + old[1:])
    assert not card.sent(0x50)


def test_key_index_refused(client: PurseClient) -> None:
    client.key_index = 2
    client.select()
    with pytest.raises(KeyIndexNotSupported) as err:
        client.initialize_load(1, TERMINAL)
    assert err.value.sw == 0x9403


def test_debit_without_select_is_a_usage_error(client: PurseClient, card: FakeTransitCard, psam: Psam) -> None:
    client.select()
    init = client.initialize_purchase(1, TERMINAL)
    fresh = PurseClient(client.channel)  # knows no card: selecting now would end the transaction
    with pytest.raises(PurseUsageError, match="select the card"):
        fresh.debit_for_purchase(init, psam, WHEN)
    assert not card.sent(0x54) and psam.next_txn_no == 1


@pytest.mark.parametrize("amount", [0, -1, 1 << 32])
def test_amount_out_of_range(client: PurseClient, card: FakeTransitCard, amount: int) -> None:
    with pytest.raises(PurseUsageError):
        client.initialize_load(amount, TERMINAL)
    assert not card.sent(0x50)


def test_terminal_id_length(client: PurseClient) -> None:
    with pytest.raises(PurseUsageError, match="6"):
        client.initialize_load(1, b"\x01\x02")


def test_short_answer_is_a_data_error(client: PurseClient, card: FakeTransitCard) -> None:
    card.issuer = card.issuer[:-1]
    with pytest.raises(PurseDataError, match="29 bytes instead of 30"):
        client.select()


def test_psam_for_another_terminal(client: PurseClient, card: FakeTransitCard) -> None:
    client.select()
    init = client.initialize_purchase(10, TERMINAL)
    other = Psam(MPK, MTK, terminal_id=bytes.fromhex("AABBCCDDEEFF"))
    with pytest.raises(PurseError, match="another terminal"):
        client.debit_for_purchase(init, other, WHEN)
    assert not card.sent(0x54)
