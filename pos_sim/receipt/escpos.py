"""ESC/POS bytes for a thermal receipt printer, with Chinese text in GB18030.

Our own encoder of the handful of commands a receipt needs (Epson ESC/POS, as the Chinese
printers from Xprinter, Gprinter, Sunmi and others implement it):

=================  ==================  ============================================================
command            bytes               what it does here
=================  ==================  ============================================================
ESC @              ``1B 40``           initialise: clear the buffer, default modes
FS &               ``1C 26``           Chinese character mode: bytes >= 0x80 are GB18030 characters
ESC a n            ``1B 61 n``         justification: ``00`` left, ``01`` centre
ESC E n            ``1B 45 n``         emphasised (bold): ``01`` on, ``00`` off
GS ! n             ``1D 21 n``         character size (ASCII): ``01`` double height, ``00`` normal
FS ! n             ``1C 21 n``         Chinese character mode: ``08`` double height, ``00`` normal
LF                 ``0A``              print the line and feed one line
ESC d n            ``1B 64 n``         print and feed ``n`` lines (to bring the text past the cutter)
GS V m             ``1D 56 01``        partial cut (``m`` = 1)
=================  ==================  ============================================================

Modes are sent only when they change, and reset before the cut, so the next job starts clean.
Centred lines go out with ``ESC a 1`` and without padding: the printer centres them.
"""

from __future__ import annotations

from pos_sim.receipt.layout import Align, layout
from pos_sim.receipt.model import Receipt

__all__ = ["CUT", "INIT", "render_escpos"]

ESC, FS, GS, LF = b"\x1b", b"\x1c", b"\x1d", b"\n"
INIT = ESC + b"@"
CHINESE_MODE = FS + b"&"
CUT = GS + b"V\x01"
FEED_BEFORE_CUT = 4


def _align(centre: bool) -> bytes:
    return ESC + b"a" + bytes((1 if centre else 0,))


def _bold(on: bool) -> bytes:
    return ESC + b"E" + bytes((1 if on else 0,))


def _tall(on: bool) -> bytes:
    return GS + b"!" + bytes((0x01 if on else 0,)) + FS + b"!" + bytes((0x08 if on else 0,))


def render_escpos(receipt: Receipt, width: int = 32) -> bytes:
    """The receipt as one print job: initialise, the lines of :func:`render_text`, feed and cut."""
    out = bytearray(INIT + CHINESE_MODE)
    centre = bold = tall = False
    for line in layout(receipt, width):
        if (line.align is Align.CENTRE) != centre:
            centre = not centre
            out += _align(centre)
        if line.bold != bold:
            bold = line.bold
            out += _bold(bold)
        if line.tall != tall:
            tall = line.tall
            out += _tall(tall)
        out += line.text.encode("gb18030") + LF
    out += _align(False) + _bold(False) + _tall(False)
    out += ESC + b"d" + bytes((FEED_BEFORE_CUT,)) + CUT
    return bytes(out)
