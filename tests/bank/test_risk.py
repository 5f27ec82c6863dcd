"""Card risk management matrix (docs/bank.md): what the first and second GENERATE AC give, and why.

Each case drives the card to a state through APDUs (not by writing the store), then asks for a TC
and looks at the cryptogram type and the CVR bits the issuer will read.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from applets.bank import DEBIT_AID, BankApplet
from applets.runtime import SimulatedCard

from .kit import Issuer, Terminal, apdu, risk_tlv, send

TC, ARQC, AAC = 0x40, 0x80, 0x00
CardWith = Callable[..., SimulatedCard]


def _risk(ada: str = "0000", lower: int = 2, upper: int = 4, ia: str = "80") -> bytes:
    return risk_tlv(T9F14=bytes((lower,)), T9F23=bytes((upper,)), T9F52=bytes.fromhex(ada), T9F56=bytes.fromhex(ia))


def _state(card: SimulatedCard) -> BankApplet:
    app = card.applet(DEBIT_AID)
    assert isinstance(app, BankApplet)
    return app


def _offline(card: SimulatedCard, n: int = 1) -> list[int]:
    cids = []
    for _ in range(n):
        t = Terminal(card)
        t.start()
        assert t.genac(TC) == 0x9000
        cids.append(t.cid)
    return cids


def _online(card: SimulatedCard, issuer: Issuer, *, arpc_ok: bool = True, second: bool = True) -> Terminal:
    t = Terminal(card)
    t.start()
    t.genac(ARQC)
    arpc = bytearray(issuer.arpc(t))
    if not arpc_ok:
        arpc[0] ^= 1
    send(card, apdu(0x00, 0x82, 0, 0, bytes(arpc)))
    if second:
        t.genac(TC, second=True, T8A=b"00")
    return t


def test_new_card_goes_online_when_the_ada_says_so(card_with: CardWith, issuer: Issuer) -> None:
    card = card_with(risk=_risk(ada="1000"))
    t = Terminal(card)
    t.start()
    t.genac(TC)
    assert t.cid == ARQC and t.cvr[2] & 0x80  # new card
    t.genac(TC, second=True, T8A=b"00")  # no issuer authentication: still a new card afterwards
    assert _state(card).state().last_online_atc == 0
    _online(card, issuer)
    assert _state(card).state().last_online_atc == 2
    t = Terminal(card)
    t.start()
    t.genac(TC)
    assert t.cid == TC and not t.cvr[2] & 0x80


def test_new_card_offline_without_the_ada_bit(card: SimulatedCard) -> None:
    assert _offline(card) == [TC]


def test_lower_consecutive_offline_limit(card_with: CardWith, issuer: Issuer) -> None:
    card = card_with(risk=_risk(lower=2, upper=4))
    assert _offline(card, 3) == [TC, TC, ARQC]
    t = Terminal(card)
    t.start()
    t.genac(TC)
    assert t.cvr[2] & 0x20 and not t.cvr[2] & 0x10  # lower exceeded, upper not yet
    _online(card, issuer)  # a successful online transaction resets the counter
    assert _state(card).state().offline_count == 0
    assert _offline(card, 1) == [TC]


def test_upper_limit_with_terminal_unable_to_go_online(card_with: CardWith) -> None:
    card = card_with(risk=_risk(lower=0, upper=1, ia="00"))
    cids = []
    for _ in range(3):
        t = Terminal(card)
        t.start()
        t.genac(TC)
        assert t.cid == ARQC  # lower limit 0: always online first
        t.genac(TC, second=True, T8A=b"Y3")
        cids.append(t.cid)
        assert t.cvr[0] & 0x01  # unable to go online
    assert cids == [TC, AAC, AAC]  # the second offline approval would exceed 9F23
    assert t.cvr[2] & 0x10


def test_last_online_not_completed_forces_online(card: SimulatedCard, issuer: Issuer) -> None:
    t = Terminal(card)
    t.start()
    t.genac(ARQC)  # the terminal never sends the second GENERATE AC
    t = Terminal(card)
    t.start()
    t.genac(TC)
    assert t.cid == ARQC and t.cvr[1] & 0x01
    send(card, apdu(0x00, 0x82, 0, 0, issuer.arpc(t)))
    t.genac(TC, second=True, T8A=b"00")
    assert not _state(card).state().online_pending
    assert _offline(card) == [TC]


def test_issuer_authentication_failed_goes_online_next_time(card_with: CardWith, issuer: Issuer) -> None:
    card = card_with(risk=_risk(ada="8000"))
    t = _online(card, issuer, arpc_ok=False)
    assert t.cid == AAC
    t = Terminal(card)
    t.start()
    t.genac(TC)
    assert t.cid == ARQC and t.cvr[2] & 0x40  # issuer authentication failed on the last online
    send(card, apdu(0x00, 0x82, 0, 0, issuer.arpc(t)))
    t.genac(TC, second=True, T8A=b"00")
    assert t.cid == TC and not _state(card).state().issuer_auth_failed
    assert _offline(card) == [TC]


def test_failed_issuer_authentication_without_ada_stays_offline(card_with: CardWith, issuer: Issuer) -> None:
    card = card_with(risk=_risk(ada="0000"))
    _online(card, issuer, arpc_ok=False)
    assert _offline(card) == [TC]


def test_issuer_authentication_not_performed_declines_by_ada(card_with: CardWith) -> None:
    card = card_with(risk=_risk(ada="4000", ia="00"))
    t = Terminal(card)
    t.start()
    t.genac(ARQC)
    t.genac(TC, second=True, T8A=b"00")
    assert t.cid == AAC


def test_issuer_authentication_failed_declines_by_ada_even_if_not_required(card_with: CardWith,
                                                                          issuer: Issuer) -> None:
    card = card_with(risk=_risk(ada="2000", ia="00"))
    assert _online(card, issuer, arpc_ok=False).cid == AAC
    card = card_with(risk=_risk(ada="0000", ia="00"))
    assert _online(card, issuer, arpc_ok=False).cid == TC


def _exhaust_pin(card: SimulatedCard) -> Terminal:
    t = Terminal(card)
    t.start()
    wrong = bytes.fromhex("249999FFFFFFFFFF")
    sws = [send(card, apdu(0x00, 0x20, 0, 0x80, wrong))[1] for _ in range(4)]
    assert sws == [0x63C2, 0x63C1, 0x63C0, 0x6983]
    return t


@pytest.mark.parametrize(("ada", "cid"), [("0000", TC), ("0800", ARQC), ("0400", AAC), ("0C00", AAC)])
def test_pin_try_limit_exceeded(card_with: CardWith, ada: str, cid: int) -> None:
    card = card_with(risk=_risk(ada=ada))
    t = _exhaust_pin(card)
    t.genac(TC)
    assert t.cid == cid
    assert t.cvr[1] & 0x02 and t.cvr[0] & 0x06 == 0x06  # limit exceeded; PIN performed and failed
    t = Terminal(card)
    t.start()
    t.genac(TC)
    assert t.cid == cid  # "on this or a previous transaction"


def test_pin_try_limit_exceeded_blocks_the_application_by_ada(card_with: CardWith) -> None:
    card = card_with(risk=_risk(ada="0200"))
    t = _exhaust_pin(card)
    t.genac(TC)
    assert t.cid == AAC
    assert _state(card).state().blocked
    t = Terminal(card)
    assert t.select() == 0x6283
    assert t.gpo() == 0x6985


def test_terminal_asking_aac_or_arqc_is_never_upgraded(card: SimulatedCard) -> None:
    for asked in (AAC, ARQC):
        t = Terminal(card)
        t.start()
        t.genac(asked)
        assert t.cid == asked
