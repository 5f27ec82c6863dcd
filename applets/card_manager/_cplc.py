"""Card Production Life Cycle data (GET DATA 9F7F), card recognition data (0066), diversification data.

CPLC is the 42-byte layout GlobalPlatform inherited from Visa GP 2.1.1 (GP 2.3 §H.6; the same field
list GlobalPlatformPro's ``CPLC.java`` decodes): 18 fields of 2 or 4 bytes, dates as ``YDDD`` BCD.
The simulated chip is cardkit's own: fabricator and OS identifiers ``434B`` ("CK"), and the IC
serial number and batch identifier taken from the card serial — the last 12 digits, batch = the
first 4 of them, serial = the last 8, both BCD.

Key diversification data (the first 10 bytes of the INITIALIZE UPDATE answer and GET DATA 00CF) is
IC fabricator(2) || IC type(2) || IC serial number(4) || IC batch identifier(2); EMV CPS-style
diversification (GlobalPlatformPro's "emv") uses its last 6 bytes, serial || batch.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

from cardkit.tlv import build

__all__ = ["Cplc", "card_recognition_data"]

_SIMULATED_CHIP = bytes.fromhex("434B")  # "CK": cardkit's simulated chip and OS
_RELEASE_DATE = bytes.fromhex("6001")  # YDDD: 2026, day 001


@dataclass(frozen=True, slots=True)
class Cplc:
    """The 18 CPLC fields, each raw bytes of its fixed width (``LENGTHS``)."""

    ic_fabricator: bytes = _SIMULATED_CHIP
    ic_type: bytes = b"\x00\x01"
    os_id: bytes = _SIMULATED_CHIP
    os_release_date: bytes = _RELEASE_DATE
    os_release_level: bytes = b"\x01\x00"
    ic_fabrication_date: bytes = _RELEASE_DATE
    ic_serial_number: bytes = bytes(4)
    ic_batch_id: bytes = bytes(2)
    ic_module_fabricator: bytes = bytes(2)
    ic_module_packaging_date: bytes = bytes(2)
    icc_manufacturer: bytes = bytes(2)
    ic_embedding_date: bytes = bytes(2)
    ic_prepersonalizer: bytes = bytes(2)
    ic_prepersonalization_date: bytes = bytes(2)
    ic_prepersonalization_equipment_id: bytes = bytes(4)
    ic_personalizer: bytes = bytes(2)
    ic_personalization_date: bytes = bytes(2)
    ic_personalization_equipment_id: bytes = bytes(4)

    LENGTHS: ClassVar[tuple[int, ...]] = (2, 2, 2, 2, 2, 2, 4, 2, 2, 2, 2, 2, 2, 2, 4, 2, 2, 4)

    def __post_init__(self) -> None:
        for f, n in zip(fields(self), self.LENGTHS, strict=True):
            if len(getattr(self, f.name)) != n:
                raise ValueError(f"CPLC {f.name} is {n} bytes")

    @classmethod
    def from_serial(cls, serial: str) -> Cplc:
        """The simulated chip's CPLC for a card serial (decimal digits): batch and IC serial in BCD."""
        if not serial.isdigit():
            raise ValueError("the card serial must be decimal digits")
        digits = serial[-12:].rjust(12, "0")
        return cls(ic_serial_number=bytes.fromhex(digits[4:]), ic_batch_id=bytes.fromhex(digits[:4]))

    @classmethod
    def parse(cls, raw: bytes) -> Cplc:
        """From the 42 bytes (``ValueError`` on any other length)."""
        if len(raw) != sum(cls.LENGTHS):
            raise ValueError(f"CPLC is {sum(cls.LENGTHS)} bytes, got {len(raw)}")
        values, pos = [], 0
        for n in cls.LENGTHS:
            values.append(bytes(raw[pos : pos + n]))
            pos += n
        return cls(*values)

    def to_bytes(self) -> bytes:
        return b"".join(getattr(self, f.name) for f in fields(self))

    @property
    def diversification_data(self) -> bytes:
        """IC fabricator || IC type || IC serial number || IC batch identifier (10 bytes)."""
        return self.ic_fabricator + self.ic_type + self.ic_serial_number + self.ic_batch_id


_GP_OID = bytes.fromhex("2A864886FC6B")  # 1.2.840.114283 {globalPlatform}


def _oid(*arcs: int) -> bytes:
    return build(0x06, _GP_OID + bytes(arcs))


def card_recognition_data(scp_options: tuple[tuple[int, int], ...]) -> bytes:
    """GET DATA 0066 (GP 2.3 §H.2): ``66 { 73 { OID, 60 GP 2.3, 63 scheme, 64 SCP per option } }``."""
    body = (_oid(1)
            + build(0x60, _oid(2, 2, 3))
            + build(0x63, _oid(3))
            + b"".join(build(0x64, _oid(4, scp, i)) for scp, i in scp_options))
    return build(0x66, build(0x73, body))
