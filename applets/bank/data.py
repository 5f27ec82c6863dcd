"""READ RECORD and GET DATA: what the card shows without changing anything.

Records are the personalized ones plus the cyclic transaction log at the SFI of 9F4D (newest is
record 1). GET DATA answers the PBOC counters and limits of docs/bank.md as ``tag L value``.
"""

from __future__ import annotations

from collections.abc import Callable

from applets.bank.codec import int_to_bcd
from applets.bank.profile import Profile
from applets.bank.session import Session
from applets.bank.state import CardState, Memory
from applets.runtime import status
from cardkit import tlv
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU

__all__ = ["get_data", "read_record"]


def read_record(p: Profile, mem: Memory, s: Session, cmd: CommandAPDU) -> ResponseAPDU:
    """``00 B2 RR (SFI<<3 | 4)``: 6A83 no such record, 6A82 no such SFI."""
    if cmd.data:
        return status(SW.WRONG_LENGTH)
    sfi = cmd.p2 >> 3
    if cmd.p2 & 0x07 != 0x04 or sfi == 0 or cmd.p1 == 0:
        return status(SW.INCORRECT_P1P2)
    if sfi == p.risk.log_sfi:
        log = mem.load().log
        if cmd.p1 > len(log):
            return status(SW.RECORD_NOT_FOUND)
        return status(SW.OK, log[cmd.p1 - 1])
    if not p.has_sfi(sfi):
        return status(SW.FILE_NOT_FOUND)
    record = p.record(sfi, cmd.p1)
    if record is None:
        return status(SW.RECORD_NOT_FOUND)
    return status(SW.OK, record)


def _u16(n: int) -> bytes:
    return n.to_bytes(2, "big")


_GET_DATA: dict[int, Callable[[Profile, CardState], bytes | None]] = {
    0x9F36: lambda p, st: _u16(st.atc),
    0x9F13: lambda p, st: _u16(st.last_online_atc),
    0x9F17: lambda p, st: bytes((st.pin_tries,)) if st.pin_block is not None else None,
    0x9F79: lambda p, st: int_to_bcd(st.ec_balance),
    0x9F77: lambda p, st: int_to_bcd(st.ec_limit),
    0x9F78: lambda p, st: int_to_bcd(st.ec_single_limit),
    0x9F6D: lambda p, st: int_to_bcd(st.ec_reset),
    0x9F4D: lambda p, st: bytes((p.risk.log_sfi, p.risk.log_records)),
    0x9F4F: lambda p, st: p.risk.log_format,
    0x9F14: lambda p, st: bytes((st.lower_limit,)),
    0x9F23: lambda p, st: bytes((st.upper_limit,)),
    0x9F51: lambda p, st: p.risk.currency,
}


def get_data(p: Profile, mem: Memory, s: Session, cmd: CommandAPDU) -> ResponseAPDU:
    """``80 CA P1 P2``: 6A88 for a tag this card does not give out."""
    if cmd.data:
        return status(SW.WRONG_LENGTH)
    tag = cmd.p1 << 8 | cmd.p2
    read = _GET_DATA.get(tag)
    value = read(p, mem.load()) if read is not None else None
    if value is None:
        return status(SW.REFERENCED_DATA_NOT_FOUND)
    return status(SW.OK, tlv.build(tag, value))
