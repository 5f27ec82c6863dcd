"""Shared bits of the hazmat layer: the reuse error, key-length checks, XOR.

Nothing here formats key bytes into a message: errors name the key's role and length only.
"""

from __future__ import annotations

import hmac

from cardkit.errors import CryptoError

__all__ = ("AlreadyFinalized", "InvalidMac", "check_key_length", "constant_time_equal", "fixed_length", "xor")


class AlreadyFinalized(CryptoError):
    """A MAC context was used after ``finalize()`` or ``verify()`` (contexts are single-use)."""


class InvalidMac(CryptoError):
    """A MAC or cryptogram did not verify (the message never includes the expected value)."""


def check_key_length(key: bytes, allowed: tuple[int, ...], what: str) -> None:
    """Raise :class:`CryptoError` unless ``len(key)`` is one of ``allowed`` (message has no key bytes)."""
    if not isinstance(key, bytes | bytearray | memoryview):
        raise CryptoError(f"{what} key must be bytes, not {type(key).__name__}")
    if len(key) not in allowed:
        sizes = " or ".join(str(n) for n in allowed)
        raise CryptoError(f"{what} key must be {sizes} bytes long, got {len(key)}")


def fixed_length(value: bytes, n: int, what: str) -> bytes:
    """``value`` as bytes if it is exactly ``n`` bytes long; else :class:`CryptoError` naming ``what``."""
    if len(value) != n:
        raise CryptoError(f"{what} must be {n} bytes, got {len(value)}")
    return bytes(value)


def xor(a: bytes, b: bytes) -> bytes:
    """Bytewise XOR of two equal-length strings."""
    if len(a) != len(b):
        raise CryptoError(f"xor of unequal lengths {len(a)} and {len(b)}")
    n = len(a)
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(n, "big")


def constant_time_equal(a: bytes, b: bytes) -> bool:
    """Compare two MACs or cryptograms without a data-dependent early exit."""
    return hmac.compare_digest(a, b)
