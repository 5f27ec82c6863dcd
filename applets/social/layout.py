"""The social insurance application's identifiers, files and byte layouts, declared once.

cardkit's choices (docs/social.md): the AID ``D15600000501`` + ``0100``, an ADF at FID ``1005``,
four record EFs in the style of the MOHRSS social security card (each data element is its own
record, a BER-TLV whose tag is the record number), and the medical account as a PBOC purse-style
account (INITIALIZE / DEBIT with MAC1, MAC2 and TAC from :mod:`cardkit.crypto.purse`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

# INITIALIZE and DEBIT carry the PBOC purse's request layouts (docs/social.md): one parser for both
from applets.transit.layout import DebitRequest, InitRequest

__all__ = [
    "ADF_FID",
    "BALANCE_LENGTH",
    "CARD_INFO_SFI",
    "CHALLENGE_LENGTH",
    "HOLDER_SFI",
    "INSURANCE_SFI",
    "KEY_TERMINAL",
    "LOG_RECORDS",
    "LOG_SFI",
    "MAX_RECORD",
    "PIN_REF",
    "SOCIAL_AID",
    "DebitRequest",
    "InitAnswer",
    "InitRequest",
    "Ins",
    "LogRecord",
]

SOCIAL_AID = bytes.fromhex("D156000005010100")  # D15600000501 + 0100: cardkit's suffix
ADF_FID = 0x1005
CARD_INFO_SFI = 0x05  # public: card number, region, version, dates
HOLDER_SFI = 0x06  # terminal authentication: holder's basic information
INSURANCE_SFI = 0x07  # terminal authentication: one record per scheme
LOG_SFI = 0x08  # terminal authentication: the medical account's cyclic log
MAX_RECORD = 64  # longest data-element record the card keeps
LOG_RECORDS = 10
PIN_REF = 0x01  # the holder's 6-digit PIN
KEY_TERMINAL = 0x01  # EXTERNAL AUTHENTICATE key reference; sets KEY(1) on this channel
CHALLENGE_LENGTH = 8
BALANCE_LENGTH = 4

_TERMINAL = 6
_DATE = 4
_TIME = 3


def _int(data: bytes) -> int:
    return int.from_bytes(data, "big")


class Ins(enum.IntEnum):
    """Instructions beyond the runtime's file and PIN commands."""

    EXTERNAL_AUTHENTICATE = 0x82  # CLA 00
    GET_CHALLENGE = 0x84  # CLA 00
    RESET_RETRY_COUNTER = 0x2C  # CLA 84: the issuer's unblock, MACed
    INITIALIZE = 0x50  # CLA 80, P1 01 P2 02: INITIALIZE FOR (medical) PURCHASE
    DEBIT = 0x54  # CLA 80, P1 01 P2 00
    GET_BALANCE = 0x5C  # CLA 80, P1 00 P2 02


@dataclass(frozen=True, slots=True)
class InitAnswer:
    """INITIALIZE answer, the purse's layout: balance 4 | counter 2 | overdraft 3 (000000) |
    key version 1 | algorithm 1 (00 3DES) | random 4."""

    LENGTH: ClassVar[int] = 15

    balance: int
    counter: int
    key_version: int
    random: bytes

    def to_bytes(self) -> bytes:
        return (self.balance.to_bytes(4, "big") + self.counter.to_bytes(2, "big") + bytes(3)
                + bytes((self.key_version, 0x00)) + self.random)


@dataclass(frozen=True, slots=True)
class LogRecord:
    """A medical account log record (SFI 08, 28 bytes): counter 2 | amount 4 | type 1 |
    terminal 6 | terminal txn no 4 | date 4 | time 3 | balance after 4."""

    LENGTH: ClassVar[int] = 2 + 4 + 1 + _TERMINAL + 4 + _DATE + _TIME + 4

    counter: int
    amount: int
    txn_type: int
    terminal: bytes
    terminal_txn_no: int
    date: bytes
    time: bytes
    balance_after: int

    def to_bytes(self) -> bytes:
        return (self.counter.to_bytes(2, "big") + self.amount.to_bytes(4, "big") + bytes((self.txn_type,))
                + self.terminal + self.terminal_txn_no.to_bytes(4, "big") + self.date + self.time
                + self.balance_after.to_bytes(4, "big"))

    @classmethod
    def parse(cls, data: bytes) -> LogRecord:
        return cls(_int(data[0:2]), _int(data[2:6]), data[6], bytes(data[7:13]), _int(data[13:17]),
                   bytes(data[17:21]), bytes(data[21:24]), _int(data[24:28]))
