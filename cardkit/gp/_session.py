"""Opening a GlobalPlatform secure channel and running commands through it (SCP03 and SCP02).

SCP03 follows GP Card Spec 2.3 Amendment D, SCP02 Annex E with i = 15/55 (C-MAC on the modified
APDU, ICV zero for EXTERNAL AUTHENTICATE, ICV encryption afterwards). The card names the protocol in
the key information of its INITIALIZE UPDATE response; the host only brings the static keys. The
cryptography itself is :mod:`cardkit.crypto.gp` (tested against pySim's sessions); this module is
the state machine: MAC chaining, the C-DEC counter, the security level.
"""

from __future__ import annotations

import enum
import logging
import secrets

from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.cardaids import ISD_AID
from cardkit.crypto import gp as scp
from cardkit.crypto.hazmat._base import constant_time_equal
from cardkit.crypto.hazmat.ciphers import AES, TripleDES
from cardkit.crypto.hazmat.padding import pad_method_2
from cardkit.errors import CardError, CryptoError
from cardkit.gp._errors import GpError
from cardkit.gp._keys import StaticKeys
from cardkit.readers.channel import INS_NAMES, CardChannel, encode_cla

__all__ = ["ISD_AID", "GpSession", "SecurityLevel", "open_secure_channel", "select_aid"]

log = logging.getLogger(__name__)

CLA_GP = 0x80
CLA_SM = 0x04  # GlobalPlatform proprietary secure messaging (GP 2.3 §11.1.4)
INS_SELECT = 0xA4
INS_INITIALIZE_UPDATE = 0x50
INS_EXTERNAL_AUTHENTICATE = 0x82
_MAC_LEN = 8
_MAX_SHORT = 255

#: GP INS names for error context (the ISO ones come from the channel's table).
GP_INS_NAMES: dict[int, str] = {
    **INS_NAMES, 0x50: "INITIALIZE UPDATE", 0xE2: "STORE DATA", 0xE4: "DELETE", 0xE6: "INSTALL", 0xE8: "LOAD",
    0xF0: "SET STATUS", 0xF2: "GET STATUS", 0xD8: "PUT KEY",
}


class SecurityLevel(enum.IntFlag):
    """EXTERNAL AUTHENTICATE P1 (Amendment D §7.1.2 Table 7-5, Annex E.5.2): what protects each APDU."""

    C_MAC = 0x01
    C_DEC = 0x02
    R_MAC = 0x10
    R_ENC = 0x20


def _check_level(level: SecurityLevel) -> SecurityLevel:
    level = SecurityLevel(level)
    if level & ~(SecurityLevel.C_MAC | SecurityLevel.C_DEC | SecurityLevel.R_MAC | SecurityLevel.R_ENC):
        raise GpError(f"security level {int(level):02X} has unknown bits")
    if level and not level & SecurityLevel.C_MAC:
        raise GpError(f"security level {int(level):02X}: C-DEC, R-MAC and R-ENC all need C-MAC")
    if level & SecurityLevel.R_ENC and not (level & SecurityLevel.R_MAC and level & SecurityLevel.C_DEC):
        raise GpError("security level: R-ENC needs R-MAC and C-DEC")
    return level


def select_aid(channel: CardChannel, aid: bytes = ISD_AID) -> bytes:
    """SELECT by AID (``00 A4 04 00``); returns the FCI. A locked card answers 6283 and still counts.

    Raises:
        CardError: the card does not have ``aid`` (6A82) or refused otherwise.
    """
    resp = channel.transmit(CommandAPDU(0x00, INS_SELECT, 0x04, 0x00, bytes(aid), le=256))
    if resp.sw not in (SW.OK, SW.SELECTED_FILE_INVALIDATED):
        raise CardError(resp.sw, f"SELECT {bytes(aid).hex().upper()}")
    return resp.data


class GpSession:
    """An open secure channel to a security domain; made by :func:`open_secure_channel`.

    Public state: ``scp`` (2 or 3), ``kvn`` (the key set the card used), ``level``,
    ``diversification_data`` (10 bytes), ``key_information`` (KVN, SCP, [i]), ``i`` (the SCP
    option byte; 0x55 assumed for SCP02, which does not send it), ``sequence_counter`` (SCP02: 2
    bytes; SCP03: 3 bytes or empty), ``channel``. The static and session keys stay private: only
    :meth:`dek_encrypt` uses the DEK, for PUT KEY and encrypted STORE DATA.

    Not thread-safe: one session is one MAC chain.
    """

    __slots__ = ("_closed", "_counter", "_icv", "_keys", "_last_mac", "_mcv", "_s_dek", "_s_enc", "_s_mac",
                 "_s_rmac", "channel", "diversification_data", "i", "key_information", "kvn", "level", "scp",
                 "sequence_counter")

    def __init__(self, channel: CardChannel, keys: StaticKeys, *, scp_version: int, kvn: int, i: int,
                 diversification_data: bytes, key_information: bytes, sequence_counter: bytes,
                 session_keys: tuple[bytes, bytes, bytes, bytes]) -> None:
        self.channel = channel
        self.scp = scp_version
        self.kvn = kvn
        self.i = i
        self.level = SecurityLevel(0)
        self.diversification_data = diversification_data
        self.key_information = key_information
        self.sequence_counter = sequence_counter
        self._keys = keys
        self._s_enc, self._s_mac, self._s_rmac, self._s_dek = session_keys
        self._mcv = bytes(16)  # SCP03 MAC chaining value
        self._counter = 0  # SCP03 encryption counter: 1 for the first command after EXTERNAL AUTHENTICATE
        self._icv = bytes(8)  # SCP02: the ICV of the next C-MAC
        self._last_mac: bytes | None = None
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (f"GpSession(SCP0{self.scp} i={self.i:02X}, kvn=0x{self.kvn:02X}, "
                f"level={int(self.level):02X}, {state})")

    # ------------------------------------------------------------------------------ limits
    @property
    def max_data(self) -> int:
        """The longest plain command data that still fits one short APDU after MAC and padding."""
        room = _MAX_SHORT - (_MAC_LEN if self.level & SecurityLevel.C_MAC else 0)
        if self.level & SecurityLevel.C_DEC:
            block = 16 if self.scp == 3 else 8
            return room // block * block - 1  # method-2 padding always adds at least one byte
        return room

    # ------------------------------------------------------------------------------ wrapping
    def wrap(self, command: CommandAPDU) -> CommandAPDU:
        """Protect one command at the session's level (C-MAC, and C-DEC of the data field).

        The wrapped CLA is the plain one with 04 set (GP proprietary secure messaging); the channel
        puts the logical channel number in afterwards. The SCP03 C-MAC covers the CLA with the
        channel number cleared (Amendment D §6.2.4), the SCP02 C-MAC the CLA as sent.

        Raises:
            GpError: the session is closed, the command is extended or too long to wrap.
        """
        return self._wrap(command, encrypt=True)

    def _wrap(self, command: CommandAPDU, *, encrypt: bool) -> CommandAPDU:
        if self._closed:
            raise GpError("the secure channel is closed (a failed R-MAC or EXTERNAL AUTHENTICATE): open a new one")
        if command.extended:
            raise GpError("GlobalPlatform secure channel commands must be short APDUs")
        level = self.level
        data = command.data
        encrypting = encrypt and bool(level & SecurityLevel.C_DEC) and bool(data)
        if level & SecurityLevel.C_MAC and len(data) > (self.max_data if encrypting else _MAX_SHORT - _MAC_LEN):
            raise GpError(f"{len(data)} bytes of command data do not fit one secure channel APDU "
                          f"(at most {self.max_data if encrypting else _MAX_SHORT - _MAC_LEN})")
        if self.scp == 3 and encrypt:
            self._counter += 1  # Amendment D §6.2.6: for every command, with or without data
        if not level & SecurityLevel.C_MAC:
            return command
        cla = (command.cla & 0xF0) | CLA_SM
        # SCP03 MACs the CLA with the channel number cleared (Amendment D §6.2.4); SCP02 the CLA as
        # sent, channel number included (as pySim and the card manager do; no difference on channel 0)
        mac_cla = cla if self.scp == 3 else encode_cla(cla, self.channel.channel)
        header = bytes((mac_cla, command.ins, command.p1, command.p2))
        if self.scp == 3:
            if encrypting:
                data = scp.scp03_encrypt_command(self._s_enc, self._counter, data)
            mac, self._mcv = scp.scp03_command_mac(self._s_mac, self._mcv, header, data)
        else:
            icv = bytes(8) if self._last_mac is None else scp.scp02_next_icv(self._s_mac, self._last_mac)
            mac = scp.scp02_command_mac(self._s_mac, icv, header, data)  # E.4.4: over the plain data
            self._last_mac = mac
            if encrypting:
                data = TripleDES(self._s_enc).encrypt_cbc(pad_method_2(data, 8))  # E.4.6, ICV zero
        return CommandAPDU(cla, command.ins, command.p1, command.p2, data + mac, command.le)

    def unwrap(self, response: ResponseAPDU) -> ResponseAPDU:
        """Check the R-MAC and decipher R-ENC data of the response to the command wrapped last.

        Error status words (anything but 9000, 62xx and 63xx) carry no R-MAC (Amendment D §6.2.5)
        and pass through as they are.

        Raises:
            GpError: the R-MAC is missing or wrong, or the data does not decipher (the session is
                closed: nothing more can be trusted on it).
        """
        if not self.level & SecurityLevel.R_MAC:
            return response
        sw = response.sw
        if sw != SW.OK and sw >> 8 not in (0x62, 0x63):
            return response
        if len(response.data) < _MAC_LEN:
            self._closed = True
            raise GpError("the card's response has no R-MAC", sw=sw)
        data, rmac = response.data[:-_MAC_LEN], response.data[-_MAC_LEN:]
        expect = scp.scp03_response_mac(self._s_rmac, self._mcv, data, sw.to_bytes(2, "big"))
        if not constant_time_equal(expect, rmac):
            self._closed = True
            raise GpError("the R-MAC of the card's response does not verify: response discarded, channel closed", sw=sw)
        if self.level & SecurityLevel.R_ENC and data:
            try:
                data = scp.scp03_decrypt_response(self._s_enc, self._counter, data)
            except CryptoError:
                self._closed = True
                raise GpError("the card's R-ENC data does not decipher: channel closed", sw=sw) from None
        return ResponseAPDU(data, sw)

    # ------------------------------------------------------------------------------ sending
    def transmit(self, command: CommandAPDU, *, sensitive: bool = False) -> ResponseAPDU:
        """Wrap, send through the channel (GET RESPONSE and all), unwrap. Any SW comes back."""
        return self.unwrap(self.channel.transmit(self.wrap(command), sensitive=sensitive))

    def send(self, command: CommandAPDU, *, sensitive: bool = False, context: str | None = None) -> bytes:
        """:meth:`transmit`, then the response data; ``CardError`` for any SW but 9000."""
        response = self.transmit(command, sensitive=sensitive)
        if response.sw != SW.OK:
            raise CardError(response.sw, context or GP_INS_NAMES.get(command.ins, f"INS {command.ins:02X}"))
        return response.data

    # ------------------------------------------------------------------------------ keys
    def dek_encrypt(self, data: bytes) -> bytes:
        """Encrypt whole blocks for the card's DEK: SCP03 AES-CBC ICV 0 under the static K-DEK
        (Amendment D §7.2), SCP02 3DES-ECB under the session DEK (Annex E.4.7)."""
        if self.scp == 3:
            return AES(self._keys.dek).encrypt_cbc(bytes(data))
        return TripleDES(self._s_dek).encrypt_ecb(bytes(data))

    @property
    def static_kcvs(self) -> tuple[bytes, bytes, bytes]:
        """KCVs of the static keys this session authenticated with (never the keys)."""
        return self._keys.kcvs(self.scp)


# ---------------------------------------------------------------------------------- opening
def _parse_initialize_update(data: bytes) -> tuple[int, int, int, bytes, bytes, bytes]:
    """(scp, kvn, i, card challenge, card cryptogram, sequence counter) of an INITIALIZE UPDATE answer."""
    if len(data) < 13:
        raise GpError(f"INITIALIZE UPDATE answer of {len(data)} bytes is too short")
    kvn, version = data[10], data[11]
    if version == 2:  # Annex E.5.1.3: div(10) KVN 02 seq(2) challenge(6) cryptogram(8)
        if len(data) != 28:
            raise GpError(f"SCP02 INITIALIZE UPDATE answer must be 28 bytes, got {len(data)}")
        return 2, kvn, 0x55, data[14:20], data[20:28], data[12:14]
    if version == 3:  # Amendment D §7.1.1.6: div(10) KVN 03 i challenge(8) cryptogram(8) [seq(3)]
        i = data[12]
        if i & 0x01:
            raise GpError(f"the card uses SCP03 i={i:02X} in S16 mode, which cardkit does not support")
        if len(data) not in (29, 32):
            raise GpError(f"SCP03 INITIALIZE UPDATE answer must be 29 or 32 bytes, got {len(data)}")
        return 3, kvn, i, data[13:21], data[21:29], data[29:32]
    raise GpError(f"the card answered INITIALIZE UPDATE for SCP{version:02X}: only SCP02 and SCP03 are supported")


def open_secure_channel(channel: CardChannel, keys: StaticKeys, *,
                        level: SecurityLevel = SecurityLevel.C_MAC | SecurityLevel.C_DEC,
                        select: bytes | None = ISD_AID, host_challenge: bytes | None = None) -> GpSession:
    """SELECT the security domain, INITIALIZE UPDATE, check the card cryptogram, EXTERNAL AUTHENTICATE.

    Args:
        channel: the channel to the card.
        keys: the static key set; ``keys.kvn`` goes in INITIALIZE UPDATE P1 (0 = the card's default).
        level: the security level asked for in EXTERNAL AUTHENTICATE.
        select: the security domain to SELECT first, or ``None`` if it is already selected.
        host_challenge: 8 bytes (random when ``None``; fixed only for known-answer tests).

    Returns:
        The open session.

    Raises:
        CardError: SELECT failed.
        GpError: INITIALIZE UPDATE refused or malformed, an unsupported protocol or level, keys of
            the wrong kind for it, the card cryptogram wrong (the card does not hold these keys: the
            EXTERNAL AUTHENTICATE that would count a failed try is never sent), or EXTERNAL
            AUTHENTICATE refused.
    """
    level = _check_level(level)
    if select is not None:
        select_aid(channel, select)
    challenge = secrets.token_bytes(8) if host_challenge is None else bytes(host_challenge)
    if len(challenge) != 8:
        raise GpError(f"host challenge must be 8 bytes, got {len(challenge)}")
    resp = channel.transmit(CommandAPDU(CLA_GP, INS_INITIALIZE_UPDATE, keys.kvn, 0x00, challenge, le=256))
    if resp.sw == SW.REFERENCED_DATA_NOT_FOUND:
        raise GpError(f"INITIALIZE UPDATE: the card has no key set with KVN {keys.kvn:02X}", sw=resp.sw)
    if resp.sw != SW.OK:
        raise GpError("INITIALIZE UPDATE refused", sw=resp.sw)
    version, kvn, i, card_challenge, card_cryptogram, counter = _parse_initialize_update(resp.data)
    if keys.kvn and kvn != keys.kvn:
        raise GpError(f"INITIALIZE UPDATE: asked for KVN {keys.kvn:02X}, the card used KVN {kvn:02X}")
    if version == 2:
        if len(keys.enc) != 16:
            raise GpError(f"the card speaks SCP02, which needs 16-byte 3DES keys, not {len(keys.enc)}-byte ones")
        if level & SecurityLevel.R_MAC:
            raise GpError("R-MAC and R-ENC are not available with SCP02 i=15/55: ask for C_MAC or C_MAC | C_DEC")
        s_enc = scp.scp02_session_key(keys.enc, scp.SCP02_S_ENC, counter)
        s_mac = scp.scp02_session_key(keys.mac, scp.SCP02_C_MAC, counter)
        s_rmac = scp.scp02_session_key(keys.mac, scp.SCP02_R_MAC, counter)
        s_dek = scp.scp02_session_key(keys.dek, scp.SCP02_DEK, counter)
        expected = scp.scp02_card_cryptogram(s_enc, challenge, counter, card_challenge)
        host_cryptogram = scp.scp02_host_cryptogram(s_enc, challenge, counter, card_challenge)
        key_info = resp.data[10:12]
    else:
        if level & SecurityLevel.R_MAC and not i & 0x20:
            raise GpError(f"the card's SCP03 i={i:02X} does not offer R-MAC")
        if level & SecurityLevel.R_ENC and not i & 0x40:
            raise GpError(f"the card's SCP03 i={i:02X} does not offer R-ENC")
        sk = scp.derive_scp03_session_keys(keys.enc, keys.mac, challenge, card_challenge)
        s_enc, s_mac, s_rmac, s_dek = sk.s_enc, sk.s_mac, sk.s_rmac, b""
        expected = scp.scp03_card_cryptogram(s_mac, challenge, card_challenge)
        host_cryptogram = scp.scp03_host_cryptogram(s_mac, challenge, card_challenge)
        key_info = resp.data[10:13]
    if not constant_time_equal(expected, card_cryptogram):
        raise GpError(f"card cryptogram wrong: the card does not hold these keys (KVN {kvn:02X})")
    session = GpSession(channel, keys, scp_version=version, kvn=kvn, i=i, diversification_data=resp.data[:10],
                        key_information=key_info, sequence_counter=counter,
                        session_keys=(s_enc, s_mac, s_rmac, s_dek))
    session.level = SecurityLevel.C_MAC  # EXTERNAL AUTHENTICATE itself is only C-MACed
    auth = session._wrap(CommandAPDU(CLA_GP, INS_EXTERNAL_AUTHENTICATE, int(level), 0x00, host_cryptogram),
                         encrypt=False)
    answer = channel.transmit(auth)
    if answer.sw == SW.AUTHENTICATION_FAILED_WARNING:
        session._closed = True
        raise GpError("EXTERNAL AUTHENTICATE: the card rejected the host cryptogram", sw=answer.sw)
    if answer.sw != SW.OK:
        session._closed = True
        raise GpError(f"EXTERNAL AUTHENTICATE at security level {int(level):02X} refused", sw=answer.sw)
    session.level = level
    log.debug("secure channel open: %r", session)
    return session
