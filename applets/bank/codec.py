"""Small codecs the bank application shares: n12 amounts, DOL field splitting, tag names.

Kept apart so the command modules read as the steps of docs/bank.md, not as byte fiddling.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AC_DATA_TAGS",
    "T",
    "bcd_to_int",
    "dol_fields",
    "dol_length",
    "int_to_bcd",
]


class T:
    """Raw EMV / PBOC tags the card reads from terminal data or answers with."""

    AMOUNT = b"\x9f\x02"
    AMOUNT_OTHER = b"\x9f\x03"
    COUNTRY = b"\x9f\x1a"
    TVR = b"\x95"
    CURRENCY = b"\x5f\x2a"
    DATE = b"\x9a"
    TYPE = b"\x9c"
    UN = b"\x9f\x37"
    ARC = b"\x8a"
    ISSUER_AUTH_DATA = b"\x91"
    TTQ = b"\x9f\x66"
    ATC = b"\x9f\x36"
    PDOL = b"\x9f\x38"
    CDOL1 = b"\x8c"
    CDOL2 = b"\x8d"
    DDOL = b"\x9f\x49"
    TRACK2 = b"\x57"
    PAN = b"\x5a"
    PSN = b"\x5f\x34"
    ICC_CERT = b"\x9f\x46"
    ICC_EXP = b"\x9f\x47"
    ICC_REM = b"\x9f\x48"


# CVN 01 AC data, in order, with the length the card requires of each in a DOL (docs/bank.md).
AC_DATA_TAGS: tuple[tuple[bytes, int], ...] = (
    (T.AMOUNT, 6),
    (T.AMOUNT_OTHER, 6),
    (T.COUNTRY, 2),
    (T.TVR, 5),
    (T.CURRENCY, 2),
    (T.DATE, 3),
    (T.TYPE, 1),
    (T.UN, 4),
)


def bcd_to_int(raw: bytes) -> int | None:
    """Packed BCD (format n) to int; ``None`` when a nibble is not a decimal digit."""
    if not raw:
        return 0
    text = raw.hex()
    return int(text) if text.isdigit() else None


def int_to_bcd(value: int, length: int = 6) -> bytes:
    """int to packed BCD of ``length`` bytes (n12 amounts are 6); ``ValueError`` if it does not fit."""
    if value < 0 or value >= 10 ** (2 * length):
        raise ValueError(f"{value} does not fit n{2 * length}")
    return bytes.fromhex(f"{value:0{2 * length}d}")


def dol_length(dol: Sequence[tuple[bytes, int]]) -> int:
    """How many bytes of data a DOL asks for."""
    return sum(n for _, n in dol)


def dol_fields(dol: Sequence[tuple[bytes, int]], data: bytes) -> dict[bytes, bytes]:
    """Split DOL data by the DOL's own layout (the caller checked ``len(data)``); first tag wins."""
    out: dict[bytes, bytes] = {}
    pos = 0
    for tag, n in dol:
        out.setdefault(tag, data[pos : pos + n])
        pos += n
    return out
