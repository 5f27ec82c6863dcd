"""The Logical Data Structure of the ID application: files, data groups and the MRZ (9303-10, 9303-3/5).

Values only: the file identifiers, the tags of each data group, and parsers from the bytes of a
file to :class:`Mrz` / the fields of :class:`Identity`. Nothing here talks to a card.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from datetime import date

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import load_der_public_key

from cardkit import tlv
from cardkit.crypto.icao import check_digit
from cardkit.eid.errors import EidError
from cardkit.errors import CardkitError, TlvError

__all__ = [
    "EID_AID",
    "DataGroup",
    "File",
    "Identity",
    "Mrz",
    "PersonalDetails",
    "jpeg_from_dg2",
    "mask_citizen_id",
    "parse_com",
    "parse_dg1",
    "parse_dg11",
    "parse_dg15",
    "parse_mrz_td1",
]

log = logging.getLogger(__name__)

#: The LDS1 eMRTD application (9303-10 §3.6.2, with the citizen card's own AID per the contract).
EID_AID = bytes.fromhex("A0000002471001")


class File(enum.IntEnum):
    """Elementary files of the application and their FIDs (9303-10 §3.6, Table 39)."""

    COM = 0x011E
    DG1 = 0x0101
    DG2 = 0x0102
    DG11 = 0x010B
    DG15 = 0x010F
    SOD = 0x011D


class DataGroup(enum.IntEnum):
    """Data group number -> the tag of its outer template (9303-10 §4.6.3, Table 34)."""

    DG1 = 0x61
    DG2 = 0x75
    DG11 = 0x6B
    DG15 = 0x6F

    @property
    def number(self) -> int:
        return int(self.name[2:])

    @property
    def fid(self) -> int:
        return int(File[self.name])

    @classmethod
    def of_fid(cls, fid: int) -> DataGroup | None:
        return next((dg for dg in cls if dg.fid == fid), None)


_COM_TAG, _SOD_TAG = 0x60, 0x77


def _outer(data: bytes, tag: int, what: str) -> tlv.Tlv:
    try:
        objs = tlv.decode(data)
    except TlvError as exc:
        raise EidError(f"{what} is not BER-TLV: {exc}") from None
    if not objs or objs[0].tag != tlv.tag_bytes(tag):
        raise EidError(f"{what} does not start with its template {tag:02X}")
    return objs[0]


# ----------------------------------------------------------------------------------------- MRZ
@dataclass(frozen=True, slots=True)
class Mrz:
    """The machine readable zone of a TD1 card (9303-5 §4.2.2): DG1 holds it (9303-10 §4.7.1).

    Names keep their MRZ transliteration with fillers turned into spaces. ``optional`` is the
    optional data of line 1 then of line 2 (fillers dropped): the citizen ID number on this card.
    ``sex`` is ``"M"``, ``"F"`` or ``"X"`` (unspecified, ``<`` in the MRZ).
    """

    document_number: str
    surname: str
    given_names: str
    nationality: str
    birth_date: date
    sex: str
    expiry_date: date
    optional: str
    document_code: str = "I"
    issuing_state: str = ""

    @property
    def bac_fields(self) -> tuple[str, str, str]:
        """(document number, birth YYMMDD, expiry YYMMDD): what :meth:`EidReader.open` takes."""
        return self.document_number, f"{self.birth_date:%y%m%d}", f"{self.expiry_date:%y%m%d}"


def _date(yymmdd: str, what: str, *, birth: bool) -> date:
    if len(yymmdd) != 6 or not yymmdd.isdigit():
        raise EidError(f"DG1: the {what} {yymmdd!r} is not YYMMDD")
    yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    # 9303-3 leaves the century to the reader: a birth date is never in the future, an expiry
    # date of a card issued this century is in the 2000s.
    century = 1900 if birth and yy > date.today().year % 100 else 2000
    try:
        return date(century + yy, mm, dd)
    except ValueError:
        raise EidError(f"DG1: the {what} {yymmdd!r} is not a date") from None


def _check(value: str, digit: str, what: str) -> None:
    try:
        ok = check_digit(value) == digit
    except CardkitError:
        ok = False
    if not ok:
        raise EidError(f"DG1: the check digit of the {what} does not match (9303-3 §4.9)")


def _text(field_: str) -> str:
    return " ".join(part for part in field_.split("<") if part)


def parse_mrz_td1(mrz: str) -> Mrz:
    """Parse a TD1 MRZ: 3 lines of 30 characters, with or without line breaks (9303-5 §4.2.2).

    Check digits (document number, birth, expiry, composite) are verified. A document number of
    more than 9 characters continues in line 1's optional data (9303-5 note j).

    Raises:
        EidError: wrong length, a bad date or a check digit that does not match.
    """
    text = mrz.replace("\n", "").replace("\r", "")
    if len(text) != 90:
        raise EidError(f"DG1: a TD1 MRZ has 90 characters, this one {len(text)}")
    l1, l2, l3 = text[:30], text[30:60], text[60:]
    doc, doc_cd, opt1 = l1[5:14], l1[14], l1[15:30]
    if doc_cd == "<" and opt1.strip("<"):  # long document number: rest of it + check digit in opt1
        rest = opt1.split("<", 1)[0]
        doc, doc_cd, opt1 = doc + rest[:-1], rest[-1], opt1[len(rest):]
    _check(doc, doc_cd, "document number")
    birth, sex, expiry, opt2 = l2[0:6], l2[7], l2[8:14], l2[18:29]
    _check(birth, l2[6], "birth date")
    _check(expiry, l2[14], "expiry date")
    _check(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29], "MRZ (composite)")
    primary, _, secondary = l3.partition("<<")
    return Mrz(
        document_number=doc.rstrip("<"),
        surname=_text(primary),
        given_names=_text(secondary),
        nationality=l2[15:18].rstrip("<"),
        birth_date=_date(birth, "birth date", birth=True),
        sex=sex if sex in "MF" else "X",
        expiry_date=_date(expiry, "expiry date", birth=False),
        optional=opt1.rstrip("<") + opt2.rstrip("<"),
        document_code=l1[0:2].rstrip("<"),
        issuing_state=l1[2:5].rstrip("<"),
    )


def parse_dg1(data: bytes) -> Mrz:
    """DG1 = 61 { 5F1F MRZ } (9303-10 §4.7.1).

    Raises:
        EidError: not a DG1, no 5F1F, or a malformed MRZ.
    """
    dg1 = _outer(data, DataGroup.DG1, "DG1")
    mrz = dg1.find(0x5F1F)
    if mrz is None:
        raise EidError("DG1 has no MRZ (tag 5F1F)")
    try:
        return parse_mrz_td1(mrz.value.decode("ascii"))
    except UnicodeDecodeError:
        raise EidError("DG1: the MRZ is not ASCII") from None


# ------------------------------------------------------------------------------------ EF.COM
def parse_com(data: bytes) -> tuple[DataGroup, ...]:
    """EF.COM = 60 { 5F01 LDS version, 5F36 Unicode version, 5C tag list } (9303-10 §4.6.1).

    Returns the data groups the card says it holds (tags this client does not read are skipped).
    """
    com = _outer(data, _COM_TAG, "EF.COM")
    tags = com.find(0x5C)
    if tags is None:
        raise EidError("EF.COM has no tag list (5C)")
    return tuple(DataGroup(t) for t in tags.value if t in DataGroup._value2member_map_)


# ------------------------------------------------------------------------------------------ DG2
def jpeg_from_dg2(data: bytes) -> bytes | None:
    """The JPEG of the first face in DG2 = 75 { 7F61 { 02 count, 7F60 { A1 BHT, 5F2E | 7F2E data } } }.

    The biometric data block is an ISO/IEC 19794-5 record (a header, then the image); the JPEG is
    found by its markers, SOI ``FFD8`` to the last EOI ``FFD9`` (9303-10 §4.7.2). ``None`` when
    the image is not JPEG (JPEG 2000, say).
    """
    dg2 = _outer(data, DataGroup.DG2, "DG2")
    group = dg2.find(0x7F61)
    if group is None:
        raise EidError("DG2 has no biometric information group template (7F61)")
    template = group.find(0x7F60)
    block = None if template is None else (template.find(0x5F2E) or template.find(0x7F2E))
    if block is None:
        raise EidError("DG2 has no biometric data block (7F60 / 5F2E)")
    start = block.value.find(b"\xff\xd8\xff")
    end = block.value.rfind(b"\xff\xd9")
    if start < 0 or end < start:
        log.info("DG2: the face image is not a JPEG")
        return None
    return block.value[start : end + 2]


# ----------------------------------------------------------------------------------------- DG11
@dataclass(frozen=True, slots=True)
class PersonalDetails:
    """DG11 (9303-10 §4.7.11): full name in national characters, address, personal number."""

    full_name: str = ""
    address: str = ""
    personal_number: str = ""
    other: tuple[tuple[str, str], ...] = ()


def _utf8(value: bytes, what: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise EidError(f"DG11: the {what} is not UTF-8") from None


def parse_dg11(data: bytes) -> PersonalDetails:
    """DG11 = 6B { 5C tag list, 5F0E full name, 5F10 personal number, 5F42 address, ... }.

    ``<`` separators (9303-10 Table 40: between name parts and address lines) become spaces.
    """
    dg11 = _outer(data, DataGroup.DG11, "DG11")
    fields: dict[str, str] = {}
    for obj in dg11.children:
        if obj.tag != b"\x5c" and not obj.constructed:
            fields[obj.tag.hex().upper()] = _utf8(obj.value, f"field {obj.tag.hex().upper()}")
    name, address, number = fields.pop("5F0E", ""), fields.pop("5F42", ""), fields.pop("5F10", "")
    return PersonalDetails(_text(name) if "<" in name else name, _text(address) if "<" in address else address,
                           number.replace("<", ""), tuple(fields.items()))


# ----------------------------------------------------------------------------------------- DG15
def parse_dg15(data: bytes) -> PublicKeyTypes:
    """DG15 = 6F { SubjectPublicKeyInfo } : the active authentication public key (9303-11 §6.1).

    Raises:
        EidError: not a DG15, or a key ``cryptography`` cannot load.
    """
    dg15 = _outer(data, DataGroup.DG15, "DG15")
    try:
        return load_der_public_key(dg15.value)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise EidError(f"DG15: the active authentication key cannot be loaded ({exc})") from None


# -------------------------------------------------------------------------------------- Identity
@dataclass(frozen=True, slots=True)
class Identity:
    """What the ID application says about its holder.

    ``citizen_id`` is DG11's personal number (5F10), or the MRZ optional data without DG11;
    ``full_name`` and ``address`` come from DG11 (UTF-8, Chinese); ``photo`` is DG2's JPEG
    (``None`` when not read or not a JPEG).
    """

    mrz: Mrz
    citizen_id: str
    full_name: str
    address: str
    photo: bytes | None = field(default=None, repr=False)


def mask_citizen_id(number: str) -> str:
    """For logs: the first 6 (region) and last 4 characters; the birth date and sequence masked."""
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
