"""Signed application data: SDA (Book 2 §5.4), DDA (§6.5), fDDA and CDA (§6.6).

The card (or the issuer, for SDA) formats a block and applies its private key; the terminal
recovers the block with the key it recovered from the certificate chain and checks it step by
step. ``sign_*``/``build_*`` are the card side, ``verify_*`` the terminal side.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa

from cardkit import tlv
from cardkit.crypto.oda import _layouts as L
from cardkit.crypto.oda._certs import RecoveredIccKey, RecoveredIssuerKey
from cardkit.crypto.oda._errors import OdaError, OdaReason
from cardkit.crypto.oda._rsa import (
    HASH_SHA1,
    RsaPublic,
    RsaSigningKey,
    check_hash,
    check_hash_algorithm,
    recover,
    sha1,
    sign,
)
from cardkit.errors import TlvError

__all__ = [
    "RecoveredCda",
    "RecoveredDynamicData",
    "build_cda_response",
    "dda_dynamic_data",
    "fdda_data",
    "sign_cda",
    "sign_dynamic_data",
    "sign_static_data",
    "transaction_data_hash",
    "verify_cda",
    "verify_dynamic_data",
    "verify_fdda",
    "verify_static_data",
]

_SDA = "§5.4"
_DDA = "§6.5.2"
_CDA = "§6.6.2"
_T_SDAD = b"\x9f\x4b"
_T_CID = b"\x9f\x27"
_T_AC = b"\x9f\x26"


def _check_block(block: bytes, fmt: int, step: str) -> None:
    """Steps 3 and 4 shared by every signed object: header '6A', then the format code."""
    if block[0] != L.HEADER:
        raise OdaError(OdaReason.HEADER, f"{step} step 3")
    if block[1] != fmt:
        raise OdaError(OdaReason.FORMAT, f"{step} step 4", f"format {block[1]:02X}")


# --------------------------------------------------------------------------------------------
# SDA: Signed Static Application Data (tag 93)


def sign_static_data(issuer_key: RsaSigningKey, static_data: bytes, dac: bytes) -> bytes:
    """Sign the static data with the issuer private key: tag 93 (Book 2 §5.4, Table 7).

    Args:
        static_data: the static data to be authenticated.
        dac: the 2-byte Data Authentication Code (9F45) the issuer chose.
    """
    if len(dac) != 2:
        raise ValueError("data authentication code is 2 bytes")
    n = RsaPublic.of(issuer_key).length
    fields = dict(
        header=L.HEADER,
        format=L.FORMAT_SSAD,
        hash_algorithm=HASH_SHA1,
        dac=dac,
        pad=bytes([L.PAD]) * (n - 26),
        hash=bytes(20),
        trailer=L.TRAILER,
    )
    block = L.SSAD.build(fields, n=n)
    fields["hash"] = sha1(block[1 : n - 21], static_data)
    return sign(L.SSAD.build(fields, n=n), issuer_key)


def verify_static_data(issuer: RecoveredIssuerKey, ssad: bytes | None, static_data: bytes) -> bytes:
    """Verify tag 93 against the static data, Book 2 §5.4; returns the DAC (9F45).

    Raises:
        OdaError: ICC_DATA_MISSING (no 93), LENGTH (step 1), TRAILER (2), HEADER (3),
            FORMAT (4), HASH_ALGORITHM (6), HASH (7: the static data or the signature changed).
    """
    if not ssad:
        raise OdaError(OdaReason.ICC_DATA_MISSING, _SDA, "93 is absent")
    block = recover(ssad, issuer.key, step=_SDA)
    _check_block(block, L.FORMAT_SSAD, _SDA)
    s = L.SSAD.parse(block, n=len(block))
    check_hash_algorithm(s.hash_algorithm, f"{_SDA} step 6")
    check_hash(s.hash, sha1(block[1:-21], static_data), f"{_SDA} step 7")
    return bytes(s.dac)


# --------------------------------------------------------------------------------------------
# DDA and fDDA: Signed Dynamic Application Data (tag 9F4B, or INTERNAL AUTHENTICATE format 1 '80')


@dataclass(frozen=True, slots=True)
class RecoveredDynamicData:
    """What a terminal learns from a verified DDA/fDDA signature."""

    icc_dynamic_data: bytes
    icc_dynamic_number: bytes  # tag 9F4C


def dda_dynamic_data(icc_dynamic_number: bytes) -> bytes:
    """ICC Dynamic Data for DDA: length || ICC Dynamic Number, 2-8 bytes (Book 2 Table 18)."""
    if not 2 <= len(icc_dynamic_number) <= 8:
        raise ValueError("ICC dynamic number is 2-8 bytes")
    return bytes((len(icc_dynamic_number),)) + icc_dynamic_number


def sign_dynamic_data(icc_key: rsa.RSAPrivateKey, icc_dynamic_data: bytes, ddol_data: bytes) -> bytes:
    """Card side of DDA: the INTERNAL AUTHENTICATE signature (Book 2 §6.5.1, Table 17).

    Args:
        icc_dynamic_data: e.g. :func:`dda_dynamic_data` (CDA uses :func:`sign_cda`).
        ddol_data: the INTERNAL AUTHENTICATE command data (the DDOL values, 9F37 at least).
    """
    n = RsaPublic.of(icc_key).length
    if len(icc_dynamic_data) > n - L.SDAD_FIXED:
        raise ValueError(f"{len(icc_dynamic_data)} bytes of dynamic data do not fit a {n}-byte key")
    fields = dict(
        header=L.HEADER,
        format=L.FORMAT_SDAD,
        hash_algorithm=HASH_SHA1,
        dynamic_length=len(icc_dynamic_data),
        dynamic_and_pad=icc_dynamic_data + bytes([L.PAD]) * (n - L.SDAD_FIXED - len(icc_dynamic_data)),
        hash=bytes(20),
        trailer=L.TRAILER,
    )
    block = L.SDAD.build(fields, n=n)
    fields["hash"] = sha1(block[1 : n - 21], ddol_data)
    return sign(L.SDAD.build(fields, n=n), icc_key)


def _recover_sdad(icc: RecoveredIccKey, sdad: bytes | None, signed_extra: bytes, step: str) -> bytes:
    """Steps 1-7 common to DDA and CDA; returns the ICC dynamic data."""
    if not sdad:
        raise OdaError(OdaReason.ICC_DATA_MISSING, step, "9F4B is absent")
    block = recover(sdad, icc.key, step=step)
    _check_block(block, L.FORMAT_SDAD, step)
    s = L.SDAD.parse(block, n=len(block))
    if s.dynamic_length > len(block) - L.SDAD_FIXED:
        raise OdaError(OdaReason.DYNAMIC_DATA, f"{step} step 5", f"L_DD {s.dynamic_length} overruns the block")
    check_hash_algorithm(s.hash_algorithm, f"{step} step 6")
    check_hash(s.hash, sha1(block[1:-21], signed_extra), f"{step} step 7")
    return bytes(s.dynamic_and_pad[: s.dynamic_length])


def _idn(dynamic: bytes, step: str) -> tuple[bytes, bytes]:
    """(ICC dynamic number, rest) from ICC dynamic data."""
    if not dynamic or not 2 <= dynamic[0] <= 8 or len(dynamic) < 1 + dynamic[0]:
        raise OdaError(OdaReason.DYNAMIC_DATA, step, "bad ICC dynamic number length")
    return dynamic[1 : 1 + dynamic[0]], dynamic[1 + dynamic[0] :]


def verify_dynamic_data(icc: RecoveredIccKey, sdad: bytes | None, ddol_data: bytes) -> RecoveredDynamicData:
    """Terminal side of DDA, Book 2 §6.5.2.

    Args:
        sdad: the INTERNAL AUTHENTICATE response's 9F4B (or the format 1 value).
        ddol_data: the data the terminal sent (its DDOL values, e.g. its 9F37).

    Raises:
        OdaError: ICC_DATA_MISSING, LENGTH (step 1), TRAILER (2), HEADER (3), FORMAT (4),
            DYNAMIC_DATA (L_DD or the ICC dynamic number length inconsistent), HASH_ALGORITHM (6),
            HASH (7: also a different unpredictable number).
    """
    dynamic = _recover_sdad(icc, sdad, ddol_data, _DDA)
    idn, _ = _idn(dynamic, f"{_DDA} step 8")
    return RecoveredDynamicData(dynamic, idn)


def fdda_data(un: bytes, *, amount: bytes, currency: bytes, card_auth_data: bytes | None) -> bytes:
    """The terminal data an fDDA signature covers (qPBOC / qVSDC fast DDA).

    fDDA version '00' (or no 9F69): the unpredictable number 9F37 only. Version '01' (first byte
    of Card Authentication Related Data, 9F69): ``9F37 || 9F02 || 5F2A || 9F69``. These are the
    Visa VCPS / UnionPay qPBOC (JR/T 0025.12) rules as published informally; check them against the
    scheme specification before certification.

    Raises:
        OdaError: DYNAMIC_DATA for an unknown fDDA version.
    """
    if not card_auth_data or card_auth_data[0] == 0x00:
        return un
    if card_auth_data[0] == 0x01:
        return un + amount + currency + card_auth_data
    raise OdaError(OdaReason.DYNAMIC_DATA, "fDDA", f"fDDA version {card_auth_data[0]:02X}")


def verify_fdda(
    icc: RecoveredIccKey,
    sdad: bytes | None,
    *,
    un: bytes,
    amount: bytes,
    currency: bytes,
    card_auth_data: bytes | None,
) -> RecoveredDynamicData:
    """Terminal side of fDDA: DDA recovery (§6.5.2) over :func:`fdda_data`.

    The card signs the same way with ``sign_dynamic_data(key, dda_dynamic_data(idn), fdda_data(...))``.
    """
    return verify_dynamic_data(
        icc, sdad, fdda_data(un, amount=amount, currency=currency, card_auth_data=card_auth_data)
    )


# --------------------------------------------------------------------------------------------
# CDA: signature over the cryptogram (GENERATE AC with CDA requested)


@dataclass(frozen=True, slots=True)
class RecoveredCda:
    """What a terminal learns from a verified CDA signature (Book 2 Table 19)."""

    icc_dynamic_number: bytes
    cid: int
    ac: bytes
    transaction_data_hash: bytes


def transaction_data_hash(pdol_data: bytes, cdol1_data: bytes, response_tlvs: bytes, cdol2_data: bytes = b"") -> bytes:
    """Transaction Data Hash Code (Book 2 §6.6.1): SHA-1 over PDOL values || CDOL1 values
    [|| CDOL2 values, second GENERATE AC] || the response's TLVs except 9F4B, in order."""
    return sha1(pdol_data, cdol1_data, cdol2_data, response_tlvs)


def sign_cda(
    icc_key: rsa.RSAPrivateKey, *, icc_dynamic_number: bytes, cid: int, ac: bytes, un: bytes, tdhc: bytes
) -> bytes:
    """Card side of CDA: 9F4B over the ICC dynamic data of Book 2 Table 19 and the terminal's 9F37."""
    if len(ac) != 8 or len(tdhc) != 20:
        raise ValueError("AC is 8 bytes and the transaction data hash code 20")
    dynamic = dda_dynamic_data(icc_dynamic_number) + bytes((cid,)) + ac + tdhc
    return sign_dynamic_data(icc_key, dynamic, un)


def build_cda_response(
    icc_key: rsa.RSAPrivateKey,
    *,
    icc_dynamic_number: bytes,
    cid: int,
    atc: bytes,
    ac: bytes,
    iad: bytes,
    un: bytes,
    pdol_data: bytes,
    cdol1_data: bytes,
    cdol2_data: bytes = b"",
) -> bytes:
    """A GENERATE AC response with CDA, format 2: ``77 [9F27 9F36 9F4B 9F10]`` (Book 3 §6.5.5.4).

    The AC travels only inside 9F4B. The TDHC covers the other three TLVs in that order.
    """
    others = [tlv.build(_T_CID, bytes((cid,))), tlv.build(0x9F36, atc)]
    tail = [tlv.build(0x9F10, iad)] if iad else []
    tdhc = transaction_data_hash(pdol_data, cdol1_data, b"".join(others + tail), cdol2_data)
    sdad = sign_cda(icc_key, icc_dynamic_number=icc_dynamic_number, cid=cid, ac=ac, un=un, tdhc=tdhc)
    return tlv.build(0x77, b"".join([*others, tlv.build(_T_SDAD, sdad), *tail]))


def _response_objects(response: bytes) -> list[tlv.Tlv]:
    try:
        objs = tlv.decode(response)
    except TlvError as exc:
        raise OdaError(OdaReason.ICC_DATA_MISSING, _CDA, f"GENERATE AC response is not BER-TLV: {exc}") from None
    if len(objs) != 1 or objs[0].tag != b"\x77":
        raise OdaError(OdaReason.ICC_DATA_MISSING, _CDA, "CDA needs a format 2 ('77') GENERATE AC response")
    return list(objs[0].children)


def verify_cda(
    icc: RecoveredIccKey,
    response: bytes,
    *,
    un: bytes,
    pdol_data: bytes,
    cdol1_data: bytes,
    cdol2_data: bytes = b"",
) -> RecoveredCda:
    """Terminal side of CDA, Book 2 §6.6.2.

    Args:
        response: the GENERATE AC response data field (a '77' template).
        un: the terminal's unpredictable number 9F37 sent in the CDOL data.
        pdol_data, cdol1_data, cdol2_data: the values the terminal sent (CDOL2 on the second
            GENERATE AC only).

    Raises:
        OdaError: ICC_DATA_MISSING (not '77', no 9F4B or no 9F27), LENGTH (step 1), TRAILER (2),
            HEADER (3), FORMAT (4), DYNAMIC_DATA, HASH_ALGORITHM (6), HASH (7), CID (8),
            AC (a plaintext 9F26 that differs from the signed AC), TRANSACTION_DATA_HASH (9-10).
    """
    objs = _response_objects(response)
    sdad = next((o.value for o in objs if o.tag == _T_SDAD), None)
    cid_tlv = next((o.value for o in objs if o.tag == _T_CID), None)
    if cid_tlv is None or len(cid_tlv) != 1:
        raise OdaError(OdaReason.ICC_DATA_MISSING, _CDA, "9F27 is absent")
    dynamic = _recover_sdad(icc, sdad, un, _CDA)
    idn, rest = _idn(dynamic, f"{_CDA} step 8")
    if len(rest) < 29:
        raise OdaError(OdaReason.DYNAMIC_DATA, f"{_CDA} step 8", "ICC dynamic data too short for CDA")
    cid, ac, tdhc = rest[0], rest[1:9], rest[9:29]
    if cid != cid_tlv[0]:
        raise OdaError(OdaReason.CID, f"{_CDA} step 8", f"signed {cid:02X}, response {cid_tlv[0]:02X}")
    plain_ac = next((o.value for o in objs if o.tag == _T_AC), None)
    if plain_ac is not None and plain_ac != ac:  # checked first: it would also break step 10
        raise OdaError(OdaReason.AC, _CDA, "9F26 in the response differs from the signed AC")
    signed_tlvs = b"".join(o.to_bytes() for o in objs if o.tag != _T_SDAD)
    if transaction_data_hash(pdol_data, cdol1_data, signed_tlvs, cdol2_data) != tdhc:
        raise OdaError(OdaReason.TRANSACTION_DATA_HASH, f"{_CDA} step 10")
    return RecoveredCda(idn, cid, ac, tdhc)
