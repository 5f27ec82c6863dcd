"""Identifiers of the ID application (ICAO Doc 9303 part 10 LDS1 / part 11 access control).

Everything the card side and docs/eid-card.md agree on, declared once: the AID, the files with
their FIDs, SFIs and outer tags, the instructions, and the personalization DGIs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

__all__ = [
    "ADF_FID",
    "BAC_KEY_REF",
    "DGI_AA_KEY",
    "DGI_BAC_KCVS",
    "DGI_BAC_KEYS",
    "EID_AID",
    "FILES",
    "EidFile",
    "Ins",
    "file_by_dgi",
]

EID_AID = bytes.fromhex("A0000002471001")  # eMRTD LDS1 application (9303-10 §3.1.1)
ADF_FID = 0x7F10  # the root of the application's files inside the card (never selected by FID)
BAC_KEY_REF = 1  # files are readable with KEY(1): "BAC done on this channel" (docs/runtime.md)

# Personalization DGIs besides the files (files use SFI << 8, as the transit application does)
DGI_BAC_KEYS = 0x8000  # K_enc || K_mac, the document basic access keys (2 x 16 bytes)
DGI_BAC_KCVS = 0x9000  # their 3-byte 3DES check values, same order
DGI_AA_KEY = 0x8101  # active authentication private key: the P-256 scalar, 32 bytes big-endian


class Ins(IntEnum):
    """Instructions the application answers (ISO 7816-4 §11, 9303-11 §4.3 / §6.1)."""

    SELECT = 0xA4
    READ_BINARY = 0xB0
    GET_CHALLENGE = 0x84
    MUTUAL_AUTHENTICATE = 0x82
    INTERNAL_AUTHENTICATE = 0x88


@dataclass(frozen=True, slots=True)
class EidFile:
    """One elementary file of the LDS (9303-10 §4.6, table 31)."""

    name: str
    fid: int
    sfi: int
    tag: int  # the outer tag of its content

    @property
    def dgi(self) -> int:
        return self.sfi << 8


FILES: tuple[EidFile, ...] = (
    EidFile("EF.COM", 0x011E, 0x1E, 0x60),
    EidFile("DG1", 0x0101, 0x01, 0x61),
    EidFile("DG2", 0x0102, 0x02, 0x75),
    EidFile("DG11", 0x010B, 0x0B, 0x6B),
    EidFile("DG15", 0x010F, 0x0F, 0x6F),
    EidFile("EF.SOD", 0x011D, 0x1D, 0x77),
)


def file_by_dgi(dgi: int) -> EidFile | None:
    return next((f for f in FILES if f.dgi == dgi), None)
