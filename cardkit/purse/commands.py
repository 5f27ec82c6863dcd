"""The purse application's commands (REFERENCE.md "PBOC electronic purse"; JR/T 0025 / JT/T 978).

One builder per command, so no call site writes an INS, P1 or P2 byte. All are case 3 or 4 short
APDUs; the CLA is 80 for the purse commands and 00 for SELECT / READ BINARY / READ RECORD.
"""

from __future__ import annotations

import enum

from cardkit.apdu import CommandAPDU
from cardkit.crypto.purse import TransactionType
from cardkit.purse.errors import PurseError

__all__ = [
    "CAPP_CACHE_SFI",
    "HOLDER_SFI",
    "ISSUER_SFI",
    "KEY_INDEX",
    "LOG_SFI",
    "TRANSIT_AID",
    "Ins",
    "PurseUsageError",
    "credit_for_load",
    "debit_for_purchase",
    "get_balance",
    "get_transaction_prove",
    "initialize_for_load",
    "initialize_for_purchase",
    "read_binary_sfi",
    "read_record_sfi",
    "select_aid",
    "update_capp_data_cache",
]

#: T-Union interoperable transit application (JT/T 978; REFERENCE.md "Identifiers").
TRANSIT_AID = bytes.fromhex("A000000632010105")

ISSUER_SFI = 0x15  # public issuer data, 30 bytes
HOLDER_SFI = 0x16  # card holder, 55 bytes
CAPP_CACHE_SFI = 0x17  # compound application (CAPP) data cache, records by identifier
LOG_SFI = 0x18  # cyclic transaction log, 23-byte records, record 1 the newest
KEY_INDEX = 0x01  # the key index every INITIALIZE asks for

_CLA_ISO = 0x00
_CLA_PURSE = 0x80
_P2_EP = 0x02  # electronic purse (01 would be the electronic deposit)
_READ_BY_NUMBER = 0x04  # READ RECORD P2 b3-b1: record number in P1
_UPDATE_BY_ID = 0x00  # UPDATE CAPP DATA CACHE P2 b3-b1, as the transit applet expects


class Ins(enum.IntEnum):
    """Instruction bytes of the purse application."""

    SELECT = 0xA4
    READ_BINARY = 0xB0
    READ_RECORD = 0xB2
    INITIALIZE = 0x50
    CREDIT_FOR_LOAD = 0x52
    DEBIT_FOR_PURCHASE = 0x54
    GET_TRANSACTION_PROVE = 0x5A
    GET_BALANCE = 0x5C
    UPDATE_CAPP_DATA_CACHE = 0xDC


class _InitP1(enum.IntEnum):
    LOAD = 0x00
    PURCHASE = 0x01
    CAPP_PURCHASE = 0x03


class PurseUsageError(PurseError, ValueError):
    """The caller asked for something the purse commands cannot carry (amount, terminal id ...)."""


def _amount(amount: int, *, zero: bool = False) -> bytes:
    """4-byte fen; ``zero`` admits 0, which a compound purchase uses to write its record only (a
    transit tap-in)."""
    low = 0 if zero else 1
    if isinstance(amount, bool) or not low <= amount <= 0xFFFFFFFF:
        raise PurseUsageError(f"amount {amount} fen is outside {low}..4294967295")
    return amount.to_bytes(4, "big")


def _terminal(terminal_id: bytes) -> bytes:
    if len(terminal_id) != 6:
        raise PurseUsageError(f"terminal id is {len(terminal_id)} bytes instead of 6")
    return bytes(terminal_id)


def select_aid(aid: bytes = TRANSIT_AID) -> CommandAPDU:
    """SELECT by DF name, first occurrence, FCI wanted: ``00 A4 04 00 Lc AID 00``."""
    return CommandAPDU(_CLA_ISO, Ins.SELECT, 0x04, 0x00, aid, le=256)


def read_binary_sfi(sfi: int) -> CommandAPDU:
    """READ BINARY of a whole transparent EF by short identifier: ``00 B0 (80|SFI) 00 00``."""
    return CommandAPDU(_CLA_ISO, Ins.READ_BINARY, 0x80 | sfi, 0x00, le=256)


def read_record_sfi(sfi: int, number: int) -> CommandAPDU:
    """READ RECORD ``number`` of EF ``sfi``: ``00 B2 number (SFI<<3|4) 00``."""
    return CommandAPDU(_CLA_ISO, Ins.READ_RECORD, number, (sfi << 3) | _READ_BY_NUMBER, le=256)


def initialize_for_load(amount: int, terminal_id: bytes, key_index: int = KEY_INDEX) -> CommandAPDU:
    """INITIALIZE FOR LOAD: ``80 50 00 02 0B`` key index | amount | terminal, Le 10."""
    data = bytes((key_index,)) + _amount(amount) + _terminal(terminal_id)
    return CommandAPDU(_CLA_PURSE, Ins.INITIALIZE, _InitP1.LOAD, _P2_EP, data, le=0x10)


def credit_for_load(day: bytes, time: bytes, mac2: bytes) -> CommandAPDU:
    """CREDIT FOR LOAD: ``80 52 00 00 0B`` date | time | MAC2, Le 04 (TAC)."""
    return CommandAPDU(_CLA_PURSE, Ins.CREDIT_FOR_LOAD, 0x00, 0x00, day + time + _mac(mac2, "MAC2"), le=4)


def initialize_for_purchase(amount: int, terminal_id: bytes, *, compound: bool,
                            key_index: int = KEY_INDEX) -> CommandAPDU:
    """INITIALIZE FOR PURCHASE ``80 50 01 02 0B`` or FOR CAPP PURCHASE ``80 50 03 02 0B``, Le 0F."""
    data = bytes((key_index,)) + _amount(amount, zero=compound) + _terminal(terminal_id)
    p1 = _InitP1.CAPP_PURCHASE if compound else _InitP1.PURCHASE
    return CommandAPDU(_CLA_PURSE, Ins.INITIALIZE, p1, _P2_EP, data, le=0x0F)


def update_capp_data_cache(identifier: int, record: bytes) -> CommandAPDU:
    """UPDATE CAPP DATA CACHE: ``80 DC id (17<<3|0) Lc record`` (between the CAPP INIT and DEBIT).

    P1 is the record identifier, the record's own first byte (P2 mode 0: "by identifier").
    """
    if not 1 <= len(record) <= 255:
        raise PurseUsageError(f"a CAPP record of {len(record)} bytes cannot be written")
    return CommandAPDU(_CLA_PURSE, Ins.UPDATE_CAPP_DATA_CACHE, identifier, (CAPP_CACHE_SFI << 3) | _UPDATE_BY_ID,
                       record)


def debit_for_purchase(terminal_txn_no: int, day: bytes, time: bytes, mac1: bytes) -> CommandAPDU:
    """DEBIT FOR (CAPP) PURCHASE: ``80 54 01 00 0F`` txn no | date | time | MAC1, Le 08."""
    data = terminal_txn_no.to_bytes(4, "big") + day + time + _mac(mac1, "MAC1")
    return CommandAPDU(_CLA_PURSE, Ins.DEBIT_FOR_PURCHASE, 0x01, 0x00, data, le=8)


def get_balance() -> CommandAPDU:
    """GET BALANCE of the electronic purse: ``80 5C 00 02 04``."""
    return CommandAPDU(_CLA_PURSE, Ins.GET_BALANCE, 0x00, _P2_EP, le=4)


def get_transaction_prove(txn_type: TransactionType | int, counter: int) -> CommandAPDU:
    """GET TRANSACTION PROVE: ``80 5A 00 type 02`` counter, Le 08 (MAC2 | TAC)."""
    if not 0 <= counter <= 0xFFFF:
        raise PurseUsageError(f"counter {counter} is not two bytes")
    return CommandAPDU(_CLA_PURSE, Ins.GET_TRANSACTION_PROVE, 0x00, int(txn_type), counter.to_bytes(2, "big"), le=8)


def _mac(mac: bytes, what: str) -> bytes:
    if len(mac) != 4:
        raise PurseUsageError(f"{what} is {len(mac)} bytes instead of 4")
    return bytes(mac)
