"""The byte layouts of the purse commands, their answers and the log record, declared once.

REFERENCE.md "PBOC electronic purse" (JR/T 0025 as public implementations agree): amounts in fen
and counters are big-endian, the terminal id is 6 bytes, the date YYYYMMDD is 4 bytes BCD and the
time hhmmss 3 bytes BCD. Each class parses what the terminal sends or builds what the card answers;
lengths are class constants so the handlers check Lc against the layout, never against a literal.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import ClassVar

__all__ = [
    "ALGORITHM_BYTES",
    "CAPP_CACHE_SFI",
    "HOLDER_INFO_LENGTH",
    "HOLDER_INFO_SFI",
    "ISSUER_INFO_LENGTH",
    "ISSUER_INFO_SFI",
    "LOG_RECORDS",
    "LOG_SFI",
    "CreditRequest",
    "DebitRequest",
    "Ins",
    "InitAnswerLoad",
    "InitAnswerPurchase",
    "InitKind",
    "InitRequest",
    "LogRecord",
    "ProveAnswer",
    "ProveRequest",
    "u",
]

# Short EF identifiers of the application's files (docs/transit-card.md "Files").
ISSUER_INFO_SFI = 0x15
HOLDER_INFO_SFI = 0x16
CAPP_CACHE_SFI = 0x17
LOG_SFI = 0x18
ISSUER_INFO_LENGTH = 30
HOLDER_INFO_LENGTH = 55
LOG_RECORDS = 10

# Algorithm byte of the INITIALIZE answers: 00 3DES, 04 SM4 (the SM4 value is *check*).
ALGORITHM_BYTES = {"3des": 0x00, "sm4": 0x04}

_DATE = 4
_TIME = 3
_TERMINAL = 6
_MAC = 4


def u(value: int, n: int) -> bytes:
    """``value`` as an n-byte big-endian unsigned field (the caller has range-checked it)."""
    return value.to_bytes(n, "big")


def _int(data: bytes) -> int:
    return int.from_bytes(data, "big")


class Ins(enum.IntEnum):
    """The purse instructions (CLA 80)."""

    INITIALIZE = 0x50
    CREDIT_FOR_LOAD = 0x52
    DEBIT_FOR_PURCHASE = 0x54
    GET_TRANSACTION_PROVE = 0x5A
    GET_BALANCE = 0x5C
    UPDATE_CAPP_DATA_CACHE = 0xDC


class InitKind(enum.IntEnum):
    """P1 of INITIALIZE: which transaction it starts (P2 is always 02, the EP)."""

    LOAD = 0x00
    PURCHASE = 0x01
    CAPP_PURCHASE = 0x03


@dataclass(frozen=True, slots=True)
class InitRequest:
    """INITIALIZE FOR LOAD / PURCHASE / CAPP PURCHASE data: key index(1) amount(4) terminal(6)."""

    LENGTH: ClassVar[int] = 1 + 4 + _TERMINAL

    key_index: int
    amount: int
    terminal: bytes

    @classmethod
    def parse(cls, data: bytes) -> InitRequest:
        return cls(data[0], _int(data[1:5]), bytes(data[5:11]))


@dataclass(frozen=True, slots=True)
class InitAnswerLoad:
    """INITIALIZE FOR LOAD answer: old balance(4) online counter(2) key version(1) algorithm(1)
    random(4) MAC1(4)."""

    LENGTH: ClassVar[int] = 16

    balance: int
    online_counter: int
    key_version: int
    algorithm: int
    random: bytes
    mac1: bytes

    def to_bytes(self) -> bytes:
        return (u(self.balance, 4) + u(self.online_counter, 2) + bytes((self.key_version, self.algorithm))
                + self.random + self.mac1)

    @classmethod
    def parse(cls, data: bytes) -> InitAnswerLoad:
        return cls(_int(data[0:4]), _int(data[4:6]), data[6], data[7], bytes(data[8:12]), bytes(data[12:16]))


@dataclass(frozen=True, slots=True)
class InitAnswerPurchase:
    """INITIALIZE FOR (CAPP) PURCHASE answer: old balance(4) offline counter(2) overdraft limit(3)
    key version(1) algorithm(1) random(4)."""

    LENGTH: ClassVar[int] = 15

    balance: int
    offline_counter: int
    overdraft_limit: int
    key_version: int
    algorithm: int
    random: bytes

    def to_bytes(self) -> bytes:
        return (u(self.balance, 4) + u(self.offline_counter, 2) + u(self.overdraft_limit, 3)
                + bytes((self.key_version, self.algorithm)) + self.random)

    @classmethod
    def parse(cls, data: bytes) -> InitAnswerPurchase:
        return cls(_int(data[0:4]), _int(data[4:6]), _int(data[6:9]), data[9], data[10], bytes(data[11:15]))


@dataclass(frozen=True, slots=True)
class CreditRequest:
    """CREDIT FOR LOAD data: date(4) time(3) MAC2(4)."""

    LENGTH: ClassVar[int] = _DATE + _TIME + _MAC

    date: bytes
    time: bytes
    mac2: bytes = field(repr=False)

    @classmethod
    def parse(cls, data: bytes) -> CreditRequest:
        return cls(bytes(data[0:4]), bytes(data[4:7]), bytes(data[7:11]))


@dataclass(frozen=True, slots=True)
class DebitRequest:
    """DEBIT FOR PURCHASE / CAPP PURCHASE data: terminal transaction number(4) date(4) time(3) MAC1(4)."""

    LENGTH: ClassVar[int] = 4 + _DATE + _TIME + _MAC

    terminal_txn_no: int
    date: bytes
    time: bytes
    mac1: bytes = field(repr=False)

    @classmethod
    def parse(cls, data: bytes) -> DebitRequest:
        return cls(_int(data[0:4]), bytes(data[4:8]), bytes(data[8:11]), bytes(data[11:15]))


@dataclass(frozen=True, slots=True)
class ProveRequest:
    """GET TRANSACTION PROVE data: the counter the INITIALIZE of that transaction returned."""

    LENGTH: ClassVar[int] = 2

    counter: int

    @classmethod
    def parse(cls, data: bytes) -> ProveRequest:
        return cls(_int(data[0:2]))


@dataclass(frozen=True, slots=True)
class ProveAnswer:
    """GET TRANSACTION PROVE answer (and the DEBIT answer in the other order): MAC2(4) TAC(4)."""

    mac2: bytes
    tac: bytes

    def to_bytes(self) -> bytes:
        return self.mac2 + self.tac


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One record of the cyclic transaction log (SFI 18, record 1 newest): counter(2) overdraft
    limit(3) amount(4) type(1) terminal(6) date(4) time(3) — 23 bytes."""

    LENGTH: ClassVar[int] = 2 + 3 + 4 + 1 + _TERMINAL + _DATE + _TIME

    counter: int
    overdraft_limit: int
    amount: int
    txn_type: int
    terminal: bytes
    date: bytes
    time: bytes

    def to_bytes(self) -> bytes:
        return (u(self.counter, 2) + u(self.overdraft_limit, 3) + u(self.amount, 4) + bytes((self.txn_type,))
                + self.terminal + self.date + self.time)

    @classmethod
    def parse(cls, data: bytes) -> LogRecord:
        if len(data) != cls.LENGTH:
            raise ValueError(f"a log record is {cls.LENGTH} bytes, got {len(data)}")
        return cls(_int(data[0:2]), _int(data[2:5]), _int(data[5:9]), data[9], bytes(data[10:16]),
                   bytes(data[16:20]), bytes(data[20:23]))
