"""The ID application's personalization: a DGI map in, a validated :class:`Profile` out.

DGIs (docs/eid-card.md "Personalization"): ``SS00`` for the file of SFI ``SS`` (EF.COM 1E00,
DG1 0100, DG2 0200, DG11 0B00, DG15 0F00, EF.SOD 1D00), 8000 / 9000 for the BAC keys and their
check values, 8101 for the active authentication key. Everything is checked before the card is
touched, including that the BAC keys are the ones DG1's MRZ gives and that the AA key is the one
DG15 publishes; a :class:`ProfileError` names the DGI and never quotes key bytes.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_der_public_key

from applets.eid.layout import DGI_AA_KEY, DGI_BAC_KCVS, DGI_BAC_KEYS, FILES, EidFile
from cardkit.crypto.hazmat.keys import kcv
from cardkit.crypto.icao import BacKeys, derive_bac_keys, mrz_information
from cardkit.errors import CryptoError, ProfileError

__all__ = ["Profile", "aa_private_key", "parse_dgis", "read_outer_tlv"]

_KEY = 16
_KCV = 3
_AA_KEY = 32
_MAX_FILE = 0x7FFF  # READ BINARY's 15-bit offset
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_TAG_MRZ = b"\x5f\x1f"


@dataclass(frozen=True, slots=True)
class Profile:
    """A validated personalization: the files' contents, the BAC keys and the AA key."""

    files: tuple[tuple[EidFile, bytes], ...]
    bac_keys: BacKeys = field(repr=False)
    aa_key: bytes = field(repr=False)


def read_outer_tlv(data: bytes) -> tuple[bytes, bytes] | None:
    """(tag, value) if ``data`` is exactly one BER-TLV object (1-2 byte tag, definite length)."""
    if len(data) < 2:
        return None
    i = 2 if data[0] & 0x1F == 0x1F else 1
    if i + 1 > len(data):
        return None
    first = data[i]
    if first < 0x80:
        n, start = first, i + 1
    elif first in (0x81, 0x82, 0x83):
        k = first & 0x7F
        n, start = int.from_bytes(data[i + 1 : i + 1 + k], "big"), i + 1 + k
    else:
        return None
    if start + n != len(data) or start > len(data):
        return None
    return data[:i], data[start:]


def _file(dgis: Mapping[int, bytes], f: EidFile) -> bytes:
    value = dgis.get(f.dgi)
    if value is None:
        raise ProfileError(f"DGI {f.dgi:04X} ({f.name}) is missing")
    value = bytes(value)
    outer = read_outer_tlv(value)
    if outer is None or outer[0] != bytes((f.tag,)):
        raise ProfileError(f"DGI {f.dgi:04X} ({f.name}) must be one BER-TLV object with tag {f.tag:02X}")
    if len(value) > _MAX_FILE:
        raise ProfileError(f"DGI {f.dgi:04X} ({f.name}) is longer than {_MAX_FILE} bytes")
    return value


def _mrz_keys(dg1: bytes) -> BacKeys:
    """The BAC keys DG1's MRZ gives (TD1: 90 characters, TD3: 88; 9303-11 §9.7.2)."""
    outer = read_outer_tlv(dg1)
    inner = read_outer_tlv(outer[1]) if outer else None
    if inner is None or inner[0] != _TAG_MRZ:
        raise ProfileError("DGI 0100 (DG1) must be 61 { 5F1F MRZ }")
    mrz = inner[1].decode("ascii", "replace")
    if len(mrz) == 90:  # TD1: line 1 chars 6-14 number, line 2 chars 1-6 birth, 9-14 expiry
        number, birth, expiry = mrz[5:14], mrz[30:36], mrz[38:44]
    elif len(mrz) == 88:  # TD3: line 2 chars 1-9 number, 14-19 birth, 22-27 expiry
        number, birth, expiry = mrz[44:53], mrz[57:63], mrz[65:71]
    else:
        raise ProfileError("DGI 0100 (DG1): the MRZ must be TD1 (90 characters) or TD3 (88)")
    try:
        return derive_bac_keys(mrz_information(number.rstrip("<"), birth, expiry))
    except CryptoError as exc:
        raise ProfileError(f"DGI 0100 (DG1): the MRZ does not give BAC keys ({exc})") from None


def _bac_keys(dgis: Mapping[int, bytes], dg1: bytes) -> BacKeys:
    keys, kcvs = dgis.get(DGI_BAC_KEYS), dgis.get(DGI_BAC_KCVS)
    if keys is None or len(keys) != 2 * _KEY:
        raise ProfileError(f"DGI {DGI_BAC_KEYS:04X} (BAC keys) must be K_enc || K_mac, {2 * _KEY} bytes")
    bac = BacKeys(bytes(keys[:_KEY]), bytes(keys[_KEY:]))
    if kcvs is None or len(kcvs) != 2 * _KCV:
        raise ProfileError(f"DGI {DGI_BAC_KCVS:04X} (BAC key check values) must be {2 * _KCV} bytes")
    if not hmac.compare_digest(kcv(bac.k_enc, _KCV) + kcv(bac.k_mac, _KCV), bytes(kcvs)):
        raise ProfileError(f"DGI {DGI_BAC_KCVS:04X}: the check values do not match the keys of DGI 8000")
    expected = _mrz_keys(dg1)
    if not (hmac.compare_digest(expected.k_enc, bac.k_enc) and hmac.compare_digest(expected.k_mac, bac.k_mac)):
        raise ProfileError(f"DGI {DGI_BAC_KEYS:04X}: the BAC keys are not the ones DG1's MRZ gives")
    return bac


def aa_private_key(scalar: bytes) -> ec.EllipticCurvePrivateKey:
    """The P-256 private key of a 32-byte big-endian scalar (``ProfileError`` if out of range)."""
    d = int.from_bytes(scalar, "big")
    if len(scalar) != _AA_KEY or not 1 <= d < _P256_ORDER:
        raise ProfileError(f"DGI {DGI_AA_KEY:04X} (AA key) must be a P-256 private scalar, {_AA_KEY} bytes")
    return ec.derive_private_key(d, ec.SECP256R1())


def _aa_key(dgis: Mapping[int, bytes], dg15: bytes) -> bytes:
    scalar = bytes(dgis.get(DGI_AA_KEY, b""))
    key = aa_private_key(scalar)
    outer = read_outer_tlv(dg15)
    try:
        published = load_der_public_key(outer[1]) if outer else None
    except ValueError:
        published = None
    if not isinstance(published, ec.EllipticCurvePublicKey):
        raise ProfileError("DGI 0F00 (DG15) must be 6F { SubjectPublicKeyInfo of a P-256 key }")
    mine = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    theirs = published.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    if mine != theirs:
        raise ProfileError(f"DGI {DGI_AA_KEY:04X}: the AA key is not the one DG15 publishes")
    return scalar


def parse_dgis(dgis: Mapping[int, bytes]) -> Profile:
    """Validate the personalization DGIs of docs/eid-card.md.

    Raises:
        ProfileError: naming the DGI that is missing, unknown or wrong (never quoting a key).
    """
    known = {f.dgi for f in FILES} | {DGI_BAC_KEYS, DGI_BAC_KCVS, DGI_AA_KEY}
    unknown = sorted(set(dgis) - known)
    if unknown:
        raise ProfileError(f"DGI {unknown[0]:04X} is not one of the ID application's")
    files = tuple((f, _file(dgis, f)) for f in FILES)
    contents = {f.name: v for f, v in files}
    return Profile(files, _bac_keys(dgis, contents["DG1"]), _aa_key(dgis, contents["DG15"]))
