"""Terminal Verification Results (95), Transaction Status Information (9B), CVM Results (9F34)
and the Cryptogram Information Data (9F27), as named bits rather than hex (EMV 4.4 Book 3 Annex C).

A TVR is a 5-byte bit field that the terminal fills in during the transaction and that both the
action analysis and the issuer read; giving each bit a name keeps "byte 4 bit 8" out of the kernel.
``Tvr``/``Tsi`` are :class:`enum.Flag` values, so they combine with ``|`` and test with ``in``;
``to_bytes``/``from_bytes`` are exact inverses (RFU bits survive a round trip as pseudo-members).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["CryptogramType", "Cid", "CvmResult", "CvmResults", "Tsi", "Tvr"]


def _bit(byte: int, bit: int, nbytes: int) -> int:
    """The integer value of ``byte`` (1 = leftmost) ``bit`` (8 = most significant) in an ``nbytes`` field."""
    return 1 << ((nbytes - byte) * 8 + bit - 1)


class Tvr(enum.Flag, boundary=enum.KEEP):
    """Terminal Verification Results, tag 95 (Book 3 Annex C5). Byte 1 is the most significant."""

    # byte 1: offline data authentication
    ODA_NOT_PERFORMED = _bit(1, 8, 5)
    SDA_FAILED = _bit(1, 7, 5)
    ICC_DATA_MISSING = _bit(1, 6, 5)
    CARD_ON_EXCEPTION_FILE = _bit(1, 5, 5)
    DDA_FAILED = _bit(1, 4, 5)
    CDA_FAILED = _bit(1, 3, 5)
    SDA_SELECTED = _bit(1, 2, 5)
    # byte 2: processing restrictions
    DIFFERENT_APP_VERSIONS = _bit(2, 8, 5)
    EXPIRED_APPLICATION = _bit(2, 7, 5)
    APP_NOT_YET_EFFECTIVE = _bit(2, 6, 5)
    SERVICE_NOT_ALLOWED = _bit(2, 5, 5)
    NEW_CARD = _bit(2, 4, 5)
    # byte 3: cardholder verification
    CARDHOLDER_VERIFICATION_FAILED = _bit(3, 8, 5)
    UNRECOGNISED_CVM = _bit(3, 7, 5)
    PIN_TRY_LIMIT_EXCEEDED = _bit(3, 6, 5)
    PIN_PAD_NOT_PRESENT = _bit(3, 5, 5)
    PIN_NOT_ENTERED = _bit(3, 4, 5)
    ONLINE_PIN_ENTERED = _bit(3, 3, 5)
    # byte 4: terminal risk management
    EXCEEDS_FLOOR_LIMIT = _bit(4, 8, 5)
    LOWER_OFFLINE_LIMIT_EXCEEDED = _bit(4, 7, 5)
    UPPER_OFFLINE_LIMIT_EXCEEDED = _bit(4, 6, 5)
    RANDOMLY_SELECTED_ONLINE = _bit(4, 5, 5)
    MERCHANT_FORCED_ONLINE = _bit(4, 4, 5)
    # byte 5: completion
    DEFAULT_TDOL_USED = _bit(5, 8, 5)
    ISSUER_AUTHENTICATION_FAILED = _bit(5, 7, 5)
    SCRIPT_FAILED_BEFORE_FINAL_GAC = _bit(5, 6, 5)
    SCRIPT_FAILED_AFTER_FINAL_GAC = _bit(5, 5, 5)

    def to_bytes(self) -> bytes:
        return self.value.to_bytes(5, "big")

    @classmethod
    def from_bytes(cls, data: bytes) -> Tvr:
        if len(data) != 5:
            raise ValueError(f"a TVR is 5 bytes, not {len(data)}")
        return cls(int.from_bytes(data, "big"))

    def names(self) -> list[str]:
        """The names of the bits set, in byte/bit order (RFU bits are not named)."""
        return [m.name for m in type(self) if m in self and m.name]


class Tsi(enum.Flag, boundary=enum.KEEP):
    """Transaction Status Information, tag 9B (Book 3 Annex C6). Byte 2 is RFU."""

    ODA_PERFORMED = _bit(1, 8, 2)
    CARDHOLDER_VERIFICATION_PERFORMED = _bit(1, 7, 2)
    CARD_RISK_MANAGEMENT_PERFORMED = _bit(1, 6, 2)
    ISSUER_AUTHENTICATION_PERFORMED = _bit(1, 5, 2)
    TERMINAL_RISK_MANAGEMENT_PERFORMED = _bit(1, 4, 2)
    SCRIPT_PROCESSING_PERFORMED = _bit(1, 3, 2)

    def to_bytes(self) -> bytes:
        return self.value.to_bytes(2, "big")

    @classmethod
    def from_bytes(cls, data: bytes) -> Tsi:
        if len(data) != 2:
            raise ValueError(f"a TSI is 2 bytes, not {len(data)}")
        return cls(int.from_bytes(data, "big"))

    def names(self) -> list[str]:
        return [m.name for m in type(self) if m in self and m.name]


class CryptogramType(enum.IntEnum):
    """Cryptogram type: bits 8-7 of the CID and of GENERATE AC P1 (Book 3 Tables 12 and 14)."""

    AAC = 0x00
    TC = 0x40
    ARQC = 0x80
    AAR = 0xC0  # application authorisation referral (EMV 4.1 and earlier); treated as a decline


class CvmResult(enum.IntEnum):
    """CVM Results byte 3 (Book 4 Annex A4)."""

    UNKNOWN = 0x00  # e.g. signature, online PIN: the terminal cannot know
    FAILED = 0x01
    SUCCESSFUL = 0x02


@dataclass(frozen=True, slots=True)
class Cid:
    """Cryptogram Information Data, tag 9F27 (Book 3 Table 14)."""

    value: int

    @property
    def type(self) -> CryptogramType:
        return CryptogramType(self.value & 0xC0)

    @property
    def advice_required(self) -> bool:
        return bool(self.value & 0x08)

    @property
    def reason(self) -> int:
        """b3-b1: 0 no information, 1 service not allowed, 2 PIN try limit exceeded,
        3 issuer authentication failed."""
        return self.value & 0x07

    def to_bytes(self) -> bytes:
        return bytes((self.value,))

    @classmethod
    def from_bytes(cls, data: bytes) -> Cid:
        if len(data) != 1:
            raise ValueError(f"a CID is 1 byte, not {len(data)}")
        return cls(data[0])


@dataclass(frozen=True, slots=True)
class CvmResults:
    """CVM Results, tag 9F34: the CV rule performed (method, condition) and its result.

    ``method`` ``3F`` means no CVM was performed (Book 4 Annex A4).
    """

    method: int = 0x3F
    condition: int = 0x00
    result: CvmResult = CvmResult.UNKNOWN

    def to_bytes(self) -> bytes:
        return bytes((self.method, self.condition, int(self.result)))

    @classmethod
    def from_bytes(cls, data: bytes) -> CvmResults:
        if len(data) != 3:
            raise ValueError(f"CVM results are 3 bytes, not {len(data)}")
        return cls(data[0], data[1], CvmResult(data[2]))
