"""Active authentication: the chip proves it holds the private key of DG15 (9303-11 §6.1).

INTERNAL AUTHENTICATE carries an 8-byte challenge; the chip signs it:

* ECDSA (9303-11 §6.1.2, BSI TR-03111 §5.2.1): the plain signature r || s over the challenge,
  with SHA-256 on P-256 (SHA-384 on P-384, SHA-512 on P-521) unless DG14 names another hash;
* RSA (9303-11 §6.1.2.1): ISO/IEC 9796-2 digital signature scheme 1, partial message recovery:
  ``s^e mod n`` = 6A || M1 || H(M1 || challenge) || BC (SHA-1) or || hash id || CC.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from cardkit.crypto.hazmat import constant_time_equal

__all__ = ["verify_active_authentication"]

_EC_HASHES: dict[int, type[hashes.HashAlgorithm]] = {256: hashes.SHA256, 384: hashes.SHA384, 521: hashes.SHA512}
#: ISO/IEC 10118-3 hash identifiers in an ISO 9796-2 trailer ``xx CC``.
_RSA_HASH_IDS = {0x33: "sha1", 0x38: "sha224", 0x34: "sha256", 0x36: "sha384", 0x35: "sha512"}


def verify_active_authentication(key: PublicKeyTypes, challenge: bytes, response: bytes,
                                 hash_algorithm: hashes.HashAlgorithm | None = None) -> tuple[bool, str]:
    """Check the chip's answer to ``challenge`` with the DG15 ``key``.

    Returns:
        ``(True, what verified)`` or ``(False, why not)``; never raises on a bad signature.
    """
    if isinstance(key, ec.EllipticCurvePublicKey):
        return _ecdsa(key, challenge, response, hash_algorithm)
    if isinstance(key, rsa.RSAPublicKey):
        return _rsa_9796_2(key, challenge, response)
    return False, f"DG15 holds a {type(key).__name__}, which active authentication does not use"


def _ecdsa(key: ec.EllipticCurvePublicKey, challenge: bytes, response: bytes,
           hash_algorithm: hashes.HashAlgorithm | None) -> tuple[bool, str]:
    size = (key.curve.key_size + 7) // 8
    algorithm = hash_algorithm or _EC_HASHES.get(key.curve.key_size, hashes.SHA256)()
    if len(response) == 2 * size:
        signature = encode_dss_signature(int.from_bytes(response[:size], "big"), int.from_bytes(response[size:], "big"))
    elif response[:1] == b"\x30":
        signature = response  # some chips answer a DER Ecdsa-Sig-Value
    else:
        return False, f"the ECDSA answer has {len(response)} bytes, r || s on {key.curve.name} has {2 * size}"
    try:
        key.verify(signature, challenge, ec.ECDSA(algorithm))
    except (InvalidSignature, ValueError):
        return False, "the chip's signature does not verify with the DG15 key (a copied chip?)"
    return True, f"ECDSA {key.curve.name} with {algorithm.name.upper()}"


def _rsa_9796_2(key: rsa.RSAPublicKey, challenge: bytes, response: bytes) -> tuple[bool, str]:
    numbers = key.public_numbers()
    k = (numbers.n.bit_length() + 7) // 8
    s = int.from_bytes(response, "big")
    if len(response) != k or s >= numbers.n:
        return False, f"the RSA answer has {len(response)} bytes, the DG15 modulus {k}"
    m = pow(s, numbers.e, numbers.n)
    if m & 0x0F != 0x0C:
        m = numbers.n - m  # the signer may send min(s, n - s) (ISO/IEC 9796-2 §B.6)
    em = m.to_bytes(k, "big")
    if em[-1] == 0xBC:
        name, trailer = "sha1", 1
    elif em[-1] == 0xCC and em[-2] in _RSA_HASH_IDS:
        name, trailer = _RSA_HASH_IDS[em[-2]], 2
    else:
        return False, "the chip's RSA signature does not recover an ISO 9796-2 message (a copied chip?)"
    h_len = hashlib.new(name).digest_size
    if em[0] != 0x6A or k < 1 + h_len + trailer:
        return False, "the chip's RSA signature does not recover an ISO 9796-2 message (a copied chip?)"
    m1, digest = em[1 : k - h_len - trailer], em[k - h_len - trailer : k - trailer]
    if not constant_time_equal(hashlib.new(name, m1 + challenge).digest(), digest):
        return False, "the chip's RSA signature does not cover this challenge (a copied chip?)"
    return True, f"RSA ISO 9796-2 with {name.upper()}"
