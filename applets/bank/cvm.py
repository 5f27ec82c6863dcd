"""Offline PIN: GET CHALLENGE and VERIFY, plaintext (P2 80) and enciphered (P2 88).

EMV Book 3 §6.5.12 and Book 2 §7.2. The try counter follows the Java Card ``OwnerPIN``
discipline, as the runtime's PINs do: decrement and commit *before* comparing, restore after a
match, so a tear can cost a try but never refund one.
"""

from __future__ import annotations

import secrets
from dataclasses import replace

from applets.bank.profile import Profile
from applets.bank.risk import ADA_PIN_EXCEEDED_BLOCK
from applets.bank.session import Session, Stage
from applets.bank.state import Memory
from applets.runtime import status
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.crypto.hazmat import constant_time_equal
from cardkit.crypto.pin import decode_pin_block
from cardkit.errors import CryptoError

__all__ = ["get_challenge", "verify"]

_PLAIN, _ENCIPHERED = 0x80, 0x88
_CHALLENGE_LENGTH = 8
_ENC_HEADER = 0x7F  # Book 2 §7.2: the enciphered PIN data start with '7F'
_TRIES_LEFT = 0x63C0  # the 63Cx family: verification failed, x tries left (ISO 7816-4 §5.6)


def get_challenge(p: Profile, mem: Memory, s: Session, cmd: CommandAPDU) -> ResponseAPDU:
    """``00 84 00 00 08``: a fresh unpredictable number for one enciphered VERIFY."""
    if cmd.p1 or cmd.p2:
        return status(SW.INCORRECT_P1P2)
    if cmd.data or cmd.le not in (None, _CHALLENGE_LENGTH, 256):
        return status(SW.WRONG_LENGTH)
    s.challenge = secrets.token_bytes(_CHALLENGE_LENGTH)
    return status(SW.OK, s.challenge)


def _offered_block(p: Profile, s: Session, cmd: CommandAPDU) -> bytes | ResponseAPDU:
    """The clear PIN block the terminal offers, or the status word refusing the command."""
    if cmd.p2 == _PLAIN:
        return cmd.data if len(cmd.data) == 8 else status(SW.WRONG_LENGTH)
    key = p.icc_key
    if key is None:
        return status(SW.REFERENCED_DATA_NOT_FOUND)
    if len(cmd.data) != key.length:
        return status(SW.WRONG_LENGTH)
    challenge, s.challenge = s.challenge, None  # one challenge, one try
    if challenge is None:
        return status(SW.CONDITIONS_NOT_SATISFIED)
    plain = key.decipher(cmd.data)
    if plain is None or plain[0] != _ENC_HEADER or not constant_time_equal(plain[9:17], challenge):
        return status(SW.WRONG_DATA)
    return plain[1:9]


def verify(p: Profile, mem: Memory, s: Session, cmd: CommandAPDU) -> ResponseAPDU:
    """``00 20 00 80|88``: 9000, 63Cx (x tries left), 6983 (blocked)."""
    if cmd.p1 or cmd.p2 not in (_PLAIN, _ENCIPHERED):
        return status(SW.INCORRECT_P1P2)
    if s.stage is not Stage.INITIATED:
        return status(SW.CONDITIONS_NOT_SATISFIED)
    state = mem.load()
    if state.pin_block is None:
        return status(SW.REFERENCED_DATA_NOT_FOUND)
    offered = _offered_block(p, s, cmd)
    if isinstance(offered, ResponseAPDU):
        return offered
    if state.pin_tries == 0:
        return status(SW.AUTH_METHOD_BLOCKED)
    try:
        if offered[0] >> 4 != 2:
            raise CryptoError("not format 2")
        decode_pin_block(offered)
    except CryptoError:
        return status(SW.WRONG_DATA)  # not a PIN attempt at all: no try is counted
    counted = replace(state, pin_tries=state.pin_tries - 1)
    mem.commit(state, counted)
    s.pin_performed = True
    if constant_time_equal(offered, state.pin_block):
        mem.commit(counted, replace(counted, pin_tries=p.pin_limit))
        s.pin_failed = False
        return status(SW.OK)
    s.pin_failed = True
    if counted.pin_tries == 0 and p.risk.ada[0] & ADA_PIN_EXCEEDED_BLOCK:
        mem.commit(counted, replace(counted, blocked=True))
    return status(_TRIES_LEFT | counted.pin_tries)
