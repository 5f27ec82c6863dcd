"""ISO 9564-1 PIN blocks (formats 0, 1, 2, 3) and their encipherment under a zone PIN key.

A :class:`PinBlock` never shows its contents in ``repr``/``str``; take the bytes with
:meth:`PinBlock.reveal` at the one place that needs them (the card VERIFY, an HSM call).
Randomness for formats 1 and 3 is injected (``rng``) so tests and simulators stay deterministic.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from cardkit.crypto.hazmat._base import constant_time_equal
from cardkit.crypto.hazmat.ciphers import TripleDES, cached
from cardkit.errors import CryptoError

__all__ = ("PinBlock", "decode_pin_block", "decrypt_pin_block", "encode_pin_block", "encrypt_pin_block")

_FORMATS = (0, 1, 2, 3)


@dataclass(frozen=True, slots=True, eq=False)
class PinBlock:
    """An 8-byte clear PIN block of ISO 9564-1 format ``format``; its bytes stay out of repr."""

    format: int
    _value: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self._value) != 8:
            raise CryptoError("a PIN block is 8 bytes")
        if self.format not in _FORMATS:
            raise CryptoError(f"unsupported PIN block format {self.format}")

    def __repr__(self) -> str:
        return f"PinBlock(format={self.format}, <hidden>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PinBlock):
            return NotImplemented
        return self.format == other.format and constant_time_equal(self._value, other._value)

    def __hash__(self) -> int:
        return hash((PinBlock, self.format))

    def reveal(self) -> bytes:
        """The clear block bytes (for the card's VERIFY or an encryption call); never log them."""
        return self._value


def _pan_field(pan: str | bytes | None) -> int:
    """0000 || 12 rightmost PAN digits excluding the check digit (ISO 9564-1 format 0/3 PAN field)."""
    if pan is None:
        raise CryptoError("PIN block formats 0 and 3 need the PAN")
    digits = bytes(pan).hex().upper().rstrip("F") if isinstance(pan, bytes | bytearray) else pan.strip()
    if not digits.isdigit() or len(digits) < 13:
        raise CryptoError("PAN must be at least 13 decimal digits for a PIN block")
    return int(digits[-13:-1], 16)  # 12 digits as nibbles; top 4 nibbles stay 0


def encode_pin_block(
    pin: str, pan: str | bytes | None = None, format: int = 0, *, rng: Callable[[int], bytes] = os.urandom
) -> PinBlock:
    """Build a clear PIN block (ISO 9564-1 §9.3.1-9.3.5).

    Args:
        pin: 4-12 decimal digits.
        pan: the PAN (digits or 5A bytes), needed by formats 0 and 3.
        format: 0 (PIN XOR PAN, F fill), 1 (no PAN, random fill), 2 (ICC offline PIN, F fill,
            no PAN; EMV VERIFY plaintext), 3 (PIN XOR PAN, random A-F fill).
        rng: byte source for formats 1 and 3.
    Raises:
        CryptoError: bad PIN, PAN or format (the message never contains the PIN).
    """
    if format not in _FORMATS:
        raise CryptoError(f"unsupported PIN block format {format}")
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 12):
        raise CryptoError("PIN must be 4 to 12 decimal digits")
    n_fill = 14 - len(pin)
    if format in (0, 2):
        fill = "F" * n_fill
    elif format == 1:
        fill = "".join(f"{b & 0x0F:X}" for b in rng(n_fill))
    else:  # format 3: A-F
        fill = "".join("ABCDEF"[b % 6] for b in rng(n_fill))
    pin_field = int(f"{format:X}{len(pin):X}{pin}{fill}", 16)
    if format in (0, 3):
        pin_field ^= _pan_field(pan)
    return PinBlock(format, pin_field.to_bytes(8, "big"))


def decode_pin_block(block: PinBlock | bytes, pan: str | bytes | None = None) -> str:
    """Recover the PIN from a clear PIN block; the format comes from its control nibble.

    Raises:
        CryptoError: the block is malformed for its format (no block bytes in the message).
    """
    raw = block.reveal() if isinstance(block, PinBlock) else bytes(block)
    if len(raw) != 8:
        raise CryptoError("a PIN block is 8 bytes")
    value = int.from_bytes(raw, "big")
    fmt = value >> 60
    if fmt not in _FORMATS:
        raise CryptoError("PIN block has an unsupported format nibble")
    if fmt in (0, 3):
        value ^= _pan_field(pan)
    nibbles = f"{value:016X}"
    n = int(nibbles[1], 16)
    pin, fill = nibbles[2 : 2 + n], nibbles[2 + n :]
    ok = 4 <= n <= 12 and pin.isdigit()
    if fmt in (0, 2):
        ok = ok and fill == "F" * len(fill)
    elif fmt == 3:
        ok = ok and all(c in "ABCDEF" for c in fill)
    if not ok:
        raise CryptoError(f"malformed ISO 9564 format {fmt} PIN block (wrong PAN or key?)")
    return pin


def encrypt_pin_block(zpk: bytes, block: PinBlock) -> bytes:
    """Encipher a PIN block under a 3DES zone PIN key (TDEA-ECB, ISO 9564-1 §8 / ANSI X9.8)."""
    return cached(TripleDES, zpk).encrypt_ecb(block.reveal())


def decrypt_pin_block(zpk: bytes, data: bytes) -> PinBlock:
    """Decipher a PIN block from a zone; the format nibble must be one of 0-3."""
    if len(data) != 8:
        raise CryptoError("an enciphered PIN block is 8 bytes")
    clear = cached(TripleDES, zpk).decrypt_ecb(bytes(data))
    fmt = clear[0] >> 4
    if fmt not in _FORMATS:
        raise CryptoError("deciphered PIN block has an unknown format (wrong key?)")
    return PinBlock(fmt, clear)
