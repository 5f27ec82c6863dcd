"""The ICC RSA private key from DGIs 8201-8205 (CRT form), checked before it is ever used.

The card signs DDA / fDDA / CDA with it (through :mod:`cardkit.crypto.oda`) and deciphers the
enciphered offline PIN (EMV Book 2 §7.2). A card that signs with a key its certificate does not
carry would fail every terminal's ODA far from the cause, so personalization checks the CRT parts
against each other, against the public exponent 9F47, and against the modulus digits the
certificate leaves for the record (9F48, and the room in 9F46).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import rsa

from cardkit.errors import ProfileError

__all__ = ["RSA_DGIS", "IccKey", "parse_icc_key"]

# q^-1 mod p, d mod (q-1), d mod (p-1), q, p (EMV CPS naming, docs/bank.md)
RSA_DGIS = (0x8201, 0x8202, 0x8203, 0x8204, 0x8205)
_ICC_CERT_FIXED = 42  # Book 2 Table 14: the ICC certificate's bytes that are not modulus digits


@dataclass(frozen=True, slots=True)
class IccKey:
    """The ICC private key; ``repr`` shows only its size, never a number."""

    modulus: bytes = field(repr=False)
    exponent: int
    private: rsa.RSAPrivateKey = field(repr=False)
    _crt: tuple[int, int, int, int, int] = field(repr=False)  # p, q, dp, dq, qinv

    @property
    def length(self) -> int:
        return len(self.modulus)

    def decipher(self, block: bytes) -> bytes | None:
        """Raw RSA private operation (Book 2 §7.2 enciphered PIN); ``None`` if ``block`` is no cryptogram."""
        c = int.from_bytes(block, "big")
        if len(block) != self.length or c >= int.from_bytes(self.modulus, "big"):
            return None
        p, q, dp, dq, qinv = self._crt
        m1, m2 = pow(c, dp, p), pow(c, dq, q)
        return (m2 + (qinv * (m1 - m2) % p) * q).to_bytes(self.length, "big")


def _fail(what: str) -> ProfileError:
    return ProfileError(f"DGI 8201-8205 (ICC RSA key): {what}")


def parse_icc_key(dgis: Mapping[int, bytes], record_data: Mapping[bytes, bytes]) -> IccKey | None:
    """The ICC key from DGIs 8201-8205, or ``None`` when none of them is given.

    Args:
        record_data: the primitive tags of all records (9F47, 9F46, 9F48 are read from it).

    Raises:
        ProfileError: some parts missing, parts inconsistent with each other or with 9F47, or a
            modulus that does not match what the ICC certificate leaves in 9F48.
    """
    present = [d for d in RSA_DGIS if d in dgis]
    if not present:
        return None
    if len(present) != len(RSA_DGIS):
        missing = ", ".join(f"{d:04X}" for d in RSA_DGIS if d not in dgis)
        raise _fail(f"incomplete, missing {missing}")
    qinv, dq, dp, q, p = (int.from_bytes(dgis[d], "big") for d in RSA_DGIS)
    exp_raw = record_data.get(b"\x9f\x47")
    if not exp_raw:
        raise _fail("the records carry no ICC public key exponent 9F47")
    e = int.from_bytes(exp_raw, "big")
    if e not in (3, 65537):
        raise _fail("9F47 must be 3 or 65537 (Book 2 §6.1)")
    if min(p, q) < 3 or p == q:
        raise _fail("p and q must be two distinct odd factors")
    if qinv * q % p != 1:
        raise _fail("DGI 8201 is not q^-1 mod p")
    if dq * e % (q - 1) != 1:
        raise _fail("DGI 8202 is not d mod (q-1) for the exponent in 9F47")
    if dp * e % (p - 1) != 1:
        raise _fail("DGI 8203 is not d mod (p-1) for the exponent in 9F47")
    n = p * q
    modulus = n.to_bytes((n.bit_length() + 7) // 8, "big")
    _check_certificate(modulus, record_data)
    lam = (p - 1) * (q - 1) // math.gcd(p - 1, q - 1)
    try:
        numbers = rsa.RSAPrivateNumbers(p, q, pow(e, -1, lam), dp, dq, qinv, rsa.RSAPublicNumbers(e, n))
        # the CRT relations were checked above; cryptography's own check adds primality tests that
        # cost ~2 ms per key and per personalization step, which no card does
        private = numbers.private_key(unsafe_skip_rsa_key_validation=True)
    except ValueError:
        raise _fail("the parts do not form a usable RSA key") from None
    return IccKey(modulus, e, private, (p, q, dp, dq, qinv))


def _check_certificate(modulus: bytes, record_data: Mapping[bytes, bytes]) -> None:
    """The modulus must fit the ICC certificate (9F46) and end in its remainder (9F48)."""
    cert = record_data.get(b"\x9f\x46")
    remainder = record_data.get(b"\x9f\x48", b"")
    if cert is None:
        if remainder:
            raise _fail("9F48 (ICC public key remainder) is present without a certificate 9F46")
        return
    room = len(cert) - _ICC_CERT_FIXED
    if len(modulus) > len(cert):
        raise _fail(f"a {len(modulus)}-byte modulus is longer than the {len(cert)}-byte issuer key allows")
    if len(modulus) > room:
        if remainder != modulus[room:]:
            raise _fail("the modulus does not end in the ICC public key remainder 9F48 of the records")
    elif remainder:
        raise _fail("9F48 is present but the modulus fits in the certificate")
