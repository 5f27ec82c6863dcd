"""Data elements fit to print or log: the PAN and everything that carries it, masked.

PCI DSS 3.4 allows the first six and last four digits of a PAN to be shown. A transaction's data
carries the PAN in 5A, in track 2 equivalent data (57) and track 1 / track 2 discretionary data
(56, 9F6B); this module masks each of them and leaves every other element as it is.
"""

from __future__ import annotations

from collections.abc import Mapping

from cardkit.emv.outcome import mask_pan

__all__ = ["PAN_TAGS", "masked_data", "masked_value"]

PAN_TAGS = frozenset({0x5A, 0x57, 0x56, 0x9F6B, 0x9F1F, 0x9F20})


def _mask_digits(nibbles: str) -> str:
    """Mask the PAN at the start of a track-like nibble string, keeping separators and the rest."""
    for sep in ("D", "="):
        if sep in nibbles:
            pan, rest = nibbles.split(sep, 1)
            return mask_pan(pan) + sep + "*" * len(rest)
    return mask_pan(nibbles.rstrip("F"))


def masked_value(tag: int, value: bytes) -> str:
    """The value as upper-case hex, or masked text when the element carries the PAN."""
    if tag not in PAN_TAGS:
        return value.hex().upper()
    if tag == 0x56:  # track 1 is text: B PAN ^ NAME ^ YYMM ...
        text = value.decode("ascii", "replace")
        pan, _, rest = text.lstrip("B%").partition("^")
        return mask_pan(pan) + "^" + "*" * len(rest)
    if tag in (0x9F1F, 0x9F20):  # discretionary data: no PAN, but nothing to show either
        return "*" * (2 * len(value))
    return _mask_digits(value.hex().upper())


def masked_data(data: Mapping[int, bytes]) -> dict[str, str]:
    """Every element as ``{"9F26": "hex", "5A": "622848*********0018", ...}``, tags in hex."""
    return {f"{tag:X}": masked_value(tag, value) for tag, value in data.items()}
