"""Offline data authentication (cardkit.crypto.oda) against EMV 4.4 Book 2 §5-§6.

Known answers come from tests/vectors/oda_emvtools.txt (emv-tools data, scheme TEST CAPKs). The
rest runs on TEST keys generated once per module. Certificates for the failure cases are forged
here by hand-concatenating the fields at the offsets of Book 2 Tables 7, 13, 14 and 17, so the
layout is checked independently of the ``construct`` declarations in the library.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from cardkit import tlv
from cardkit.crypto import oda
from cardkit.crypto.oda import OdaError, OdaMethod, OdaReason
from cardkit.crypto.oda._rsa import sign as raw_sign
from tests.crypto.vectors import Vector, load

TODAY = date(2026, 5, 1)
PAN = "6212345678901234567"  # 19 digits, cn-padded to 10 bytes in 5A
PAN_5A = bytes.fromhex(PAN + "F")
BIN = "621234"
CA_INDEX = 0xF1


def _d(yymmdd: str) -> date:
    return date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:]))


def _err(fn: object, *args: object, **kwargs: object) -> OdaError:
    with pytest.raises(OdaError) as info:
        fn(*args, **kwargs)  # type: ignore[operator]
    return info.value


# ---------------------------------------------------------------------------------------------
# known answers


VECTORS = {v.name: v for v in load("oda_emvtools.txt")}


def _capk(v: Vector) -> oda.Capk:
    return oda.Capk(v.h("rid"), int(v["index"], 16), v.h("modulus"), v.h("exponent"), v.h("checksum"))


def _issuer(v: Vector) -> oda.RecoveredIssuerKey:
    return oda.recover_issuer_key(_capk(v), v.h("cert"), v.h("rem"), v.h("exp"), pan=v.h("pan"), today=_d(v["today"]))


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_kat_capk_checksum(name: str) -> None:
    v = VECTORS[name]
    capk = _capk(v)
    capk.verify()
    assert capk.computed_checksum() == v.h("checksum")


def test_kat_issuer_certificate_layout_byte_by_byte() -> None:
    """Book 2 Table 13 offsets, read straight from the recovered block."""
    v = VECTORS["sda_vsdc01"]
    n = int.from_bytes(v.h("modulus"), "big")
    block = pow(int.from_bytes(v.h("cert"), "big"), 3, n).to_bytes(len(v.h("modulus")), "big")
    n_ca = len(block)
    assert block[0] == 0x6A  # recovered data header
    assert block[1] == 0x02  # certificate format
    assert block[2:6].hex().upper() == v["issuer_id"] + "FF"  # issuer identifier, F-padded
    assert block[6:8] == v.h("issuer_expiry")  # MMYY
    assert block[8:11] == v.h("issuer_serial")
    assert block[11] == 0x01 and block[12] == 0x01  # hash algorithm SHA-1, pk algorithm RSA
    assert block[13] == n_ca  # issuer PK length: 128 bytes, so a 36-byte remainder
    assert block[14] == 1  # exponent length
    assert len(block[15 : n_ca - 21]) == n_ca - 36 == block[13] - len(v.h("rem"))
    digest = hashlib.sha1(block[1 : n_ca - 21] + v.h("rem") + v.h("exp")).digest()
    assert block[n_ca - 21 : n_ca - 1] == digest
    assert block[-1] == 0xBC

    key = _issuer(v)
    assert key.key.modulus == block[15 : n_ca - 21] + v.h("rem")
    assert key.issuer_id == v["issuer_id"] and key.serial == v.h("issuer_serial")
    assert key.expiry == date(2009, 12, 31)


def test_kat_sda() -> None:
    v = VECTORS["sda_vsdc01"]
    assert oda.verify_static_data(_issuer(v), v.h("ssad"), v.h("static")) == v.h("dac")
    e = _err(oda.verify_static_data, _issuer(v), v.h("ssad"), v.h("static")[:-1] + b"\x01")
    assert e.reason is OdaReason.HASH and e.step == "§5.4 step 7"


def test_kat_issuer_certificate_expired_after_its_month() -> None:
    v = VECTORS["sda_vsdc01"]
    capk = _capk(v)
    ok = oda.recover_issuer_key(capk, v.h("cert"), v.h("rem"), v.h("exp"), pan=v.h("pan"), today=date(2009, 12, 31))
    assert ok.expiry == date(2009, 12, 31)
    e = _err(oda.recover_issuer_key, capk, v.h("cert"), v.h("rem"), v.h("exp"), pan=v.h("pan"), today=date(2010, 1, 1))
    assert e.reason is OdaReason.EXPIRED and e.step == "§6.3 step 9"


def _icc(v: Vector) -> oda.RecoveredIccKey:
    return oda.recover_icc_key(
        _issuer(v),
        v.h("icc_cert"),
        None,
        v.h("icc_exp"),
        pan=v.h("pan"),
        static_data=v.h("static"),
        today=_d(v["today"]),
    )


def test_kat_icc_certificate_and_dda() -> None:
    v = VECTORS["dda_mchip05"]
    icc = _icc(v)
    assert icc.pan == "5285881254345653" and icc.expiry == date(2015, 6, 30) and icc.serial == v.h("icc_serial")
    assert icc.key.length == 112  # carried whole in a 176-byte certificate, BB-padded
    got = oda.verify_dynamic_data(icc, v.h("sdad"), v.h("ddol_data"))
    assert got.icc_dynamic_number == v.h("idn")
    e = _err(oda.verify_dynamic_data, icc, v.h("sdad"), bytes.fromhex("00000001"))
    assert e.reason is OdaReason.HASH and e.step == "§6.5.2 step 7"


def test_kat_cda() -> None:
    v = VECTORS["cda_mchip05"]
    icc = _icc(v)
    resp_tlvs = tlv.decode(v.h("response_tlvs"))  # 9F27, 9F36, 9F10 as the card sent them
    response = tlv.build(
        0x77,
        resp_tlvs[0].to_bytes() + resp_tlvs[1].to_bytes() + tlv.build(0x9F4B, v.h("sdad")) + resp_tlvs[2].to_bytes(),
    )
    got = oda.verify_cda(icc, response, un=v.h("un"), pdol_data=b"", cdol1_data=v.h("cdol1"))
    assert got.icc_dynamic_number == v.h("idn")
    assert got.cid == int(v["cid"], 16) and got.ac == v.h("ac") and got.transaction_data_hash == v.h("tdhc")
    assert oda.transaction_data_hash(b"", v.h("cdol1"), v.h("response_tlvs")) == v.h("tdhc")


# ---------------------------------------------------------------------------------------------
# a generated TEST PKI


@dataclass(frozen=True)
class Chain:
    """One card's PKI: CA, issuer, ICC keys and the data on the card."""

    ca: oda.TestCa
    issuer_key: rsa.RSAPrivateKey
    icc_key: rsa.RSAPrivateKey
    issuer_cert: oda.IssuerCertificate
    icc_cert: oda.IccCertificate
    static_data: bytes

    @property
    def store(self) -> oda.CapkStore:
        s = oda.CapkStore()
        s.add(self.ca.capk)
        return s

    def issuer(self, **kw: object) -> oda.RecoveredIssuerKey:
        args: dict[str, object] = dict(
            certificate=self.issuer_cert.certificate,
            remainder=self.issuer_cert.remainder or None,
            exponent=self.issuer_cert.exponent,
            pan=PAN_5A,
            today=TODAY,
        )
        args.update(kw)
        return oda.recover_issuer_key(self.ca.capk, **args)  # type: ignore[arg-type]

    def icc(self, **kw: object) -> oda.RecoveredIccKey:
        args: dict[str, object] = dict(
            certificate=self.icc_cert.certificate,
            remainder=self.icc_cert.remainder or None,
            exponent=self.icc_cert.exponent,
            pan=PAN_5A,
            static_data=self.static_data,
            today=TODAY,
        )
        args.update(kw)
        return oda.recover_icc_key(self.issuer(), **args)  # type: ignore[arg-type]


RECORDS = [
    (1, tlv.build(0x70, tlv.build(0x5A, PAN_5A) + tlv.build(0x5F24, bytes.fromhex("301231")))),
    (2, tlv.build(0x70, tlv.build(0x8E, bytes(8) + bytes.fromhex("1E031F00")) + tlv.build(0x9F07, b"\xff\x00"))),
    (11, tlv.build(0x70, tlv.build(0x9F08, b"\x00\x30"))),  # SFI 11-30: whole record is signed
]
AIP = bytes.fromhex("3C00")
STATIC = oda.static_data_to_authenticate(RECORDS, aip=AIP, sda_tag_list=b"\x82")


def _chain(ca_bits: int, issuer_bits: int, icc_bits: int, issuer_e: int = 65537) -> Chain:
    ca = oda.generate_test_ca(ca_bits, index=CA_INDEX)
    issuer_key = rsa.generate_private_key(public_exponent=issuer_e, key_size=issuer_bits)
    icc_key = rsa.generate_private_key(public_exponent=3, key_size=icc_bits)
    issuer_cert = oda.make_issuer_certificate(
        ca.private_key, issuer_key.public_key(), issuer_id=BIN, expiry="1230", serial=b"\x00\x00\x01"
    )
    icc_cert = oda.make_icc_certificate(
        issuer_key, icc_key.public_key(), pan=PAN, expiry="1229", serial=b"\x12\x34\x56", static_data=STATIC
    )
    return Chain(ca, issuer_key, icc_key, issuer_cert, icc_cert, STATIC)


CHAINS = {
    # N_I > N_CA - 36 and N_IC > N_I - 42: both remainders in use
    "remainders-1152/1024/1024": (1152, 1024, 1024),
    # both keys fit: BB padding in both certificates
    "padded-1984/1408/1024": (1984, 1408, 1024),
    # the largest EMV keys: 248 bytes everywhere
    "max-1984/1984/1984": (1984, 1984, 1984),
}


@pytest.fixture(scope="module", params=sorted(CHAINS))
def chain(request: pytest.FixtureRequest) -> Chain:
    return _chain(*CHAINS[request.param])


@pytest.fixture(scope="module")
def small() -> Chain:
    """The fast chain the failure tests use (remainders in both certificates)."""
    return _chain(1152, 1024, 1024)


# ---------------------------------------------------------------------------------------------
# round trips


def test_round_trip_certificates(chain: Chain) -> None:
    issuer = chain.issuer()
    assert issuer.key == oda.RsaPublic.of(chain.issuer_key)
    assert issuer.issuer_id == BIN and issuer.expiry == date(2030, 12, 31) and issuer.serial == b"\x00\x00\x01"
    assert (issuer.capk_rid, issuer.capk_index) == (chain.ca.capk.rid, CA_INDEX)
    icc = chain.icc()
    assert icc.key == oda.RsaPublic.of(chain.icc_key)
    assert icc.pan == PAN and icc.expiry == date(2029, 12, 31)
    n_ca, n_i, n_ic = chain.ca.capk.key.length, issuer.key.length, icc.key.length
    assert len(chain.issuer_cert.remainder) == max(0, n_i - (n_ca - 36))
    assert len(chain.icc_cert.remainder) == max(0, n_ic - (n_i - 42))


def test_round_trip_sda(chain: Chain) -> None:
    ssad = oda.sign_static_data(chain.issuer_key, chain.static_data, b"\xda\xc1")
    assert oda.verify_static_data(chain.issuer(), ssad, chain.static_data) == b"\xda\xc1"


def test_round_trip_dda(chain: Chain) -> None:
    un = bytes.fromhex("A1B2C3D4")
    sdad = oda.sign_dynamic_data(chain.icc_key, oda.dda_dynamic_data(b"\x01\x02\x03\x04\x05\x06\x07\x08"), un)
    got = oda.verify_dynamic_data(chain.icc(), sdad, un)
    assert got.icc_dynamic_number == bytes(range(1, 9)) and got.icc_dynamic_data[0] == 8


@pytest.mark.parametrize("version", [None, "00", "01"])
def test_round_trip_fdda(small: Chain, version: str | None) -> None:
    un, amount, currency = bytes.fromhex("11223344"), bytes.fromhex("000000001250"), bytes.fromhex("0156")
    cad = None if version is None else bytes.fromhex(version + "CAFEBABE" + "8000")
    signed = oda.fdda_data(un, amount=amount, currency=currency, card_auth_data=cad)
    assert signed == (un + amount + currency + cad if version == "01" and cad else un)
    sdad = oda.sign_dynamic_data(small.icc_key, oda.dda_dynamic_data(b"\x00\x07"), signed)
    got = oda.verify_fdda(small.icc(), sdad, un=un, amount=amount, currency=currency, card_auth_data=cad)
    assert got.icc_dynamic_number == b"\x00\x07"
    if version == "01":  # the amount is signed: a changed amount fails
        e = _err(oda.verify_fdda, small.icc(), sdad, un=un, amount=bytes(6), currency=currency, card_auth_data=cad)
        assert e.reason is OdaReason.HASH


CDOL1_DATA = bytes.fromhex("00000000125000000000000001560000000000015626050100A1B2C3D4")
PDOL_DATA = bytes.fromhex("36800000000000001250")
UN = bytes.fromhex("A1B2C3D4")


def _cda_response(c: Chain, **kw: object) -> bytes:
    args: dict[str, object] = dict(
        icc_dynamic_number=b"\xee" * 8,
        cid=0x80,
        atc=b"\x00\x2a",
        ac=bytes.fromhex("0123456789ABCDEF"),
        iad=bytes.fromhex("07010103A00000010A0100000000001234567890"),
        un=UN,
        pdol_data=PDOL_DATA,
        cdol1_data=CDOL1_DATA,
    )
    args.update(kw)
    return oda.build_cda_response(c.icc_key, **args)  # type: ignore[arg-type]


def test_round_trip_cda(chain: Chain) -> None:
    got = oda.verify_cda(chain.icc(), _cda_response(chain), un=UN, pdol_data=PDOL_DATA, cdol1_data=CDOL1_DATA)
    assert (got.cid, got.ac, got.icc_dynamic_number) == (0x80, bytes.fromhex("0123456789ABCDEF"), b"\xee" * 8)


def test_round_trip_cda_second_generate_ac(small: Chain) -> None:
    cdol2 = bytes.fromhex("30300000000000A1B2C3D4")
    response = _cda_response(small, cid=0x40, cdol2_data=cdol2)
    got = oda.verify_cda(small.icc(), response, un=UN, pdol_data=PDOL_DATA, cdol1_data=CDOL1_DATA, cdol2_data=cdol2)
    assert got.cid == 0x40
    e = _err(oda.verify_cda, small.icc(), response, un=UN, pdol_data=PDOL_DATA, cdol1_data=CDOL1_DATA)
    assert e.reason is OdaReason.TRANSACTION_DATA_HASH  # CDOL2 data left out of the hash


_SMALL_FOR_PROPERTY = _chain(1152, 1024, 1024)  # hypothesis cannot take function-scoped fixtures


@settings(max_examples=15, deadline=None)
@given(static=st.binary(max_size=300), un=st.binary(min_size=4, max_size=8))
def test_property_any_static_data_and_un(static: bytes, un: bytes) -> None:
    c = _SMALL_FOR_PROPERTY
    ssad = oda.sign_static_data(c.issuer_key, static, b"\x00\x01")
    assert oda.verify_static_data(c.issuer(), ssad, static) == b"\x00\x01"
    sdad = oda.sign_dynamic_data(c.icc_key, oda.dda_dynamic_data(b"\x00\x01"), un)
    assert oda.verify_dynamic_data(c.icc(), sdad, un).icc_dynamic_number == b"\x00\x01"


# ---------------------------------------------------------------------------------------------
# forged blocks, built by hand at Book 2's offsets


def _sha1(*parts: bytes) -> bytes:
    return hashlib.sha1(b"".join(parts)).digest()


def _forge_issuer(
    c: Chain,
    *,
    header: int = 0x6A,
    fmt: int = 0x02,
    issuer_id: bytes = bytes.fromhex(BIN + "FF"),
    expiry: bytes = bytes.fromhex("1230"),
    hash_alg: int = 0x01,
    pk_alg: int = 0x01,
    trailer: int = 0xBC,
    bad_hash: bool = False,
) -> bytes:
    """Book 2 Table 13, field by field, signed with the CA key."""
    pub = oda.RsaPublic.of(c.issuer_key)
    n_ca = c.ca.capk.key.length
    room = n_ca - 36
    part, rem = pub.modulus[:room], pub.modulus[room:]
    part += b"\xbb" * (room - len(part))
    body = (
        bytes([fmt])
        + issuer_id
        + expiry
        + b"\x00\x00\x01"
        + bytes([hash_alg, pk_alg, pub.length, len(pub.exponent)])
        + part
    )
    digest = _sha1(body, rem, pub.exponent)
    if bad_hash:
        digest = bytes(20)
    block = bytes([header]) + body + digest + bytes([trailer])
    assert len(block) == n_ca
    return raw_sign(block, c.ca.private_key)


def _forge_icc(
    c: Chain, *, pan: bytes = bytes.fromhex(PAN + "F"), expiry: bytes = bytes.fromhex("1229"), pk_alg: int = 1
) -> bytes:
    """Book 2 Table 14, field by field, signed with the issuer key."""
    pub = oda.RsaPublic.of(c.icc_key)
    n_i = oda.RsaPublic.of(c.issuer_key).length
    room = n_i - 42
    part, rem = pub.modulus[:room], pub.modulus[room:]
    part += b"\xbb" * (room - len(part))
    body = b"\x04" + pan + expiry + b"\x12\x34\x56" + bytes([1, pk_alg, pub.length, len(pub.exponent)]) + part
    block = b"\x6a" + body + _sha1(body, rem, pub.exponent, c.static_data) + b"\xbc"
    return raw_sign(block, c.issuer_key)


def _forge_sdad(c: Chain, *, fmt: int = 0x05, header: int = 0x6A, l_dd: int | None = None, un: bytes = UN) -> bytes:
    """Book 2 Table 17, field by field, signed with the ICC key."""
    n_ic = oda.RsaPublic.of(c.icc_key).length
    dynamic = b"\x02\x00\x01"
    body = bytes([fmt, 0x01, len(dynamic) if l_dd is None else l_dd]) + dynamic + b"\xbb" * (n_ic - 25 - len(dynamic))
    return raw_sign(bytes([header]) + body + _sha1(body, un) + b"\xbc", c.icc_key)


def test_forged_blocks_match_the_library_layout(small: Chain) -> None:
    """The hand-built Table 13/14 blocks are byte-identical to what the library signs."""
    assert _forge_issuer(small) == small.issuer_cert.certificate
    assert _forge_icc(small) == small.icc_cert.certificate


# ---------------------------------------------------------------------------------------------
# every failure has its own reason


def test_capk_not_found_for_wrong_index(small: Chain) -> None:
    e = _err(small.store.get, small.ca.capk.rid, CA_INDEX + 1)
    assert e.reason is OdaReason.CAPK_NOT_FOUND
    assert small.store.get(small.ca.capk.rid + b"\x10\x10", CA_INDEX) == small.ca.capk  # full AID works


def test_capk_with_wrong_checksum_is_refused(small: Chain) -> None:
    bad = replace(small.ca.capk, checksum=bytes(20))
    e = _err(oda.CapkStore().add, bad)
    assert e.reason is OdaReason.CAPK_CHECKSUM


def test_capk_expired(small: Chain) -> None:
    store = oda.CapkStore()
    store.add(replace(small.ca.capk, expiry=date(2025, 12, 31)))
    assert _err(store.get, small.ca.capk.rid, CA_INDEX, today=TODAY).reason is OdaReason.CAPK_EXPIRED
    assert store.get(small.ca.capk.rid, CA_INDEX, today=date(2025, 12, 31))


def test_issuer_certificate_wrong_length(small: Chain) -> None:
    e = _err(small.issuer, certificate=small.issuer_cert.certificate[:-1])
    assert e.reason is OdaReason.LENGTH and e.step == "§6.3 step 1"


def test_issuer_certificate_tampered_byte(small: Chain) -> None:
    cert = bytearray(small.issuer_cert.certificate)
    key = small.ca.capk.key
    n, e_ = int.from_bytes(key.modulus, "big"), int.from_bytes(key.exponent, "big")
    for flip in range(1, 256):  # a flip whose recovered trailer is not BC (all but ~1/256 of them)
        cert[40] = small.issuer_cert.certificate[40] ^ flip
        if pow(int.from_bytes(cert, "big"), e_, n) & 0xFF != 0xBC:
            break
    e = _err(small.issuer, certificate=bytes(cert))
    assert e.reason is OdaReason.TRAILER and e.step == "§6.3 step 2"


@pytest.mark.parametrize(
    ("forge", "reason", "step"),
    [
        (dict(trailer=0xBD), OdaReason.TRAILER, "§6.3 step 2"),
        (dict(header=0x6B), OdaReason.HEADER, "§6.3 step 3"),
        (dict(fmt=0x04), OdaReason.FORMAT, "§6.3 step 4"),
        (dict(hash_alg=0x02), OdaReason.HASH_ALGORITHM, "§6.3 step 6"),
        (dict(bad_hash=True), OdaReason.HASH, "§6.3 step 7"),
        (dict(issuer_id=bytes.fromhex("622222FF")), OdaReason.ISSUER_ID, "§6.3 step 8"),
        (dict(issuer_id=bytes.fromhex("62FFFFFF")), OdaReason.ISSUER_ID, "§6.3 step 8"),  # under 3 digits
        (dict(expiry=bytes.fromhex("0426")), OdaReason.EXPIRED, "§6.3 step 9"),
        (dict(pk_alg=0x02), OdaReason.PK_ALGORITHM, "§6.3 step 11"),
    ],
    ids=lambda x: x.value if isinstance(x, OdaReason) else None,
)
def test_issuer_certificate_checks(small: Chain, forge: dict[str, object], reason: OdaReason, step: str) -> None:
    e = _err(small.issuer, certificate=_forge_issuer(small, **forge))  # type: ignore[arg-type]
    assert e.reason is reason and e.step == step


def test_issuer_certificate_expires_after_last_day_of_month(small: Chain) -> None:
    assert small.issuer(today=date(2030, 12, 31)).expiry == date(2030, 12, 31)
    assert _err(small.issuer, today=date(2031, 1, 1)).reason is OdaReason.EXPIRED


def test_issuer_id_must_match_pan(small: Chain) -> None:
    e = _err(small.issuer, pan=bytes.fromhex("6299995678901234"))
    assert e.reason is OdaReason.ISSUER_ID


def test_issuer_certificate_revoked(small: Chain) -> None:
    crl = {small.ca.capk.rid + bytes([CA_INDEX]) + b"\x00\x00\x01"}
    e = _err(small.issuer, revoked=crl)
    assert e.reason is OdaReason.REVOKED and e.step == "§6.3 step 10"
    small.issuer(revoked={small.ca.capk.rid + bytes([CA_INDEX]) + b"\x00\x00\x02"})


def test_issuer_remainder(small: Chain) -> None:
    rem = small.issuer_cert.remainder
    assert rem  # this chain needs one
    assert _err(small.issuer, remainder=rem[:-1]).reason is OdaReason.REMAINDER
    assert _err(small.issuer, remainder=rem + b"\x00").reason is OdaReason.REMAINDER
    assert _err(small.issuer, remainder=None).reason is OdaReason.ICC_DATA_MISSING
    tampered = bytes([rem[0] ^ 1]) + rem[1:]
    assert _err(small.issuer, remainder=tampered).reason is OdaReason.HASH  # same length: only the hash sees it


def test_issuer_remainder_when_none_is_needed() -> None:
    c = _chain(1408, 1024, 1024)
    assert c.issuer_cert.remainder == b""
    assert _err(c.issuer, remainder=b"\x01\x02").reason is OdaReason.REMAINDER


def test_issuer_exponent(small: Chain) -> None:
    assert _err(small.issuer, exponent=b"\x03").reason is OdaReason.KEY_LENGTH  # cert says 3 bytes
    assert _err(small.issuer, exponent=b"\x01\x00\x03").reason is OdaReason.HASH


@pytest.mark.parametrize("missing", ["certificate", "exponent", "pan"])
def test_issuer_data_missing(small: Chain, missing: str) -> None:
    assert _err(small.issuer, **{missing: None}).reason is OdaReason.ICC_DATA_MISSING


def test_icc_certificate_checks(small: Chain) -> None:
    assert _err(small.icc, certificate=small.icc_cert.certificate[1:]).reason is OdaReason.LENGTH
    e = _err(small.icc, certificate=_forge_icc(small, pan=bytes.fromhex("6212345678901234568F")))
    assert e.reason is OdaReason.PAN and e.step == "§6.4 step 8"
    e = _err(small.icc, certificate=_forge_icc(small, expiry=bytes.fromhex("0326")))
    assert e.reason is OdaReason.EXPIRED and e.step == "§6.4 step 9"
    e = _err(small.icc, certificate=_forge_icc(small, pk_alg=2))
    assert e.reason is OdaReason.PK_ALGORITHM and e.step == "§6.4 step 10"
    assert _err(small.icc, pan=bytes.fromhex("6212345678901234560F")).reason is OdaReason.PAN
    assert _err(small.icc, remainder=None).reason is OdaReason.ICC_DATA_MISSING
    assert _err(small.icc, remainder=small.icc_cert.remainder[:-1]).reason is OdaReason.REMAINDER
    assert _err(small.icc, certificate=None).reason is OdaReason.ICC_DATA_MISSING


def test_icc_certificate_over_tampered_static_data(small: Chain) -> None:
    tampered = oda.static_data_to_authenticate(
        [RECORDS[0], (2, RECORDS[1][1].replace(b"\xff\x00", b"\xff\x80")), RECORDS[2]], aip=AIP, sda_tag_list=b"\x82"
    )
    e = _err(small.icc, static_data=tampered)
    assert e.reason is OdaReason.HASH and e.step == "§6.4 step 7"
    # the AIP is signed too when 9F4A lists it
    e = _err(small.icc, static_data=oda.static_data_to_authenticate(RECORDS, aip=b"\x3c\x80", sda_tag_list=b"\x82"))
    assert e.reason is OdaReason.HASH


def test_sda_failures(small: Chain) -> None:
    ssad = oda.sign_static_data(small.issuer_key, STATIC, b"\x00\x00")
    issuer = small.issuer()
    assert _err(oda.verify_static_data, issuer, ssad, STATIC + b"\x00").reason is OdaReason.HASH
    assert _err(oda.verify_static_data, issuer, ssad[:-1], STATIC).reason is OdaReason.LENGTH
    assert _err(oda.verify_static_data, issuer, None, STATIC).reason is OdaReason.ICC_DATA_MISSING
    # a DDA-format block signed by the issuer key is not an SSAD
    n_i = issuer.key.length
    body = b"\x05\x01\x00\x00" + b"\xbb" * (n_i - 26)
    fake = raw_sign(b"\x6a" + body + _sha1(body, STATIC) + b"\xbc", small.issuer_key)
    e = _err(oda.verify_static_data, issuer, fake, STATIC)
    assert e.reason is OdaReason.FORMAT and e.step == "§5.4 step 4"


def test_dda_failures(small: Chain) -> None:
    icc = small.icc()
    good = _forge_sdad(small)
    assert oda.verify_dynamic_data(icc, good, UN).icc_dynamic_number == b"\x00\x01"
    e = _err(oda.verify_dynamic_data, icc, good, bytes.fromhex("A1B2C3D5"))  # the wrong UN
    assert e.reason is OdaReason.HASH and e.step == "§6.5.2 step 7"
    assert _err(oda.verify_dynamic_data, icc, _forge_sdad(small, fmt=0x03), UN).reason is OdaReason.FORMAT
    assert _err(oda.verify_dynamic_data, icc, _forge_sdad(small, header=0x6B), UN).reason is OdaReason.HEADER
    assert _err(oda.verify_dynamic_data, icc, _forge_sdad(small, l_dd=0xF0), UN).reason is OdaReason.DYNAMIC_DATA
    assert _err(oda.verify_dynamic_data, icc, _forge_sdad(small, l_dd=1), UN).reason is OdaReason.DYNAMIC_DATA
    assert _err(oda.verify_dynamic_data, icc, None, UN).reason is OdaReason.ICC_DATA_MISSING


def _replace_tlv(response: bytes, tag: int, value: bytes, *, add: bool = False) -> bytes:
    kids = list(tlv.decode(response)[0].children)
    t = tlv.tag_bytes(tag)
    if add:
        kids.append(tlv.Tlv(t, value))
    else:
        kids = [tlv.Tlv(t, value) if k.tag == t else k for k in kids]
    return tlv.build(0x77, tlv.encode(kids))


def test_cda_failures(small: Chain) -> None:
    icc = small.icc()
    response = _cda_response(small)
    kw = dict(un=UN, pdol_data=PDOL_DATA, cdol1_data=CDOL1_DATA)

    def reason(resp: bytes, **over: bytes) -> OdaReason:
        return _err(oda.verify_cda, icc, resp, **{**kw, **over}).reason

    # the AC rides inside 9F4B; a plaintext 9F26 that disagrees with it is an altered AC
    assert reason(_replace_tlv(response, 0x9F26, bytes(8), add=True)) is OdaReason.AC
    # a matching 9F26 the card never sent still breaks the transaction data hash code
    ok = _replace_tlv(response, 0x9F26, bytes.fromhex("0123456789ABCDEF"), add=True)
    assert reason(ok) is OdaReason.TRANSACTION_DATA_HASH
    assert reason(_replace_tlv(response, 0x9F27, b"\x40")) is OdaReason.CID
    assert reason(_replace_tlv(response, 0x9F36, b"\x00\x2b")) is OdaReason.TRANSACTION_DATA_HASH
    assert reason(response, cdol1_data=CDOL1_DATA[:-1] + b"\x00") is OdaReason.TRANSACTION_DATA_HASH
    assert reason(response, pdol_data=b"") is OdaReason.TRANSACTION_DATA_HASH
    assert reason(response, un=b"\x00\x00\x00\x00") is OdaReason.HASH
    no_sdad = tlv.build(0x77, tlv.encode([k for k in tlv.decode(response)[0].children if k.tag != b"\x9f\x4b"]))
    assert reason(no_sdad) is OdaReason.ICC_DATA_MISSING
    assert reason(tlv.build(0x80, b"\x80\x00\x2a" + bytes(8))) is OdaReason.ICC_DATA_MISSING
    # a DDA signature (no CID/AC/hash code) where a CDA one is expected
    dda = oda.sign_dynamic_data(small.icc_key, oda.dda_dynamic_data(b"\x00\x01"), UN)
    assert reason(_replace_tlv(response, 0x9F4B, dda)) is OdaReason.DYNAMIC_DATA


def test_cda_response_layout(small: Chain) -> None:
    objs = tlv.decode(_cda_response(small))[0].children
    assert [o.tag.hex().upper() for o in objs] == ["9F27", "9F36", "9F4B", "9F10"]
    assert len(objs[2].value) == oda.RsaPublic.of(small.icc_key).length


# ---------------------------------------------------------------------------------------------
# static data, AFL, TVR, store, keys


def test_static_data_rules() -> None:
    records = [(1, tlv.build(0x70, b"\x5a\x01\x12")), (11, tlv.build(0x70, b"\x9f\x08\x01\x02"))]
    assert oda.static_data_to_authenticate(records) == b"\x5a\x01\x12" + records[1][1]
    assert oda.static_data_to_authenticate(records, aip=b"\x19\x80", sda_tag_list=b"\x82").endswith(b"\x19\x80")
    assert oda.static_data_to_authenticate(records, aip=b"\x19\x80") == oda.static_data_to_authenticate(records)
    assert (
        _err(oda.static_data_to_authenticate, records, aip=b"\x19\x80", sda_tag_list=b"\x82\x5a").reason
        is OdaReason.SDA_TAG_LIST
    )
    assert _err(oda.static_data_to_authenticate, records, sda_tag_list=b"\x82").reason is OdaReason.ICC_DATA_MISSING
    bad = [(2, tlv.build(0x77, b"\x5a\x01\x12"))]
    assert _err(oda.static_data_to_authenticate, bad).reason is OdaReason.RECORD_FORMAT
    assert _err(oda.static_data_to_authenticate, [(3, b"\x70\x05\x5a")]).reason is OdaReason.RECORD_FORMAT


def test_oda_records_from_afl() -> None:
    afl = bytes.fromhex("080103011001020018010202")
    assert oda.oda_records(afl) == [(1, 1), (3, 1), (3, 2)]
    with pytest.raises(ValueError):
        oda.oda_records(bytes.fromhex("080103"))
    with pytest.raises(ValueError):
        oda.oda_records(bytes.fromhex("08010104"))


@pytest.mark.parametrize(
    ("method", "reason", "bits"),
    [
        (None, None, 0x80),  # ODA not performed
        (OdaMethod.SDA, None, 0x02),  # SDA selected
        (OdaMethod.SDA, OdaReason.HASH, 0x42),
        (OdaMethod.SDA, OdaReason.ICC_DATA_MISSING, 0x62),
        (OdaMethod.DDA, OdaReason.EXPIRED, 0x08),
        (OdaMethod.FDDA, OdaReason.HASH, 0x08),
        (OdaMethod.CDA, OdaReason.CID, 0x04),
        (OdaMethod.CDA, OdaReason.ICC_DATA_MISSING, 0x24),
        (OdaMethod.CDA, OdaReason.CAPK_NOT_FOUND, 0x04),
        (OdaMethod.DDA, None, 0x00),
    ],
)
def test_tvr_byte1(method: OdaMethod | None, reason: OdaReason | None, bits: int) -> None:
    assert oda.tvr_byte1(method, reason) == bits


def test_capk_store_json_round_trip(tmp_path, small: Chain) -> None:  # type: ignore[no-untyped-def]
    store = small.store
    v = VECTORS["sda_vsdc01"]
    store.add(replace(_capk(v), expiry=date(2009, 12, 31)))
    path = tmp_path / "capk.json"
    store.save(path)
    again = oda.CapkStore.load(path)
    assert sorted((k.rid.hex().upper(), k.index) for k in again) == [("A000000003", 1), ("F000000001", CA_INDEX)]
    assert again.get(bytes.fromhex("A000000003"), 1).expiry == date(2009, 12, 31)
    data = json.loads(path.read_text())
    data["capk"][0]["modulus"] = "C7" + data["capk"][0]["modulus"][2:]
    path.write_text(json.dumps(data))
    assert _err(oda.CapkStore.load, path).reason is OdaReason.CAPK_CHECKSUM
    path.write_text("{}")
    with pytest.raises(ValueError):
        oda.CapkStore.load(path)


def test_test_ca_parameters() -> None:
    with pytest.raises(ValueError):
        oda.generate_test_ca(1000)
    with pytest.raises(ValueError):
        oda.generate_test_ca(2048)
    ca = oda.generate_test_ca(1024, exponent=65537)
    assert ca.capk.exponent == b"\x01\x00\x01" and ca.capk.key.length == 128
    assert "private_key" not in repr(ca)


def test_errors_name_no_key_material(small: Chain) -> None:
    e = _err(small.issuer, certificate=_forge_issuer(small, bad_hash=True))
    text = str(e)
    assert "hash" in text and "§6.3 step 7" in text
    assert small.ca.capk.modulus.hex()[:16] not in text.lower()
    assert isinstance(e, oda.OdaError) and e.__class__.__mro__[1].__name__ == "CryptoError"


def test_issuer_side_refuses_bad_input(small: Chain) -> None:
    with pytest.raises(ValueError):
        oda.make_issuer_certificate(
            small.ca.private_key, small.issuer_key, issuer_id="62", expiry="1230", serial=b"\x00\x00\x01"
        )
    with pytest.raises(ValueError):
        oda.make_issuer_certificate(
            small.ca.private_key, small.issuer_key, issuer_id=BIN, expiry="1330", serial=b"\x00\x00\x01"
        )
    big = rsa.generate_private_key(public_exponent=3, key_size=1408)
    with pytest.raises(ValueError):  # issuer key longer than the CA key
        oda.make_issuer_certificate(small.ca.private_key, big, issuer_id=BIN, expiry="1230", serial=b"\x00\x00\x01")
    with pytest.raises(ValueError):
        oda.sign_static_data(small.issuer_key, STATIC, b"\x01")
    with pytest.raises(ValueError):
        oda.dda_dynamic_data(b"\x01")
