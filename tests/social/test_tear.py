"""Tears at every persistent write of a payment, a VERIFY and an unblock: old state or new, never a mix."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from applets.runtime import SimulatedCard
from cardkit.errors import CardTornError

from .kit import applet, debit_apdu, init_apdu, make_card, select, send, unblock_apdu, verify


def _writes(card: SimulatedCard, cmd: bytes) -> int:
    before = card.store.writes
    card.transmit(cmd)
    return card.store.writes - before


def _payment(card: SimulatedCard) -> bytes:
    verify(card)
    init, _ = send(card, init_apdu(2_000))
    return debit_apdu(init, 2_000).command


def _snapshot(card: SimulatedCard) -> tuple[object, ...]:
    a = applet(card)
    return a.state(), a.log_records()


def _fresh(prepare: Callable[[SimulatedCard], bytes]) -> tuple[SimulatedCard, bytes]:
    card = make_card()
    select(card)
    return card, prepare(card)


def test_payment_torn_at_every_write() -> None:
    card, cmd = _fresh(_payment)
    old = _snapshot(card)
    writes = _writes(card, cmd)
    new = _snapshot(card)
    assert writes >= 3 and new != old and new[0].balance == 78_000  # type: ignore[attr-defined]
    for k in range(1, writes + 1):
        card, cmd = _fresh(_payment)
        card.arm_tear(k)
        with pytest.raises(CardTornError):
            card.transmit(cmd)
        card.power_on()
        after = _snapshot(card)
        assert after in (old, new), k
        state, log = after
        assert (len(log) == 1) == (state.balance == 78_000)  # type: ignore[attr-defined]  # the log agrees


@pytest.mark.parametrize("pin", [b"000000", b"123456"])
def test_pin_counter_survives_a_tear(pin: bytes) -> None:
    card = make_card()
    select(card)
    cmd = bytes.fromhex("0020000106") + pin
    writes = _writes(card, cmd)
    assert writes >= 2
    for k in range(1, writes + 1):
        card = make_card()
        select(card)
        card.arm_tear(k)
        with pytest.raises(CardTornError):
            card.transmit(cmd)
        card.power_on()
        left = applet(card).pin_tries_left()
        assert left in (2, 3), k  # a tear may cost a try, never gives one back
        if pin == b"000000":
            assert left <= 3


def test_wrong_pin_tear_never_refunds() -> None:
    card = make_card()
    select(card)
    verify(card, b"000000")
    for _ in range(3):
        card.arm_tear(1)
        with pytest.raises(CardTornError):
            card.transmit(bytes.fromhex("0020000106") + b"000000")
        card.power_on()
        select(card)
    assert applet(card).pin_tries_left() == 2


def test_unblock_torn_leaves_blocked_or_unblocked() -> None:
    def blocked() -> tuple[SimulatedCard, bytes]:
        card = make_card()
        select(card)
        for _ in range(3):
            verify(card, b"000000")
        return card, unblock_apdu(card)

    card, cmd = blocked()
    writes = _writes(card, cmd)
    assert applet(card).pin_tries_left() == 3
    for k in range(1, writes + 1):
        card, cmd = blocked()
        card.arm_tear(k)
        with pytest.raises(CardTornError):
            card.transmit(cmd)
        card.power_on()
        assert applet(card).pin_tries_left() in (0, 3)
