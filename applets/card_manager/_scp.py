"""The card side of the secure channel: SCP03 (GP 2.3 Amendment D, i = 70) and SCP02 (Annex E, i = 55).

INITIALIZE UPDATE makes a :class:`Handshake` (session keys and challenges, kept in the selection's
RAM); EXTERNAL AUTHENTICATE turns it into a :class:`SecureChannel` at the security level the host
asked for. The channel unwraps every later command (C-MAC, C-DECRYPTION) and wraps every answer
(R-MAC, R-ENCRYPTION). Any failure raises :class:`ChannelError`; the card manager then closes the
session. The cryptography is :mod:`cardkit.crypto.gp`; this module only keeps the state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from applets.card_manager._codes import Refusal
from applets.card_manager._keys import KeySet
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.crypto import gp
from cardkit.crypto.hazmat import AES, TripleDES, constant_time_equal, pad_method_2, unpad_method_2
from cardkit.errors import CryptoError

__all__ = [
    "SCP02_I",
    "SCP02_LEVELS",
    "SCP03_I",
    "SCP03_LEVELS",
    "SL_C_DEC",
    "SL_C_MAC",
    "SL_R_ENC",
    "SL_R_MAC",
    "ChannelError",
    "Handshake",
    "SecureChannel",
    "scp02_initialize",
    "scp03_initialize",
]

SL_C_MAC, SL_C_DEC, SL_R_MAC, SL_R_ENC = 0x01, 0x02, 0x10, 0x20
SCP03_I = 0x70  # pseudo-random card challenge, R-MAC and R-ENC supported, 3 keys (Amendment D §5.1)
SCP02_I = 0x55  # 3 keys, C-MAC on the modified APDU, explicit initiation, ICV encryption, no R-MAC (E.1.1)
SCP03_LEVELS = frozenset({0x00, 0x01, 0x03, 0x11, 0x13, 0x33})
SCP02_LEVELS = frozenset({0x00, 0x01, 0x03})
_CARD_CHALLENGE = 0x02  # Amendment D Table 6-1: derivation constant of the pseudo-random card challenge
_SM = 0x04  # CLA b3: GlobalPlatform proprietary secure messaging


class ChannelError(Exception):
    """A secure-messaging check failed: answer ``sw`` and close the session."""

    def __init__(self, sw: int, why: str) -> None:
        super().__init__(why)
        self.sw = int(sw)


def _success(sw: int) -> bool:
    """9000 and warnings (62xx, 63xx): the answers GP protects; errors go back as a bare SW."""
    return sw == SW.OK or sw >> 8 in (0x62, 0x63)


def _plain(cmd: CommandAPDU, data: bytes) -> CommandAPDU:
    return CommandAPDU(cmd.cla & ~_SM & 0xFF, cmd.ins, cmd.p1, cmd.p2, data, cmd.le)


def _unprotected(cmd: CommandAPDU) -> CommandAPDU:
    """A command of a session at security level 00: as it is, and never claiming secure messaging."""
    if cmd.cla & _SM:
        raise ChannelError(SW.SECURE_MESSAGING_NOT_SUPPORTED, "secure messaging at security level 00")
    return cmd


def _split(cmd: CommandAPDU) -> tuple[bytes, bytes]:
    if not cmd.cla & _SM:
        raise ChannelError(SW.SECURITY_STATUS_NOT_SATISFIED, "command without secure messaging in a C-MAC session")
    if cmd.extended or len(cmd.data) < 8:
        raise ChannelError(SW.SECURITY_STATUS_NOT_SATISFIED, "no C-MAC in the command")
    return cmd.data[:-8], cmd.data[-8:]


class SecureChannel(Protocol):
    """An authenticated session: what the card manager needs from either protocol."""

    kvn: int
    level: int
    scp: int
    dek_block: int

    def unwrap(self, cmd: CommandAPDU) -> CommandAPDU:
        """Check and strip secure messaging; ``ChannelError`` closes the session."""

    def wrap(self, resp: ResponseAPDU) -> ResponseAPDU:
        """Add R-MAC / R-ENCRYPTION as the level says."""

    def decrypt_key(self, block: bytes) -> bytes:
        """Decipher a PUT KEY key component (whole blocks) with the data encryption key."""


class Handshake(Protocol):
    kvn: int

    def authenticate(self, cmd: CommandAPDU) -> SecureChannel:
        """EXTERNAL AUTHENTICATE: ``Refusal`` 6300 for a wrong host cryptogram, 6982 for a wrong MAC."""


def _check_external_authenticate(cmd: CommandAPDU, levels: frozenset[int]) -> None:
    if not cmd.cla & _SM:
        raise Refusal(SW.SECURITY_STATUS_NOT_SATISFIED, "EXTERNAL AUTHENTICATE without C-MAC")
    if cmd.p1 not in levels or cmd.p2:
        raise Refusal(SW.INCORRECT_P1P2, f"security level {cmd.p1:02X} not supported")
    if len(cmd.data) != 16 or cmd.extended:
        raise Refusal(SW.WRONG_LENGTH, "EXTERNAL AUTHENTICATE data is host cryptogram(8) || C-MAC(8)")


# --- SCP03 ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class Scp03Channel:
    """SCP03 session state: MAC chaining value and encryption counter (Amendment D §6.2.4-§6.2.7)."""

    kvn: int
    level: int
    keys: gp.Scp03SessionKeys = field(repr=False)
    static_dek: bytes = field(repr=False)
    mcv: bytes = field(repr=False)
    counter: int = 0
    scp: int = 3
    dek_block: int = 16

    def unwrap(self, cmd: CommandAPDU) -> CommandAPDU:
        if not self.level & SL_C_MAC:
            return _unprotected(cmd)
        body, mac = _split(cmd)
        # Amendment D §6.2.4: the MAC covers CLA with the channel number cleared and b3 set
        header = bytes(((cmd.cla & 0xFC) | _SM, cmd.ins, cmd.p1, cmd.p2))
        want, mcv = gp.scp03_command_mac(self.keys.s_mac, self.mcv, header, body)
        if not constant_time_equal(want, mac):
            raise ChannelError(SW.SECURITY_STATUS_NOT_SATISFIED, "wrong C-MAC")
        self.mcv = mcv
        if not self.level & SL_C_DEC:
            return _plain(cmd, body)
        self.counter += 1  # §6.2.6: for every command, with data or not
        if not body:
            return _plain(cmd, body)
        try:
            icv = AES(self.keys.s_enc).encrypt_ecb(self.counter.to_bytes(16, "big"))
            return _plain(cmd, unpad_method_2(AES(self.keys.s_enc).decrypt_cbc(body, icv), 16))
        except CryptoError:
            raise ChannelError(SW.SECURITY_STATUS_NOT_SATISFIED, "C-DECRYPTION failed") from None

    def wrap(self, resp: ResponseAPDU) -> ResponseAPDU:
        if not self.level & SL_R_MAC:
            return resp
        if not _success(resp.sw):
            return ResponseAPDU(b"", resp.sw)  # §6.2.5: no R-MAC on an error, only the status word
        data = resp.data
        if self.level & SL_R_ENC and data:
            block = b"\x80" + self.counter.to_bytes(15, "big")
            icv = AES(self.keys.s_enc).encrypt_ecb(block)
            data = AES(self.keys.s_enc).encrypt_cbc(pad_method_2(data, 16), icv)
        rmac = gp.scp03_response_mac(self.keys.s_rmac, self.mcv, data, resp.sw.to_bytes(2, "big"))
        return ResponseAPDU(data + rmac, resp.sw)

    def decrypt_key(self, block: bytes) -> bytes:
        return AES(self.static_dek).decrypt_cbc(block)  # Amendment D §7.2: static K-DEK, CBC, ICV zero


@dataclass(slots=True)
class Scp03Handshake:
    kvn: int
    host_challenge: bytes = field(repr=False)
    card_challenge: bytes = field(repr=False)
    keys: gp.Scp03SessionKeys = field(repr=False)
    static_dek: bytes = field(repr=False)

    def authenticate(self, cmd: CommandAPDU) -> SecureChannel:
        _check_external_authenticate(cmd, SCP03_LEVELS)
        host_cryptogram, mac = cmd.data[:8], cmd.data[8:]
        want = gp.scp03_host_cryptogram(self.keys.s_mac, self.host_challenge, self.card_challenge)
        if not constant_time_equal(want, host_cryptogram):
            raise Refusal(SW.AUTHENTICATION_FAILED_WARNING, "wrong host cryptogram")
        header = bytes(((cmd.cla & 0xFC) | _SM, cmd.ins, cmd.p1, cmd.p2))
        want_mac, mcv = gp.scp03_command_mac(self.keys.s_mac, bytes(16), header, host_cryptogram)
        if not constant_time_equal(want_mac, mac):
            raise Refusal(SW.SECURITY_STATUS_NOT_SATISFIED, "wrong C-MAC on EXTERNAL AUTHENTICATE")
        return Scp03Channel(self.kvn, cmd.p1, self.keys, self.static_dek, mcv)


def scp03_initialize(keys: KeySet, host_challenge: bytes, counter: int, sd_aid: bytes,
                     diversification_data: bytes) -> tuple[bytes, Scp03Handshake]:
    """INITIALIZE UPDATE answer and handshake (Amendment D §7.1.1).

    The card challenge is pseudo-random (§6.2.2.1): KDF(K-ENC, 02, counter(3) || SD AID, 64 bits),
    with ``counter`` the sequence counter already incremented for this command. Answer:
    diversification data(10) || KVN 03 i || card challenge(8) || card cryptogram(8) || counter(3).
    """
    enc, mac, dek = keys.key(1), keys.key(2), keys.key(3)
    seq = counter.to_bytes(3, "big")
    card_challenge = gp.scp03_kdf(enc, _CARD_CHALLENGE, seq + sd_aid, 64)
    session = gp.derive_scp03_session_keys(enc, mac, host_challenge, card_challenge)
    cryptogram = gp.scp03_card_cryptogram(session.s_mac, host_challenge, card_challenge)
    answer = diversification_data + bytes((keys.kvn, 0x03, SCP03_I)) + card_challenge + cryptogram + seq
    return answer, Scp03Handshake(keys.kvn, bytes(host_challenge), card_challenge, session, dek)


# --- SCP02 ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class Scp02Channel:
    """SCP02 i=55 session state: the last C-MAC, whose DES encryption is the next ICV (E.4.4)."""

    kvn: int
    level: int
    s_enc: bytes = field(repr=False)
    s_mac: bytes = field(repr=False)
    s_dek: bytes = field(repr=False)
    last_mac: bytes = field(repr=False)
    scp: int = 2
    dek_block: int = 8

    def unwrap(self, cmd: CommandAPDU) -> CommandAPDU:
        if not self.level & SL_C_MAC:
            return _unprotected(cmd)
        body, mac = _split(cmd)
        plain = body
        if self.level & SL_C_DEC and body:  # E.4.6: 3DES-CBC, ICV zero, S-ENC; the MAC covers the clear data
            try:
                plain = unpad_method_2(TripleDES(self.s_enc).decrypt_cbc(body), 8)
            except CryptoError:
                raise ChannelError(SW.SECURITY_STATUS_NOT_SATISFIED, "C-DECRYPTION failed") from None
        if len(plain) + 8 > 255:
            raise ChannelError(SW.SECURITY_STATUS_NOT_SATISFIED, "command too long for a C-MAC")
        icv = gp.scp02_next_icv(self.s_mac, self.last_mac)
        want = gp.scp02_command_mac(self.s_mac, icv, cmd.header, plain)
        if not constant_time_equal(want, mac):
            raise ChannelError(SW.SECURITY_STATUS_NOT_SATISFIED, "wrong C-MAC")
        self.last_mac = want
        return _plain(cmd, plain)

    def wrap(self, resp: ResponseAPDU) -> ResponseAPDU:
        return resp  # i = 55: no R-MAC

    def decrypt_key(self, block: bytes) -> bytes:
        return TripleDES(self.s_dek).decrypt_ecb(block)  # E.4.7: 3DES-ECB with the session DEK


@dataclass(slots=True)
class Scp02Handshake:
    kvn: int
    host_challenge: bytes = field(repr=False)
    card_challenge: bytes = field(repr=False)
    sequence_counter: bytes
    s_enc: bytes = field(repr=False)
    s_mac: bytes = field(repr=False)
    s_dek: bytes = field(repr=False)

    def authenticate(self, cmd: CommandAPDU) -> SecureChannel:
        _check_external_authenticate(cmd, SCP02_LEVELS)
        host_cryptogram, mac = cmd.data[:8], cmd.data[8:]
        want = gp.scp02_host_cryptogram(self.s_enc, self.host_challenge, self.sequence_counter, self.card_challenge)
        if not constant_time_equal(want, host_cryptogram):
            raise Refusal(SW.AUTHENTICATION_FAILED_WARNING, "wrong host cryptogram")
        want_mac = gp.scp02_command_mac(self.s_mac, bytes(8), cmd.header, host_cryptogram)
        if not constant_time_equal(want_mac, mac):
            raise Refusal(SW.SECURITY_STATUS_NOT_SATISFIED, "wrong C-MAC on EXTERNAL AUTHENTICATE")
        return Scp02Channel(self.kvn, cmd.p1, self.s_enc, self.s_mac, self.s_dek, want_mac)


def scp02_initialize(keys: KeySet, host_challenge: bytes, counter: int, card_challenge: bytes,
                     diversification_data: bytes) -> tuple[bytes, Scp02Handshake]:
    """INITIALIZE UPDATE answer and handshake (GP 2.3 E.5.1): session keys from the sequence counter
    (E.4.1); answer = diversification data(10) || KVN 02 || counter(2) || card challenge(6) || card
    cryptogram(8)."""
    seq = counter.to_bytes(2, "big")
    s_enc = gp.scp02_session_key(keys.key(1), gp.SCP02_S_ENC, seq)
    s_mac = gp.scp02_session_key(keys.key(2), gp.SCP02_C_MAC, seq)
    s_dek = gp.scp02_session_key(keys.key(3), gp.SCP02_DEK, seq)
    cryptogram = gp.scp02_card_cryptogram(s_enc, host_challenge, seq, card_challenge)
    answer = diversification_data + bytes((keys.kvn, 0x02)) + seq + card_challenge + cryptogram
    return answer, Scp02Handshake(keys.kvn, bytes(host_challenge), bytes(card_challenge), seq, s_enc, s_mac, s_dek)
