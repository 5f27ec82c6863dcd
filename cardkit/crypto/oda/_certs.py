"""Issuer and ICC public key certificates (Book 2 §5.3, §6.3, §6.4) and the static data they sign.

Issuer side: :func:`make_issuer_certificate` (what the CA does for a bank) and
:func:`make_icc_certificate` (what the bank's data preparation does for each card).
Terminal side: :func:`recover_issuer_key` and :func:`recover_icc_key`, which run every check of
Book 2 in its order and raise :class:`~cardkit.crypto.oda.OdaError` naming the failed step.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from cryptography.hazmat.primitives.asymmetric import rsa

from cardkit import tlv
from cardkit.crypto.oda import _layouts as L
from cardkit.crypto.oda._capk import Capk
from cardkit.crypto.oda._errors import OdaError, OdaReason
from cardkit.crypto.oda._rsa import (
    HASH_SHA1,
    PK_RSA,
    RsaPublic,
    RsaSigningKey,
    check_hash,
    check_hash_algorithm,
    digits,
    encode_expiry,
    pad_cn,
    parse_expiry,
    recover,
    sha1,
    sign,
)
from cardkit.errors import TlvError

__all__ = [
    "IccCertificate",
    "IssuerCertificate",
    "RecoveredIccKey",
    "RecoveredIssuerKey",
    "make_icc_certificate",
    "make_issuer_certificate",
    "oda_records",
    "recover_icc_key",
    "recover_issuer_key",
    "static_data_to_authenticate",
]

_ISSUER = "§6.3"
_ICC = "§6.4"
_STATIC = "Book 3 §10.3"


def _public(key: rsa.RSAPublicKey | RsaSigningKey | RsaPublic) -> RsaPublic:
    return key if isinstance(key, RsaPublic) else RsaPublic.of(key)


def _split_key(key: RsaPublic, room: int) -> tuple[bytes, bytes]:
    """(part in the certificate, padded to ``room`` with 'BB'; remainder)."""
    head, rest = key.modulus[:room], key.modulus[room:]
    return head + bytes([L.PAD]) * (room - len(head)), rest


def _expiry(mmyy: bytes, today: date, step: str) -> date:
    """Book 2 step 9: the certificate is valid through the last day of its MMYY month."""
    try:
        last = parse_expiry(mmyy)
    except ValueError as exc:
        raise OdaError(OdaReason.EXPIRED, step, str(exc)) from None
    if last < today:
        raise OdaError(OdaReason.EXPIRED, step, f"expired {last.isoformat()}")
    return last


def _key_part(part: bytes, n_key: int, remainder: bytes | None, exp_len: int, exponent: bytes, step: str) -> bytes:
    """The hashed key material (leftmost digits || remainder) after length checks."""
    room = len(part)
    if exp_len not in (1, 3) or exp_len != len(exponent):
        raise OdaError(OdaReason.KEY_LENGTH, step, f"exponent length {exp_len}, exponent of {len(exponent)} bytes")
    if n_key > room:
        if not remainder:
            raise OdaError(OdaReason.ICC_DATA_MISSING, step, "public key remainder needed but absent")
        if len(remainder) != n_key - room:
            raise OdaError(OdaReason.REMAINDER, step, f"remainder of {len(remainder)} bytes, {n_key - room} expected")
    elif remainder:
        raise OdaError(OdaReason.REMAINDER, step, "remainder present but the key fits in the certificate")
    return part + (remainder or b"")


# --------------------------------------------------------------------------------------------
# issuer public key certificate (tag 90, remainder 92, exponent 9F32)


@dataclass(frozen=True, slots=True)
class _KeyCertificate:
    """A public key certificate as a card record carries it; ``remainder`` is empty when the key fits."""

    certificate: bytes
    remainder: bytes
    exponent: bytes
    _TAGS: ClassVar[tuple[int, int, int]]  # certificate, remainder, exponent

    def tlvs(self) -> bytes:
        """Certificate, remainder and exponent encoded (the remainder left out when empty)."""
        cert_tag, remainder_tag, exponent_tag = self._TAGS
        out = tlv.build(cert_tag, self.certificate)
        if self.remainder:
            out += tlv.build(remainder_tag, self.remainder)
        return out + tlv.build(exponent_tag, self.exponent)


class IssuerCertificate(_KeyCertificate):
    """What a CA hands a bank: tags 90, 92 and 9F32."""

    __slots__ = ()
    _TAGS = (0x90, 0x92, 0x9F32)


@dataclass(frozen=True, slots=True)
class RecoveredIssuerKey:
    """An issuer public key recovered and checked by a terminal (Book 2 §6.3 step 12)."""

    key: RsaPublic
    issuer_id: str  # the 3-8 leftmost PAN digits it is valid for
    expiry: date  # last valid day
    serial: bytes  # certificate serial number (3 bytes)
    capk_rid: bytes
    capk_index: int


def make_issuer_certificate(
    ca_key: RsaSigningKey,
    issuer_key: rsa.RSAPublicKey | RsaSigningKey | RsaPublic,
    *,
    issuer_id: str,
    expiry: str,
    serial: bytes,
) -> IssuerCertificate:
    """Certify an issuer public key with a CA private key (Book 2 §5.3 / §6.3, Table 13).

    Args:
        issuer_id: 3-8 leftmost PAN digits (the BIN), padded with 'F' to 4 bytes.
        expiry: ``"MMYY"``.
        serial: 3 bytes, unique per CA key.

    Raises:
        ValueError: a bad field, or an issuer key longer than the CA key.
    """
    if not 3 <= len(issuer_id) <= 8:
        raise ValueError("issuer identifier is 3-8 PAN digits")
    if len(serial) != 3:
        raise ValueError("certificate serial number is 3 bytes")
    cert, remainder, exponent = _certify(
        ca_key, _public(issuer_key), ("issuer", "CA"), L.ISSUER_CERT, L.ISSUER_CERT_FIXED,
        {"format": L.FORMAT_ISSUER_CERT, "issuer_id": pad_cn(issuer_id, 4), "expiry": encode_expiry(expiry),
         "serial": serial},
    )
    return IssuerCertificate(cert, remainder, exponent)


def recover_issuer_key(
    capk: Capk,
    certificate: bytes | None,
    remainder: bytes | None,
    exponent: bytes | None,
    *,
    pan: bytes,
    today: date,
    revoked: Container[bytes] = frozenset(),
) -> RecoveredIssuerKey:
    """Recover and check the issuer public key, Book 2 §6.3 (§5.3 is the same for SDA).

    Args:
        capk: the CA key from :meth:`CapkStore.get` for the AID's RID and tag 8F.
        certificate, remainder, exponent: tags 90, 92, 9F32 (``None`` when the card has none).
        pan: tag 5A.
        today: the transaction date (9A).
        revoked: certification revocation list entries, each ``RID || index || serial`` (9 bytes).

    Raises:
        OdaError: ICC_DATA_MISSING (90/9F32 absent, or 92 needed but absent), LENGTH (step 1),
            TRAILER (2), HEADER (3), FORMAT (4), KEY_LENGTH/REMAINDER (lengths inconsistent, before
            step 5), HASH_ALGORITHM (6), HASH (7), ISSUER_ID (8), EXPIRED (9), REVOKED (10),
            PK_ALGORITHM (11).
    """
    if not certificate or not exponent or not pan:
        raise OdaError(OdaReason.ICC_DATA_MISSING, _ISSUER, "90, 9F32 and 5A are needed")
    block = recover(certificate, capk.key, step=_ISSUER)
    n = len(block)
    c = L.ISSUER_CERT.parse(block, n=n)
    if c.header != L.HEADER:
        raise OdaError(OdaReason.HEADER, f"{_ISSUER} step 3")
    if c.format != L.FORMAT_ISSUER_CERT:
        raise OdaError(OdaReason.FORMAT, f"{_ISSUER} step 4", f"format {c.format:02X}")
    material = _key_part(c.pk_part, c.pk_length, remainder, c.exponent_length, exponent, f"{_ISSUER} step 5")
    check_hash_algorithm(c.hash_algorithm, f"{_ISSUER} step 6")
    check_hash(c.hash, sha1(block[1 : n - 21], remainder or b"", exponent), f"{_ISSUER} step 7")
    issuer_id = digits(c.issuer_id)
    pan_digits = digits(pan)
    if not (3 <= len(issuer_id) <= 8 and issuer_id.isdigit() and pan_digits.startswith(issuer_id)):
        raise OdaError(OdaReason.ISSUER_ID, f"{_ISSUER} step 8", "issuer identifier does not match the PAN")
    last = _expiry(c.expiry, today, f"{_ISSUER} step 9")
    if capk.rid + bytes((capk.index,)) + c.serial in revoked:
        raise OdaError(OdaReason.REVOKED, f"{_ISSUER} step 10", f"serial {c.serial.hex().upper()}")
    if c.pk_algorithm != PK_RSA:
        raise OdaError(OdaReason.PK_ALGORITHM, f"{_ISSUER} step 11", f"indicator {c.pk_algorithm:02X}")
    modulus = material[: c.pk_length]
    try:
        key = RsaPublic(modulus, exponent)
    except ValueError as exc:
        raise OdaError(OdaReason.KEY_LENGTH, f"{_ISSUER} step 12", str(exc)) from None
    return RecoveredIssuerKey(key, issuer_id, last, bytes(c.serial), capk.rid, capk.index)


# --------------------------------------------------------------------------------------------
# ICC public key certificate (tag 9F46, remainder 9F48, exponent 9F47)


class IccCertificate(_KeyCertificate):
    """What data preparation puts on a card: tags 9F46, 9F48 and 9F47."""

    __slots__ = ()
    _TAGS = (0x9F46, 0x9F48, 0x9F47)


@dataclass(frozen=True, slots=True)
class RecoveredIccKey:
    """An ICC public key recovered and checked by a terminal (Book 2 §6.4 step 11)."""

    key: RsaPublic
    pan: str  # digits
    expiry: date
    serial: bytes


def make_icc_certificate(
    issuer_key: RsaSigningKey,
    icc_key: rsa.RSAPublicKey | RsaSigningKey | RsaPublic,
    *,
    pan: str,
    expiry: str,
    serial: bytes,
    static_data: bytes,
) -> IccCertificate:
    """Certify an ICC public key with the issuer private key (Book 2 §6.4, Table 14).

    Args:
        pan: the application PAN digits (tag 5A).
        expiry: ``"MMYY"``.
        serial: 3 bytes.
        static_data: the static data to be authenticated (:func:`static_data_to_authenticate`).
    """
    if len(serial) != 3:
        raise ValueError("certificate serial number is 3 bytes")
    cert, remainder, exponent = _certify(
        issuer_key, _public(icc_key), ("ICC", "issuer"), L.ICC_CERT, L.ICC_CERT_FIXED,
        {"format": L.FORMAT_ICC_CERT, "pan": pad_cn(pan, 10), "expiry": encode_expiry(expiry), "serial": serial},
        static_data,
    )
    return IccCertificate(cert, remainder, exponent)


def _certify(
    signer_key: RsaSigningKey,
    key: RsaPublic,
    names: tuple[str, str],
    layout: Any,
    fixed: int,
    subject: dict[str, Any],
    hashed_extra: bytes = b"",
) -> tuple[bytes, bytes, bytes]:
    """Sign ``key`` into a certificate of ``layout`` (Book 2 Tables 13 and 14 share this shape).

    Args:
        names: (certified key, signer) for the error message.
        fixed: bytes of the layout that are not the key part, so ``n - fixed`` key bytes fit.
        subject: the fields that differ between layouts (format, identity, expiry, serial).
        hashed_extra: data hashed after the exponent (the ICC certificate's static data).

    Returns:
        The certificate, the remainder (empty when the key fits) and the exponent.
    """
    n = RsaPublic.of(signer_key).length
    if key.length > n:
        raise ValueError(f"{names[0]} key ({key.length} bytes) longer than the {names[1]} key ({n})")
    part, remainder = _split_key(key, n - fixed)
    fields = dict(
        header=L.HEADER,
        **subject,
        hash_algorithm=HASH_SHA1,
        pk_algorithm=PK_RSA,
        pk_length=key.length,
        exponent_length=len(key.exponent),
        pk_part=part,
        hash=bytes(20),
        trailer=L.TRAILER,
    )
    block = layout.build(fields, n=n)
    fields["hash"] = sha1(block[1 : n - 21], remainder, key.exponent, hashed_extra)
    return sign(layout.build(fields, n=n), signer_key), remainder, key.exponent


def recover_icc_key(
    issuer: RecoveredIssuerKey,
    certificate: bytes | None,
    remainder: bytes | None,
    exponent: bytes | None,
    *,
    pan: bytes,
    static_data: bytes,
    today: date,
) -> RecoveredIccKey:
    """Recover and check the ICC public key, Book 2 §6.4.

    Args:
        issuer: from :func:`recover_issuer_key`.
        certificate, remainder, exponent: tags 9F46, 9F48, 9F47.
        pan: tag 5A.
        static_data: the static data to be authenticated.
        today: the transaction date.

    Raises:
        OdaError: ICC_DATA_MISSING, LENGTH (step 1), TRAILER (2), HEADER (3), FORMAT (4),
            KEY_LENGTH/REMAINDER, HASH_ALGORITHM (6), HASH (7; also when the static data was
            altered), PAN (8), EXPIRED (9), PK_ALGORITHM (10).
    """
    if not certificate or not exponent or not pan:
        raise OdaError(OdaReason.ICC_DATA_MISSING, _ICC, "9F46, 9F47 and 5A are needed")
    block = recover(certificate, issuer.key, step=_ICC)
    n = len(block)
    c = L.ICC_CERT.parse(block, n=n)
    if c.header != L.HEADER:
        raise OdaError(OdaReason.HEADER, f"{_ICC} step 3")
    if c.format != L.FORMAT_ICC_CERT:
        raise OdaError(OdaReason.FORMAT, f"{_ICC} step 4", f"format {c.format:02X}")
    material = _key_part(c.pk_part, c.pk_length, remainder, c.exponent_length, exponent, f"{_ICC} step 5")
    check_hash_algorithm(c.hash_algorithm, f"{_ICC} step 6")
    check_hash(c.hash, sha1(block[1 : n - 21], remainder or b"", exponent, static_data), f"{_ICC} step 7")
    if digits(c.pan) != digits(pan):
        raise OdaError(OdaReason.PAN, f"{_ICC} step 8", "recovered PAN differs from 5A")
    last = _expiry(c.expiry, today, f"{_ICC} step 9")
    if c.pk_algorithm != PK_RSA:
        raise OdaError(OdaReason.PK_ALGORITHM, f"{_ICC} step 10", f"indicator {c.pk_algorithm:02X}")
    try:
        key = RsaPublic(material[: c.pk_length], exponent)
    except ValueError as exc:
        raise OdaError(OdaReason.KEY_LENGTH, f"{_ICC} step 11", str(exc)) from None
    return RecoveredIccKey(key, digits(c.pan), last, bytes(c.serial))


# --------------------------------------------------------------------------------------------
# static data to be authenticated (Book 3 §10.3, Book 2 §5.4 / §6.4)


def oda_records(afl: bytes) -> list[tuple[int, int]]:
    """The ``(sfi, record)`` pairs the AFL (tag 94) marks for offline data authentication.

    Each 4-byte AFL entry is ``SFI<<3, first, last, count``; the first ``count`` records from
    ``first`` take part in ODA (Book 3 §10.2).

    Raises:
        ValueError: an AFL whose length is not a multiple of 4 or with an inconsistent entry.
    """
    if len(afl) % 4:
        raise ValueError("AFL length is not a multiple of 4")
    out: list[tuple[int, int]] = []
    for i in range(0, len(afl), 4):
        sfi, first, last, count = afl[i] >> 3, afl[i + 1], afl[i + 2], afl[i + 3]
        if not 1 <= sfi <= 30 or first == 0 or last < first or count > last - first + 1:
            raise ValueError(f"bad AFL entry {afl[i : i + 4].hex().upper()}")
        out.extend((sfi, r) for r in range(first, first + count))
    return out


def static_data_to_authenticate(
    records: Iterable[tuple[int, bytes]], *, aip: bytes | None = None, sda_tag_list: bytes | None = None
) -> bytes:
    """Concatenate the data the issuer signed (Book 3 §10.3).

    Args:
        records: ``(sfi, record)`` in AFL order, each record as READ RECORD returned it. For SFI
            1-10 the value of the '70' template is used (tag and length excluded); for SFI 11-30
            the whole record, tag and length included.
        aip: tag 82, appended when ``sda_tag_list`` (9F4A) lists it.
        sda_tag_list: tag 9F4A. Only '82' may be listed.

    Raises:
        OdaError: RECORD_FORMAT (an SFI 1-10 record is not one '70' template), SDA_TAG_LIST (9F4A
            lists anything but '82'), ICC_DATA_MISSING (9F4A lists 82 but no AIP given).
    """
    parts: list[bytes] = []
    for sfi, record in records:
        if sfi > 10:
            parts.append(record)
            continue
        try:
            objs = tlv.decode(record)
        except TlvError:
            objs = []
        if len(objs) != 1 or objs[0].tag != b"\x70":
            raise OdaError(OdaReason.RECORD_FORMAT, _STATIC, f"SFI {sfi} record is not a '70' template")
        parts.append(objs[0].value)
    if sda_tag_list:
        if sda_tag_list != b"\x82":
            raise OdaError(OdaReason.SDA_TAG_LIST, _STATIC, f"9F4A lists {sda_tag_list.hex().upper()}")
        if not aip:
            raise OdaError(OdaReason.ICC_DATA_MISSING, _STATIC, "9F4A lists the AIP but 82 is absent")
        parts.append(aip)
    return b"".join(parts)
