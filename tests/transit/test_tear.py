"""Tears at every persistent write of load, purchase and compound purchase: all old or all new.

Each scenario drives a fresh card to just before its completing command; the loop arms a tear at
write 1, 2, ... until the command completes, and compares the purse state, the log and the CAPP
record after power-on with the old and the new ones of a clean run. After a torn DEBIT, GET
TRANSACTION PROVE must say the purchase did not happen.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from applets.runtime import SimulatedCard
from cardkit.crypto.purse import TransactionType
from cardkit.errors import CardTornError

from .kit import Terminal, apdu, applet, init_apdu, make_card, select, send

SW_OK = 0x9000
CAPP = b"\x01" + b"\x77" * 47

Prepare = Callable[[SimulatedCard], tuple[bytes, int, int]]  # -> command, txn type, counter


def _load(card: SimulatedCard) -> tuple[bytes, int, int]:
    init, _ = send(card, init_apdu(0x00, 250))
    return Terminal(card).credit_apdu(init, 250)[0], TransactionType.EP_LOAD, 5


def _purchase(card: SimulatedCard) -> tuple[bytes, int, int]:
    init, _ = send(card, init_apdu(0x01, 250))
    return Terminal(card).debit_apdu(init, 250, TransactionType.EP_PURCHASE)[0], TransactionType.EP_PURCHASE, 0x12


def _compound(card: SimulatedCard) -> tuple[bytes, int, int]:
    init, _ = send(card, init_apdu(0x03, 250))
    assert send(card, apdu(0x80, 0xDC, 0x01, 0xB8, CAPP))[1] == SW_OK
    cmd = Terminal(card).debit_apdu(init, 250, TransactionType.CAPP_PURCHASE)[0]
    return cmd, TransactionType.CAPP_PURCHASE, 0x12


def _wrong_mac(card: SimulatedCard) -> tuple[bytes, int, int]:
    init, _ = send(card, init_apdu(0x01, 250))
    cmd = Terminal(card).debit_apdu(init, 250, TransactionType.EP_PURCHASE, wrong_mac=True)[0]
    return cmd, TransactionType.EP_PURCHASE, 0x12


SCENARIOS: dict[str, Prepare] = {"load": _load, "purchase": _purchase, "compound": _compound,
                                 "wrong-mac": _wrong_mac}


def _snapshot(card: SimulatedCard) -> tuple[object, ...]:
    a = applet(card)
    return a.state(), a.log_records(), a.capp_records()


def _fresh(prepare: Prepare) -> tuple[SimulatedCard, bytes, int, int]:
    card = make_card()
    select(card)
    cmd, txn_type, counter = prepare(card)
    return card, cmd, txn_type, counter


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_tear_at_every_write(name: str) -> None:
    prepare = SCENARIOS[name]
    card, cmd, _, _ = _fresh(prepare)
    old = _snapshot(card)
    before = card.store.writes
    card.transmit(cmd)
    writes = card.store.writes - before
    new = _snapshot(card)
    assert writes >= 2 and new != old
    for k in range(1, writes + 1):
        card, cmd, txn_type, counter = _fresh(prepare)
        card.arm_tear(k)
        with pytest.raises(CardTornError):
            card.transmit(cmd)
        card.power_on()
        after = _snapshot(card)
        assert after in (old, new), f"write {k} of {writes}"
        select(card)
        proof = Terminal(card).prove(txn_type, counter)[1]
        if after == old and name != "wrong-mac":
            assert proof == 0x9406, f"write {k}: the torn transaction must not be provable"


def test_a_torn_debit_is_not_provable_and_can_be_redone() -> None:
    card, cmd, txn_type, counter = _fresh(_compound)
    card.arm_tear(1)
    with pytest.raises(CardTornError):
        card.transmit(cmd)
    card.power_on()
    select(card)
    t = Terminal(card)
    assert t.prove(txn_type, counter)[1] == 0x9406
    assert t.balance() == 1000
    out = t.purchase(250, capp=CAPP)
    assert out.sw == SW_OK
    assert t.prove(txn_type, counter) == (out.expected["mac2"] + out.expected["tac"], SW_OK)
