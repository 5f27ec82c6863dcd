"""CardChannel: what every client above the reader layer talks to (ISO/IEC 7816-4 §5, 7816-3 §12).

It owns, once for every backend: T=0 GET RESPONSE on 61xx, the resend with the right Le on 6Cxx,
command chaining (CLA b5) for long data, logical channel numbers in CLA, MANAGE CHANNEL, an optional
secure-messaging wrapper, and status-word checks that raise :class:`cardkit.errors.CardError`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from typing import Protocol, Self

from cardkit.apdu import SW, CommandAPDU, ResponseAPDU, bytes_available, correct_le
from cardkit.errors import ApduError, CardError, TransportError
from cardkit.readers.base import Connection
from cardkit.readers.trace import Tracer

__all__ = ["INS_NAMES", "CardChannel", "SecureMessaging", "encode_cla"]

log = logging.getLogger(__name__)

INS_GET_RESPONSE = 0xC0
INS_MANAGE_CHANNEL = 0x70
CLA_CHAINING = 0x10
MAX_CHANNEL = 19
_MAX_ROUNDS = 512  # GET RESPONSE / 6Cxx rounds before we call the card broken

#: Names used as error context (ISO 7816-4 §11, GlobalPlatform, EMV).
INS_NAMES: dict[int, str] = {
    0x0E: "ERASE BINARY", 0x20: "VERIFY", 0x22: "MANAGE SECURITY ENVIRONMENT", 0x24: "CHANGE REFERENCE DATA",
    0x2A: "PERFORM SECURITY OPERATION", 0x2C: "RESET RETRY COUNTER", 0x44: "ACTIVATE FILE",
    0x70: "MANAGE CHANNEL", 0x82: "EXTERNAL AUTHENTICATE", 0x84: "GET CHALLENGE", 0x88: "INTERNAL AUTHENTICATE",
    0xA4: "SELECT", 0xA8: "GET PROCESSING OPTIONS", 0xAE: "GENERATE AC", 0xB0: "READ BINARY",
    0xB2: "READ RECORD", 0xC0: "GET RESPONSE", 0xCA: "GET DATA", 0xD6: "UPDATE BINARY",
    0xD8: "PUT KEY", 0xDC: "UPDATE RECORD", 0xE2: "APPEND RECORD",
}


class SecureMessaging(Protocol):
    """A secure-messaging session (ICAO 9303, GP SCP02/03, PBOC): wraps commands, unwraps responses.

    ``wrap`` gets the plain command (logical channel not yet applied) and returns the protected one;
    ``unwrap`` gets the complete response (after GET RESPONSE) and returns the plain one, raising
    :class:`cardkit.errors.CryptoError` when the MAC does not verify.
    """

    def wrap(self, command: CommandAPDU) -> CommandAPDU: ...

    def unwrap(self, response: ResponseAPDU) -> ResponseAPDU: ...


def encode_cla(cla: int, channel: int) -> int:
    """Put ``channel`` (0-19) into ``cla``, keeping its proprietary (b8), chaining and SM indication.

    ISO 7816-4 §5.4.1: channels 0-3 use the first interindustry form (b2-b1 = channel, b4-b3 = SM);
    channels 4-19 the further form ``01xx xxxx`` (b4-b1 = channel - 4, b6 = SM header not processed).

    Raises:
        ApduError: the channel is out of range, or the SM indication has no further-form equivalent.
    """
    if not 0 <= channel <= MAX_CHANNEL:
        raise ApduError(f"logical channel {channel} is outside 0..{MAX_CHANNEL}")
    if cla == 0xFF:
        raise ApduError("CLA FF is invalid (ISO 7816-4 §5.4.1)")
    high = cla & 0x80
    chaining = cla & CLA_CHAINING
    if cla & 0x40:  # further form: b6 = SM
        sm = 0b10 if cla & 0x20 else 0b00
    else:
        sm = (cla >> 2) & 0b11
    if channel <= 3:
        return high | chaining | (sm << 2) | channel
    if sm not in (0b00, 0b10):
        raise ApduError(f"CLA {cla:02X}: this secure-messaging indication cannot travel on channel {channel}")
    return high | 0x40 | (0x20 if sm else 0) | chaining | (channel - 4)


def _context(cmd: CommandAPDU) -> str:
    return INS_NAMES.get(cmd.ins, f"INS {cmd.ins:02X}")


class CardChannel:
    """A logical channel to the card over a :class:`~cardkit.readers.base.Connection`.

    Args:
        connection: the open connection.
        channel: logical channel number 0-19 encoded into every CLA.
        trace: tracer(s) attached to the connection; they see every exchange on the wire
            (including GET RESPONSE and chained parts), redacted.
        extended_length: whether the card accepts extended Lc/Le. When ``False`` (or under T=0,
            which cannot carry extended APDUs) data longer than 255 bytes is sent with command
            chaining and Le is capped at 256.
        secure_messaging: an optional wrapper applied to every command sent through :meth:`transmit`.
    """

    def __init__(
        self,
        connection: Connection,
        *,
        channel: int = 0,
        trace: Tracer | Iterable[Tracer] | None = None,
        extended_length: bool = True,
        secure_messaging: SecureMessaging | None = None,
    ) -> None:
        encode_cla(0x00, channel)  # validates the number
        self.connection = connection
        self.channel = channel
        self.extended_length = extended_length
        self.secure_messaging = secure_messaging
        if trace is not None:
            for t in [trace] if isinstance(trace, Tracer) else trace:
                connection.add_tracer(t)

    # ------------------------------------------------------------------------------- sending
    def transmit(self, command: CommandAPDU, *, sensitive: bool = False, chain: bool = False) -> ResponseAPDU:
        """Send a command and return the complete response, whatever the transport did to it.

        Args:
            command: the command, CLA without a channel number (this channel's is put in).
            sensitive: mask command and response data in traces.
            chain: force command chaining (CLA b5) of data into 255-byte parts.

        Returns:
            The response with every 61xx part fetched and 6Cxx resolved; SM unwrapped.

        Raises:
            TransportError: the reader or card failed, or the card kept asking for more rounds.
            ApduError: the command cannot be encoded on this channel.
        """
        if self.secure_messaging is not None:
            command = self.secure_messaging.wrap(command)
        command = replace(command, cla=encode_cla(command.cla, self.channel))
        no_extended = not self.extended_length or self.connection.protocol == "T0"
        if chain or (no_extended and len(command.data) > 255):
            response = self._chained(command, sensitive)
        else:
            if no_extended and command.le is not None and command.le > 256:
                command = replace(command, le=256, extended=False)
            response = self._exchange(command, sensitive)
        if self.secure_messaging is not None:
            response = self.secure_messaging.unwrap(response)
        return response

    def send(self, cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None, *,
             sensitive: bool = False) -> ResponseAPDU:
        """Build and :meth:`transmit` a command from its fields."""
        return self.transmit(CommandAPDU(cla, ins, p1, p2, data, le), sensitive=sensitive)

    def transmit_ok(self, command: CommandAPDU, *accept: int, context: str | None = None,
                    sensitive: bool = False) -> ResponseAPDU:
        """:meth:`transmit` then :meth:`check`: the response, or ``CardError`` for any other SW.

        Args:
            accept: status words that count as success (default 9000).
            context: what the error message names (default: the command's name).
        """
        response = self.transmit(command, sensitive=sensitive)
        return self.check(response, *accept, context=context or _context(command))

    @staticmethod
    def check(response: ResponseAPDU, *accept: int, context: str = "") -> ResponseAPDU:
        """Return ``response`` if its SW is in ``accept`` (default 9000); raise ``CardError`` otherwise."""
        if response.sw not in (accept or (SW.OK,)):
            raise CardError(response.sw, context)
        return response

    # ----------------------------------------------------------------------- logical channels
    def open_channel(self) -> CardChannel:
        """MANAGE CHANNEL open (ISO 7816-4 §11.1.2): the card assigns a number; returns its channel.

        Raises:
            CardError: the card refused (e.g. 6881 no logical channels, 6A81 none free).
        """
        cmd = CommandAPDU(0x00, INS_MANAGE_CHANNEL, 0x00, 0x00, le=1)
        resp = self.transmit_ok(cmd, context="MANAGE CHANNEL open")
        if len(resp.data) != 1:
            raise TransportError(f"MANAGE CHANNEL open returned {len(resp.data)} bytes instead of a channel number")
        return CardChannel(self.connection, channel=resp.data[0], extended_length=self.extended_length)

    def close(self) -> None:
        """MANAGE CHANNEL close for this channel; the basic channel 0 cannot be closed (no-op)."""
        if self.channel == 0:
            return
        cmd = CommandAPDU(0x00, INS_MANAGE_CHANNEL, 0x80, self.channel)
        self.transmit_ok(cmd, context=f"MANAGE CHANNEL close {self.channel}")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------ internals
    def _chained(self, command: CommandAPDU, sensitive: bool) -> ResponseAPDU:
        """ISO 7816-4 §5.3.3: every part but the last has CLA b5 set; each must answer 9000."""
        data = command.data
        parts = [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]
        for part in parts[:-1]:
            head = CommandAPDU(command.cla | CLA_CHAINING, command.ins, command.p1, command.p2, part)
            resp = self._exchange(head, sensitive)
            if resp.sw != SW.OK:
                return resp
        le = None if command.le is None else min(command.le, 256)
        return self._exchange(CommandAPDU(command.cla, command.ins, command.p1, command.p2, parts[-1], le), sensitive)

    def _exchange(self, command: CommandAPDU, sensitive: bool) -> ResponseAPDU:
        """One command, then 6Cxx resends and 61xx GET RESPONSE rounds until a final status word."""
        raw = self.connection.transmit(command.to_bytes(), sensitive=sensitive)
        collected = bytearray()
        for _ in range(_MAX_ROUNDS):
            data, sw = raw[:-2], int.from_bytes(raw[-2:], "big")
            le = correct_le(sw)
            if le is not None:  # wrong Le: send the same command again with the exact length
                command = replace(command, le=le, extended=False)
                raw = self.connection.transmit(command.to_bytes(), sensitive=sensitive)
                continue
            collected += data
            available = bytes_available(sw)
            if available is None:
                return ResponseAPDU(bytes(collected), sw)
            command = CommandAPDU(encode_cla(0x00, self.channel), INS_GET_RESPONSE, 0x00, 0x00, le=available)
            raw = self.connection.transmit(command.to_bytes(), sensitive=sensitive)
        raise TransportError(f"the card asked for more than {_MAX_ROUNDS} GET RESPONSE/6Cxx rounds")

