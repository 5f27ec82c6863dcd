"""PIN objects: VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER (ISO 7816-4 §11.5)."""

from __future__ import annotations

import pytest

from applets.runtime import MF_AID, SimulatedCard
from cardkit.apdu import SW
from cardkit.errors import CardTornError

from .conftest import build_fs_card
from .helpers import send, sw

VERIFY_OK = "00 20 0001 04 31323334"
VERIFY_BAD = "00 20 0001 04 39393939"


def tries(card: SimulatedCard, ref: int = 1) -> int:
    return card.applet(MF_AID).fs.pins.tries_left(ref)  # type: ignore[attr-defined]


def test_verify_empty_reports_tries_then_9000_when_verified(fs_card: SimulatedCard) -> None:
    assert sw(fs_card, "00 20 0001") == 0x63C3
    assert sw(fs_card, VERIFY_OK) == SW.OK
    assert sw(fs_card, "00 20 0001") == SW.OK
    assert sw(fs_card, "00 20 FF01") == SW.OK  # P1 FF: forget the verification
    assert sw(fs_card, "00 20 0001") == 0x63C3


def test_wrong_pin_decrements_then_blocks(fs_card: SimulatedCard) -> None:
    assert sw(fs_card, VERIFY_BAD) == 0x63C2
    assert sw(fs_card, VERIFY_BAD) == 0x63C1
    assert sw(fs_card, VERIFY_OK) == SW.OK and tries(fs_card) == 3  # a good PIN restores the counter
    for expect in (0x63C2, 0x63C1, 0x63C0):
        assert sw(fs_card, VERIFY_BAD) == expect
    assert sw(fs_card, VERIFY_OK) == SW.AUTH_METHOD_BLOCKED
    assert sw(fs_card, "00 20 0001") == SW.AUTH_METHOD_BLOCKED
    assert sw(fs_card, "00 24 0001 08 3132333435363738") == SW.AUTH_METHOD_BLOCKED


def test_wrong_pin_clears_verification(fs_card: SimulatedCard) -> None:
    assert sw(fs_card, VERIFY_OK) == SW.OK
    assert sw(fs_card, VERIFY_BAD) == 0x63C2
    assert sw(fs_card, "00 B2 01 1C 00") == SW.SECURITY_STATUS_NOT_SATISFIED  # EF 0002 read = PIN(1)


def test_verify_errors(fs_card: SimulatedCard) -> None:
    assert sw(fs_card, "00 20 0009 04 31323334") == SW.REFERENCED_DATA_NOT_FOUND
    assert sw(fs_card, "00 20 0000 04 31323334") == SW.INCORRECT_P1P2
    assert sw(fs_card, "00 20 0041 04 31323334") == SW.INCORRECT_P1P2
    assert sw(fs_card, "00 20 0101 04 31323334") == SW.INCORRECT_P1P2
    assert sw(fs_card, "00 20 0081 04 31323334") == SW.OK  # b8 = specific reference, same PIN here


def test_counters_persist_across_power_cycles(fs_card: SimulatedCard) -> None:
    assert sw(fs_card, VERIFY_BAD) == 0x63C2
    fs_card.power_on()
    assert sw(fs_card, "00 20 0001") == 0x63C2


def test_verified_state_is_transient(fs_card: SimulatedCard) -> None:
    assert sw(fs_card, VERIFY_OK) == SW.OK
    fs_card.reset()
    assert sw(fs_card, "00 20 0001") == 0x63C3


def test_bcd_pin(fs_card: SimulatedCard) -> None:
    assert sw(fs_card, "00 20 0002 03 123456") == SW.OK
    assert sw(fs_card, "00 20 0002 03 123457") == 0x63C1
    assert sw(fs_card, "00 24 0002 06 123456 12345F") == SW.OK  # new 5-digit PIN, F padded
    assert sw(fs_card, "00 20 0002 03 12345F") == SW.OK


def test_change_reference_data(fs_card: SimulatedCard) -> None:
    assert sw(fs_card, "00 24 0001 0A 31323334 353637383930") == SW.OK  # 1234 -> 567890
    assert sw(fs_card, VERIFY_OK) == 0x63C2
    assert sw(fs_card, "00 20 0001 06 353637383930") == SW.OK
    # wrong old PIN costs a try
    assert sw(fs_card, "00 24 0001 08 39393939 31313131") == 0x63C2
    # right old PIN, invalid new PIN: 6A80, counter restored, PIN unchanged
    assert sw(fs_card, "00 24 0001 08 353637383930 4142") == SW.WRONG_DATA
    assert tries(fs_card) == 3
    # right old PIN, no new PIN
    assert sw(fs_card, "00 24 0001 06 353637383930") == SW.WRONG_LENGTH
    assert tries(fs_card) == 3
    # P1 01: new PIN only, needs the PIN verified in this session
    fs_card.reset()
    assert sw(fs_card, "00 24 0101 04 31323334") == SW.SECURITY_STATUS_NOT_SATISFIED
    assert sw(fs_card, "00 20 0001 06 353637383930") == SW.OK
    assert sw(fs_card, "00 24 0101 04 31323334") == SW.OK
    assert sw(fs_card, VERIFY_OK) == SW.OK
    assert sw(fs_card, "00 24 0201 04 31323334") == SW.INCORRECT_P1P2


def test_reset_retry_counter(fs_card: SimulatedCard) -> None:
    for _ in range(3):
        sw(fs_card, VERIFY_BAD)
    assert sw(fs_card, VERIFY_OK) == SW.AUTH_METHOD_BLOCKED
    assert sw(fs_card, "00 2C 0101 08 3132333435363730") == 0x63C4  # wrong PUK
    assert sw(fs_card, "00 2C 0101 08 3132333435363738") == SW.OK  # PUK only: counter reset
    assert tries(fs_card) == 3
    assert sw(fs_card, VERIFY_OK) == SW.OK
    assert sw(fs_card, "00 2C 0001 0C 3132333435363738 30303030") == SW.OK  # PUK + new PIN
    assert sw(fs_card, "00 20 0001 04 30303030") == SW.OK
    assert sw(fs_card, "00 2C 0001 0A 3132333435363738 3030") == SW.WRONG_DATA  # new PIN too short
    assert sw(fs_card, "00 2C 0101 0A 3132333435363738 3030") == SW.WRONG_LENGTH  # P1 01 takes the PUK only
    assert sw(fs_card, "00 2C 0301 08 3132333435363738") == SW.INCORRECT_P1P2
    assert sw(fs_card, "00 2C 0102 03 123456") == SW.REFERENCE_DATA_NOT_USABLE  # PIN 2 has no PUK


def test_puk_blocks(fs_card: SimulatedCard) -> None:
    for left in range(4, -1, -1):
        assert sw(fs_card, "00 2C 0101 08 3030303030303030") == 0x63C0 | left
    assert sw(fs_card, "00 2C 0101 08 3132333435363738") == SW.AUTH_METHOD_BLOCKED


@pytest.mark.parametrize("good", [True, False])
def test_tear_during_verify_never_gives_a_free_try(good: bool) -> None:
    """Tear at every write of VERIFY: the counter is never above what the sequence allows."""
    apdu = bytes.fromhex((VERIFY_OK if good else VERIFY_BAD).replace(" ", ""))
    probe = build_fs_card()
    before = probe.store.writes
    send(probe, apdu)
    n = probe.store.writes - before
    assert n == (4 if good else 2)  # decrement+commit (+ restore+commit)
    for k in range(1, n + 1):
        card = build_fs_card()
        card.arm_tear(k)
        with pytest.raises(CardTornError):
            card.transmit(apdu)
        card.power_on()
        left = tries(card)
        if k <= 2:
            assert left == 3  # the decrement never landed, and no answer was given
        else:
            assert left == 2  # decrement landed, the restore tore: the try is lost, not gained
        assert sw(card, "00 20 0001") == 0x63C0 | left  # nothing verified after the tear


def test_verify_mismatch_is_committed_before_the_answer() -> None:
    card = build_fs_card()
    card.arm_tear(3)  # the write after the decrement's commit: a wrong PIN makes no further writes
    assert sw(card, VERIFY_BAD) == 0x63C2
    card.disarm_tear()
    card.power_off()
    card.power_on()
    assert tries(card) == 2
