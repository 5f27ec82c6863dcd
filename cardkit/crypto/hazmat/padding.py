"""ISO/IEC 9797-1 padding methods 1 and 2 (method 2 is the ISO 7816-4 "80 00.." padding)."""

from __future__ import annotations

from cardkit.errors import CryptoError

__all__ = ("pad_method_1", "pad_method_2", "unpad_method_2")


def pad_method_1(data: bytes, block_size: int = 8) -> bytes:
    """ISO 9797-1 §6.1.1 method 1: append 00 bytes up to a block multiple (none if already there).

    Empty data becomes one block of zeros, as the standard asks.
    """
    rem = len(data) % block_size
    if rem:
        return bytes(data) + bytes(block_size - rem)
    if not data:
        return bytes(block_size)
    return bytes(data)


def pad_method_2(data: bytes, block_size: int = 8) -> bytes:
    """ISO 9797-1 §6.1.2 method 2: append 80 then 00 bytes up to a block multiple (always adds)."""
    n = len(data) + 1
    return bytes(data) + b"\x80" + bytes(-n % block_size)


def unpad_method_2(data: bytes, block_size: int = 8) -> bytes:
    """Strip method-2 padding; :class:`CryptoError` if ``data`` is not validly padded."""
    if not data or len(data) % block_size:
        raise CryptoError(f"padded data must be a non-empty multiple of {block_size} bytes, got {len(data)}")
    stripped = bytes(data).rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80 or len(data) - len(stripped) >= block_size:
        raise CryptoError("invalid ISO 9797-1 method 2 padding")
    return stripped[:-1]
