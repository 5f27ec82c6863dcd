"""Tears at every persistent write: the committed state is the old or the new one, never a mix.

Each scenario drives a fresh card to just before one state-changing command; the loop arms a tear
at write 1, 2, ... until the command completes, and after each tear compares the whole committed
store with the states a clean run goes through.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from applets.runtime import SimulatedCard
from cardkit import tlv
from cardkit.crypto.pin import encode_pin_block
from cardkit.errors import CardTornError

from .kit import CDOL1, CDOL2, TTQ_QPBOC, Issuer, Terminal, apdu, make_card, n12, send

Scenario = Callable[[SimulatedCard, Issuer], bytes]


def _gpo(card: SimulatedCard, issuer: Issuer) -> bytes:
    t = Terminal(card)
    t.select()
    return apdu(0x80, 0xA8, 0, 0, tlv.build(0x83, tlv.build_dol_data(t.pdol, t.values)), 0)


def _qpboc_debit(card: SimulatedCard, issuer: Issuer) -> bytes:
    t = Terminal(card, amount=700, ttq=TTQ_QPBOC)
    t.select()
    return apdu(0x80, 0xA8, 0, 0, tlv.build(0x83, tlv.build_dol_data(t.pdol, t.values)), 0)


def _first_ac(p1: int) -> Scenario:
    def scenario(card: SimulatedCard, issuer: Issuer) -> bytes:
        t = Terminal(card)
        t.start()
        return apdu(0x80, 0xAE, p1, 0, tlv.build_dol_data(CDOL1, t.values), 0)
    return scenario


def _online(card: SimulatedCard, issuer: Issuer) -> Terminal:
    t = Terminal(card)
    t.start()
    t.genac(0x80)
    return t


def _second_ac(card: SimulatedCard, issuer: Issuer) -> bytes:
    t = _online(card, issuer)
    send(card, apdu(0x00, 0x82, 0, 0, issuer.arpc(t)))
    return apdu(0x80, 0xAE, 0x40, 0, tlv.build_dol_data(CDOL2, {**t.values, b"\x8a": b"00"}), 0)


def _failed_issuer_auth(card: SimulatedCard, issuer: Issuer) -> bytes:
    _online(card, issuer)
    return apdu(0x00, 0x82, 0, 0, bytes(10))


def _put_balance(card: SimulatedCard, issuer: Issuer) -> bytes:
    t = _online(card, issuer)
    return issuer.script(t, t.ac, 0xDA, 0x9F, 0x79, n12(4242))


def _card_block(card: SimulatedCard, issuer: Issuer) -> bytes:
    t = _online(card, issuer)
    return issuer.script(t, t.ac, 0x16)


def _wrong_pin(card: SimulatedCard, issuer: Issuer) -> bytes:
    Terminal(card).start()
    return apdu(0x00, 0x20, 0, 0x80, encode_pin_block("9999", format=2).reveal())


def _right_pin(card: SimulatedCard, issuer: Issuer) -> bytes:
    Terminal(card).start()
    return apdu(0x00, 0x20, 0, 0x80, encode_pin_block("1234", format=2).reveal())


SCENARIOS: dict[str, Scenario] = {
    "gpo": _gpo,
    "qpboc-ec-debit": _qpboc_debit,
    "first-ac-tc": _first_ac(0x40),
    "first-ac-arqc": _first_ac(0x80),
    "first-ac-cda": _first_ac(0x50),
    "second-ac": _second_ac,
    "issuer-auth-failed": _failed_issuer_auth,
    "script-put-data": _put_balance,
    "script-card-block": _card_block,
    "verify-wrong": _wrong_pin,
    "verify-right": _right_pin,
}


def _states_of_a_clean_run(dgis: dict[int, bytes], issuer: Issuer, scenario: Scenario) -> tuple[list[dict], int]:
    """Every committed store a clean run passes through (before, each commit), and its write count."""
    card = make_card(dgis)
    cmd = scenario(card, issuer)
    states = [card.store.committed()]
    commit = card.store.commit
    writes = card.store.writes

    def recording_commit() -> None:
        commit()
        states.append(card.store.committed())

    card.store.commit = recording_commit  # type: ignore[method-assign]
    card.transmit(cmd)
    return states, card.store.writes - writes


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_tear_at_every_write(dgis: dict[int, bytes], issuer: Issuer, name: str) -> None:
    scenario = SCENARIOS[name]
    states, writes = _states_of_a_clean_run(dgis, issuer, scenario)
    assert writes >= 2 and len(states) >= 2
    if not name.startswith("verify"):
        assert len(states) == 2, "one command, one store transaction"
    k = 1
    while True:
        card = make_card(dgis)
        cmd = scenario(card, issuer)
        card.arm_tear(k)
        try:
            card.transmit(cmd)
        except CardTornError:
            card.power_on()
            assert card.store.committed() in states, f"{name}: tear at write {k} left a mixed state"
            k += 1
            continue
        card.disarm_tear()
        assert card.store.committed() == states[-1]
        break
    assert k == writes + 1
