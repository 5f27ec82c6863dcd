"""What the journal may keep of a message: the PIN block dropped, the PAN masked.

A terminal must be able to journal whatever it is about to send, so nothing here refuses: secrets
are dropped and PANs masked (first 6, last 4, PCI DSS 3.4), with a warning in the log where the
caller should have masked already.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from cardkit import tlv
from cardkit.emv.masking import PAN_TAGS, masked_value
from cardkit.emv.outcome import mask_pan
from cardkit.errors import TlvError

__all__ = ["masked_pan", "scrub_message", "scrub_outcome"]

log = logging.getLogger(__name__)

_SECRET_FIELDS = frozenset({"52"})  # PIN block
_PAN_FIELDS = frozenset({"2", "35", "36", "45"})  # PAN, track 2, track 3, track 1
_SECRET_OUTCOME_KEYS = frozenset({"pin", "pin_block", "pinblock", "52", "99"})
_PAN_OUTCOME_KEYS = frozenset({"pan", "5a", "57", "56", "9f6b"})


def _mask_field(number: str, value: str) -> str:
    if number == "2":
        return mask_pan(value)
    if number == "45":
        return masked_value(0x56, value.encode("ascii", "replace"))
    digits, sep, rest = value.upper().replace("=", "D").partition("D")
    return mask_pan(digits) + ("=" + "*" * len(rest) if sep else "")


def _strip_field55(value: str) -> str:
    """Field 55 without any PAN-carrying tag (hex in, hex out). Data that is not BER-TLV is
    dropped: it could hide a PAN."""
    try:
        objs = tlv.decode(bytes.fromhex(value))
    except (ValueError, TlvError):
        log.warning("field 55 is not BER-TLV hex; not stored")
        return ""
    kept = [o for o in objs if int.from_bytes(tlv.tag_bytes(o.tag), "big") not in PAN_TAGS]
    return tlv.encode(kept).hex().upper() if len(kept) != len(objs) else value


def scrub_message(message: Mapping[Any, Any] | None) -> dict[str, str] | None:
    """An ISO 8583 message fit for disk: keys as field numbers, bytes as hex, no field 52, the PAN
    masked. Never refuses: a terminal must be able to journal whatever it is about to send."""
    if message is None:
        return None
    out: dict[str, str] = {}
    for key, value in message.items():
        number = str(key).lstrip("0") or "0"
        if number in _SECRET_FIELDS:
            continue
        text = value.hex().upper() if isinstance(value, bytes | bytearray) else str(value)
        if number in _PAN_FIELDS:
            text = _mask_field(number, text)
        elif number == "55":
            text = _strip_field55(text)
        out[str(key)] = text
    return out


def scrub_outcome(outcome: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The outcome summary without PIN keys, PANs masked, bytes as hex.

    Raises:
        ValueError: the summary is not JSON-able.
    """
    if outcome is None:
        return None
    out: dict[str, Any] = {}
    for key, value in outcome.items():
        low = str(key).lower()
        if low in _SECRET_OUTCOME_KEYS:
            continue
        if low in _PAN_OUTCOME_KEYS and isinstance(value, str):
            value = mask_pan(value.upper().replace("=", "D").split("D", 1)[0].rstrip("F"))
        out[str(key)] = value.hex().upper() if isinstance(value, bytes | bytearray) else value
    try:
        json.dumps(out)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the outcome summary must be JSON-able: {exc}") from None
    return out


def masked_pan(pan_masked: str) -> str:
    """The PAN as stored: already masked, or masked here (a full PAN never reaches the disk)."""
    if sum(c.isdigit() for c in pan_masked) > 10 or (pan_masked.isdigit() and pan_masked):
        log.warning("begin() was given an unmasked PAN; storing it masked")
        return mask_pan(pan_masked)
    return pan_masked
