"""The reader driver layer: name a reader, connect, and talk to the card through a CardChannel.

Readers are named ``scheme:argument`` so the CLI and the library agree:

* ``pcsc:<index or part of the name>`` — a PC/SC reader (real, or pcscd's "Virtual PCD 00 00");
* ``virtual:<card image path>`` — the card image served in-process, saved back after each change;
* ``nfc:usb[:VID:PID]``, ``nfc:tty:PORT[:DRIVER]``, ``nfc:udp:HOST:PORT`` — a contactless reader
  through nfcpy (optional: ``cardkit[nfc]``), see :mod:`cardkit.readers.nfc`.

>>> reader = open_reader("pcsc:Virtual PCD")            # doctest: +SKIP
>>> with reader.connect() as conn:                       # doctest: +SKIP
...     channel = CardChannel(conn, trace=TextTracer(print))
...     channel.transmit_ok(CommandAPDU(0x00, 0xA4, 0x04, 0x00, aid, le=256))
"""

from __future__ import annotations

from pathlib import Path

from cardkit.errors import ReaderNotFoundError
from cardkit.readers.base import CardLike, Connection, Reader, ReaderInfo
from cardkit.readers.channel import CardChannel, SecureMessaging, encode_cla
from cardkit.readers.pcsc import PcscReader, list_pcsc_readers
from cardkit.readers.t0 import T0Card
from cardkit.readers.trace import PcapTracer, TextTracer, Tracer
from cardkit.readers.virtual import VirtualReader

__all__ = [
    "SCHEMES",
    "CardChannel",
    "CardLike",
    "Connection",
    "PcapTracer",
    "PcscReader",
    "Reader",
    "ReaderInfo",
    "SecureMessaging",
    "T0Card",
    "TextTracer",
    "Tracer",
    "VirtualReader",
    "encode_cla",
    "list_readers",
    "open_reader",
]

#: Reader name schemes and what follows the colon.
SCHEMES: dict[str, str] = {
    "pcsc": "pcsc:<index or part of the reader name>",
    "virtual": "virtual:<card image path>",
    "nfc": "nfc:usb[:VID:PID] | nfc:tty:PORT[:DRIVER] | nfc:udp:HOST:PORT",
}


def open_reader(name: str) -> Reader:
    """Open a reader by its ``scheme:argument`` name.

    Raises:
        ReaderNotFoundError: unknown scheme (the message lists the valid ones) or no such reader.
        TransportError: pcscd is not running (``pcsc:``).
        CardImageError: the card image is missing or corrupt (``virtual:``).
        TransportError: nfcpy is not installed (``nfc:``).
    """
    scheme, sep, arg = name.partition(":")
    valid = ", ".join(SCHEMES.values())
    if not sep or scheme not in SCHEMES:
        raise ReaderNotFoundError(f"unknown reader {name!r}: use one of {valid}")
    if not arg:
        raise ReaderNotFoundError(f"reader {name!r} names nothing after the colon: use {SCHEMES[scheme]}")
    if scheme == "pcsc":
        return PcscReader(arg)
    if scheme == "nfc":
        from cardkit.readers.nfc import NfcReader  # nfcpy is optional: imported on use

        return NfcReader(name)
    # The one place cardkit reaches into applets/: a card image is the runtime's file format, and
    # loading it needs the applet classes. Importing here (not at module level) keeps the layering
    # rule — cardkit never depends on applets just by being imported.
    from applets.runtime import load_card

    path = Path(arg)
    return VirtualReader(load_card(path), name=name, image_path=path)


def list_readers() -> list[ReaderInfo]:
    """The PC/SC readers there are, each with whether it holds a card and the card's ATR.

    Raises:
        TransportError: pcscd is not running, or pyscard is missing.
    """
    return list_pcsc_readers()
