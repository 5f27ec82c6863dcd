"""Personalization: every DGI validated with an error naming it; unpersonalized behaviour; installing."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from applets.bank import CREDIT_AID, DEBIT_AID, BankApplet, PpseApplet, PseApplet, install_bank, parse_dgis
from applets.runtime import SimulatedCard, new_blank_card
from cardkit import tlv
from cardkit.crypto.pin import encode_pin_block
from cardkit.errors import ProfileError

from .kit import AIP, IMK_AC, Pki, apdu, make_dgis, risk_tlv, send


def _error(dgis: dict[int, bytes]) -> str:
    with pytest.raises(ProfileError) as info:
        parse_dgis(dgis)
    return str(info.value)


def test_valid_dgis_parse(dgis: dict[int, bytes]) -> None:
    p = parse_dgis(dgis)
    assert p.label == "PBOC DEBIT" and p.priority == 1
    assert p.gpo_contact.aip == AIP and p.icc_key is not None
    assert p.risk.lower_limit == 2 and p.risk.upper_limit == 4 and p.counters.ec_balance == 20000
    assert p.pin_limit == 3 and p.pin_tries == 3


@pytest.mark.parametrize("dgi", [0x9102, 0x9104, 0x8000, 0x9000])
def test_required_dgi_missing(dgis: dict[int, bytes], dgi: int) -> None:
    broken = dict(dgis)
    del broken[dgi]
    assert f"DGI {dgi:04X}" in _error(broken)


def test_kcv_checked_against_keys(dgis: dict[int, bytes]) -> None:
    broken = {**dgis, 0x9000: dgis[0x9000][:3] + bytes(3) + dgis[0x9000][6:]}
    msg = _error(broken)
    assert "DGI 9000" in msg and "SMI" in msg
    assert dgis[0x8000][16:32].hex() not in msg.lower()


def test_key_bytes_never_in_errors_or_repr(dgis: dict[int, bytes]) -> None:
    p = parse_dgis(dgis)
    text = repr(p)
    for secret in (dgis[0x8000][:16], dgis[0x8000][16:32], dgis[0x8010], dgis[0x8205]):
        assert secret.hex() not in text.lower() and secret.hex().upper() not in text
    assert IMK_AC.hex() not in text.lower()


@pytest.mark.parametrize("dgi", [0x8201, 0x8202, 0x8203])
def test_rsa_crt_parts_checked(dgis: dict[int, bytes], dgi: int) -> None:
    value = int.from_bytes(dgis[dgi], "big") + 2
    assert "DGI 8201-8205" in _error({**dgis, dgi: value.to_bytes(len(dgis[dgi]) + 1, "big")})


def test_rsa_incomplete(dgis: dict[int, bytes]) -> None:
    broken = dict(dgis)
    del broken[0x8204]
    assert "missing 8204" in _error(broken)


def test_rsa_key_must_match_certificate_remainder(pki: Pki, dgis: dict[int, bytes]) -> None:
    other = make_dgis(Pki(pki.ca, pki.issuer_key, pki.issuer_cert, rsa.generate_private_key(3, 1024)))
    broken = {**dgis, **{d: other[d] for d in (0x8201, 0x8202, 0x8203, 0x8204, 0x8205)}}
    assert "9F48" in _error(broken)


def test_aip_with_dda_needs_rsa_key(dgis: dict[int, bytes]) -> None:
    broken = {d: v for d, v in dgis.items() if not 0x8201 <= d <= 0x8205}
    assert "DGI 9104" in _error(broken)


def test_afl_must_name_existing_records(dgis: dict[int, bytes]) -> None:
    assert "DGI 9104" in _error({**dgis, 0x9104: AIP + bytes.fromhex("18010400")})
    assert "DGI 9105" in _error({**dgis, 0x9105: AIP + bytes.fromhex("180103")})


@pytest.mark.parametrize(("dgi", "value", "words"), [
    (0x0D02, tlv.build(0x70, b"\x5a\x01\x00"), "reserved"),
    (0x0B01, tlv.build(0x70, b"\x5a\x01\x00"), "reserved"),  # the log SFI
    (0x0401, b"\x5a\x01\x00", "'70' template"),
    (0x0401, b"\x70\x05\x00", "not BER-TLV"),
    (0x2001, tlv.build(0x70, b""), "unknown DGI"),
    (0x7FFF, b"", "unknown DGI"),
])
def test_bad_record_dgis(dgis: dict[int, bytes], dgi: int, value: bytes, words: str) -> None:
    msg = _error({**dgis, dgi: value})
    assert f"DGI {dgi:04X}" in msg and words in msg


@pytest.mark.parametrize(("risk", "words"), [
    (risk_tlv(T9F99=b"\x00"), "9F99"),
    (risk_tlv(T9F14=b"\x00\x01"), "9F14 must be 1 bytes"),
    (risk_tlv(T9F14=b"\x05", T9F23=b"\x04"), "exceeds the upper"),
    (risk_tlv(T9F77=bytes.fromhex("00000000001A")), "not a BCD amount"),
    (risk_tlv(T9F4D=b"\x0d\x0a"), "9F4D"),
    (risk_tlv(T9F10=b"\x06\x01\x01"), "9F10"),
])
def test_bad_risk_dgi(dgis: dict[int, bytes], risk: bytes, words: str) -> None:
    msg = _error({**dgis, 0x0D01: risk})
    assert "DGI 0D01" in msg and words in msg


def test_bad_counters(dgis: dict[int, bytes]) -> None:
    assert "exceeds the EC balance limit" in _error({**dgis, 0x0E01: risk_tlv(T9F79=bytes.fromhex("000010000000"))})
    assert "ahead of the ATC" in _error({**dgis, 0x0E01: risk_tlv(T9F13=b"\x00\x05")})


def test_pin_block_must_be_format_2(dgis: dict[int, bytes]) -> None:
    msg = _error({**dgis, 0x8010: encode_pin_block("1234", "6228480000000000017", format=0).reveal()})
    assert "DGI 8010" in msg and "1234" not in msg
    assert "DGI 9010" in _error({**dgis, 0x9010: b"\x03\x04"})


def test_cdol1_must_carry_the_ac_data(dgis: dict[int, bytes]) -> None:
    rec = dgis[0x0201].replace(bytes.fromhex("9F3704"), bytes.fromhex("9F3708"), 1)
    assert "CDOL1" in _error({**dgis, 0x0201: rec})


def test_unpersonalized_application() -> None:
    app = BankApplet(DEBIT_AID)
    card = SimulatedCard(applets=[app], strict=True)
    card.power_on()
    data, sw = send(card, apdu(0x00, 0xA4, 0x04, 0x00, DEBIT_AID, 0))
    assert sw == 0x9000 and data == tlv.build(0x6F, tlv.build(0x84, DEBIT_AID))
    assert send(card, "80A8000002830000")[1] == 0x6985
    assert send(card, "00B2010C00")[1] == 0x6985
    assert not app.personalized


def test_personalize_replaces_everything(card: SimulatedCard, dgis: dict[int, bytes]) -> None:
    app = card.applet(DEBIT_AID)
    assert isinstance(app, BankApplet)
    with card.store.transaction():
        card.store.set(f"app/{DEBIT_AID.hex().upper()}/dgi/0401", b"stale")
    app.personalize({**dgis, 0x0E01: risk_tlv(T9F36=b"\x00\x10")})
    assert app.state().atc == 0x10
    assert f"app/{DEBIT_AID.hex().upper()}/dgi/0401" not in card.store


def test_install_bank_lists_everywhere(dgis: dict[int, bytes]) -> None:
    card = new_blank_card(serial="1234")
    fci = tlv.build(0x50, b"PBOC CREDIT") + tlv.build(0x87, b"\x02") + dgis[0x9102][15:]
    debit, credit = install_bank(card, {DEBIT_AID: dgis, CREDIT_AID: {**dgis, 0x9102: fci}})
    assert (debit.label, debit.priority, credit.label, credit.priority) == ("PBOC DEBIT", 1, "PBOC CREDIT", 2)
    pse = card.applet(b"1PAY.SYS.DDF01")
    ppse = card.applet(b"2PAY.SYS.DDF01")
    assert isinstance(pse, PseApplet) and isinstance(ppse, PpseApplet)
    assert [e.aid for e in pse.entries] == [DEBIT_AID, CREDIT_AID] == [e.aid for e in ppse.entries]
    card.power_on()
    records = [send(card, apdu(0x00, 0xB2, r, 30 << 3 | 4, le=0)) for r in (1, 2)]
    assert all(sw == 0x9000 for _, sw in records)
    assert [tlv.find(tlv.decode(d), 0x4F).value for d, _ in records] == [DEBIT_AID, CREDIT_AID]  # type: ignore[union-attr]


def test_install_bank_validates_before_touching_the_card(dgis: dict[int, bytes]) -> None:
    card = new_blank_card(serial="1234")
    before, applets = card.store.committed(), card.applets
    bad = dict(dgis)
    del bad[0x9000]
    with pytest.raises(ProfileError, match="A000000333010102.*DGI 9000"):
        install_bank(card, {DEBIT_AID: dgis, CREDIT_AID: bad})
    assert card.store.committed() == before and card.applets == applets
    install_bank(card, {DEBIT_AID: dgis})
    with pytest.raises(ValueError, match="already"):
        install_bank(card, {DEBIT_AID: dgis})
