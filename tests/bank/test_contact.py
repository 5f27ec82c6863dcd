"""Contact EMV flow: SELECT, GPO, records, GET DATA, GENERATE AC, issuer authentication, DDA, CDA, log.

Cryptograms are checked by the test issuer (kit.Issuer) from the IMKs, signatures through the
terminal's ODA chain in cardkit.crypto.oda: the card is judged from the outside.
"""

from __future__ import annotations

import pytest

from applets.bank import DEBIT_AID, BankApplet
from applets.runtime import SimulatedCard
from cardkit import tlv
from cardkit.crypto import oda

from .kit import AIP, LOG_FORMAT, Issuer, Pki, Terminal, apdu, make_card, n12, recover_icc, risk_tlv, send

TC, ARQC, AAC = 0x40, 0x80, 0x00


def _bank(card: SimulatedCard) -> BankApplet:
    app = card.applet(DEBIT_AID)
    assert isinstance(app, BankApplet)
    return app


def test_select_answers_the_fci_of_dgi_9102(card: SimulatedCard, dgis: dict[int, bytes]) -> None:
    data, sw = send(card, apdu(0x00, 0xA4, 0x04, 0x00, DEBIT_AID, 0))
    assert sw == 0x9000
    assert data == tlv.build(0x6F, tlv.build(0x84, DEBIT_AID) + tlv.build(0xA5, dgis[0x9102]))


def test_gpo_format_1_and_atc(card: SimulatedCard) -> None:
    t = Terminal(card)
    assert t.select() == 0x9000
    assert t.gpo() == 0x9000
    assert t.response[0] == 0x80 and t.aip == AIP
    assert _bank(card).state().atc == 1
    assert t.gpo() == 0x6985  # second GPO in one selection
    assert _bank(card).state().atc == 1


@pytest.mark.parametrize(("command", "sw"), [
    ("80A8000002830000", 0x6700),  # PDOL data of the wrong length
    ("80A80000", 0x6700),  # no data at all
    ("80A80000038301", 0x6700),  # truncated TLV
    ("80A8000002840000", 0x6A80),  # not the 83 template
    ("80A8010002830000", 0x6A86),
    ("00A8000002830000", 0x6E00),  # wrong class
    ("84A8000002830000", 0x6882),  # secure messaging where none is defined
    ("80AE4000", 0x6985),  # GENERATE AC before GPO
    ("00820000", 0x6700),
    ("0082000000" + "00" * 0, 0x6700),
    ("008200000A" + "00" * 10, 0x6985),  # EXTERNAL AUTHENTICATE before any ARQC
    ("00200080082412 34FFFFFFFFFF", 0x6985),  # VERIFY before GPO
    ("841E000008" + "00" * 8, 0x6985),  # script before GENERATE AC
    ("80EE0000", 0x6D00),
])
def test_malformed_and_out_of_order(card: SimulatedCard, command: str, sw: int) -> None:
    assert Terminal(card).select() == 0x9000
    before = card.store.committed()
    assert send(card, command)[1] == sw
    assert card.store.committed() == before


def test_read_records_and_errors(card: SimulatedCard, dgis: dict[int, bytes]) -> None:
    t = Terminal(card)
    t.start()
    records = t.read_records()
    assert records[(2, 1)] == dgis[0x0201]
    assert send(card, apdu(0x00, 0xB2, 4, 3 << 3 | 4, le=0))[1] == 0x6A83
    assert send(card, apdu(0x00, 0xB2, 1, 9 << 3 | 4, le=0))[1] == 0x6A82
    assert send(card, apdu(0x00, 0xB2, 1, 3 << 3, le=0))[1] == 0x6A86
    assert send(card, apdu(0x00, 0xB2, 0, 3 << 3 | 4, le=0))[1] == 0x6A86
    assert send(card, apdu(0x00, 0xB2, 1, 11 << 3 | 4, le=0))[1] == 0x6A83  # empty log


@pytest.mark.parametrize(("tag", "value"), [
    ("9F36", "0000"), ("9F13", "0000"), ("9F17", "03"), ("9F79", "000000020000"), ("9F77", "000000100000"),
    ("9F78", "000000050000"), ("9F6D", "000000000000"), ("9F4D", "0B0A"), ("9F4F", LOG_FORMAT.hex().upper()),
    ("9F14", "02"), ("9F23", "04"), ("9F51", "0156"),
])
def test_get_data(card: SimulatedCard, tag: str, value: str) -> None:
    Terminal(card).select()
    data, sw = send(card, f"80CA{tag}00")
    assert sw == 0x9000 and data == tlv.build(bytes.fromhex(tag), bytes.fromhex(value))


def test_get_data_refusals(card: SimulatedCard) -> None:
    Terminal(card).select()
    assert send(card, "80CA9F4E00")[1] == 0x6A88
    assert send(card, "00CA9F3600")[1] == 0x6E00
    assert send(card, "80CA9F360100")[1] == 0x6700


def test_offline_tc_verifies_and_is_logged(card: SimulatedCard, issuer: Issuer) -> None:
    t = Terminal(card, amount=1234)
    t.start()
    assert t.genac(TC) == 0x9000
    assert t.cid == TC
    assert t.ac == issuer.expected_ac(t)
    assert len(t.iad) == 18 and t.iad[:4] == bytes.fromhex("07010103") and t.iad[7:10] == bytes.fromhex("0A0100")
    assert t.iad[10:16] == n12(20000)
    assert t.cvr[0] == 0x90  # second AC not requested, TC in the first
    assert t.genac(TC) == 0x6985  # after a TC the transaction is over
    log, sw = send(card, apdu(0x00, 0xB2, 1, 11 << 3 | 4, le=0))
    assert sw == 0x9000
    assert log == tlv.build_dol_data(LOG_FORMAT, {**t.values, b"\x9f\x36": t.atc})
    assert _bank(card).state().offline_count == 1


def test_online_with_external_authenticate(card: SimulatedCard, issuer: Issuer) -> None:
    t = Terminal(card)
    t.start()
    assert t.genac(ARQC) == 0x9000 and t.cid == ARQC
    assert t.ac == issuer.expected_ac(t)
    assert t.cvr[0] == 0xA0 and _bank(card).state().online_pending
    arqc = t.ac
    assert send(card, apdu(0x00, 0x82, 0, 0, issuer.arpc(t)))[1] == 0x9000
    assert send(card, apdu(0x00, 0x82, 0, 0, issuer.arpc(t)))[1] == 0x6985  # once per transaction
    assert t.genac(TC, second=True, T8A=b"00") == 0x9000 and t.cid == TC
    assert t.ac == issuer.expected_ac(t)
    assert t.cvr[0] == 0x60  # TC in the second, ARQC in the first, issuer authentication passed
    assert t.ac != arqc
    st = _bank(card).state()
    assert st.last_online_atc == 1 and st.offline_count == 0 and not st.online_pending
    assert len(st.log) == 1


def test_issuer_authentication_inside_cdol2(card: SimulatedCard, issuer: Issuer) -> None:
    t = Terminal(card)
    t.start()
    t.genac(ARQC)
    assert t.genac(TC, second=True, T8A=b"00", T91=issuer.arpc(t)) == 0x9000 and t.cid == TC
    assert _bank(card).state().last_online_atc == 1


def test_issuer_authentication_failure(card: SimulatedCard, issuer: Issuer) -> None:
    t = Terminal(card)
    t.start()
    t.genac(ARQC)
    bad = bytearray(issuer.arpc(t))
    bad[0] ^= 0xFF
    assert send(card, apdu(0x00, 0x82, 0, 0, bytes(bad)))[1] == 0x6300
    assert _bank(card).state().issuer_auth_failed
    assert t.genac(TC, second=True, T8A=b"00") == 0x9000 and t.cid == AAC  # 9F56: authentication required
    assert t.cvr[0] & 0x08 and t.ac == issuer.expected_ac(t)


@pytest.mark.parametrize(("arc", "cid"), [(b"00", TC), (b"11", TC), (b"Y3", TC), (b"05", AAC), (b"Z3", AAC)])
def test_second_ac_by_authorisation_response_code(card_with: object, issuer: Issuer, arc: bytes, cid: int) -> None:
    card = card_with(risk=risk_tlv(T9F14=b"\x02", T9F23=b"\x04", T9F56=b"\x00"))  # type: ignore[operator]
    t = Terminal(card)
    t.start()
    t.genac(ARQC)
    assert t.genac(TC, second=True, T8A=arc) == 0x9000 and t.cid == cid
    assert bool(t.cvr[0] & 0x01) == (arc in (b"Y3", b"Z3"))


def test_second_ac_asking_arqc_or_aac(card: SimulatedCard) -> None:
    t = Terminal(card)
    t.start()
    t.genac(ARQC)
    assert t.genac(ARQC, second=True, T8A=b"00") == 0x6A86
    assert t.genac(AAC, second=True, T8A=b"00") == 0x9000 and t.cid == AAC


def test_dda_internal_authenticate(card: SimulatedCard, pki: Pki) -> None:
    t = Terminal(card)
    t.start()
    icc = recover_icc(pki, t, t.read_records())
    un = bytes.fromhex("01020304")
    data, sw = send(card, apdu(0x00, 0x88, 0, 0, un, 0))
    assert sw == 0x9000
    recovered = oda.verify_dynamic_data(icc, tlv.decode(data)[0].value, un)
    assert len(recovered.icc_dynamic_number) == 8
    assert send(card, apdu(0x00, 0x88, 0, 0, un + b"\x00", 0))[1] == 0x6700  # DDOL asks 4 bytes
    t.genac(TC)
    assert t.cvr[1] & 0x04  # DDA performed, card view


def test_cda_on_both_generate_acs(card: SimulatedCard, pki: Pki, issuer: Issuer) -> None:
    t = Terminal(card)
    t.start()
    icc = recover_icc(pki, t, t.read_records())
    assert t.genac(ARQC | 0x10) == 0x9000
    first = oda.verify_cda(icc, t.response, un=t.values[b"\x9f\x37"], pdol_data=t.pdol_data,
                           cdol1_data=t.cdol_data[0])
    t.ac = first.ac
    assert first.cid == ARQC and first.ac == issuer.expected_ac(t)
    send(card, apdu(0x00, 0x82, 0, 0, issuer.arpc(t)))
    assert t.genac(TC | 0x10, second=True, T8A=b"00", T9F37=bytes.fromhex("A1B2C3D4")) == 0x9000
    second = oda.verify_cda(icc, t.response, un=bytes.fromhex("A1B2C3D4"), pdol_data=t.pdol_data,
                            cdol1_data=t.cdol_data[0], cdol2_data=t.cdol_data[1])
    t.ac = second.ac
    assert second.cid == TC and second.ac == issuer.expected_ac(t)


def test_cda_is_not_given_on_an_aac(card: SimulatedCard, issuer: Issuer) -> None:
    t = Terminal(card)
    t.start()
    assert t.genac(AAC | 0x10) == 0x9000
    assert t.response[0] == 0x80 and t.cid == AAC and t.ac == issuer.expected_ac(t)


def test_generate_ac_parameters(card: SimulatedCard) -> None:
    t = Terminal(card)
    t.start()
    assert send(card, apdu(0x80, 0xAE, 0xC0, 0, bytes(52)))[1] == 0x6A86
    assert send(card, apdu(0x80, 0xAE, 0x41, 0, bytes(52)))[1] == 0x6A86
    assert send(card, apdu(0x80, 0xAE, 0x40, 1, bytes(52)))[1] == 0x6A86
    assert send(card, apdu(0x80, 0xAE, 0x40, 0, bytes(51)))[1] == 0x6700
    assert send(card, apdu(0x80, 0xAE, 0x40, 0, bytes(53)))[1] == 0x6700
    assert t.genac(TC) == 0x9000


def test_new_selection_starts_a_new_transaction(card: SimulatedCard) -> None:
    t = Terminal(card)
    t.start()
    t.genac(TC)
    t.start()
    assert _bank(card).state().atc == 2


def test_contactless_power_on_answers_the_fci_of_dgi_9103(dgis: dict[int, bytes]) -> None:
    pdol = bytes.fromhex("9F66049F02065F2A029F3704")
    contactless = tlv.build(0x50, b"PBOC QUICKPASS") + tlv.build(0x9F38, pdol)
    card = make_card({**dgis, 0x9103: contactless})
    card.power_on(contactless=True)
    t = Terminal(card, ttq=bytes.fromhex("30000000"))
    assert t.select() == 0x9000 and t.pdol == pdol
    assert t.gpo() == 0x9000 and t.cid == TC
    card.power_on()
    t = Terminal(card)
    assert t.select() == 0x9000 and t.pdol != pdol


def test_exhausted_atc_refuses_gpo(card_with: object) -> None:
    card = card_with(counters=risk_tlv(T9F36=b"\xff\xfe"))  # type: ignore[operator]
    t = Terminal(card)
    t.start()
    assert _bank(card).state().atc == 0xFFFF
    assert t.select() == 0x9000
    before = card.store.committed()
    assert t.gpo() == 0x6985
    assert card.store.committed() == before
