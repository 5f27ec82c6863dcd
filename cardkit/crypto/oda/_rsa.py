"""Raw RSA as EMV uses it, and the small field codings shared by every ODA object.

EMV signatures are not PKCS#1: the signer applies the raw private operation to a block it
formats itself (Book 2 Annex A2.1, ISO/IEC 9796-2 style with a '6A' header and 'BC' trailer) and
the verifier's "recovery function" is the raw public operation ``m = s^e mod n`` (Annex A2.1.3).
Both are done here with Python integers; ``cryptography`` only generates and holds the keys.
"""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives.asymmetric import rsa

from cardkit.crypto.oda._errors import OdaError, OdaReason

HASH_SHA1 = 0x01  # Book 2 Annex B2.3: hash algorithm indicator
PK_RSA = 0x01  # Book 2 Annex B2.4: public key algorithm indicator (RSA; exponent 3 or 2^16+1)
HASH_LEN = 20


@runtime_checkable
class RawRsaSigner(Protocol):
    """An RSA private key held elsewhere (a keystore, an HSM): only its public half and the raw
    private operation on one modulus-length block are available, which is all EMV signing needs."""

    def public_key(self) -> rsa.RSAPublicKey: ...

    def raw_private(self, block: bytes) -> bytes: ...


#: What every EMV signing function accepts: a ``cryptography`` private key or a held one.
RsaSigningKey = rsa.RSAPrivateKey | RawRsaSigner


@dataclass(frozen=True, slots=True)
class RsaPublic:
    """An RSA public key as EMV carries it: big-endian modulus and exponent bytes."""

    modulus: bytes
    exponent: bytes

    def __post_init__(self) -> None:
        if not self.modulus or self.modulus[0] == 0:
            raise ValueError("an EMV modulus is given in its full length, without leading 00")
        if not self.exponent or int.from_bytes(self.exponent, "big") < 3:
            raise ValueError("public exponent must be 3 or 65537")

    @classmethod
    def of(cls, key: rsa.RSAPublicKey | RsaSigningKey) -> RsaPublic:
        """The EMV form of an RSA key's public half (a ``cryptography`` key or a held one)."""
        pub = key if isinstance(key, rsa.RSAPublicKey) else key.public_key()
        numbers = pub.public_numbers()
        return cls(int_bytes(numbers.n), int_bytes(numbers.e))

    @property
    def length(self) -> int:
        """Modulus length in bytes (N_CA, N_I or N_IC in Book 2)."""
        return len(self.modulus)


def int_bytes(value: int) -> bytes:
    """Minimal big-endian bytes: 3 -> ``03``, 65537 -> ``010001``."""
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def sha1(*parts: bytes) -> bytes:
    """SHA-1 over the concatenation (Book 2 Annex B3.1)."""
    h = hashlib.sha1()
    for p in parts:
        h.update(p)
    return h.digest()


def recover(signature: bytes, key: RsaPublic, *, step: str) -> bytes:
    """The recovery function ``X = s^e mod n`` (Book 2 Annex A2.1.3), with Book 2 step 1 and 2.

    Raises:
        OdaError: LENGTH when ``signature`` is not exactly as long as the modulus, or not less
            than it; TRAILER when the recovered block does not end in 'BC'.
    """
    n_len = key.length
    if len(signature) != n_len:
        raise OdaError(OdaReason.LENGTH, f"{step} step 1", f"{len(signature)} bytes for a {n_len}-byte key")
    n = int.from_bytes(key.modulus, "big")
    s = int.from_bytes(signature, "big")
    if s >= n:
        raise OdaError(OdaReason.LENGTH, f"{step} step 1", "signature not less than the modulus")
    block = pow(s, int.from_bytes(key.exponent, "big"), n).to_bytes(n_len, "big")
    if block[-1] != 0xBC:
        raise OdaError(OdaReason.TRAILER, f"{step} step 2")
    return block


def sign(block: bytes, key: RsaSigningKey) -> bytes:
    """The raw private operation on a formatted block (Book 2 Annex A2.1.2): with CRT for a
    ``cryptography`` key, by the key's holder (:class:`RawRsaSigner`) otherwise.

    Raises:
        ValueError: the block is not as long as the modulus or not less than it.
    """
    if not isinstance(key, rsa.RSAPrivateKey):
        public = RsaPublic.of(key)
        if len(block) != public.length or int.from_bytes(block, "big") >= int.from_bytes(public.modulus, "big"):
            raise ValueError(f"block of {len(block)} bytes does not fit a {public.length}-byte modulus")
        return key.raw_private(block)
    priv = key.private_numbers()
    pub = priv.public_numbers
    n_len = (pub.n.bit_length() + 7) // 8
    m = int.from_bytes(block, "big")
    if len(block) != n_len or m >= pub.n:
        raise ValueError(f"block of {len(block)} bytes does not fit a {n_len}-byte modulus")
    m1 = pow(m, priv.dmp1, priv.p)
    m2 = pow(m, priv.dmq1, priv.q)
    s = m2 + (priv.iqmp * (m1 - m2) % priv.p) * priv.q
    return s.to_bytes(n_len, "big")


def check_hash_algorithm(indicator: int, step: str) -> None:
    """Book 2 step 6: only SHA-1 ('01') is defined for RSA ODA (Annex B2.3)."""
    if indicator != HASH_SHA1:
        raise OdaError(OdaReason.HASH_ALGORITHM, step, f"indicator {indicator:02X}")


def check_hash(recovered: bytes, computed: bytes, step: str) -> None:
    """Book 2 step 7: recovered hash result equals the computed one."""
    if recovered != computed:
        raise OdaError(OdaReason.HASH, step)


# --------------------------------------------------------------------------------------------
# field codings


def parse_expiry(mmyy: bytes) -> date:
    """Last day of the month of a certificate expiration date ``MMYY`` (n4, Book 2 Table 13).

    Two-digit years are read as 1950-2049, the usual terminal convention (Book 2 does not fix one).

    Raises:
        ValueError: not BCD or month out of 1-12.
    """
    text = mmyy.hex()
    if len(mmyy) != 2 or not text.isdigit() or not 1 <= int(text[:2]) <= 12:
        raise ValueError(f"bad MMYY date {text.upper()}")
    month, yy = int(text[:2]), int(text[2:])
    year = 2000 + yy if yy < 50 else 1900 + yy
    return date(year, month, calendar.monthrange(year, month)[1])


def encode_expiry(mmyy: str) -> bytes:
    """``"1229"`` -> ``12 29`` (validated)."""
    out = bytes.fromhex(mmyy) if len(mmyy) == 4 and mmyy.isdigit() else b""
    parse_expiry(out)
    return out


def digits(cn: bytes) -> str:
    """Digits of a compressed numeric (cn) value, trailing 'F' padding removed."""
    return cn.hex().upper().rstrip("F")


def pad_cn(number: str, length: int) -> bytes:
    """Digits right-padded with 'F' to ``length`` bytes (cn format).

    Raises:
        ValueError: not digits, or too long.
    """
    if not number.isdigit() or len(number) > 2 * length:
        raise ValueError(f"expected up to {2 * length} digits")
    return bytes.fromhex(number.ljust(2 * length, "F"))
