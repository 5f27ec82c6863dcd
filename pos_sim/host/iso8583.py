"""The cardkit host's ISO 8583 (1987) layout: every field, its type and length, in this one module.

pyiso8583 is the codec; this module declares the fields it may carry and checks the values it is
given, so a message that exists is one the other side can read. The layout is pyiso8583's
published ``iso8583.specs.default`` restricted to the fields below: ASCII MTI, binary bitmaps,
ASCII numeric/text fields with ASCII length prefixes, binary fields 52 and 55. Over TCP each
message is preceded by a 2-byte big-endian length (:func:`frame`), nothing else.

Field dicts are pyiso8583-style: ``"t"`` the MTI, ``"2"``..``"128"`` the fields as strings; text
fields are ``str``, binary fields (52, 55) are ``bytes``. docs/host.md has a table per MTI.
"""

from __future__ import annotations

import enum
import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import iso8583
from iso8583.decoder import DecodeError
from iso8583.encoder import EncodeError

from pos_sim.host._errors import HostMessageError

__all__ = [
    "FIELDS",
    "MAX_MESSAGE",
    "MTI",
    "RESPONSE_CODES",
    "SPEC",
    "COMPLETION_CONDITION",
    "ECHO",
    "SIGN_OFF",
    "SIGN_ON",
    "AdditionalAmount",
    "Field",
    "Fields",
    "OriginalData",
    "OriginalReference",
    "SettlementTotals",
    "TxnType",
    "decode_message",
    "encode_message",
    "frame",
    "response_mti",
]

Fields = dict[str, str | bytes]

MAX_MESSAGE = 0xFFFF  # what the 2-byte length header can carry


@dataclass(frozen=True, slots=True)
class Field:
    """One data element: ISO type (n, an, ans, z, b), length (max for variable ones), prefix."""

    number: str
    iso_type: str
    length: int
    prefix: int  # 0 fixed, 2 LLVAR, 3 LLLVAR (ASCII length digits)
    name: str

    @property
    def binary(self) -> bool:
        return self.iso_type == "b"

    def pyiso8583(self) -> dict[str, Any]:
        return {"data_enc": "b" if self.binary else "ascii", "len_enc": "ascii", "len_type": self.prefix,
                "max_len": self.length, "desc": self.name}


_FIELD_LIST = (
    Field("t", "n", 4, 0, "Message type identifier"),
    Field("p", "b", 8, 0, "Primary bitmap"),
    Field("1", "b", 8, 0, "Secondary bitmap"),
    Field("2", "n", 19, 2, "Primary account number"),
    Field("3", "n", 6, 0, "Processing code (tt from to)"),
    Field("4", "n", 12, 0, "Amount, transaction (minor units)"),
    Field("7", "n", 10, 0, "Transmission date and time MMDDhhmmss"),
    Field("11", "n", 6, 0, "System trace audit number"),
    Field("12", "n", 6, 0, "Time, local transaction hhmmss"),
    Field("13", "n", 4, 0, "Date, local transaction MMDD"),
    Field("14", "n", 4, 0, "Date, expiration YYMM"),
    Field("22", "n", 3, 0, "POS entry mode (051 chip, 071 contactless)"),
    Field("23", "n", 3, 0, "Card sequence number"),
    Field("25", "n", 2, 0, "POS condition code (00 normal, 06 pre-auth completion)"),
    Field("35", "z", 37, 2, "Track 2 data"),
    Field("37", "an", 12, 0, "Retrieval reference number"),
    Field("38", "an", 6, 0, "Authorization identification response"),
    Field("39", "an", 2, 0, "Response code"),
    Field("41", "ans", 8, 0, "Card acceptor terminal identification"),
    Field("42", "ans", 15, 0, "Card acceptor identification code"),
    Field("49", "n", 3, 0, "Currency code, transaction"),
    Field("52", "b", 8, 0, "PIN data (ISO 9564 format 0 under the ZPK)"),
    Field("54", "an", 120, 3, "Additional amounts"),
    Field("55", "b", 255, 3, "ICC data (BER-TLV)"),
    Field("60", "n", 6, 3, "Batch number (private)"),
    Field("61", "ans", 24, 3, "Original transaction for void/refund (private)"),
    Field("70", "n", 3, 0, "Network management information code"),
    Field("74", "n", 10, 0, "Credits, number"),
    Field("76", "n", 10, 0, "Debits, number"),
    Field("86", "n", 16, 0, "Credits, amount"),
    Field("88", "n", 16, 0, "Debits, amount"),
    Field("90", "n", 42, 0, "Original data elements"),
)
FIELDS: Mapping[str, Field] = {f.number: f for f in _FIELD_LIST}
SPEC: Mapping[str, Mapping[str, Any]] = {"h": {"data_enc": "ascii", "len_enc": "ascii", "len_type": 0,
                                              "max_len": 0, "desc": "Message header (none)"},
                                        **{f.number: f.pyiso8583() for f in _FIELD_LIST}}
_BINARY = frozenset(f.number for f in _FIELD_LIST if f.binary)
_Z = re.compile(r"[0-9=D]*")
#: Is ``value`` made of the characters of ISO type n / an / ans / z? (str methods: ~10x a regex)
_CHARSET: Mapping[str, Callable[[str], bool]] = {
    "n": lambda v: v.isascii() and (v.isdigit() or not v),
    "an": lambda v: v.isascii() and (v.replace(" ", "").isalnum() or not v.strip()),
    "ans": lambda v: v.isascii() and v.isprintable(),
    "z": lambda v: _Z.fullmatch(v) is not None,
}



class MTI:
    """The message types this host answers (ISO 8583:1987, version digit 0)."""

    AUTHORIZATION = "0100"
    FINANCIAL = "0200"
    ADVICE = "0220"  # an offline approval told afterwards (electronic cash): posted, never refused
    REVERSAL = "0400"
    SETTLEMENT = "0500"
    NETWORK = "0800"


class TxnType(enum.Enum):
    """The first two digits of field 3 (the rest are from/to account types, 00 = default).

    A pre-authorization completion is a 0200 PURCHASE with field 25 = 06 and field 38 = the
    pre-authorization's code; balance inquiry is 30 (debit) or 31 (credit), either MTI.
    """

    PURCHASE = "00"
    VOID = "02"
    PREAUTH = "03"
    REFUND = "20"
    EC_LOAD = "28"  # electronic cash top-up: the account pays for the card's EC balance
    BALANCE = "30"
    BALANCE_CREDIT = "31"
    PURSE_LOAD = "60"  # transit purse top-up: field 2 = the purse serial X (16 digits), 55 = PurseLoadData


#: Network management codes (field 70).
SIGN_ON, SIGN_OFF, ECHO = "001", "002", "301"
COMPLETION_CONDITION = "06"  # field 25 of a pre-authorization completion

#: The response codes this host answers with (docs/host.md says when).
RESPONSE_CODES: Mapping[str, str] = {
    "00": "approved", "05": "do not honour", "12": "invalid transaction", "13": "invalid amount",
    "14": "invalid card number", "25": "unable to locate original", "30": "format error",
    "51": "insufficient funds", "54": "expired card", "55": "incorrect PIN", "61": "exceeds amount limit",
    "75": "allowable number of PIN tries exceeded", "91": "issuer unavailable", "94": "duplicate transmission",
    "95": "reconcile error (settlement out of balance)", "96": "system malfunction",
}


def response_mti(mti: str) -> str:
    """0100 → 0110, 0200 → 0210 ...: the request's MTI with the function digit set to response."""
    return mti[:2] + str(int(mti[2]) + 1) + mti[3]


def _check(number: str, value: object) -> str:
    """The value as pyiso8583 takes it (hex for binary), or HostMessageError naming the field.

    On every field of every message sent, so it reads a precomputed rule instead of the Field."""
    rule = _RULES.get(number)
    if rule is None:
        raise HostMessageError(f"field {number} is not in the cardkit host layout")
    charset, length, variable = rule
    if charset is None:
        if not isinstance(value, bytes | bytearray):
            raise HostMessageError(f"field {number} ({FIELDS[number].name}) must be bytes")
        text = value.hex()
    else:
        if not isinstance(value, str):
            raise HostMessageError(f"field {number} ({FIELDS[number].name}) must be str")
        if not charset(value):
            raise HostMessageError(f"field {number} ({FIELDS[number].name}) has characters outside ISO type "
                                   f"{FIELDS[number].iso_type}")
        text = value
    if len(value) > length if variable else len(value) != length:
        kind = "at most" if variable else "exactly"
        raise HostMessageError(f"field {number} ({FIELDS[number].name}) must be {kind} {length} long, "
                               f"not {len(value)}")
    return text


_RULES: Mapping[str, tuple[Callable[[str], bool] | None, int, bool]] = {
    f.number: (None if f.binary else _CHARSET[f.iso_type], f.length, bool(f.prefix)) for f in _FIELD_LIST}


def encode_message(fields: Mapping[str, str | bytes]) -> bytes:
    """One message (no length header) from a field dict.

    Raises:
        HostMessageError: no MTI, a field outside the layout, a wrong type, length or character.
    """
    if "t" not in fields:
        raise HostMessageError("a message needs an MTI (key 't')")
    doc = {number: _check(number, value) for number, value in fields.items() if number not in ("p", "1")}
    try:
        raw, _ = iso8583.encode(doc, SPEC)
    except EncodeError as exc:
        raise HostMessageError(f"cannot encode: {exc.msg} (field {exc.field})") from None
    return bytes(raw)


def decode_message(raw: bytes) -> Fields:
    """A field dict from one message (no length header); bitmaps are not returned.

    Raises:
        HostMessageError: truncated, trailing bytes, a field outside the layout, a bad value.
    """
    try:
        doc, _ = iso8583.decode(bytes(raw), SPEC)
    except DecodeError as exc:
        raise HostMessageError(f"cannot decode: {exc.msg} (field {exc.field}, offset {exc.pos})") from None
    except KeyError as exc:
        raise HostMessageError(f"field {exc.args[0]} is not in the cardkit host layout") from None
    out: Fields = {}
    for number, value in doc.items():  # pyiso8583 checked the lengths; the characters are ours to check
        if number in _BINARY:
            if number not in ("p", "1"):
                out[number] = bytes.fromhex(value)
        elif number != "h":
            if not _CHARSET[FIELDS[number].iso_type](value):
                raise HostMessageError(f"field {number} has characters outside ISO type {FIELDS[number].iso_type}")
            out[number] = value
    return out


def frame(raw: bytes) -> bytes:
    """The message as it goes over TCP: 2-byte big-endian length, then the message."""
    if len(raw) > MAX_MESSAGE:
        raise HostMessageError(f"a message is at most {MAX_MESSAGE} bytes, not {len(raw)}")
    return struct.pack(">H", len(raw)) + raw


# ----------------------------------------------------------------------- composite private fields
@dataclass(frozen=True, slots=True)
class AdditionalAmount:
    """One 20-character entry of field 54: account type 2, amount type 2, currency 3, C/D, amount 12.

    Account types: 10 savings (debit card), 30 credit; amount types: 01 ledger, 02 available.
    ``amount`` is signed minor units (C = positive, D = negative).
    """

    account_type: str
    amount_type: str
    currency: str
    amount: int

    def __str__(self) -> str:
        sign = "C" if self.amount >= 0 else "D"
        return f"{self.account_type}{self.amount_type}{self.currency}{sign}{abs(self.amount):012d}"

    @staticmethod
    def parse_all(text: str) -> list[AdditionalAmount]:
        if len(text) % 20:
            raise HostMessageError("field 54 is a sequence of 20-character entries")
        out = []
        for i in range(0, len(text), 20):
            e = text[i:i + 20]
            if e[7] not in "CD" or not e[8:].isdigit():
                raise HostMessageError("field 54 entry has a bad sign or amount")
            out.append(AdditionalAmount(e[:2], e[2:4], e[4:7], int(e[8:]) * (1 if e[7] == "C" else -1)))
        return out


@dataclass(frozen=True, slots=True)
class OriginalData:
    """Field 90 of a reversal: original MTI 4, STAN 6, transmission date-time 10, acquirer id 11,
    forwarding id 11 (zeros when unused). The original's terminal is field 41 of the 0400."""

    mti: str
    stan: str
    transmitted: str
    acquirer: str = "0" * 11
    forwarder: str = "0" * 11

    def __str__(self) -> str:
        return f"{self.mti}{self.stan}{self.transmitted}{self.acquirer:>011}{self.forwarder:>011}"

    @staticmethod
    def parse(text: str) -> OriginalData:
        if len(text) != 42 or not text.isdigit():
            raise HostMessageError("field 90 is 42 digits")
        return OriginalData(text[:4], text[4:10], text[10:20], text[20:31], text[31:42])


@dataclass(frozen=True, slots=True)
class OriginalReference:
    """Field 61 of a void or a refund: original STAN 6, transmission date-time 10, and optionally
    the original terminal 8 (default: this message's field 41)."""

    stan: str
    transmitted: str
    tid: str = ""

    def __str__(self) -> str:
        return f"{self.stan}{self.transmitted}{self.tid}"

    @staticmethod
    def parse(text: str) -> OriginalReference:
        if len(text) not in (16, 24) or not text[:16].isdigit():
            raise HostMessageError("field 61 is the original STAN (6) and date-time (10), then an optional TID (8)")
        return OriginalReference(text[:6], text[6:16], text[16:])


@dataclass(frozen=True, slots=True)
class PurseLoadData:
    """Field 55 of a purse top-up (private tags): what the card's INITIALIZE FOR LOAD answered and
    when CREDIT FOR LOAD will be sent, so the issuer can check MAC1 and compute MAC2 (returned in
    DF69 of the reply's field 55). DF61 random 4, DF62 online counter 2, DF63 old balance 4,
    DF64 MAC1 4, DF65 terminal id 6, DF66 date and time YYYYMMDDhhmmss 7, DF67 algorithm 1,
    DF68 key version 1."""

    random: bytes
    online_counter: int
    old_balance: int
    mac1: bytes
    terminal_id: bytes
    when: str  # YYYYMMDDhhmmss
    algorithm: int = 0
    key_version: int = 1

    MAC2_TAG = 0xDF69

    def to_bytes(self) -> bytes:
        from cardkit import tlv

        return b"".join((
            tlv.build(0xDF61, self.random), tlv.build(0xDF62, self.online_counter.to_bytes(2, "big")),
            tlv.build(0xDF63, self.old_balance.to_bytes(4, "big")), tlv.build(0xDF64, self.mac1),
            tlv.build(0xDF65, self.terminal_id), tlv.build(0xDF66, bytes.fromhex(self.when)),
            tlv.build(0xDF67, bytes((self.algorithm,))), tlv.build(0xDF68, bytes((self.key_version,))),
        ))

    @staticmethod
    def parse(raw: bytes) -> PurseLoadData:
        from cardkit import tlv
        from cardkit.errors import TlvError

        try:
            d = {int.from_bytes(t, "big"): v for t, v in tlv.flatten(raw).items()}
            sizes = {0xDF61: 4, 0xDF62: 2, 0xDF63: 4, 0xDF64: 4, 0xDF65: 6, 0xDF66: 7, 0xDF67: 1, 0xDF68: 1}
            if any(len(d.get(tag, b"")) != n for tag, n in sizes.items()):
                raise HostMessageError("field 55 of a purse load lacks a DF61..DF68 element or has a bad length")
        except TlvError:
            raise HostMessageError("field 55 of a purse load is not BER-TLV") from None
        return PurseLoadData(d[0xDF61], int.from_bytes(d[0xDF62], "big"), int.from_bytes(d[0xDF63], "big"),
                             d[0xDF64], d[0xDF65], d[0xDF66].hex(), d[0xDF67][0], d[0xDF68][0])


@dataclass(frozen=True, slots=True)
class SettlementTotals:
    """A batch's totals in a 0500/0510: debits = purchases, completions and EC loads; credits =
    refunds; voided and reversed ones excluded. Amounts in minor units."""

    debits: int = 0
    debits_amount: int = 0
    credits: int = 0
    credits_amount: int = 0

    def fields(self) -> Fields:
        return {"74": f"{self.credits:010d}", "76": f"{self.debits:010d}",
                "86": f"{self.credits_amount:016d}", "88": f"{self.debits_amount:016d}"}

    @staticmethod
    def of(fields: Mapping[str, str | bytes]) -> SettlementTotals:
        try:
            return SettlementTotals(int(fields["76"]), int(fields["88"]), int(fields["74"]), int(fields["86"]))
        except KeyError as exc:
            raise HostMessageError(f"settlement needs field {exc.args[0]}") from None
