"""The transit record the validators keep in the card's CAPP data cache (SFI 17, record 01).

The card only stores these 48 bytes; their layout is the network's, and this is ours. It is
rewritten by every tap inside the card's compound purchase, so the record and the debit change
together or not at all (a tear leaves both old)::

    0   record identifier 01
    1   state: 00 none, 01 on a ride (tapped in), 02 off (tapped out)
    2   entry station code (2)        4  entry line (1)      5  entry time YYYYMMDDhhmmss (7, BCD)
    12  exit station code (2)         14 exit line (1)       15 exit time (7, BCD)
    22  last fare (4, fen)            26 last validator terminal id (6)
    32  rides (2)                     34 reserved (14, zeros)
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, replace
from datetime import datetime

__all__ = ["RECORD_ID", "RECORD_LENGTH", "RideState", "TransitRecord"]

RECORD_ID = 0x01
RECORD_LENGTH = 48
_LAYOUT = struct.Struct(">BBHB7sHB7sI6sH14s")
assert _LAYOUT.size == RECORD_LENGTH


class RideState(enum.IntEnum):
    NONE = 0x00
    ON = 0x01  # tapped in, not out
    OFF = 0x02  # the last ride ended with a tap-out


def _bcd_time(when: datetime | None) -> bytes:
    return bytes(7) if when is None else bytes.fromhex(when.strftime("%Y%m%d%H%M%S"))


def _time(raw: bytes) -> datetime | None:
    text = raw.hex()
    if raw == bytes(7) or not text.isdigit():
        return None
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%S")
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class TransitRecord:
    """The decoded record; a fresh card's all-zero record is ``TransitRecord()``."""

    state: RideState = RideState.NONE
    entry_station: int = 0
    entry_line: int = 0
    entry_time: datetime | None = None
    exit_station: int = 0
    exit_line: int = 0
    exit_time: datetime | None = None
    last_fare: int = 0
    last_terminal: bytes = bytes(6)
    rides: int = 0

    @classmethod
    def parse(cls, raw: bytes) -> TransitRecord:
        """Decode a record; anything not ours (a blank or foreign record) reads as no ride."""
        if len(raw) != RECORD_LENGTH or raw[0] != RECORD_ID or raw[1] not in {s.value for s in RideState}:
            return cls()
        _, state, e_st, e_line, e_time, x_st, x_line, x_time, fare, terminal, rides, _ = _LAYOUT.unpack(raw)
        return cls(RideState(state), e_st, e_line, _time(e_time), x_st, x_line, _time(x_time), fare, terminal, rides)

    def to_bytes(self) -> bytes:
        return _LAYOUT.pack(RECORD_ID, self.state, self.entry_station, self.entry_line, _bcd_time(self.entry_time),
                            self.exit_station, self.exit_line, _bcd_time(self.exit_time), self.last_fare,
                            self.last_terminal, self.rides & 0xFFFF, bytes(14))

    def tapped_in(self, station: int, line: int, when: datetime, terminal: bytes) -> TransitRecord:
        return replace(self, state=RideState.ON, entry_station=station, entry_line=line, entry_time=when,
                       last_terminal=terminal)

    def tapped_out(self, station: int, line: int, when: datetime, fare: int, terminal: bytes) -> TransitRecord:
        return replace(self, state=RideState.OFF, exit_station=station, exit_line=line, exit_time=when,
                       last_fare=fare, last_terminal=terminal, rides=self.rides + 1)
