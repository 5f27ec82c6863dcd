"""Initiate application processing and read application data (EMV 4.4 Book 3 §10.1-§10.2).

GET PROCESSING OPTIONS sends the PDOL data in an ``83`` template and gets the AIP and AFL back
(format 1 ``80``, or format 2 ``77`` which a qPBOC card also fills with its cryptogram). READ
RECORD then walks the AFL; the records marked for offline data authentication are kept exactly
as received, because the static data the issuer signed is built from those bytes (§10.3).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from cardkit import tlv
from cardkit.apdu import CommandAPDU
from cardkit.emv.outcome import CardDataError
from cardkit.errors import TlvError
from cardkit.readers.channel import CardChannel

__all__ = [
    "AflEntry",
    "GpoResponse",
    "RecordData",
    "gpo_command",
    "parse_afl",
    "parse_gpo_response",
    "read_application_data",
]

log = logging.getLogger(__name__)

#: Card data that must be present after the records are read (Book 3 §7.2).
MANDATORY_CONTACT = (b"\x5f\x24", b"\x5a", b"\x8c", b"\x8d")


@dataclass(frozen=True, slots=True)
class GpoResponse:
    """AIP, AFL and, for format 2, every other data object the card returned (qPBOC)."""

    aip: bytes
    afl: bytes
    data: dict[bytes, bytes]
    format: int


@dataclass(frozen=True, slots=True)
class AflEntry:
    """One 4-byte AFL entry: SFI, first and last record, how many from the first go into ODA."""

    sfi: int
    first: int
    last: int
    oda_count: int


@dataclass(frozen=True, slots=True)
class RecordData:
    """What READ RECORD gave: every primitive by tag, the ODA records as received, and every
    record as ``(sfi, number, bytes)`` in AFL order (for a reader that shows them)."""

    data: dict[bytes, bytes]
    oda_records: list[tuple[int, bytes]]
    records: list[tuple[int, int, bytes]] = field(default_factory=list)


def gpo_command(pdol_data: bytes) -> CommandAPDU:
    """GET PROCESSING OPTIONS (Book 3 §6.5.8): ``80 A8 00 00 Lc 83 L data 00``."""
    return CommandAPDU(0x80, 0xA8, 0x00, 0x00, tlv.build(0x83, pdol_data), le=256)


def parse_gpo_response(raw: bytes) -> GpoResponse:
    """Decode a GPO response in format 1 (``80`` AIP ‖ AFL) or format 2 (``77`` with 82 and 94).

    Raises:
        CardDataError: not a valid format 1/2 response.
    """
    try:
        objs = tlv.decode(raw)
    except TlvError as exc:
        raise CardDataError(f"GET PROCESSING OPTIONS response is not BER-TLV ({exc})") from None
    if len(objs) != 1:
        raise CardDataError("GET PROCESSING OPTIONS response is not one template")
    top = objs[0]
    if top.tag == b"\x80":
        if len(top.value) < 2 or (len(top.value) - 2) % 4:
            raise CardDataError(f"GPO format 1 response of {len(top.value)} bytes")
        return GpoResponse(top.value[:2], top.value[2:], {}, 1)
    if top.tag == b"\x77":
        data = tlv.flatten(top.children)
        aip = data.get(b"\x82")
        if aip is None or len(aip) != 2:
            raise CardDataError("GPO format 2 response has no AIP (82)")
        afl = data.get(b"\x94", b"")
        if len(afl) % 4:
            raise CardDataError("GPO format 2 response has a malformed AFL (94)")
        return GpoResponse(aip, afl, data, 2)
    raise CardDataError(f"GPO response template {top.tag.hex().upper()} is neither 80 nor 77")


def parse_afl(afl: bytes) -> list[AflEntry]:
    """Split the AFL (94) into entries (Book 3 §10.2).

    Raises:
        CardDataError: an entry with SFI 0 or 31, record 0, last < first, or more ODA records than
            the range holds (Book 3 says: terminate the transaction).
    """
    if len(afl) % 4:
        raise CardDataError("AFL length is not a multiple of 4")
    out: list[AflEntry] = []
    for i in range(0, len(afl), 4):
        sfi, first, last, count = afl[i] >> 3, afl[i + 1], afl[i + 2], afl[i + 3]
        if not 1 <= sfi <= 30 or first == 0 or last < first or count > last - first + 1:
            raise CardDataError(f"bad AFL entry {afl[i:i + 4].hex().upper()}")
        out.append(AflEntry(sfi, first, last, count))
    return out


def read_application_data(channel: CardChannel, afl: bytes, *, already: Mapping[bytes, bytes] = {}) -> RecordData:
    """READ RECORD every record the AFL names (Book 3 §10.2).

    Args:
        already: data from the GPO response; a record repeating one of these is not an error
            (qPBOC cards send 57/5F34 in both), but two records carrying the same tag are.

    Raises:
        CardError: a READ RECORD not answered 9000.
        CardDataError: an SFI 1-10 record that is not one ``70``
            template, or a primitive data object in two records (Book 3 §10.2: terminate).
    """
    data: dict[bytes, bytes] = {}
    oda: list[tuple[int, bytes]] = []
    every: list[tuple[int, int, bytes]] = []
    for entry in parse_afl(afl):
        for number in range(entry.first, entry.last + 1):
            cmd = CommandAPDU(0x00, 0xB2, number, (entry.sfi << 3) | 4, le=256)
            resp = channel.transmit_ok(cmd, context=f"READ RECORD SFI {entry.sfi} record {number}")
            every.append((entry.sfi, number, resp.data))
            if number < entry.first + entry.oda_count:
                oda.append((entry.sfi, resp.data))
            if entry.sfi > 10:  # proprietary format: not parsed into the data store
                continue
            try:
                objs = tlv.decode(resp.data)
            except TlvError as exc:
                raise CardDataError(f"SFI {entry.sfi} record {number} is not BER-TLV ({exc})") from None
            if len(objs) != 1 or objs[0].tag != b"\x70":
                raise CardDataError(f"SFI {entry.sfi} record {number} is not a '70' template")
            for tag, value in tlv.flatten(objs).items():
                if tag in data:
                    raise CardDataError(f"tag {tag.hex().upper()} appears in two records")
                data[tag] = value
    log.debug("read %d data objects from the records", len(data))
    return RecordData({**already, **data}, oda, every)
