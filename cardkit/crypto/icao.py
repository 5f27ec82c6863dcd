"""ICAO Doc 9303 part 11 Basic Access Control and 3DES secure messaging (§4.3, §9.7, §9.8, Appendix D).

Pure functions: the MRZ-derived keys, the mutual-authentication cryptograms, the session keys
and SSC, and protecting/unprotecting one APDU given the SSC (the eID client keeps the state).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from cardkit.crypto.hazmat._base import InvalidMac, constant_time_equal, fixed_length
from cardkit.crypto.hazmat.ciphers import TripleDES
from cardkit.crypto.hazmat.keys import adjust_parity
from cardkit.crypto.hazmat.mac import RetailMacKey, retail_mac
from cardkit.crypto.hazmat.padding import pad_method_2, unpad_method_2
from cardkit.errors import CryptoError

__all__ = (
    "BacKeys",
    "bac_session_keys",
    "bac_ssc",
    "check_digit",
    "derive_bac_keys",
    "ifd_authenticate",
    "ic_authenticate",
    "kdf",
    "mrz_information",
    "open_ic_response",
    "protect_command",
    "protect_response",
    "unprotect_command",
    "unprotect_response",
)

_VALUES = {**{str(d): d for d in range(10)}, **{chr(65 + i): 10 + i for i in range(26)}, "<": 0}


def check_digit(field_: str) -> str:
    """MRZ check digit (9303 part 3 §4.9): weights 7, 3, 1; A-Z = 10-35, '<' = 0; sum mod 10."""
    try:
        return str(sum(_VALUES[c] * (7, 3, 1)[i % 3] for i, c in enumerate(field_.upper())) % 10)
    except KeyError:
        raise CryptoError("MRZ fields may hold only 0-9, A-Z and '<'") from None


def mrz_information(document_number: str, birth_date: str, expiry_date: str) -> str:
    """MRZ information for BAC (9303-11 §9.7.2): number (9, '<'-padded) + cd, birth YYMMDD + cd, expiry + cd."""
    doc = document_number.upper().ljust(9, "<")
    if len(doc) != 9:
        raise CryptoError("document numbers over 9 characters need the TD1 optional-data rule (not supported)")
    for what, d in (("birth", birth_date), ("expiry", expiry_date)):
        if len(d) != 6 or not d.isdigit():
            raise CryptoError(f"{what} date must be YYMMDD")
    return doc + check_digit(doc) + birth_date + check_digit(birth_date) + expiry_date + check_digit(expiry_date)


def kdf(seed: bytes, counter: int) -> bytes:
    """9303-11 §9.7.1: first 16 bytes of SHA-1(seed || counter as 4 bytes), odd parity (1 = ENC, 2 = MAC)."""
    return adjust_parity(hashlib.sha1(bytes(seed) + counter.to_bytes(4, "big")).digest()[:16])


@dataclass(frozen=True, slots=True)
class BacKeys:
    """Document basic access keys K_enc and K_mac (2-key 3DES; repr hides them)."""

    k_enc: bytes = field(repr=False)
    k_mac: bytes = field(repr=False)


def derive_bac_keys(mrz_info: str) -> BacKeys:
    """K_seed = SHA-1(MRZ information)[:16]; K_enc = KDF(K_seed, 1), K_mac = KDF(K_seed, 2) (§9.7.2)."""
    seed = hashlib.sha1(mrz_info.encode("ascii")).digest()[:16]
    return BacKeys(kdf(seed, 1), kdf(seed, 2))


def ifd_authenticate(keys: BacKeys, rnd_ic: bytes, rnd_ifd: bytes, k_ifd: bytes) -> bytes:
    """EXTERNAL AUTHENTICATE data (§9.7.4): E_IFD || M_IFD, E_IFD = 3DES-CBC(K_enc, RND.IFD || RND.IC || K.IFD)."""
    s = fixed_length(rnd_ifd, 8, "RND.IFD") + fixed_length(rnd_ic, 8, "RND.IC") + fixed_length(k_ifd, 16, "K.IFD")
    e = TripleDES(keys.k_enc).encrypt_cbc(s)
    return e + retail_mac(keys.k_mac, e, padding=2)


def ic_authenticate(keys: BacKeys, cmd_data: bytes, rnd_ic: bytes, k_ic: bytes) -> tuple[bytes, bytes]:
    """Card side: check E_IFD || M_IFD, return (response E_IC || M_IC, K.IFD). :class:`InvalidMac` if wrong."""
    s = _open(keys, cmd_data)
    if not constant_time_equal(s[8:16], fixed_length(rnd_ic, 8, "RND.IC")):
        raise InvalidMac("BAC: RND.IC does not match")
    r = s[8:16] + s[:8] + fixed_length(k_ic, 16, "K.IC")
    e = TripleDES(keys.k_enc).encrypt_cbc(r)
    return e + retail_mac(keys.k_mac, e, padding=2), s[16:]


def _open(keys: BacKeys, data: bytes) -> bytes:
    fixed_length(data, 40, "BAC authentication data")
    e, m = data[:32], data[32:]
    if not constant_time_equal(retail_mac(keys.k_mac, e, padding=2), m):
        raise InvalidMac("BAC: MAC of the authentication data does not verify")
    return TripleDES(keys.k_enc).decrypt_cbc(e)


def open_ic_response(keys: BacKeys, resp_data: bytes, rnd_ifd: bytes) -> bytes:
    """Terminal side: verify E_IC || M_IC, check RND.IFD came back, return K.IC (§9.7.4)."""
    r = _open(keys, resp_data)
    if not constant_time_equal(r[8:16], fixed_length(rnd_ifd, 8, "RND.IFD")):
        raise InvalidMac("BAC: RND.IFD does not match")
    return r[16:]


def bac_session_keys(k_ifd: bytes, k_ic: bytes) -> BacKeys:
    """KS_enc, KS_mac from K_seed = K.IFD XOR K.IC (§9.7.4, §9.7.1)."""
    seed = bytes(a ^ b for a, b in zip(fixed_length(k_ifd, 16, "K.IFD"), fixed_length(k_ic, 16, "K.IC"), strict=True))
    return BacKeys(kdf(seed, 1), kdf(seed, 2))


def bac_ssc(rnd_ic: bytes, rnd_ifd: bytes) -> int:
    """Send sequence counter: 4 least significant bytes of RND.IC || 4 of RND.IFD (§9.8.2)."""
    return int.from_bytes(fixed_length(rnd_ic, 8, "RND.IC")[4:] + fixed_length(rnd_ifd, 8, "RND.IFD")[4:], "big")


def _do(tag: int, value: bytes) -> bytes:
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = b"\x81" + bytes([n])
    else:
        length = b"\x82" + n.to_bytes(2, "big")
    return bytes([tag]) + length + value


def _mac(ks: BacKeys, ssc: int, data: bytes) -> bytes:
    return retail_mac(RetailMacKey(ks.k_mac), (ssc & ((1 << 64) - 1)).to_bytes(8, "big") + data, padding=2)


def protect_command(ks: BacKeys, ssc: int, apdu: bytes) -> tuple[bytes, int]:
    """Wrap a short plain APDU in 3DES secure messaging (§9.8.4); returns (protected APDU, new SSC).

    SSC is incremented first; data goes in DO 87 (01 || 3DES-CBC of padded data; DO 85 for odd
    INS), Le in DO 97, the retail MAC over SSC || padded header || DOs in DO 8E; CLA gets 0C.
    """
    if len(apdu) < 4:
        raise CryptoError("APDU shorter than its header")
    header, data, le = apdu[:4], b"", b""
    if len(apdu) == 5:
        le = apdu[4:]
    elif len(apdu) > 5:
        lc = apdu[4]
        data, le = apdu[5 : 5 + lc], apdu[5 + lc :]
        if len(data) != lc or len(le) > 1:
            raise CryptoError("APDU length does not match Lc (extended APDUs are not supported)")
    ssc += 1
    cla = bytes([header[0] | 0x0C]) + header[1:]
    dos = b""
    if data:
        enc = TripleDES(ks.k_enc).encrypt_cbc(pad_method_2(data))
        dos += _do(0x85, enc) if header[1] & 1 else _do(0x87, b"\x01" + enc)
    if le:
        dos += _do(0x97, le)
    mac = _mac(ks, ssc, pad_method_2(cla) + dos)
    body = dos + _do(0x8E, mac)
    if len(body) > 255:
        raise CryptoError("protected command too long for a short APDU")
    return cla + bytes([len(body)]) + body + b"\x00", ssc


def _parse_dos(data: bytes) -> list[tuple[int, bytes, bytes]]:
    out: list[tuple[int, bytes, bytes]] = []
    i = 0
    while i < len(data):
        if i + 2 > len(data):
            raise CryptoError("truncated secure-messaging data object")
        tag, n, start = data[i], data[i + 1], i + 2
        if n in (0x81, 0x82):  # long form: the length's own bytes must be there too
            width = n - 0x80
            if i + 2 + width > len(data):
                raise CryptoError("truncated secure-messaging data object length")
            n, start = int.from_bytes(data[i + 2 : i + 2 + width], "big"), i + 2 + width
        if start + n > len(data):
            raise CryptoError("truncated secure-messaging data object")
        out.append((tag, data[start : start + n], data[i : start + n]))
        i = start + n
    return out


def _verify_and_decrypt(ks: BacKeys, ssc: int, dos: list[tuple[int, bytes, bytes]], prefix: bytes,
                        maced_tags: tuple[int, ...], what: str) -> bytes:
    """Check DO 8E over ``prefix`` and the ``maced_tags`` DOs, then decrypt DO 87 / DO 85 (§9.8.6).

    Raises:
        InvalidMac: DO 8E missing, repeated or wrong.
        CryptoError: DO 87 without the padding indicator 01, or bad padding.
    """
    maced = b"".join(raw for tag, _, raw in dos if tag in maced_tags)
    macs = [v for tag, v, _ in dos if tag == 0x8E]
    if len(macs) != 1 or not constant_time_equal(_mac(ks, ssc, prefix + maced), macs[0]):
        raise InvalidMac(f"secure messaging: {what} MAC does not verify")
    data = b""
    for tag, value, _ in dos:
        if tag == 0x87:
            if not value or value[0] != 0x01:
                raise CryptoError("secure messaging: DO 87 without padding indicator 01")
            data = unpad_method_2(TripleDES(ks.k_enc).decrypt_cbc(value[1:]))
        elif tag == 0x85:
            data = unpad_method_2(TripleDES(ks.k_enc).decrypt_cbc(value))
    return data


def unprotect_response(ks: BacKeys, ssc: int, rapdu: bytes) -> tuple[bytes, bytes, int]:
    """Check and open a protected response (§9.8.5); returns (data, SW from DO 99, new SSC).

    Raises:
        InvalidMac: DO 8E missing or wrong.
        CryptoError: malformed data objects or padding.
    """
    if len(rapdu) < 2:
        raise CryptoError("response shorter than a status word")
    ssc += 1
    dos = _parse_dos(rapdu[:-2])
    data = _verify_and_decrypt(ks, ssc, dos, b"", (0x85, 0x87, 0x99), "response")
    sw = rapdu[-2:]
    for tag, value, _ in dos:
        if tag == 0x99:
            sw = value
    return data, sw, ssc


def unprotect_command(ks: BacKeys, ssc: int, apdu: bytes) -> tuple[bytes, int]:
    """Card side of :func:`protect_command`: verify DO 8E and return (plain short APDU, new SSC)."""
    if len(apdu) < 5 or apdu[0] & 0x0C != 0x0C:
        raise CryptoError("not a secure-messaging command (CLA without 0C)")
    lc = apdu[4]
    body = apdu[5 : 5 + lc]
    if len(body) != lc:
        raise CryptoError("protected command shorter than its Lc")
    ssc += 1
    dos = _parse_dos(body)
    data = _verify_and_decrypt(ks, ssc, dos, pad_method_2(apdu[:4]), (0x85, 0x87, 0x97), "command")
    le = b""
    for tag, value, _ in dos:
        if tag == 0x97:
            le = value[-1:] if value else b"\x00"
    header = bytes([apdu[0] & ~0x0C & 0xFF]) + apdu[1:4]
    return header + (bytes([len(data)]) + data if data else b"") + le, ssc


def protect_response(ks: BacKeys, ssc: int, data: bytes, sw: bytes) -> tuple[bytes, int]:
    """Card side of :func:`unprotect_response`: DO 87 (if data) || DO 99 || DO 8E || SW (§9.8.5)."""
    ssc += 1
    dos = b""
    if data:
        dos += _do(0x87, b"\x01" + TripleDES(ks.k_enc).encrypt_cbc(pad_method_2(data)))
    dos += _do(0x99, fixed_length(sw, 2, "status word"))
    return dos + _do(0x8E, _mac(ks, ssc, dos)) + bytes(sw), ssc
