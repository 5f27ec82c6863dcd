"""Issuer scripts under secure messaging: MACs built by the test issuer with script_mac."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from applets.bank import DEBIT_AID, BankApplet
from applets.bank.state import CardState
from applets.runtime import SimulatedCard
from cardkit.crypto.pin import encode_pin_block

from .kit import Issuer, Terminal, apdu, n12, send

ARQC, TC = 0x80, 0x40


def _app(card: SimulatedCard) -> BankApplet:
    app = card.applet(DEBIT_AID)
    assert isinstance(app, BankApplet)
    return app


def _online(card: SimulatedCard, issuer: Issuer) -> tuple[Terminal, bytes]:
    t = Terminal(card)
    t.start()
    assert t.genac(ARQC) == 0x9000
    send(card, apdu(0x00, 0x82, 0, 0, issuer.arpc(t)))
    return t, t.ac


def test_application_block_and_unblock(card: SimulatedCard, issuer: Issuer) -> None:
    t, arqc = _online(card, issuer)
    assert send(card, issuer.script(t, arqc, 0x1E))[1] == 0x9000
    t.genac(TC, second=True, T8A=b"00")
    assert t.cid == 0x00 and t.cvr[2] & 0x08  # blocked by script: the second AC declines
    assert _app(card).state().blocked
    t = Terminal(card)
    assert t.select() == 0x6283
    assert t.gpo() == 0x6985


def test_unblock_in_the_same_transaction(card: SimulatedCard, issuer: Issuer) -> None:
    t, arqc = _online(card, issuer)
    assert send(card, issuer.script(t, arqc, 0x1E))[1] == 0x9000
    assert send(card, issuer.script(t, arqc, 0x18))[1] == 0x9000
    assert not _app(card).state().blocked
    assert _app(card).state().script_count == 2
    t.genac(TC, second=True, T8A=b"00")
    assert t.cid == TC
    t = Terminal(card)
    t.start()
    t.genac(TC)
    assert t.cvr[1] >> 4 == 2  # two script commands on the last online transaction


def test_scripts_after_the_second_generate_ac(card: SimulatedCard, issuer: Issuer) -> None:
    t, arqc = _online(card, issuer)
    t.genac(TC, second=True, T8A=b"00")
    assert send(card, issuer.script(t, arqc, 0xDA, 0x9F, 0x79, n12(500)))[1] == 0x9000
    assert _app(card).state().ec_balance == 500


def test_card_block(card: SimulatedCard, issuer: Issuer) -> None:
    t, arqc = _online(card, issuer)
    assert send(card, issuer.script(t, arqc, 0x16))[1] == 0x9000
    assert send(card, apdu(0x80, 0xCA, 0x9F, 0x36))[1] == 0x6A81
    card.power_on()
    assert send(card, apdu(0x00, 0xA4, 0x04, 0x00, DEBIT_AID, 0))[1] == 0x6A81
    assert send(card, apdu(0x00, 0xA4, 0x04, 0x00, b"1PAY.SYS.DDF01", 0))[1] == 0x6A81
    assert send(card, apdu(0x00, 0xA4, 0x04, 0x00, b"2PAY.SYS.DDF01", 0))[1] == 0x6A81


def test_pin_unblock_and_change(card: SimulatedCard, issuer: Issuer) -> None:
    t = Terminal(card)
    t.start()
    wrong = encode_pin_block("9999", format=2).reveal()
    for _ in range(3):
        send(card, apdu(0x00, 0x20, 0, 0x80, wrong))
    t.genac(ARQC)
    assert send(card, issuer.script(t, t.ac, 0x24))[1] == 0x9000
    assert _app(card).state().pin_tries == 3
    new = encode_pin_block("654321", format=2).reveal()
    assert send(card, issuer.script(t, t.ac, 0x24, 0, 2, new, encipher=True))[1] == 0x9000
    Terminal(card).start()
    assert send(card, apdu(0x00, 0x20, 0, 0x80, encode_pin_block("1234", format=2).reveal()))[1] == 0x63C2
    assert send(card, apdu(0x00, 0x20, 0, 0x80, new))[1] == 0x9000


def test_pin_change_with_a_bad_block_fails(card: SimulatedCard, issuer: Issuer) -> None:
    t, arqc = _online(card, issuer)
    before = _app(card).state()
    bad = encode_pin_block("1234", "6228480000000000017", format=0).reveal()
    assert send(card, issuer.script(t, arqc, 0x24, 0, 2, bad, encipher=True))[1] == 0x6A80
    after = _app(card).state()
    assert after.pin_block == before.pin_block and after.script_failed


@pytest.mark.parametrize(("p1p2", "value", "field"), [
    (0x9F79, n12(12345), ("ec_balance", 12345)),
    (0x9F77, n12(300000), ("ec_limit", 300000)),
    (0x9F78, n12(100), ("ec_single_limit", 100)),
    (0x9F6D, n12(1000), ("ec_reset", 1000)),
    (0x9F14, b"\x03", ("lower_limit", 3)),
    (0x9F23, b"\x09", ("upper_limit", 9)),
])
def test_put_data(card: SimulatedCard, issuer: Issuer, p1p2: int, value: bytes, field: tuple[str, int]) -> None:
    t, arqc = _online(card, issuer)
    assert send(card, issuer.script(t, arqc, 0xDA, p1p2 >> 8, p1p2 & 0xFF, value))[1] == 0x9000
    assert getattr(_app(card).state(), field[0]) == field[1]
    got, sw = send(card, apdu(0x80, 0xCA, p1p2 >> 8, p1p2 & 0xFF))
    assert sw == 0x9000 and got[-len(value):] == value


@pytest.mark.parametrize(("p1p2", "value"), [
    (0x9F79, n12(100001)),  # above the EC balance limit 9F77
    (0x9F77, n12(100)),  # below the current balance
    (0x9F79, bytes.fromhex("0000000000AA")),
    (0x9F14, b"\x05"),  # above the upper limit
    (0x9F23, b"\x01"),  # below the lower limit
])
def test_put_data_refuses_inconsistent_values(card: SimulatedCard, issuer: Issuer, p1p2: int, value: bytes) -> None:
    t, arqc = _online(card, issuer)
    before = _app(card).state()
    assert send(card, issuer.script(t, arqc, 0xDA, p1p2 >> 8, p1p2 & 0xFF, value))[1] == 0x6A80
    after = _app(card).state()
    assert after.script_failed and (after.ec_balance, after.ec_limit) == (before.ec_balance, before.ec_limit)


def _without_script_bookkeeping(state: CardState) -> tuple[object, ...]:
    return (state.atc, state.ec_balance, state.blocked, state.pin_tries, state.pin_block, state.ec_limit,
            state.lower_limit, state.upper_limit, state.log, state.last_online_atc)


@pytest.mark.parametrize("script", [
    lambda i, t, a: i.script(t, a, 0x1E, bad_mac=True),
    lambda i, t, a: i.script(t, a, 0x16, bad_mac=True),
    lambda i, t, a: i.script(t, a, 0xDA, 0x9F, 0x79, n12(1), bad_mac=True),
    lambda i, t, a: i.script(t, a, 0x24, bad_mac=True),
    lambda i, t, a: i.script(t, bytes(8), 0x1E),  # MAC under keys of another ARQC
])
def test_wrong_mac_changes_nothing(card: SimulatedCard, issuer: Issuer,
                                   script: Callable[[Issuer, Terminal, bytes], bytes]) -> None:
    t, arqc = _online(card, issuer)
    before = _app(card).state()
    assert send(card, script(issuer, t, arqc))[1] == 0x6988
    after = _app(card).state()
    assert _without_script_bookkeeping(after) == _without_script_bookkeeping(before)
    assert after.script_failed and after.script_count == before.script_count + 1
    assert send(card, apdu(0x00, 0xA4, 0x04, 0x00, DEBIT_AID, 0))[1] == 0x9000  # no card block either
    t = Terminal(card)
    t.start()
    t.genac(TC)
    assert t.cvr[1] & 0x08  # "issuer script processing failed" reaches the next transaction


@pytest.mark.parametrize(("command", "sw"), [
    (apdu(0x84, 0x1E, 0, 0, bytes(7)), 0x6700),
    (apdu(0x84, 0x1E, 1, 0, bytes(8)), 0x6A86),
    (apdu(0x84, 0x24, 0, 1, bytes(8)), 0x6A86),
    (apdu(0x84, 0x24, 0, 2, bytes(8)), 0x6700),
    (apdu(0x84, 0xDA, 0x9F, 0x36, bytes(10)), 0x6A88),
    (apdu(0x84, 0xDA, 0x9F, 0x79, bytes(8)), 0x6700),
    (apdu(0x80, 0x1E, 0, 0, bytes(8)), 0x6987),  # no secure messaging indicated
    (apdu(0x8C, 0x1E, 0, 0, bytes(8)), 0x6882),
    (apdu(0x04, 0x1E, 0, 0, bytes(8)), 0x6E00),
])
def test_script_header_refusals(card: SimulatedCard, issuer: Issuer, command: bytes, sw: int) -> None:
    _online(card, issuer)
    before = card.store.committed()
    assert send(card, command)[1] == sw
    assert card.store.committed() == before


def test_scripts_need_an_online_first_ac(card: SimulatedCard, issuer: Issuer) -> None:
    t = Terminal(card)
    t.start()
    t.genac(TC)
    assert send(card, issuer.script(t, t.ac, 0x1E))[1] == 0x6985
