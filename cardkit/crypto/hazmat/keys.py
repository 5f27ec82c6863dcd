"""Key helpers: DES odd parity, key check values, and the 3DES diversification both EMV and PBOC use."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from cardkit.crypto.hazmat._base import check_key_length
from cardkit.crypto.hazmat.ciphers import AES, SM4, BlockCipher, TripleDES
from cardkit.errors import CryptoError

__all__ = ("MasterKey", "SupportsEncryptEcb", "adjust_parity", "diversify_3des", "emv_common_session_key",
           "has_odd_parity", "kcv", "key_length")

# Each byte with its low bit set so the byte has an odd number of 1 bits (FIPS 46-3 / ANSI X3.92).
_ODD = bytes(b & 0xFE | ((bin(b & 0xFE).count("1") + 1) & 1) for b in range(256))
_FF8 = (1 << 64) - 1


@runtime_checkable
class SupportsEncryptEcb(Protocol):
    """A secret key that can encrypt blocks in ECB mode: a cipher object here, or a key held by a
    keystore or an HSM that never hands out its value. Every diversification is this one operation."""

    def encrypt_ecb(self, data: bytes) -> bytes: ...


#: A long-lived key as data preparation receives it: its value, or a key a keystore holds.
MasterKey = bytes | SupportsEncryptEcb


def key_length(key: bytes | SupportsEncryptEcb) -> int:
    """Length in bytes of a key given by value or held elsewhere (held keys carry ``length``)."""
    if isinstance(key, (bytes, bytearray)):
        return len(key)
    length = getattr(key, "length", None)
    if not isinstance(length, int):
        raise CryptoError(f"{type(key).__name__} does not say its key length")
    return length


def adjust_parity(key: bytes) -> bytes:
    """Set the low bit of every byte so each has odd parity (DES key convention)."""
    return bytes(key).translate(_ODD)


def has_odd_parity(key: bytes) -> bool:
    """True when every byte of ``key`` has odd parity."""
    return bytes(key).translate(_ODD) == bytes(key)


def kcv(key: bytes | BlockCipher, length: int = 3, *, algorithm: str = "3DES") -> bytes:
    """Key check value: the first ``length`` bytes of encrypting one zero block.

    ``algorithm`` is "3DES" (8-byte keys count as single DES run as K1K1), "AES" or "SM4"
    (the zero-block KCV; GlobalPlatform's AES KCV uses a block of 01 bytes — pass that
    cipher through :meth:`BlockCipher.encrypt_ecb` yourself if you need it).
    """
    if isinstance(key, BlockCipher):
        cipher = key
    elif algorithm == "3DES":
        cipher = TripleDES(bytes(key) * 2 if len(key) == 8 else key)
    elif algorithm == "AES":
        cipher = AES(key)
    elif algorithm == "SM4":
        cipher = SM4(key)
    else:
        raise CryptoError(f"unknown KCV algorithm {algorithm!r}")
    if not 1 <= length <= cipher.block_size:
        raise CryptoError(f"KCV length must be 1..{cipher.block_size}")
    return cipher.encrypt_ecb(bytes(cipher.block_size))[:length]


def diversify_3des(master: bytes | SupportsEncryptEcb, x: bytes, *, parity: bool = True) -> bytes:
    """16-byte key ``3DES_MK(X) || 3DES_MK(X XOR FF..FF)`` for an 8-byte ``X``.

    EMV Book 2 A1.4.1 (ICC master key option A, with odd parity) and the PBOC purse sub-key
    diversification (left = 3DES(X), right = 3DES(NOT X); PBOC does not adjust parity).
    """
    if len(x) != 8:
        raise CryptoError(f"diversification input must be 8 bytes, got {len(x)}")
    mk = TripleDES(master) if isinstance(master, (bytes, bytearray)) else master
    inv = (int.from_bytes(x, "big") ^ _FF8).to_bytes(8, "big")
    out = mk.encrypt_ecb(bytes(x) + inv)
    return adjust_parity(out) if parity else out


def emv_common_session_key(master: bytes | TripleDES, r: bytes) -> bytes:
    """EMV Book 2 A1.3.1 common session key: ``3DES_MK(R') || 3DES_MK(R'')``, odd parity.

    R' is R with byte 3 set to F0, R'' with byte 3 set to 0F (R is 8 bytes: ATC || 00*6,
    ATC || 00 00 || UN, or the AC for secure-messaging keys).
    """
    if isinstance(master, bytes | bytearray):
        check_key_length(master, (16,), "EMV master")
    if len(r) != 8:
        raise CryptoError(f"session key diversification value R must be 8 bytes, got {len(r)}")
    mk = master if isinstance(master, TripleDES) else TripleDES(master)
    r = bytes(r)
    return adjust_parity(mk.encrypt_ecb(r[:2] + b"\xf0" + r[3:] + r[:2] + b"\x0f" + r[3:]))
