"""Command dispatch: CLA decoding, logical channels, SELECT by DF name, GET RESPONSE.

What the card OS does before an applet sees a command (ISO/IEC 7816-4 §5.4.1 CLA, §11.1.2 MANAGE
CHANNEL, §11.2.2 SELECT; Java Card 3.1 RE spec chapter 4 for the choices ISO leaves open):

* CLA 00-1F (first interindustry) and 80-8F (EMV / GlobalPlatform proprietary, same bit layout):
  b2-b1 channel 0-3, b4-b3 secure messaging, b5 chaining. CLA 40-7F and C0-FE address channels
  4-19, which this card does not have (6881). Anything else: 6E00.
* INS 6X and 9X are invalid (ISO 7816-3 §10.3.2: they would be procedure bytes under T=0): 6D00.
* MANAGE CHANNEL and SELECT by DF name are handled here; every other command goes to the applet
  selected on the command's channel, with its per-channel session.
* A card gate (:class:`~applets.runtime.gate.CardGate`, the card manager's life-cycle rules) is asked
  before any command is handled and before any applet is offered a selection; its refusal is the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from applets.runtime.applet import Applet, CommandContext, status
from applets.runtime.gate import CardGate
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.errors import ApduError

__all__ = ["CHANNELS", "ClassByte", "Dispatcher", "decode_cla"]

log = logging.getLogger(__name__)

CHANNELS = 4  # basic channel 0 and logical channels 1..3
INS_MANAGE_CHANNEL = 0x70
INS_SELECT = 0xA4
INS_GET_RESPONSE = 0xC0


@dataclass(frozen=True, slots=True)
class ClassByte:
    """A decoded CLA byte (ISO 7816-4 §5.4.1, tables 2 and 3)."""

    channel: int
    secure_messaging: int
    chained: bool
    proprietary: bool


def decode_cla(cla: int) -> ClassByte | None:
    """Decode CLA; ``None`` for classes this card does not know (answer 6E00)."""
    if cla <= 0x1F or 0x80 <= cla <= 0x8F:
        return ClassByte(cla & 0x03, (cla >> 2) & 0x03, bool(cla & 0x10), bool(cla & 0x80))
    if 0x40 <= cla <= 0x7F or 0xC0 <= cla <= 0xFE:
        # further interindustry: b4-b1 = channel - 4, b6 = SM (ISO §5.4.1 table 3); GP mirrors it at Cx/Ex
        return ClassByte(4 + (cla & 0x0F), 2 if cla & 0x20 else 0, bool(cla & 0x10), bool(cla & 0x80))
    return None  # 20-3F RFU, 90-BF proprietary unknown here, FF reserved for PPS


def _accepted(resp: ResponseAPDU) -> bool:
    """Selection accepted: 9000 or a warning (62xx / 63xx)."""
    return resp.sw == SW.OK or resp.sw1 in (0x62, 0x63)


@dataclass(slots=True)
class _Channel:
    applet: Applet | None = None
    session: Any = None
    pending: bytes = b""  # the rest of a response longer than Ne, for GET RESPONSE


class Dispatcher:
    """Channel table and routing; owned by :class:`~applets.runtime.card.SimulatedCard`."""

    def __init__(self, applets: Callable[[], Sequence[Applet]], default: Callable[[], Applet | None],
                 gate: Callable[[], CardGate | None] = lambda: None) -> None:
        self._applets = applets
        self._default = default
        self._gate = gate
        self.channels: dict[int, _Channel] = {}
        self.interface = "contact"

    # -- power ------------------------------------------------------------------------------------
    def clear(self) -> None:
        """Power loss: every channel and session disappears, nobody is told (no deselect)."""
        self.channels = {}

    def start(self, interface: str) -> None:
        """After reset: channel 0 open with the default applet selected (JC 3.1 RE §4.1)."""
        self.interface = interface
        self.channels = {0: _Channel()}
        default = self._default()
        if default is not None:
            self._select_into(0, default, CommandContext(0, interface=interface))

    def selected(self, channel: int = 0) -> Applet | None:
        ch = self.channels.get(channel)
        return ch.applet if ch else None

    def forget(self, applet: Applet) -> None:
        """``applet`` leaves the card: deselect it on every channel where it is selected."""
        for ch in self.channels.values():
            if ch.applet is applet:
                applet.deselect()
                ch.applet, ch.session, ch.pending = None, None, b""

    # -- the one entry point ----------------------------------------------------------------------
    def dispatch(self, raw: bytes) -> ResponseAPDU:
        try:
            cmd = CommandAPDU.parse(raw)
        except ApduError:
            return status(SW.WRONG_LENGTH)
        cla = decode_cla(cmd.cla)
        if cla is None:
            return status(SW.CLA_NOT_SUPPORTED)
        ch = self.channels.get(cla.channel)
        if ch is None:
            return status(SW.LOGICAL_CHANNEL_NOT_SUPPORTED)
        if cmd.ins & 0xF0 in (0x60, 0x90):
            return status(SW.INS_NOT_SUPPORTED)
        gate = self._gate()
        if gate is not None:
            refused = gate.admit_command(ch.applet, cmd)
            if refused is not None:
                ch.pending = b""
                return status(refused)
        interindustry = not cla.proprietary
        if interindustry and cmd.ins == INS_GET_RESPONSE and ch.pending:
            return self._get_response(ch, cmd)
        ch.pending = b""
        ctx = CommandContext(cla.channel, cla.secure_messaging, cla.chained, cla.proprietary,
                             ch.session, self.interface)
        if interindustry and cmd.ins == INS_MANAGE_CHANNEL:
            return self._manage_channel(cmd, cla)
        if interindustry and cmd.ins == INS_SELECT:
            if cla.chained:
                return status(SW.CHAINING_NOT_SUPPORTED)
            if cmd.p1 == 0x04:
                return self._select_by_name(cla.channel, cmd)
            mf = self._mf_for(ch.applet, cmd)
            if mf is not None:
                return self._select_in_mf(cla.channel, mf, cmd, ctx)
        applet = ch.applet
        if applet is None:
            return status(SW.CONDITIONS_NOT_SATISFIED)
        if cla.chained and not applet.supports_chaining:
            return status(SW.CHAINING_NOT_SUPPORTED)
        resp = applet.process(cmd, ctx)
        if not isinstance(resp, ResponseAPDU):
            raise TypeError(f"{type(applet).__name__}.process returned {type(resp).__name__}, not ResponseAPDU")
        return self._fit(ch, cmd, resp)

    # -- response length ---------------------------------------------------------------------------
    def _fit(self, ch: _Channel, cmd: CommandAPDU, resp: ResponseAPDU) -> ResponseAPDU:
        """Data longer than Ne: send Ne bytes and 61xx, keep the rest for GET RESPONSE (§5.3.4)."""
        if cmd.le is None or len(resp.data) <= cmd.le or resp.sw != SW.OK:
            return resp
        ch.pending = resp.data[cmd.le:]
        return status(0x6100 | min(len(ch.pending), 256) & 0xFF, resp.data[: cmd.le])

    def _get_response(self, ch: _Channel, cmd: CommandAPDU) -> ResponseAPDU:
        if cmd.p1 or cmd.p2:
            return status(SW.INCORRECT_P1P2)
        n = cmd.le or 256
        chunk, ch.pending = ch.pending[:n], ch.pending[n:]
        if ch.pending:
            return status(0x6100 | min(len(ch.pending), 256) & 0xFF, chunk)
        return status(SW.OK, chunk)

    # -- SELECT --------------------------------------------------------------------------------------
    def _select_by_name(self, channel: int, cmd: CommandAPDU) -> ResponseAPDU:
        """SELECT by DF name (§11.2.2): right-truncated names match, P2 b2-b1 picks the occurrence."""
        if cmd.p2 & 0xF0:
            return status(SW.INCORRECT_P1P2)
        occurrence, form = cmd.p2 & 0x03, cmd.p2 & 0x0C
        ch = self.channels[channel]
        if not cmd.data:
            target = self._default()  # no name: the default application (as GlobalPlatform does)
        else:
            matches = [a for a in self._applets() if a.aid.startswith(cmd.data)]
            target = _pick(matches, ch.applet, occurrence)
        if target is None:
            return status(SW.FILE_NOT_FOUND)  # the current selection stays (JC 3.1 RE §4.5.2)
        resp = self._select_into(channel, target, CommandContext(channel, interface=self.interface))
        if form == 0x0C and _accepted(resp):
            return status(resp.sw)
        return self._fit(ch, cmd, resp)

    def _select_into(self, channel: int, target: Applet, ctx: CommandContext) -> ResponseAPDU:
        """Offer ``target`` a fresh session; on acceptance it replaces the channel's applet."""
        refused = self._refused(target)
        if refused is not None:
            return refused
        if not target.multiselectable and any(
            c.applet is target for n, c in self.channels.items() if n != channel
        ):
            return status(SW.CONDITIONS_NOT_SATISFIED)
        ctx.session = target.new_session()
        resp = target.select(ctx)
        if not isinstance(resp, ResponseAPDU):
            raise TypeError(f"{type(target).__name__}.select returned {type(resp).__name__}, not ResponseAPDU")
        if _accepted(resp):
            self._install(channel, target, ctx.session)
        return resp

    def _install(self, channel: int, applet: Applet, session: Any) -> None:
        ch = self.channels[channel]
        if ch.applet is not None:
            ch.applet.deselect()
        ch.applet, ch.session = applet, session

    def _mf_for(self, current: Applet | None, cmd: CommandAPDU) -> Applet | None:
        """The MF applet, when a SELECT by FID/path must leave the current application for the MF."""
        if current is not None and getattr(current, "is_master_file", False):
            return None
        to_mf = cmd.p1 == 0x08 or (cmd.p1 == 0x00 and cmd.data in (b"", b"\x3f\x00"))
        if current is not None and current.handles_file_select and not to_mf:
            return None
        return next((a for a in self._applets() if getattr(a, "is_master_file", False)), None)

    def _refused(self, target: Applet) -> ResponseAPDU | None:
        gate = self._gate()
        sw = gate.admit_select(target) if gate is not None else None
        return None if sw is None else status(sw)

    def _select_in_mf(self, channel: int, mf: Applet, cmd: CommandAPDU, ctx: CommandContext) -> ResponseAPDU:
        refused = self._refused(mf)
        if refused is not None:
            return refused
        ctx.session = mf.new_session()
        opened = mf.select(ctx)
        if not _accepted(opened):
            return opened
        resp = mf.process(cmd, ctx)
        if _accepted(resp):
            self._install(channel, mf, ctx.session)
        return self._fit(self.channels[channel], cmd, resp)

    # -- MANAGE CHANNEL --------------------------------------------------------------------------------
    def _manage_channel(self, cmd: CommandAPDU, cla: ClassByte) -> ResponseAPDU:
        """MANAGE CHANNEL (ISO 7816-4 §11.1.2), status words as the Java Card RE (3.1 §4.5.1, §4.6.1)."""
        if cla.secure_messaging:
            return status(SW.SECURE_MESSAGING_NOT_SUPPORTED)
        if cla.chained:
            return status(SW.CHAINING_NOT_SUPPORTED)
        if cmd.p1 not in (0x00, 0x80) or cmd.p2 > 19:
            return status(SW.FUNCTION_NOT_SUPPORTED)
        if cmd.data:
            return status(SW.WRONG_LENGTH)
        if cmd.p1 == 0x80:
            return self._close(cmd.p2)
        if cmd.p2 == 0:
            if cmd.le not in (1, 256):
                return status(0x6C01)
            free = next((n for n in range(1, CHANNELS) if n not in self.channels), None)
            if free is None:
                return status(SW.FUNCTION_NOT_SUPPORTED)
            number = free
        else:
            if cmd.p2 >= CHANNELS or cmd.p2 in self.channels:
                return status(SW.INCORRECT_P1P2)
            number = cmd.p2
        # Opened from channel 0: the default applet; from channel k: channel k's applet (JC 3.1 §4.5.1).
        origin = self.channels[cla.channel]
        candidate = self._default() if cla.channel == 0 else origin.applet
        self.channels[number] = _Channel()
        if candidate is not None:
            resp = self._select_into(number, candidate, CommandContext(number, interface=self.interface))
            if not _accepted(resp):
                del self.channels[number]
                return status(resp.sw)
        return status(SW.OK, bytes((number,)) if cmd.p2 == 0 else b"")

    def _close(self, number: int) -> ResponseAPDU:
        if number == 0:
            return status(SW.FUNCTION_NOT_SUPPORTED)  # the basic channel is never closed
        ch = self.channels.pop(number, None)
        if ch is None:
            return status(SW.WARNING_NO_INFO)  # JC 3.1 RE §4.6.1: closing a closed channel is a warning
        if ch.applet is not None:
            ch.applet.deselect()
        return status(SW.OK)


def _pick(matches: list[Applet], current: Applet | None, occurrence: int) -> Applet | None:
    """First (00), last (01), next (02) or previous (03) occurrence, walking registration order."""
    if not matches:
        return None
    if occurrence in (0x02, 0x03) and current in matches:
        i = matches.index(current) + (1 if occurrence == 0x02 else -1)
        return matches[i] if 0 <= i < len(matches) else None
    return matches[-1] if occurrence in (0x01, 0x03) else matches[0]
