"""The social insurance application's records as values, and their encoding (docs/social.md "Files").

Each data element is one record whose content is a BER-TLV object tagged with the record number
(the MOHRSS social security card's habit): SFI 05 card information (public), SFI 06 the holder's
basic information, SFI 07 one record per insurance scheme. Data preparation
(:mod:`cardkit.issuer.social_data`) and the client share this one description.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from cardkit.errors import TlvError
from cardkit.purse.records import mask_id_number
from cardkit.social.errors import SocialDataError
from cardkit.tlv import build, decode

__all__ = [
    "CardInfo",
    "Holder",
    "InsuranceState",
    "InsuranceStatus",
    "LogEntry",
    "PaymentResult",
    "Scheme",
    "SocialRecord",
    "bcd_date",
    "card_info_records",
    "holder_records",
    "insurance_records",
    "parse_card_info",
    "parse_holder",
    "parse_insurance",
]


class Scheme(enum.IntEnum):
    """The five insurance schemes; the value is the record number in SFI 07."""

    PENSION = 1
    MEDICAL = 2
    UNEMPLOYMENT = 3
    WORK_INJURY = 4
    MATERNITY = 5


class InsuranceState(enum.IntEnum):
    NOT_ENROLLED = 0
    ENROLLED = 1
    SUSPENDED = 2


@dataclass(frozen=True, slots=True)
class InsuranceStatus:
    """One scheme: enrolled / suspended / not enrolled, and since when (``None`` when never)."""

    scheme: Scheme
    state: InsuranceState
    since: date | None = None


@dataclass(frozen=True, slots=True)
class CardInfo:
    """SFI 05, readable by anyone: card number (16 digits), issuing region (6 digits), dates, version."""

    card_number: str
    region: str
    issued: date
    expiry: date
    version: str = "3.00"

    @property
    def diversifier(self) -> bytes:
        """X: the card number as 8 BCD bytes; every card key is diversified by it."""
        return bytes.fromhex(self.card_number)

    def valid_on(self, day: date) -> bool:
        return self.issued <= day <= self.expiry


@dataclass(frozen=True, slots=True)
class Holder:
    """SFI 06: the holder's basic information. The citizen ID number is masked in ``repr``."""

    name: str
    latin_name: str
    sex: str  # GB/T 2261.1: "1" male, "2" female, "0" unknown, "9" not stated
    ethnicity: str  # GB 3304 code, "01" Han
    birth_date: date
    id_number: str = field(repr=False)

    def __repr__(self) -> str:
        return (f"Holder(name={self.name!r}, latin_name={self.latin_name!r}, sex={self.sex!r}, "
                f"ethnicity={self.ethnicity!r}, birth_date={self.birth_date!r}, "
                f"id_number={mask_id_number(self.id_number)!r})")

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class SocialRecord:
    """Everything :meth:`cardkit.social.SocialClient.read` returns."""

    card: CardInfo
    holder: Holder
    insurance: tuple[InsuranceStatus, ...]
    balance: int  # fen

    def status(self, scheme: Scheme) -> InsuranceStatus | None:
        return next((s for s in self.insurance if s.scheme is scheme), None)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """A medical account log record (SFI 08), newest first."""

    counter: int
    amount: int
    type: int
    terminal_id: bytes
    terminal_txn_no: int
    when: datetime | None
    balance_after: int


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """A completed medical payment; ``tac`` and ``mac2`` were verified by the SAM."""

    amount: int
    balance_before: int
    balance_after: int
    counter: int
    terminal_id: bytes
    terminal_txn_no: int
    when: datetime
    tac: bytes
    mac2: bytes


_STATES = frozenset(int(s) for s in InsuranceState)


# -- encoding ---------------------------------------------------------------------------------------
def bcd_date(day: date) -> bytes:
    return bytes.fromhex(f"{day.year:04d}{day.month:02d}{day.day:02d}")


def _records(values: Sequence[bytes]) -> tuple[bytes, ...]:
    return tuple(build(n, v) for n, v in enumerate(values, start=1))


def card_info_records(info: CardInfo) -> tuple[bytes, ...]:
    """SFI 05: 01 card number (8 BCD) | 02 region (3 BCD) | 03 version (ASCII) | 04 issued | 05 expiry."""
    return _records([bytes.fromhex(info.card_number), bytes.fromhex(info.region), info.version.encode("ascii"),
                     bcd_date(info.issued), bcd_date(info.expiry)])


def holder_records(holder: Holder) -> tuple[bytes, ...]:
    """SFI 06: 01 ID number | 02 name (GB18030) | 03 Latin name | 04 sex | 05 ethnicity | 06 birth date."""
    return _records([holder.id_number.encode("ascii"), holder.name.encode("gb18030"),
                     holder.latin_name.encode("ascii"), holder.sex.encode("ascii"), holder.ethnicity.encode("ascii"),
                     bcd_date(holder.birth_date)])


def insurance_records(statuses: Sequence[InsuranceStatus]) -> tuple[bytes, ...]:
    """SFI 07: record n = scheme n: state 1 | since 4 BCD (00000000 when never enrolled)."""
    by_scheme = {s.scheme: s for s in statuses}
    out = []
    for scheme in Scheme:
        s = by_scheme.get(scheme, InsuranceStatus(scheme, InsuranceState.NOT_ENROLLED))
        out.append(bytes((s.state,)) + (bcd_date(s.since) if s.since else bytes(4)))
    return _records(out)


# -- parsing ----------------------------------------------------------------------------------------
def _value(record: bytes, number: int, what: str) -> bytes:
    try:
        objs = decode(record)
    except TlvError:
        raise SocialDataError(f"{what}: record {number} is not BER-TLV") from None
    if len(objs) != 1 or objs[0].tag != bytes((number,)):
        raise SocialDataError(f"{what}: record {number} is not one object tagged {number:02X}")
    return objs[0].value


def _date(raw: bytes, what: str) -> date:
    try:
        text = raw.hex()
        return date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        raise SocialDataError(f"{what}: {raw.hex().upper()} is not a YYYYMMDD date") from None


def _digits(raw: bytes, n: int, what: str) -> str:
    text = raw.hex()
    if len(text) != n or not text.isdigit():
        raise SocialDataError(f"{what}: not {n} BCD digits")
    return text


def _text(raw: bytes, what: str, encoding: str = "ascii") -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        raise SocialDataError(f"{what}: not {encoding} text") from None


def _need(records: Sequence[bytes], n: int, what: str) -> list[bytes]:
    if len(records) < n:
        raise SocialDataError(f"{what}: {len(records)} records, expected {n}")
    return [_value(r, i, what) for i, r in enumerate(records[:n], start=1)]


def parse_card_info(records: Sequence[bytes]) -> CardInfo:
    what = "card information (SFI 05)"
    number, region, version, issued, expiry = _need(records, 5, what)
    return CardInfo(_digits(number, 16, f"{what} card number"), _digits(region, 6, f"{what} region"),
                    _date(issued, f"{what} issue date"), _date(expiry, f"{what} expiry"),
                    _text(version, f"{what} version"))


def parse_holder(records: Sequence[bytes]) -> Holder:
    what = "holder (SFI 06)"
    id_number, name, latin, sex, ethnicity, birth = _need(records, 6, what)
    return Holder(_text(name, f"{what} name", "gb18030"), _text(latin, f"{what} Latin name"),
                  _text(sex, f"{what} sex"), _text(ethnicity, f"{what} ethnicity"),
                  _date(birth, f"{what} birth date"), _text(id_number, f"{what} ID number"))


def parse_insurance(records: Sequence[bytes]) -> tuple[InsuranceStatus, ...]:
    what = "insurance status (SFI 07)"
    out = []
    for scheme, value in zip(Scheme, _need(records, len(Scheme), what), strict=True):
        if len(value) != 5 or value[0] not in _STATES:
            raise SocialDataError(f"{what}: record {int(scheme)} is not state 1 | since 4")
        since = None if value[1:] == bytes(4) else _date(value[1:], f"{what} since")
        out.append(InsuranceStatus(scheme, InsuranceState(value[0]), since))
    return tuple(out)
