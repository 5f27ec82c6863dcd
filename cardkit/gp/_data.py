"""GET DATA objects of a security domain: CPLC, card data, key information, IIN/CIN (GP 2.3 §11.3, Annex H).

None of these needs a secure channel on most cards; each function takes a plain
:class:`~cardkit.readers.channel.CardChannel` (after SELECT of the ISD) or an open
:class:`~cardkit.gp.GpSession`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cardkit import tlv
from cardkit.apdu import SW, CommandAPDU
from cardkit.errors import CardError, TlvError
from cardkit.gp._errors import GpError
from cardkit.gp._session import GpSession
from cardkit.readers.channel import CardChannel

__all__ = [
    "KEY_TYPES",
    "TAG_CARD_DATA",
    "TAG_CIN",
    "TAG_CPLC",
    "TAG_IIN",
    "TAG_KEY_DIVERSIFICATION",
    "TAG_KEY_INFORMATION",
    "CardData",
    "Cplc",
    "CplcDate",
    "KeyInfo",
    "get_card_data",
    "get_cplc",
    "get_data",
    "get_key_information",
    "parse_card_data",
    "parse_cplc",
    "parse_key_information",
]

INS_GET_DATA = 0xCA
TAG_CPLC = 0x9F7F
TAG_CARD_DATA = 0x0066
TAG_KEY_INFORMATION = 0x00E0
TAG_IIN = 0x0042
TAG_CIN = 0x0045
TAG_KEY_DIVERSIFICATION = 0x00CF


def get_data(channel: CardChannel | GpSession, tag: int) -> bytes:
    """GET DATA ``80 CA tag`` and return the object's value (its own tag and length stripped).

    A card that answers with the bare value (some do for CPLC) gets it returned as it came.

    Raises:
        CardError: the card does not have the object (6A88) or refused.
    """
    if not 0 <= tag <= 0xFFFF:
        raise GpError(f"GET DATA tag {tag:#x} is not two bytes")
    cmd = CommandAPDU(0x80, INS_GET_DATA, tag >> 8, tag & 0xFF, le=256)
    resp = channel.transmit(cmd)
    if resp.sw != SW.OK:
        raise CardError(resp.sw, f"GET DATA {tag:04X}")
    want = tlv.tag_bytes(tag & 0xFF if tag < 0x100 else tag)
    data = resp.data
    if data.startswith(want):
        try:
            objects = tlv.decode(data)
        except TlvError:
            return data
        if len(objects) == 1 and objects[0].tag == want:
            return objects[0].value
    return data


# ------------------------------------------------------------------------------------------ CPLC
@dataclass(frozen=True, slots=True)
class CplcDate:
    """A CPLC date "YDDD": the last digit of the year and the day of the year, in BCD."""

    raw: bytes
    year_digit: int
    day_of_year: int

    def resolve(self, not_after: dt.date) -> dt.date:
        """The latest real date with this year digit and day that is not after ``not_after``.

        Raises:
            GpError: the day does not exist in any year with that digit near ``not_after``.
        """
        year = not_after.year - (not_after.year - self.year_digit) % 10
        for candidate in (year, year - 10, year - 20):
            try:
                day = dt.date(candidate, 1, 1) + dt.timedelta(days=self.day_of_year - 1)
            except (ValueError, OverflowError):
                continue
            if day.year == candidate and day <= not_after:
                return day
        raise GpError(f"CPLC date {self.raw.hex().upper()} names no day of year")

    def __str__(self) -> str:
        return self.raw.hex().upper()


def _cplc_date(raw: bytes) -> CplcDate | None:
    text = raw.hex()
    if raw in (b"\x00\x00", b"\xff\xff") or not text.isdigit():
        return None
    day = int(text[1:])
    if not 1 <= day <= 366:
        return None
    return CplcDate(raw, int(text[0]), day)


#: (field, length) of the 42-byte CPLC, in order (GP 2.3 Annex H.6, Table H-6).
_CPLC_LAYOUT: tuple[tuple[str, int], ...] = (
    ("ic_fabricator", 2), ("ic_type", 2), ("os_id", 2), ("os_release_date", 2), ("os_release_level", 2),
    ("ic_fabrication_date", 2), ("ic_serial_number", 4), ("ic_batch_identifier", 2),
    ("ic_module_fabricator", 2), ("ic_module_packaging_date", 2), ("icc_manufacturer", 2),
    ("ic_embedding_date", 2), ("ic_pre_personalizer", 2), ("ic_pre_personalization_date", 2),
    ("ic_pre_personalization_equipment_id", 4), ("ic_personalizer", 2), ("ic_personalization_date", 2),
    ("ic_personalization_equipment_id", 4),
)
CPLC_LENGTH = sum(n for _, n in _CPLC_LAYOUT)  # 42


@dataclass(frozen=True, slots=True)
class Cplc:
    """Card Production Life Cycle data (tag 9F7F): who made the chip, the OS and the card, and when.

    Identifier fields are raw bytes; ``*_date`` fields are bytes too, with decoded
    :class:`CplcDate` values in :meth:`dates` (``None`` for 0000/FFFF or non-BCD).
    """

    ic_fabricator: bytes
    ic_type: bytes
    os_id: bytes
    os_release_date: bytes
    os_release_level: bytes
    ic_fabrication_date: bytes
    ic_serial_number: bytes
    ic_batch_identifier: bytes
    ic_module_fabricator: bytes
    ic_module_packaging_date: bytes
    icc_manufacturer: bytes
    ic_embedding_date: bytes
    ic_pre_personalizer: bytes
    ic_pre_personalization_date: bytes
    ic_pre_personalization_equipment_id: bytes
    ic_personalizer: bytes
    ic_personalization_date: bytes
    ic_personalization_equipment_id: bytes

    def fields(self) -> dict[str, bytes]:
        """Every field by name, in CPLC order."""
        return {name: getattr(self, name) for name, _ in _CPLC_LAYOUT}

    def dates(self) -> dict[str, CplcDate | None]:
        """The date fields decoded."""
        return {name: _cplc_date(value) for name, value in self.fields().items() if name.endswith("_date")}


def parse_cplc(data: bytes) -> Cplc:
    """Parse the CPLC value (42 bytes; a leading ``9F7F 2A`` is accepted and stripped).

    Raises:
        GpError: shorter than 42 bytes.
    """
    data = bytes(data)
    if data.startswith(b"\x9f\x7f\x2a"):
        data = data[3:]
    if len(data) < CPLC_LENGTH:
        raise GpError(f"CPLC must be {CPLC_LENGTH} bytes, got {len(data)}")
    values: dict[str, bytes] = {}
    pos = 0
    for name, n in _CPLC_LAYOUT:
        values[name] = data[pos : pos + n]
        pos += n
    return Cplc(**values)


def get_cplc(channel: CardChannel | GpSession) -> Cplc:
    """GET DATA 9F7F, parsed. Raises ``CardError`` when the card has none (6A88)."""
    return parse_cplc(get_data(channel, TAG_CPLC))


# --------------------------------------------------------------------------------- key information
#: Key type codings (GP 2.3 §11.1.8 Table 11-16).
KEY_TYPES: dict[int, str] = {
    0x80: "DES", 0x81: "3DES (reserved)", 0x82: "3DES-CBC", 0x83: "DES-ECB", 0x84: "DES-CBC", 0x85: "TLS PSK",
    0x88: "AES", 0x90: "HMAC-SHA1", 0x91: "HMAC-SHA1-160", 0xA0: "RSA public e", 0xA1: "RSA public N",
    0xA2: "RSA private N", 0xA3: "RSA private d", 0xA4: "RSA CRT P", 0xA5: "RSA CRT Q", 0xA6: "RSA CRT PQ",
    0xA7: "RSA CRT DP1", 0xA8: "RSA CRT DQ1", 0xB0: "ECC public", 0xB1: "ECC private", 0xB2: "ECC P",
    0xB3: "ECC A", 0xB4: "ECC B", 0xB5: "ECC G", 0xB6: "ECC N", 0xB7: "ECC k", 0xF0: "ECC parameters reference",
}


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """One key component of the key information template (E0 / C0, GP 2.3 §11.3.3.1)."""

    key_id: int
    kvn: int
    key_type: int
    length: int

    @property
    def type_name(self) -> str:
        return KEY_TYPES.get(self.key_type, f"type {self.key_type:02X}")

    def __str__(self) -> str:
        return f"KVN {self.kvn:02X} key {self.key_id:02X}: {self.type_name}, {self.length} bytes"


def _key_components(body: bytes) -> list[tuple[int, int]]:
    """(type, length) pairs of one C0 after its key id and KVN (basic format, GP 2.3 Table 11-18)."""
    if len(body) % 2:
        raise GpError("key information is truncated")
    return [(body[i], body[i + 1]) for i in range(0, len(body), 2)]


def parse_key_information(data: bytes) -> list[KeyInfo]:
    """Parse the key information template's contents (C0 objects; an outer E0 is accepted).

    Raises:
        GpError: not BER-TLV or a truncated C0.
    """
    try:
        objects = tlv.decode(data)
        if len(objects) == 1 and objects[0].tag == b"\xe0":
            objects = list(objects[0].children)
    except TlvError as exc:
        raise GpError(f"key information is not BER-TLV: {exc}") from None
    out: list[KeyInfo] = []
    for obj in objects:
        if obj.tag != b"\xc0":
            continue
        if len(obj.value) < 4:
            raise GpError(f"key information entry of {len(obj.value)} bytes is too short")
        key_id, kvn = obj.value[0], obj.value[1]
        out.extend(KeyInfo(key_id, kvn, t, n) for t, n in _key_components(obj.value[2:]))
    return out


def get_key_information(channel: CardChannel | GpSession) -> list[KeyInfo]:
    """GET DATA 00E0: the key sets the security domain holds (ids, versions, types, lengths)."""
    return parse_key_information(get_data(channel, TAG_KEY_INFORMATION))


# ------------------------------------------------------------------------------------- card data
_GP_OID = bytes.fromhex("2A864886FC6B")  # 1.2.840.114283 (GlobalPlatform)


def _oid_text(raw: bytes) -> str:
    arcs: list[int] = []
    value = 0
    for b in raw:
        value = value << 7 | (b & 0x7F)
        if not b & 0x80:
            arcs.append(value)
            value = 0
    if not arcs:
        return ""
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


@dataclass(frozen=True, slots=True)
class CardData:
    """Card recognition data (GET DATA 66 / 73, GP 2.3 Annex H.2): which GP version, which SCP.

    ``gp_version`` is e.g. "2.1.1"; ``scp`` lists (protocol, i) pairs such as (3, 0x70);
    ``oids`` lists (tag as hex, OID in dotted form) in card order.
    """

    gp_version: str | None
    scp: tuple[tuple[int, int], ...]
    oids: tuple[tuple[str, str], ...]


def parse_card_data(data: bytes) -> CardData:
    """Parse card data (the value of 66, or the whole ``66 ..`` object).

    Raises:
        GpError: not BER-TLV, or no card recognition data (73) in it.
    """
    try:
        objects = tlv.decode(data)
        if len(objects) == 1 and objects[0].tag == b"\x66":
            objects = list(objects[0].children)
        recognition = tlv.find(objects, 0x73)
    except TlvError as exc:
        raise GpError(f"card data is not BER-TLV: {exc}") from None
    if recognition is None:
        raise GpError("card data without card recognition data (73)")
    version: str | None = None
    scps: list[tuple[int, int]] = []
    oids: list[tuple[str, str]] = []
    for obj in recognition.children:
        inner = obj if obj.tag == b"\x06" else obj.find(0x06) if obj.constructed else None
        if inner is None or not inner.value:
            continue
        oid = inner.value
        oids.append((obj.tag.hex().upper(), _oid_text(oid)))
        if not oid.startswith(_GP_OID):
            continue
        rest = oid[len(_GP_OID):]
        if obj.tag == b"\x60" and rest[:1] == b"\x02":
            version = ".".join(str(b) for b in rest[1:])
        elif obj.tag == b"\x64" and rest[:1] == b"\x04" and len(rest) >= 3:
            scps.append((rest[1], rest[2]))
    return CardData(version, tuple(scps), tuple(oids))


def get_card_data(channel: CardChannel | GpSession) -> CardData:
    """GET DATA 0066, parsed."""
    return parse_card_data(get_data(channel, TAG_CARD_DATA))
