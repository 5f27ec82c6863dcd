"""qPBOC GPO: electronic cash offline approval with fDDA, online and decline answers, EC debit."""

from __future__ import annotations

import pytest

from applets.bank import DEBIT_AID, BankApplet
from applets.runtime import SimulatedCard
from cardkit import tlv
from cardkit.crypto import oda

from .kit import LOG_FORMAT, PDOL, TTQ_QPBOC, TTQ_QPBOC_ONLINE, Issuer, Pki, Terminal, apdu, n12, recover_icc, send

TC, ARQC, AAC = 0x40, 0x80, 0x00


def _app(card: SimulatedCard) -> BankApplet:
    app = card.applet(DEBIT_AID)
    assert isinstance(app, BankApplet)
    return app


def _qpboc(card: SimulatedCard, amount: int, ttq: bytes = TTQ_QPBOC, **values: bytes) -> Terminal:
    t = Terminal(card, amount=amount, ttq=ttq)
    for name, value in values.items():
        t.values[bytes.fromhex(name[1:])] = value
    assert t.select() == 0x9000
    assert t.gpo() == 0x9000
    return t


def test_offline_approval_debits_and_signs(card: SimulatedCard, pki: Pki, issuer: Issuer) -> None:
    t = _qpboc(card, 1500)
    assert t.cid == TC
    assert t.ac == issuer.expected_ac(t)
    flat = tlv.flatten(t.response)
    card_auth = flat[b"\x9f\x69"]
    assert card_auth[0] == 0x01 and len(card_auth) == 7
    icc = recover_icc(pki, t, t.read_records())
    oda.verify_fdda(icc, flat[b"\x9f\x4b"], un=t.values[b"\x9f\x37"], amount=n12(1500), currency=b"\x01\x56",
                    card_auth_data=card_auth)
    assert flat[b"\x57"][:3] == bytes.fromhex("622848") and flat[b"\x5f\x34"] == b"\x01"
    assert t.iad[10:16] == n12(20000 - 1500)  # the balance after this transaction
    st = _app(card).state()
    assert st.ec_balance == 18500 and st.atc == 1
    log = send(card, apdu(0x00, 0xB2, 1, 11 << 3 | 4, le=0))[0]
    sent = {tag: t.values[tag] for tag, _ in tlv.parse_dol(PDOL)}  # the card only knows the PDOL data
    assert log == tlv.build_dol_data(LOG_FORMAT, {**sent, b"\x9f\x36": t.atc})
    assert send(card, "80CA9F7900")[0] == tlv.build(0x9F79, n12(18500))
    assert send(card, apdu(0x80, 0xAE, 0x40, 0, bytes(52)))[1] == 0x6985  # no GENERATE AC after qPBOC


@pytest.mark.parametrize(("amount", "ttq", "extra", "cid"), [
    (20001, TTQ_QPBOC, {}, ARQC),  # more than the balance
    (50001, TTQ_QPBOC, {}, ARQC),  # over the single transaction limit 9F78
    (100, TTQ_QPBOC_ONLINE, {}, ARQC),  # the reader wants a cryptogram online
    (100, TTQ_QPBOC, {"T5F2A": b"\x09\x78"}, ARQC),  # not the application currency
    (20001, bytes.fromhex("2C000000"), {}, AAC),  # offline-only reader, insufficient balance
])
def test_not_offline(card: SimulatedCard, issuer: Issuer, amount: int, ttq: bytes, extra: dict[str, bytes],
                     cid: int) -> None:
    t = _qpboc(card, amount, ttq, **extra)
    assert t.cid == cid and t.ac == issuer.expected_ac(t)
    flat = tlv.flatten(t.response)
    assert b"\x9f\x4b" not in flat
    st = _app(card).state()
    assert st.ec_balance == 20000 and st.atc == 1 and st.log == ()


def test_exact_balance_then_insufficient(card: SimulatedCard) -> None:
    assert _qpboc(card, 20000).cid == TC
    assert _app(card).state().ec_balance == 0
    assert _qpboc(card, 1).cid == ARQC


def test_without_icc_key_no_offline_approval(card_with: object, issuer: Issuer) -> None:
    card = card_with(rsa_key=False)  # type: ignore[operator]
    t = _qpboc(card, 100)
    assert t.cid == ARQC and t.ac == issuer.expected_ac(t)


def test_contact_terminal_with_zero_ttq_takes_the_contact_path(card: SimulatedCard) -> None:
    t = Terminal(card, ttq=bytes(4))
    t.start()
    assert t.response[0] == 0x80


def test_bad_amount_is_wrong_data(card: SimulatedCard) -> None:
    t = Terminal(card, ttq=TTQ_QPBOC)
    t.values[b"\x9f\x02"] = bytes.fromhex("00000000AB00")
    t.select()
    before = card.store.committed()
    assert t.gpo() == 0x6A80
    assert card.store.committed() == before
