"""Access control of the ID application: BAC, 3DES secure messaging, active authentication.

The card side of ICAO Doc 9303 part 11: GET CHALLENGE and MUTUAL AUTHENTICATE (§4.3, BAC),
then every command wrapped in secure messaging (§9.8) with the send sequence counter, and
INTERNAL AUTHENTICATE (§6.1, active authentication) answered with an ECDSA P-256 signature.
The crypto is :mod:`cardkit.crypto.icao`; this module keeps the per-channel state.

Session state lives only in the channel's :class:`EidSession` (RAM): a reset, a power cycle, a
new SELECT of the application, a plain command after BAC or any secure-messaging error drops it,
and everything needs BAC again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from applets.eid.layout import BAC_KEY_REF
from applets.runtime import FsSession, status
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.crypto import icao
from cardkit.crypto.hazmat.ciphers import TripleDES
from cardkit.crypto.icao import BacKeys
from cardkit.errors import CryptoError

__all__ = [
    "AA_CHALLENGE_LENGTH",
    "AA_SIGNATURE_LENGTH",
    "CHALLENGE_LENGTH",
    "EidSession",
    "SecureChannel",
    "get_challenge",
    "internal_authenticate",
    "mutual_authenticate",
    "protect",
    "unprotect",
]

CHALLENGE_LENGTH = 8  # RND.IC
_AUTH_DATA = 40  # E_IFD || M_IFD and E_IC || M_IC (32 + 8)
_K_IC = 16
AA_CHALLENGE_LENGTH = 8  # 9303-11 §6.1: an 8-byte random from the terminal
AA_SIGNATURE_LENGTH = 64  # r || s, 32 bytes each (BSI TR-03111 plain format)
_ANY_LE = (256, 65536)


@dataclass(slots=True)
class SecureChannel:
    """BAC session keys and the send sequence counter (9303-11 §9.8.2); RAM only."""

    keys: BacKeys = field(repr=False)
    ssc: int = field(repr=False)


@dataclass(slots=True)
class EidSession(FsSession):
    """One channel's state: the file system's current DF/EF, the last RND.IC, the secure channel."""

    challenge: bytes | None = field(default=None, repr=False)
    channel: SecureChannel | None = None

    def drop(self) -> None:
        """Forget BAC: the session keys, the challenge and the right to read the files."""
        self.challenge, self.channel = None, None
        self.keys.discard(BAC_KEY_REF)


def _le_ok(cmd: CommandAPDU, length: int) -> bool:
    return cmd.le in (length, *_ANY_LE)


def get_challenge(session: EidSession, cmd: CommandAPDU, random: Callable[[int], bytes]) -> ResponseAPDU:
    """GET CHALLENGE ``00 84 00 00 08`` → RND.IC (ISO 7816-4 §11.6.2); the next BAC must use it."""
    if cmd.p1 or cmd.p2:
        return status(SW.INCORRECT_P1P2)
    if cmd.data or not _le_ok(cmd, CHALLENGE_LENGTH):
        return status(SW.WRONG_LENGTH)
    session.challenge = bytes(random(CHALLENGE_LENGTH))
    return status(SW.OK, session.challenge)


def mutual_authenticate(session: EidSession, cmd: CommandAPDU, keys: BacKeys,
                        random: Callable[[int], bytes]) -> ResponseAPDU:
    """MUTUAL AUTHENTICATE ``00 82 00 00 28 E_IFD||M_IFD 28`` → E_IC||M_IC (9303-11 §4.3.4).

    A wrong cryptogram (wrong MRZ-derived keys, or not our RND.IC) answers 6300 and uses up the
    challenge: the terminal needs a new GET CHALLENGE. Success opens the secure channel.
    """
    if cmd.p1 or cmd.p2:
        return status(SW.INCORRECT_P1P2)
    if len(cmd.data) != _AUTH_DATA or not (cmd.le is None or _le_ok(cmd, _AUTH_DATA)):
        return status(SW.WRONG_LENGTH)
    rnd_ic, session.challenge = session.challenge, None
    if rnd_ic is None:
        return status(SW.CONDITIONS_NOT_SATISFIED)
    k_ic = bytes(random(_K_IC))
    try:
        answer, k_ifd = icao.ic_authenticate(keys, cmd.data, rnd_ic, k_ic)
    except CryptoError:
        return status(SW.AUTHENTICATION_FAILED_WARNING)
    session.channel = SecureChannel(icao.bac_session_keys(k_ifd, k_ic), _ssc(keys, cmd.data, rnd_ic))
    session.keys.add(BAC_KEY_REF)
    return status(SW.OK, answer)


def _ssc(keys: BacKeys, data: bytes, rnd_ic: bytes) -> int:
    """SSC from RND.IC and the RND.IFD inside the (already verified) E_IFD (§9.8.2)."""
    rnd_ifd = TripleDES(keys.k_enc).decrypt_cbc(data[:32])[:8]
    return icao.bac_ssc(rnd_ic, rnd_ifd)


def unprotect(session: EidSession, cmd: CommandAPDU) -> CommandAPDU | None:
    """Verify and open one secure-messaging command; ``None`` (and the session dropped) if it fails.

    A command that fails here — no SM class, a MAC that does not verify, a broken data object,
    a plain APDU inside that is not one — ends the session (9303-11 §9.8.6: the card answers
    6988 and forgets the session keys).
    """
    channel = session.channel
    if channel is None:
        return None
    try:
        plain, ssc = icao.unprotect_command(channel.keys, channel.ssc, cmd.to_bytes())
        inner = CommandAPDU.parse(plain)
    except (CryptoError, IndexError):  # IndexError: a length byte 81/82 cut off in the DOs
        session.drop()
        return None
    channel.ssc = ssc
    return inner


def protect(session: EidSession, resp: ResponseAPDU) -> ResponseAPDU:
    """Wrap one answer: DO 87 (data) || DO 99 (SW) || DO 8E, the SW repeated outside (§9.8.5)."""
    channel = session.channel
    if channel is None:
        return resp
    wrapped, channel.ssc = icao.protect_response(channel.keys, channel.ssc, resp.data, resp.sw.to_bytes(2, "big"))
    return ResponseAPDU.parse(wrapped)


def internal_authenticate(cmd: CommandAPDU, key: ec.EllipticCurvePrivateKey) -> ResponseAPDU:
    """INTERNAL AUTHENTICATE ``00 88 00 00 08 challenge 00`` → ECDSA P-256 signature r || s.

    The signature is over SHA-256 of the 8-byte challenge (9303-11 §6.1 with ECDSA, BSI TR-03111
    plain format); deterministic (RFC 6979), so the card needs no random source for it.
    """
    if cmd.p1 or cmd.p2:
        return status(SW.INCORRECT_P1P2)
    if len(cmd.data) != AA_CHALLENGE_LENGTH or cmd.le is None:
        return status(SW.WRONG_LENGTH)
    der = key.sign(cmd.data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(der)
    return status(SW.OK, r.to_bytes(32, "big") + s.to_bytes(32, "big"))
