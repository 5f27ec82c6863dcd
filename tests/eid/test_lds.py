"""cardkit.eid parsers: the TD1 MRZ, data groups, DER, EF.SOD — and that garbage is an EidError."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardkit import tlv
from cardkit.eid import EidError, mask_citizen_id, parse_sod
from cardkit.eid import _der as der
from cardkit.eid.lds import jpeg_from_dg2, parse_com, parse_dg1, parse_dg11, parse_dg15, parse_mrz_td1
from cardkit.eid.reader import _tlv_size
from cardkit.eid.sod import load_trust, passive_authentication
from cardkit.errors import CardkitError

from . import lds_builder as b

# 9303-5 Appendix A (TD1 specimen), line breaks removed
SPECIMEN = ("I<UTOD231458907<<<<<<<<<<<<<<<"
            "7408122F1204159UTO<<<<<<<<<<<6"
            "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")


def test_td1_specimen_9303_5() -> None:
    mrz = parse_mrz_td1(SPECIMEN)
    assert (mrz.document_code, mrz.issuing_state, mrz.document_number) == ("I", "UTO", "D23145890")
    assert (mrz.surname, mrz.given_names, mrz.sex, mrz.nationality) == ("ERIKSSON", "ANNA MARIA", "F", "UTO")
    assert (mrz.birth_date, mrz.expiry_date, mrz.optional) == (date(1974, 8, 12), date(2012, 4, 15), "")


def test_td1_check_digits() -> None:
    bad = SPECIMEN[:14] + "8" + SPECIMEN[15:]
    with pytest.raises(EidError, match="document number"):
        parse_mrz_td1(bad)
    with pytest.raises(EidError, match="composite"):
        parse_mrz_td1(SPECIMEN[:59] + "0" + SPECIMEN[60:])
    with pytest.raises(EidError, match="90 characters"):
        parse_mrz_td1(SPECIMEN[:89])


def test_td1_long_document_number() -> None:
    # 9303-5 note j: 12-character number, '<' in the check digit place, the rest + cd in optional data
    number = "D23145890123"
    from cardkit.crypto.icao import check_digit

    l1 = ("I<UTO" + number[:9] + "<" + number[9:] + check_digit(number) + "<").ljust(30, "<")
    l2 = "7408122F1204159UTO<<<<<<<<<<<"
    l2 += check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
    mrz = parse_mrz_td1(l1 + l2 + "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")
    assert mrz.document_number == number and mrz.optional == ""


def test_unspecified_sex_and_multi_line_input() -> None:
    text = b.td1("E1", "900307", "340101", sex="<")
    mrz = parse_mrz_td1("\n".join((text[:30], text[30:60], text[60:])))
    assert mrz.sex == "X" and mrz.document_number == "E1"


def test_dg1_dg11_com() -> None:
    assert parse_dg1(b.dg1(b.td1("E12345678", "900307", "340101"))).optional == "110101199003071234"
    details = parse_dg11(b.dg11(full_name="ZHANG<<SAN", address="A<B"))
    assert (details.full_name, details.address, details.personal_number) == ("ZHANG SAN", "A B", "110101199003071234")
    assert [dg.number for dg in parse_com(b.com())] == [1, 2, 11, 15]
    with pytest.raises(EidError, match="template 61"):
        parse_dg1(b.dg11())
    with pytest.raises(EidError, match="5F1F"):
        parse_dg1(tlv.build(0x61, tlv.build(0x5F20, b"x")))


def test_dg2_jpeg_and_not_jpeg() -> None:
    assert jpeg_from_dg2(b.dg2()) == b.JPEG
    jp2 = bytes.fromhex("0000000C6A5020200D0A870A") + bytes(50)
    assert jpeg_from_dg2(b.dg2(jp2)) is None
    with pytest.raises(EidError, match="7F61"):
        jpeg_from_dg2(tlv.build(0x75, tlv.build(0x02, b"\x01")))


def test_dg15_garbage() -> None:
    with pytest.raises(EidError, match="cannot be loaded"):
        parse_dg15(tlv.build(0x6F, b"\x30\x03\x02\x01\x01"))


def test_der_reader() -> None:
    element = der.decode(b.seq(b.integer(-129), b.oid("2.23.136.1.1.1"), b.octets(b"ab")))
    n, oid, octets = element.children()
    assert (n.integer(), oid.oid(), octets.value) == (-129, "2.23.136.1.1.1", b"ab")
    indefinite = der.decode(b"\x30\x80\x02\x01\x05\x00\x00")
    assert indefinite.children()[0].integer() == 5
    for bad, what in ((b"\x30\x05\x02\x01", "overruns"), (b"\x02\x01\x01\x00", "after the element"),
                      (b"\x02\x80\x00\x00", "primitive"), (b"\x1f\x01\x00", "multi-byte")):
        with pytest.raises(EidError, match=what):
            der.decode(bad)


def test_tlv_size() -> None:
    assert _tlv_size(b"\x61\x05", "DG1") == 7
    assert _tlv_size(b"\x7f\x61\x81\x80", "x") == 4 + 0x80
    assert _tlv_size(b"\x75\x82\x01\x00", "DG2") == 4 + 256
    with pytest.raises(EidError, match="malformed length"):
        _tlv_size(b"\x75\x85\x01", "DG2")


def test_mask_citizen_id() -> None:
    assert mask_citizen_id("110101199003071234") == "110101********1234"
    assert mask_citizen_id("12345") == "*****"


def test_sod_without_signed_attributes_and_missing_hash(pki: b.Pki) -> None:
    groups = {1: b.dg1(b.td1("E1", "900307", "340101")), 11: b.dg11()}
    sod = parse_sod(b.sod(groups, pki, signed_attrs=False))
    assert sod.signed_attributes is None and sod.hash_algorithm == "sha256"
    result = passive_authentication(sod, {**groups, 2: b.dg2()}, [pki.csca])
    assert not result.ok and result.altered == (2,) and result.chain_ok is True
    assert passive_authentication(sod, groups).ok


def test_load_trust(pki: b.Pki) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    pem = pki.csca.public_bytes(Encoding.PEM) + pki.ds.public_bytes(Encoding.PEM)
    assert len(load_trust(pem)) == 2
    assert load_trust(pki.csca.public_bytes(Encoding.DER)) == [pki.csca]
    with pytest.raises(EidError, match="no usable X.509"):
        load_trust(b"hello")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_is_a_cardkit_error(data: bytes) -> None:
    for parse in (parse_sod, parse_dg1, parse_dg11, parse_dg15, jpeg_from_dg2, parse_com):
        try:
            parse(data)
        except CardkitError:
            pass


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2000), st.integers(0, 255))
def test_a_damaged_sod_is_an_error_or_a_failed_check(pos: int, flip: int) -> None:
    pki = _PKI
    groups = {1: b.dg1(b.td1("E1", "900307", "340101"))}
    raw = bytearray(b.sod(groups, pki))
    raw[pos % len(raw)] ^= flip or 1
    try:
        sod = parse_sod(bytes(raw))
    except CardkitError:
        return
    result = passive_authentication(sod, groups, [pki.csca])
    assert isinstance(result.ok, bool)


_PKI = b.make_pki()
