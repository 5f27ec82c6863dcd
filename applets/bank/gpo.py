"""GET PROCESSING OPTIONS (EMV Book 3 §6.5.8): start the transaction, count it, pick contact or qPBOC.

The choice is made from the PDOL data (TTQ 9F66 asking for qPBOC), not from how the card is
powered, so a contactless transaction can run through pcscd + vpcd (docs/bank.md).
"""

from __future__ import annotations

from dataclasses import replace

from applets.bank.codec import dol_fields, dol_length
from applets.bank.profile import Profile
from applets.bank.qpboc import qpboc_gpo, qpboc_requested
from applets.bank.session import Session, Stage
from applets.bank.state import Memory
from applets.runtime import status
from cardkit import tlv
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.errors import TlvError

__all__ = ["get_processing_options"]

_ATC_MAX = 0xFFFF


def _pdol_data(s: Session, data: bytes) -> bytes | ResponseAPDU:
    """The PDOL values out of the command template ``83 L values``."""
    if not data:
        return status(SW.WRONG_LENGTH)
    try:
        objs = tlv.decode(data)
    except TlvError:
        return status(SW.WRONG_LENGTH)
    if len(objs) != 1 or objs[0].tag != b"\x83":
        return status(SW.WRONG_DATA)
    values = objs[0].value
    if len(values) != dol_length(s.pdol):
        return status(SW.WRONG_LENGTH)
    return values


def get_processing_options(p: Profile, mem: Memory, s: Session, cmd: CommandAPDU) -> ResponseAPDU:
    """``80 A8 00 00 Lc 83 L PDOL-data``: format 1 (contact) or the qPBOC format 2 answer."""
    if cmd.p1 or cmd.p2:
        return status(SW.INCORRECT_P1P2)
    values = _pdol_data(s, cmd.data)
    if isinstance(values, ResponseAPDU):
        return values
    if s.stage is not Stage.SELECTED:
        return status(SW.CONDITIONS_NOT_SATISFIED)
    state = mem.load()
    if state.blocked or state.atc >= _ATC_MAX:
        return status(SW.CONDITIONS_NOT_SATISFIED)
    s.pdol_data = values
    s.fields = dol_fields(s.pdol, values)
    if qpboc_requested(s.fields):
        return qpboc_gpo(p, mem, s, state)
    mem.commit(state, replace(state, atc=state.atc + 1))
    s.atc, s.prior, s.stage = state.atc + 1, state, Stage.INITIATED
    gpo = p.gpo_contact
    return status(SW.OK, tlv.build(0x80, gpo.aip + gpo.afl))
