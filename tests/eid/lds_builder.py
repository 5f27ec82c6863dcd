"""Test data for the ID application, written from ICAO 9303 parts 3, 5, 10 and RFC 5652.

A small DER encoder, a demo PKI (CSCA -> document signer) made fresh per run, TD1 MRZs with
their check digits, data groups and an EF.SOD signing their hashes. Nothing here is cardkit's
implementation: it is the other side of the contract, for the fake card.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from cardkit import tlv
from cardkit.crypto.icao import check_digit


# --------------------------------------------------------------------------------------- DER
def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def der(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _len(len(content)) + content


def seq(*items: bytes) -> bytes:
    return der(0x30, b"".join(items))


def set_of(*items: bytes) -> bytes:
    return der(0x31, b"".join(sorted(items)))


def integer(n: int) -> bytes:
    return der(0x02, n.to_bytes(n.bit_length() // 8 + 1, "big", signed=True))


def octets(b: bytes) -> bytes:
    return der(0x04, b)


def oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return der(0x06, bytes(out))


def explicit(n: int, content: bytes) -> bytes:
    return der(0xA0 | n, content)


SHA256 = "2.16.840.1.101.3.4.2.1"
ECDSA_SHA256 = "1.2.840.10045.4.3.2"
SHA256_RSA = "1.2.840.113549.1.1.11"


# ---------------------------------------------------------------------------------------- PKI
@dataclass(frozen=True)
class Pki:
    csca: x509.Certificate
    csca_key: ec.EllipticCurvePrivateKey
    ds: x509.Certificate
    ds_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_pki(*, cn: str = "Test CSCA", rsa_ds: bool = False, ds_days: tuple[int, int] = (-30, 3650)) -> Pki:
    now = datetime.now(UTC)
    csca_key = ec.generate_private_key(ec.SECP256R1())
    csca = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(csca_key.public_key()).serial_number(1)
            .not_valid_before(now - timedelta(days=365)).not_valid_after(now + timedelta(days=5000))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(csca_key, hashes.SHA256()))
    ds_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = (
        rsa.generate_private_key(65537, 2048) if rsa_ds else ec.generate_private_key(ec.SECP256R1()))
    ds = (x509.CertificateBuilder().subject_name(_name(cn + " Document Signer")).issuer_name(csca.subject)
          .public_key(ds_key.public_key()).serial_number(0x1234)
          .not_valid_before(now + timedelta(days=ds_days[0])).not_valid_after(now + timedelta(days=ds_days[1]))
          .sign(csca_key, hashes.SHA256()))
    return Pki(csca, csca_key, ds, ds_key)


# ---------------------------------------------------------------------------------------- MRZ
def td1(doc: str, birth: str, expiry: str, *, surname: str = "ZHANG", given: str = "SAN", sex: str = "M",
        nationality: str = "CHN", optional1: str = "110101199003071", optional2: str = "234") -> str:
    doc9 = doc.ljust(9, "<")
    l1 = ("I<" + nationality + doc9 + check_digit(doc9) + optional1.ljust(15, "<"))
    l2 = (birth + check_digit(birth) + sex + expiry + check_digit(expiry) + nationality + optional2.ljust(11, "<"))
    composite = check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
    l2 += composite
    l3 = (surname.replace(" ", "<") + "<<" + given.replace(" ", "<")).ljust(30, "<")[:30]
    assert len(l1) == len(l2) == len(l3) == 30
    return l1 + l2 + l3


# ------------------------------------------------------------------------------- data groups
JPEG = bytes.fromhex("FFD8FFE000104A46494600010100000100010000") + bytes(range(256)) * 8 + b"\xff\xd9"


def dg1(mrz: str) -> bytes:
    return tlv.build(0x61, tlv.build(0x5F1F, mrz.encode()))


def dg2(jpeg: bytes = JPEG) -> bytes:
    header = b"FAC\x00" + b"010\x00" + (14 + 20 + 12 + len(jpeg)).to_bytes(4, "big") + b"\x00\x01" + bytes(20 + 12)
    bht = tlv.build(0xA1, tlv.build(0x80, b"\x01\x01") + tlv.build(0x87, b"\x01\x01") + tlv.build(0x88, b"\x00\x08"))
    bit = tlv.build(0x7F60, bht + tlv.build(0x5F2E, header + jpeg))
    return tlv.build(0x75, tlv.build(0x7F61, tlv.build(0x02, b"\x01") + bit))


def dg11(full_name: str = "张三", address: str = "北京市东城区景山前街4号",
         number: str = "110101199003071234") -> bytes:
    body = (tlv.build(0x5C, bytes.fromhex("5F0E5F425F10")) + tlv.build(0x5F0E, full_name.encode())
            + tlv.build(0x5F42, address.encode()) + tlv.build(0x5F10, number.encode()))
    return tlv.build(0x6B, body)


def dg15(public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> bytes:
    spki = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return tlv.build(0x6F, spki)


def com(tags: bytes = bytes.fromhex("61756B6F")) -> bytes:
    return tlv.build(0x60, tlv.build(0x5F01, b"0107") + tlv.build(0x5F36, b"040000") + tlv.build(0x5C, tags))


def sod(groups: dict[int, bytes], pki: Pki, *, signed_attrs: bool = True) -> bytes:
    """EF.SOD = 77 { ContentInfo { SignedData { LDSSecurityObject } } } (9303-10 §4.6.2)."""
    alg = seq(oid(SHA256), der(0x05, b""))
    hashes_ = seq(*(seq(integer(n), octets(hashlib.sha256(d).digest())) for n, d in sorted(groups.items())))
    ldsso = seq(integer(0), alg, hashes_)
    encap = seq(oid("2.23.136.1.1.1"), explicit(0, octets(ldsso)))
    attrs = set_of(seq(oid("1.2.840.113549.1.9.3"), set_of(oid("2.23.136.1.1.1"))),
                   seq(oid("1.2.840.113549.1.9.4"), set_of(octets(hashlib.sha256(ldsso).digest()))))
    to_sign = attrs if signed_attrs else ldsso
    key = pki.ds_key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature, sig_alg = key.sign(to_sign, ec.ECDSA(hashes.SHA256())), seq(oid(ECDSA_SHA256))
    else:
        from cryptography.hazmat.primitives.asymmetric import padding

        signature = key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256())
        sig_alg = seq(oid(SHA256_RSA), der(0x05, b""))
    sid = seq(pki.ds.issuer.public_bytes(), integer(pki.ds.serial_number))
    signer = seq(integer(1), sid, alg, *([b"\xa0" + attrs[1:]] if signed_attrs else []), sig_alg, octets(signature))
    certs = der(0xA0, pki.ds.public_bytes(serialization.Encoding.DER))
    signed_data = seq(integer(3), set_of(alg), encap, certs, set_of(signer))
    return tlv.build(0x77, seq(oid("1.2.840.113549.1.7.2"), explicit(0, signed_data)))
