"""Issuer script commands under secure messaging (EMV Book 2 §9, Book 3 §6.5 / CLA 84).

Accepted only after a contact first GENERATE AC answered an ARQC in this selection (the session
keys come from that ARQC). The MAC is checked before anything else changes; a wrong MAC answers
6988, changes nothing but the "script failed" bit and the script counter, which the CVR of the
next transaction reports. Each command's effect, counter and flag land in one store transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from applets.bank.codec import bcd_to_int
from applets.bank.cryptogram import decipher_script_data, script_mac_ok
from applets.bank.profile import Profile
from applets.bank.session import Session
from applets.bank.state import CardState, Memory
from applets.runtime import status
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.crypto.pin import decode_pin_block
from cardkit.errors import CryptoError

__all__ = ["SCRIPT_INS", "issuer_script"]

INS_APPLICATION_BLOCK = 0x1E
INS_APPLICATION_UNBLOCK = 0x18
INS_CARD_BLOCK = 0x16
INS_PIN_CHANGE_UNBLOCK = 0x24
INS_PUT_DATA = 0xDA
SCRIPT_INS = frozenset({INS_APPLICATION_BLOCK, INS_APPLICATION_UNBLOCK, INS_CARD_BLOCK,
                        INS_PIN_CHANGE_UNBLOCK, INS_PUT_DATA})
_MAC = 8
_PIN_UNBLOCK, _PIN_CHANGE = 0x00, 0x02
_ENCIPHERED_PIN_BLOCK = 16  # an 8-byte PIN block, padding method 2, 3DES-CBC


@dataclass(frozen=True, slots=True)
class _Outcome:
    sw: SW
    state: CardState
    block_card: bool = False


@dataclass(frozen=True, slots=True)
class _Put:
    """One PUT DATA target: value length, BCD amount or count, the rule it must meet, the update."""

    length: int
    check: Callable[[CardState, int], bool]
    update: Callable[[CardState, int], CardState]

    def apply(self, state: CardState, raw: bytes) -> CardState | None:
        value = bcd_to_int(raw) if self.length == 6 else raw[0]
        if value is None or not self.check(state, value):
            return None
        return self.update(state, value)


_PUT_DATA: dict[int, _Put] = {
    0x9F79: _Put(6, lambda st, v: v <= st.ec_limit, lambda st, v: replace(st, ec_balance=v)),
    0x9F77: _Put(6, lambda st, v: v >= st.ec_balance, lambda st, v: replace(st, ec_limit=v)),
    0x9F78: _Put(6, lambda st, v: True, lambda st, v: replace(st, ec_single_limit=v)),
    0x9F6D: _Put(6, lambda st, v: True, lambda st, v: replace(st, ec_reset=v)),
    0x9F14: _Put(1, lambda st, v: v <= st.upper_limit, lambda st, v: replace(st, lower_limit=v)),
    0x9F23: _Put(1, lambda st, v: v >= st.lower_limit, lambda st, v: replace(st, upper_limit=v)),
}


def _expected_length(cmd: CommandAPDU) -> int | ResponseAPDU:
    """Command data length (MAC included) the header implies, or the status refusing the header."""
    if cmd.ins == INS_PUT_DATA:
        entry = _PUT_DATA.get(cmd.p1 << 8 | cmd.p2)
        return status(SW.REFERENCED_DATA_NOT_FOUND) if entry is None else entry.length + _MAC
    if cmd.ins == INS_PIN_CHANGE_UNBLOCK:
        if cmd.p1 or cmd.p2 not in (_PIN_UNBLOCK, _PIN_CHANGE):
            return status(SW.INCORRECT_P1P2)
        return _MAC + (_ENCIPHERED_PIN_BLOCK if cmd.p2 == _PIN_CHANGE else 0)
    if cmd.p1 or cmd.p2:
        return status(SW.INCORRECT_P1P2)
    return _MAC


def issuer_script(p: Profile, mem: Memory, s: Session, cmd: CommandAPDU) -> ResponseAPDU:
    """``84 INS P1 P2 Lc data||MAC``: block, unblock, card block, PIN change/unblock, PUT DATA."""
    want = _expected_length(cmd)
    if isinstance(want, ResponseAPDU):
        return want
    if len(cmd.data) != want:
        return status(SW.WRONG_LENGTH)
    if not s.online:
        return status(SW.CONDITIONS_NOT_SATISFIED)
    state = mem.load()
    counted = replace(state, script_count=min(state.script_count + 1, 15))
    body, mac = cmd.data[:-_MAC], cmd.data[-_MAC:]
    header = cmd.header + bytes((len(cmd.data),))
    if not script_mac_ok(p.keys, header, body, mac, atc=s.atc, arqc=s.first_ac):
        mem.commit(state, replace(counted, script_failed=True))
        return status(SW.SM_DATA_OBJECTS_INCORRECT)
    out = _apply(p, s, cmd, body, counted)
    final = out.state if out.sw == SW.OK else replace(counted, script_failed=True)
    mem.commit(state, final, block_card=out.block_card and out.sw == SW.OK)
    return status(out.sw)


def _apply(p: Profile, s: Session, cmd: CommandAPDU, body: bytes, state: CardState) -> _Outcome:
    """The effect of a script command whose MAC was right."""
    if cmd.ins == INS_APPLICATION_BLOCK:
        return _Outcome(SW.OK, replace(state, blocked=True, blocked_by_script=True))
    if cmd.ins == INS_APPLICATION_UNBLOCK:
        return _Outcome(SW.OK, replace(state, blocked=False, blocked_by_script=False))
    if cmd.ins == INS_CARD_BLOCK:
        return _Outcome(SW.OK, replace(state, blocked=True, blocked_by_script=True), block_card=True)
    if cmd.ins == INS_PIN_CHANGE_UNBLOCK:
        return _pin(p, s, cmd, body, state)
    new = _PUT_DATA[cmd.p1 << 8 | cmd.p2].apply(state, body)
    return _Outcome(SW.WRONG_DATA, state) if new is None else _Outcome(SW.OK, new)


def _pin(p: Profile, s: Session, cmd: CommandAPDU, body: bytes, state: CardState) -> _Outcome:
    """P2 00: reset the try counter; 02: new PIN, a format 2 block enciphered under SK_SMC."""
    if p.pin_limit == 0:
        return _Outcome(SW.REFERENCED_DATA_NOT_FOUND, state)
    if cmd.p2 == _PIN_UNBLOCK:
        return _Outcome(SW.OK, replace(state, pin_tries=p.pin_limit))
    block = decipher_script_data(p.keys, s.first_ac, body)
    if block is None or len(block) != 8 or block[0] >> 4 != 2:
        return _Outcome(SW.WRONG_DATA, state)
    try:
        decode_pin_block(block)
    except CryptoError:
        return _Outcome(SW.WRONG_DATA, state)
    return _Outcome(SW.OK, replace(state, pin_block=block, pin_tries=p.pin_limit))
