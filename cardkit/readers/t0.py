"""A card that answers the way a T=0 card does through a T=0 reader (ISO/IEC 7816-3 §12.2).

Under T=0 a case-4 command cannot return data with its status: the card answers ``61xx`` and the
terminal fetches the data with GET RESPONSE; a case-2 command with the wrong Le gets ``6Cxx``.
pcscd's vpcd driver passes APDUs through unchanged and an in-process card sees whole APDUs, so
:class:`T0Card` puts that transport behaviour in front of any card. It is a card-side component —
the same thing a real T=0 card's transport layer does — and lets ``CardChannel``'s GET RESPONSE and
6Cxx handling run against the real protocol without a hardware reader.
"""

from __future__ import annotations

import logging

from cardkit.apdu import CommandAPDU
from cardkit.errors import ApduError
from cardkit.readers.base import CardLike

__all__ = ["T0Card", "t0_only_atr"]

log = logging.getLogger(__name__)

_GET_RESPONSE = 0xC0


def _historical_bytes(atr: bytes) -> bytes:
    """The historical bytes of an ATR (ISO 7816-3 §8.2): walk TA/TB/TC/TD, take K bytes after."""
    if len(atr) < 2:
        return b""
    k, y, pos = atr[1] & 0x0F, atr[1] >> 4, 2
    while True:
        pos += (y & 0x7).bit_count()
        if not y & 0x8 or pos >= len(atr):
            break
        y = atr[pos] >> 4
        pos += 1
    return atr[pos : pos + k]


def t0_only_atr(atr: bytes) -> bytes:
    """An ATR with the same historical bytes that offers only T=0 (no TD1, no TCK): ``3B 0K ...``."""
    hist = _historical_bytes(atr)[:15]
    return bytes((0x3B, len(hist))) + hist


class T0Card:
    """Wrap a card so it behaves like a T=0 card: 61xx + GET RESPONSE, 6Cxx on a wrong Le.

    Args:
        card: any :class:`~cardkit.readers.base.CardLike`.
        t0_only: advertise a T=0-only ATR, so PC/SC negotiates T=0 whatever the client asks
            (``False`` keeps the card's own ATR; then only clients asking for T=0 see T=0).
    """

    def __init__(self, card: CardLike, *, t0_only: bool = True) -> None:
        self.card = card
        self._t0_only = t0_only
        self._pending = b""
        self._pending_sw = b"\x90\x00"

    def __getattr__(self, name: str) -> object:  # store, contactless, ... of the wrapped card
        return getattr(self.card, name)

    @property
    def atr(self) -> bytes:
        return t0_only_atr(self.card.atr) if self._t0_only else self.card.atr

    def power_on(self) -> bytes:
        self._pending = b""
        self.card.power_on()
        return self.atr

    def reset(self) -> bytes:
        self._pending = b""
        self.card.reset()
        return self.atr

    def power_off(self) -> None:
        self._pending = b""
        self.card.power_off()

    def transmit(self, capdu: bytes) -> bytes:
        try:
            cmd = CommandAPDU.parse(capdu)
        except ApduError:
            return self.card.transmit(capdu)
        if cmd.ins == _GET_RESPONSE and cmd.cla & 0x80 == 0 and cmd.data == b"":
            return self._get_response(cmd)
        self._pending = b""
        rapdu = self.card.transmit(capdu)
        data, sw = rapdu[:-2], rapdu[-2:]
        if not data:
            return rapdu
        if cmd.case == 4 or cmd.case == 3:
            return self._stash(data, sw)
        if cmd.case == 2 and cmd.le is not None and cmd.le != len(data) and len(data) <= 256:
            if cmd.le > len(data):  # P3 too large: the card says how many it has
                return bytes((0x6C, len(data) & 0xFF))
            return self._stash(data, sw)  # P3 too small: hand out the rest by GET RESPONSE
        return rapdu

    def _stash(self, data: bytes, sw: bytes) -> bytes:
        self._pending, self._pending_sw = data, sw
        return bytes((0x61, min(len(data), 256) & 0xFF))

    def _get_response(self, cmd: CommandAPDU) -> bytes:
        if not self._pending:  # nothing of ours: the card's own GET RESPONSE (it chains 61xx itself)
            return self.card.transmit(cmd.to_bytes())
        le = cmd.le or 256
        available = min(len(self._pending), 256)
        if le > available:
            return bytes((0x6C, available & 0xFF))
        out, self._pending = self._pending[:le], self._pending[le:]
        if self._pending:
            return out + bytes((0x61, min(len(self._pending), 256) & 0xFF))
        return out + self._pending_sw
