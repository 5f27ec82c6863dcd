"""What the purse client reads and returns: the card's files and answers, as frozen values.

The fixed layouts (REFERENCE.md "PBOC electronic purse"; JT/T 978 transit files) are declared
once with ``construct`` and parsed with a length check, so a short or long answer is a
:class:`~cardkit.purse.errors.PurseDataError` that names the file, never a silent misread:

=========================  ====  =================================================================
file / answer              size  layout
=========================  ====  =================================================================
SFI 15 public issuer data    30  issuer id 8 | app type 1 | version 1 | serial 10 BCD | start 4 |
                                 expiry 4 | reserved 2
SFI 16 holder                55  card type 1 | staff 1 | name 20 GB18030 | ID number 32 | ID type 1
Balances are signed (two's complement: a purse with an overdraft limit can go below zero).

SFI 18 log record            23  counter 2 | overdraft 3 | amount 4 | type 1 | terminal 6 | date 4 |
                                 time 3
INITIALIZE FOR LOAD          16  old balance 4 | online counter 2 | key version 1 | algorithm 1 |
                                 random 4 | MAC1 4
INITIALIZE FOR PURCHASE      15  old balance 4 | offline counter 2 | overdraft limit 3 |
                                 key version 1 | algorithm 1 | random 4
DEBIT FOR PURCHASE            8  TAC 4 | MAC2 4
GET TRANSACTION PROVE         8  MAC2 4 | TAC 4
=========================  ====  =================================================================
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from construct import Bytes, Int8ub, Int16ub, Int24ub, Int32sb, Int32ub, Struct  # type: ignore[import-untyped]

from cardkit.crypto.purse import PurseAlgorithm, TransactionType
from cardkit.purse.errors import PurseDataError

__all__ = [
    "ALGORITHM_BYTES",
    "LoadInit",
    "LogEntry",
    "PurchaseInit",
    "PurseInfo",
    "PurseResult",
    "TransactionKind",
    "bcd_date",
    "bcd_time",
    "mask_id_number",
    "parse_date",
    "parse_datetime",
    "parse_fixed",
]

ISSUER_FILE = Struct(
    "issuer_id" / Bytes(8),
    "app_type" / Int8ub,
    "version" / Int8ub,
    "serial" / Bytes(10),  # BCD, 20 digits; the last 8 bytes are the diversifier X
    "start" / Bytes(4),  # YYYYMMDD BCD
    "expiry" / Bytes(4),
    "reserved" / Bytes(2),
)
HOLDER_FILE = Struct(
    "card_type" / Int8ub,
    "staff" / Int8ub,
    "name" / Bytes(20),  # GB18030, 00-padded
    "id_number" / Bytes(32),  # ASCII, 00- (or FF-/space-) padded
    "id_type" / Int8ub,
)
LOG_RECORD = Struct(
    "counter" / Int16ub,
    "overdraft" / Int24ub,
    "amount" / Int32ub,
    "type" / Int8ub,
    "terminal_id" / Bytes(6),
    "date" / Bytes(4),
    "time" / Bytes(3),
)
LOAD_INIT = Struct(
    "old_balance" / Int32sb,  # two's complement once an overdraft is used
    "online_counter" / Int16ub,
    "key_version" / Int8ub,
    "algorithm" / Int8ub,
    "random" / Bytes(4),
    "mac1" / Bytes(4),
)
PURCHASE_INIT = Struct(
    "old_balance" / Int32sb,
    "offline_counter" / Int16ub,
    "overdraft_limit" / Int24ub,
    "key_version" / Int8ub,
    "algorithm" / Int8ub,
    "random" / Bytes(4),
)
DEBIT_ANSWER = Struct("tac" / Bytes(4), "mac2" / Bytes(4))
PROVE_ANSWER = Struct("mac2" / Bytes(4), "tac" / Bytes(4))

#: The algorithm byte of the INITIALIZE answers (00 3DES, 04 SM4).
ALGORITHM_BYTES: dict[int, PurseAlgorithm] = {0x00: PurseAlgorithm.TDES, 0x04: PurseAlgorithm.SM4}


class TransactionKind(str, enum.Enum):
    """What a :class:`PurseResult` did; compares equal to its string ("load", "purchase", "capp")."""

    LOAD = "load"
    PURCHASE = "purchase"
    CAPP = "capp"

    @property
    def type(self) -> TransactionType:
        """The transaction type byte of the MACs and of GET TRANSACTION PROVE (02, 06, 09)."""
        return _TYPES[self]


_TYPES = {TransactionKind.LOAD: TransactionType.EP_LOAD, TransactionKind.PURCHASE: TransactionType.EP_PURCHASE,
          TransactionKind.CAPP: TransactionType.CAPP_PURCHASE}


def parse_fixed(layout: Any, data: bytes, what: str) -> Any:
    """Parse ``data`` with a fixed-size ``construct`` layout, insisting on its exact length.

    Raises:
        PurseDataError: ``data`` is not exactly ``layout.sizeof()`` bytes.
    """
    size = layout.sizeof()
    if len(data) != size:
        raise PurseDataError(f"{what} is {len(data)} bytes instead of {size}", context=what)
    return layout.parse(data)


def _digits(raw: bytes, what: str) -> str:
    text = raw.hex()
    if not text.isdigit():
        raise PurseDataError(f"{what} {raw.hex().upper()} is not BCD", context=what)
    return text


def parse_date(raw: bytes, what: str) -> date:
    """A 4-byte BCD YYYYMMDD date.

    Raises:
        PurseDataError: not BCD, or not a calendar date.
    """
    text = _digits(raw, what)
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        raise PurseDataError(f"{what} {text} is not a date", context=what) from None


def parse_datetime(day: bytes, time: bytes, what: str) -> datetime:
    """4-byte BCD YYYYMMDD and 3-byte BCD hhmmss as one naive datetime (the card's local time).

    Raises:
        PurseDataError: not BCD, or not a valid date and time.
    """
    d = parse_date(day, what)
    text = _digits(time, what)
    try:
        return datetime(d.year, d.month, d.day, int(text[:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        raise PurseDataError(f"{what} time {text} is not a time of day", context=what) from None


def bcd_date(when: date) -> bytes:
    """``when`` as 4 BCD bytes YYYYMMDD."""
    return bytes.fromhex(f"{when.year:04d}{when.month:02d}{when.day:02d}")


def bcd_time(when: datetime) -> bytes:
    """``when``'s time of day as 3 BCD bytes hhmmss."""
    return bytes.fromhex(f"{when.hour:02d}{when.minute:02d}{when.second:02d}")


def mask_id_number(value: str) -> str:
    """An ID number with all but its first 4 and last 4 characters as ``*`` (short ones: all)."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


@dataclass(frozen=True, slots=True, repr=False)
class PurseInfo:
    """The selected purse: public issuer data (SFI 15), holder (SFI 16) and balance.

    ``serial`` is the 20-digit application serial; ``diversifier`` its last 8 bytes, the X the
    card keys are diversified with. ``repr`` masks ``id_number``.
    """

    serial: str
    diversifier: bytes
    issuer_id: bytes
    start: date
    expiry: date
    app_type: int
    version: int
    holder_name: str
    id_number: str
    balance: int
    card_type: int = 0
    staff: int = 0
    id_type: int = 0

    def __repr__(self) -> str:
        return (f"PurseInfo(serial={self.serial!r}, issuer_id={self.issuer_id.hex().upper()!r}, "
                f"start={self.start.isoformat()}, expiry={self.expiry.isoformat()}, app_type={self.app_type:#04x}, "
                f"version={self.version}, holder_name={self.holder_name!r}, "
                f"id_number={mask_id_number(self.id_number)!r}, balance={self.balance}, card_type={self.card_type})")

    __str__ = __repr__

    def valid_on(self, day: date) -> bool:
        """Whether ``day`` is within the application's start and expiry dates (both inclusive)."""
        return self.start <= day <= self.expiry


@dataclass(frozen=True, slots=True)
class LoadInit:
    """The card's answer to INITIALIZE FOR LOAD, with the amount and terminal it was asked for."""

    old_balance: int
    online_counter: int
    key_version: int
    algorithm: PurseAlgorithm
    random: bytes
    mac1: bytes
    amount: int
    terminal_id: bytes
    key_index: int = 1

    @property
    def kind(self) -> TransactionKind:
        return TransactionKind.LOAD

    @property
    def counter(self) -> int:
        """The counter this transaction uses (the online counter)."""
        return self.online_counter


@dataclass(frozen=True, slots=True)
class PurchaseInit:
    """The card's answer to INITIALIZE FOR (CAPP) PURCHASE, with the amount and terminal asked for."""

    old_balance: int
    offline_counter: int
    overdraft_limit: int
    key_version: int
    algorithm: PurseAlgorithm
    random: bytes
    amount: int
    terminal_id: bytes
    compound: bool
    key_index: int = 1

    @property
    def kind(self) -> TransactionKind:
        return TransactionKind.CAPP if self.compound else TransactionKind.PURCHASE

    @property
    def counter(self) -> int:
        """The counter this transaction uses (the offline counter)."""
        return self.offline_counter

    @property
    def type(self) -> TransactionType:
        """06 purchase or 09 compound (CAPP) purchase."""
        return self.kind.type


@dataclass(frozen=True, slots=True)
class PurseResult:
    """A completed load or purchase, as the journal and the receipt need it.

    ``counter`` is the card counter the transaction used (online for loads, offline for
    purchases); ``terminal_txn_no`` the PSAM's number (purchases only); ``recovered`` says it was
    completed through GET TRANSACTION PROVE after a lost response. For a purchase ``tac`` and
    ``mac2`` were verified by the PSAM; a load's TAC is for the host to verify
    (:func:`cardkit.purse.issuer.verify_load_tac`).
    """

    kind: TransactionKind
    amount: int
    balance_before: int
    balance_after: int
    counter: int
    terminal_id: bytes
    terminal_txn_no: int | None
    when: datetime
    tac: bytes
    mac2: bytes
    recovered: bool = False


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One record of the card's transaction log (SFI 18), newest first in :meth:`PurseClient.log`.

    ``type`` is a :class:`~cardkit.crypto.purse.TransactionType` when the byte is a known one.
    """

    counter: int
    overdraft: int
    amount: int
    type: int
    terminal_id: bytes
    when: datetime

    @classmethod
    def parse(cls, raw: bytes) -> LogEntry:
        """Decode one 23-byte log record.

        Raises:
            PurseDataError: wrong length, or a date/time that is not BCD.
        """
        rec = parse_fixed(LOG_RECORD, raw, "log record")
        kind: int = rec.type
        try:
            kind = TransactionType(rec.type)
        except ValueError:
            pass
        return cls(rec.counter, rec.overdraft, rec.amount, kind, bytes(rec.terminal_id),
                   parse_datetime(rec.date, rec.time, "log record date"))
