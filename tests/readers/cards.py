"""Cards for the reader tests: a blank citizen card with a writable EF, plus an echo applet.

EF 0101 (SFI 1) is transparent, 768 bytes of ``00 01 .. FF`` x3, readable and writable by anyone:
enough for 256-byte reads, end-of-file 6Cxx cases and state that must persist to the image.
"""

from __future__ import annotations

from typing import Any

from applets.runtime import (
    ALWAYS,
    Applet,
    CommandContext,
    SimulatedCard,
    Structure,
    new_blank_card,
    status,
)
from applets.runtime.applet import register_applet
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU

EF_DATA = 0x0101
EF_CONTENT = bytes(range(256)) * 3
ECHO_AID = bytes.fromhex("F0636172646B6974EC")
SELECT_MF = CommandAPDU(0x00, 0xA4, 0x00, 0x00, bytes.fromhex("3F00"), le=256)
SELECT_EF = CommandAPDU(0x00, 0xA4, 0x02, 0x0C, EF_DATA.to_bytes(2, "big"))
SELECT_ECHO = CommandAPDU(0x00, 0xA4, 0x04, 0x00, ECHO_AID, le=256)


def read_binary(offset: int, le: int = 256) -> CommandAPDU:
    return CommandAPDU(0x00, 0xB0, offset >> 8, offset & 0xFF, le=le)


def update_binary(offset: int, data: bytes) -> CommandAPDU:
    return CommandAPDU(0x00, 0xD6, offset >> 8, offset & 0xFF, data)


@register_applet("test-readers-echo")
class EchoApplet(Applet):
    """INS 10 echoes the (chained) command data; INS 12 returns P1*256+P2 bytes; chaining supported."""

    supports_chaining = True

    def new_session(self) -> dict[str, Any]:
        return {"buf": b"", "parts": 0}

    def process(self, cmd: CommandAPDU, ctx: CommandContext) -> ResponseAPDU:
        if cmd.ins == 0x10:
            ctx.session["buf"] += cmd.data
            ctx.session["parts"] += 1
            if ctx.chained:
                return status(SW.OK)
            out, ctx.session["buf"] = ctx.session["buf"], b""
            return status(SW.OK, out)
        if cmd.ins == 0x12:
            return status(SW.OK, bytes(i & 0xFF for i in range(cmd.p1 * 256 + cmd.p2)))
        return status(SW.INS_NOT_SUPPORTED)


def make_card(*, echo: bool = False) -> SimulatedCard:
    """A blank card with the writable EF 0101 (and the echo applet, in-process only)."""
    card = new_blank_card(serial="8986001234567890", applets=[EchoApplet(ECHO_AID, label="echo")] if echo else ())
    mf = card.applets[0]
    with card.store.transaction():
        mf.fs.create_ef(mf.fs.root, EF_DATA, Structure.TRANSPARENT, data=EF_CONTENT, sfi=1, read=ALWAYS,
                        update=ALWAYS)
    return card
