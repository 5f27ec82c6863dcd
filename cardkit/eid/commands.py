"""The ID application's commands (9303-10 §3.6, 9303-11 §4.3 and §6.1; ISO/IEC 7816-4 §11).

One builder per command so that no call site writes an INS, P1 or P2 byte. They build the plain
commands; under BAC the reader protects them (CLA 0C, DO 87/97/8E) before they leave.
"""

from __future__ import annotations

import enum

from cardkit.apdu import CommandAPDU
from cardkit.eid.errors import EidError

__all__ = [
    "MAX_OFFSET",
    "Ins",
    "get_challenge",
    "internal_authenticate",
    "mutual_authenticate",
    "read_binary",
    "select_application",
    "select_file",
]

MAX_OFFSET = 0x7FFF  # READ BINARY B0: P1 b8 = 0, so a 15-bit offset (7816-4 §11.3.3)


class Ins(enum.IntEnum):
    SELECT = 0xA4
    READ_BINARY = 0xB0
    GET_CHALLENGE = 0x84
    EXTERNAL_AUTHENTICATE = 0x82  # "MUTUAL AUTHENTICATE" in 9303-11 §4.3.4.2
    INTERNAL_AUTHENTICATE = 0x88


_CLA = 0x00
_BY_DF_NAME, _EF_UNDER_DF, _NO_FCI = 0x04, 0x02, 0x0C


def select_application(aid: bytes) -> CommandAPDU:
    """SELECT by DF name, no response data: ``00 A4 04 0C Lc AID`` (9303-10 §3.6.2)."""
    return CommandAPDU(_CLA, Ins.SELECT, _BY_DF_NAME, _NO_FCI, aid)


def select_file(fid: int) -> CommandAPDU:
    """SELECT an EF under the current DF: ``00 A4 02 0C 02 FID`` (9303-10 §3.6.3)."""
    return CommandAPDU(_CLA, Ins.SELECT, _EF_UNDER_DF, _NO_FCI, fid.to_bytes(2, "big"))


def read_binary(offset: int, le: int) -> CommandAPDU:
    """READ BINARY of the selected EF from ``offset`` (0-32767), ``le`` bytes (7816-4 §11.3.3)."""
    if not 0 <= offset <= MAX_OFFSET:
        raise EidError(f"READ BINARY offset {offset} is past the 32767 that INS B0 can address")
    return CommandAPDU(_CLA, Ins.READ_BINARY, offset >> 8, offset & 0xFF, le=le)


def get_challenge() -> CommandAPDU:
    """GET CHALLENGE for RND.IC: ``00 84 00 00 08`` (9303-11 §4.3.4.1)."""
    return CommandAPDU(_CLA, Ins.GET_CHALLENGE, 0x00, 0x00, le=8)


def mutual_authenticate(data: bytes) -> CommandAPDU:
    """BAC MUTUAL AUTHENTICATE: ``00 82 00 00 28 E_IFD || M_IFD 28`` (9303-11 §4.3.4.2)."""
    return CommandAPDU(_CLA, Ins.EXTERNAL_AUTHENTICATE, 0x00, 0x00, data, le=40)


def internal_authenticate(challenge: bytes) -> CommandAPDU:
    """Active authentication: ``00 88 00 00 08 challenge 00`` (9303-11 §6.1)."""
    return CommandAPDU(_CLA, Ins.INTERNAL_AUTHENTICATE, 0x00, 0x00, challenge, le=256)
