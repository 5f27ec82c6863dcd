"""GET CHALLENGE, EXTERNAL AUTHENTICATE (the terminal's SAM) and the issuer's PIN unblock.

* Terminal authentication (ISO 7816-4 §11.5.4 / §11.5.6 shape): ``00 84 00 00 08`` → 8 random
  bytes; ``00 82 00 01 08`` 3DES-ECB of that challenge under the card's DAK (the terminal-auth
  master key diversified by the card number). Right → key 1 is authenticated on this channel,
  which opens the protected records (``KEY(1)``) and GET BALANCE; wrong → 6300. A challenge
  answers exactly one command, so a cryptogram cannot be replayed or guessed twice against it.
* PIN unblock by the issuer: ``84 2C 00 01 04`` MAC, the MAC being the retail MAC (ISO 9797-1
  alg. 3, padding method 2, leftmost 4 bytes) under the card's DUK over ``84 2C 00 01`` ‖ the
  challenge. Right → the runtime's RESET RETRY COUNTER resets the try counter (the PIN object's
  PUK is a card-internal secret, so only this path reaches it). Wrong → 6988.
"""

from __future__ import annotations

from applets.runtime import status
from applets.social.account import Env, Session, same_mac
from applets.social.layout import CHALLENGE_LENGTH, KEY_TERMINAL, PIN_REF, Ins
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.crypto.hazmat.ciphers import TripleDES
from cardkit.crypto.hazmat.mac import retail_mac

__all__ = ["UNBLOCK_CLA", "external_authenticate", "get_challenge", "unblock_mac_input", "unblock_pin"]

UNBLOCK_CLA = 0x84
_MAC = 4
_PUK_ONLY = 0x01  # the runtime's RESET RETRY COUNTER P1: PUK only, keep the PIN


def get_challenge(env: Env, session: Session, cmd: CommandAPDU) -> ResponseAPDU:
    """``00 84 00 00 08`` → 8 random bytes, kept for the next command only."""
    if cmd.p1 or cmd.p2:
        return status(SW.INCORRECT_P1P2)
    if cmd.data:
        return status(SW.WRONG_LENGTH)
    challenge = bytes(env.random(CHALLENGE_LENGTH)).ljust(CHALLENGE_LENGTH, b"\x00")[:CHALLENGE_LENGTH]
    session.challenge = challenge
    return status(SW.OK, challenge)


def external_authenticate(env: Env, session: Session, cmd: CommandAPDU, challenge: bytes | None) -> ResponseAPDU:
    """``00 82 00 01 08`` cryptogram: 9000 and KEY(1) on this channel, or 6300."""
    if cmd.p1:
        return status(SW.INCORRECT_P1P2)
    if cmd.p2 != KEY_TERMINAL:
        return status(SW.REFERENCED_DATA_NOT_FOUND)
    if len(cmd.data) != CHALLENGE_LENGTH:
        return status(SW.WRONG_LENGTH)
    if challenge is None:
        return status(SW.CONDITIONS_NOT_SATISFIED)
    expected = TripleDES(env.account.key("DAK")).encrypt_ecb(challenge)
    if not same_mac(expected, cmd.data):
        session.keys.discard(KEY_TERMINAL)
        return status(SW.AUTHENTICATION_FAILED_WARNING)
    session.keys.add(KEY_TERMINAL)
    return status(SW.OK)


def unblock_mac_input(challenge: bytes) -> bytes:
    """What the issuer MACs: the command header ``84 2C 00 01`` ‖ the card's challenge."""
    return bytes((UNBLOCK_CLA, Ins.RESET_RETRY_COUNTER, 0x00, PIN_REF)) + challenge


def unblock_pin(env: Env, session: Session, cmd: CommandAPDU, challenge: bytes | None) -> ResponseAPDU:
    """``84 2C 00 01 04`` MAC: reset the PIN's try counter (the PIN itself stays)."""
    if cmd.p1 or cmd.p2 != PIN_REF:
        return status(SW.INCORRECT_P1P2)
    if len(cmd.data) != _MAC:
        return status(SW.WRONG_LENGTH)
    if challenge is None:
        return status(SW.CONDITIONS_NOT_SATISFIED)
    expected = retail_mac(env.account.key("DUK"), unblock_mac_input(challenge), padding=2)[:_MAC]
    if not same_mac(expected, cmd.data):
        return status(SW.SM_DATA_OBJECTS_INCORRECT)
    secret = env.account.key("PUK")
    answer = env.fs.pins.process(CommandAPDU(0x00, Ins.RESET_RETRY_COUNTER, _PUK_ONLY, PIN_REF, secret),
                                 session.verified)
    return answer if answer is not None else status(SW.CONDITIONS_NOT_SATISFIED)
