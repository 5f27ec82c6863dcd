"""The receipt as a value: what a POS slip (签购单) says, validated once so every renderer can trust it.

A :class:`Receipt` refuses what must never be printed or printed wrong: an unmasked PAN, a float
amount (``0.1 + 0.2`` is not a price), an amount with fractions of a cent, control characters
that would break the layout. Text is NFC-normalised so a width computed here is the width printed.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from cardkit.errors import CardkitError
from pos_sim.journal import KINDS

__all__ = ["KIND_LABELS", "Copy", "Cvm", "Receipt", "ReceiptError", "format_amount"]


class ReceiptError(CardkitError, ValueError):
    """A receipt that cannot be built or rendered (bad field, missing Pillow or font)."""


#: How each journal kind is printed: Chinese first, then English.
KIND_LABELS: dict[str, str] = {
    "sale": "消费 SALE",
    "refund": "退货 REFUND",
    "void": "撤销 VOID",
    "preauth": "预授权 PRE-AUTH",
    "completion": "预授权完成 COMPLETION",
    "balance": "余额查询 BALANCE",
    "ec_load": "圈存 EC LOAD",
    "fare": "乘车 FARE",
    "purse_load": "充值 TOP-UP",
    "medical": "医保支付 MEDICAL",
}
assert set(KIND_LABELS) == set(KINDS), "a journal kind without a receipt label"

#: Kinds that give money back to the card: their amount prints with a minus sign.
CREDIT_KINDS = frozenset({"refund", "void"})


class Copy(enum.Enum):
    """Which copy of the slip: the merchant keeps one, the cardholder takes the other."""

    MERCHANT = "商户存根 MERCHANT COPY"
    CUSTOMER = "持卡人存根 CARDHOLDER COPY"


class Cvm(enum.Enum):
    """How the cardholder was verified, as the slip says it."""

    PIN_OFFLINE = "PIN verified (offline)"
    PIN_ONLINE = "PIN verified (online)"
    SIGNATURE = "持卡人签名 CARDHOLDER SIGNATURE"
    NO_CVM = "No CVM (small amount)"


_CRYPTOGRAM_TYPES = ("TC", "ARQC", "AAC")
_ENTRY_MODES = ("chip", "contactless")
_MASKED_PAN = re.compile(r"\d{6}\*{2,9}\d{4}")
_HEX_LENGTHS = {"aid": (10, 32), "cryptogram": (16, 16), "tvr": (10, 10), "tsi": (4, 4), "atc": (4, 4)}
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})  # controls, unassigned, line breaks
_CENT = Decimal("0.01")
_MAX_AMOUNT = Decimal("9999999999.99")  # ISO 8583 field 4 is n12 minor units


def format_amount(amount: Decimal) -> str:
    """Exactly two decimals, no exponent, no thousands separator: ``Decimal("12.5")`` -> ``"12.50"``.

    Raises:
        ReceiptError: not a Decimal, not finite, or finer than a cent (it is never rounded away).
    """
    _check_amount("amount", amount, signed=True)
    return f"{amount.quantize(_CENT):f}".replace("-0.00", "0.00")


def _check_amount(name: str, value: object, *, signed: bool) -> None:
    if not isinstance(value, Decimal):
        raise ReceiptError(f"{name} must be a Decimal (exact), not {type(value).__name__} {value!r}")
    if not value.is_finite():
        raise ReceiptError(f"{name} must be a finite amount, not {value}")
    if abs(value) > _MAX_AMOUNT:
        raise ReceiptError(f"{name} {value} is more than a terminal can charge")
    if value != value.quantize(_CENT):
        raise ReceiptError(f"{name} {value} has fractions of a cent")
    if not signed and value < 0:
        raise ReceiptError(f"{name} must not be negative, not {value}")


def _clean_text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise ReceiptError(f"{name} must be text, not {type(value).__name__}")
    text = unicodedata.normalize("NFC", value)
    for ch in text:
        if unicodedata.category(ch) in _UNPRINTABLE or unicodedata.combining(ch):
            raise ReceiptError(f"{name} holds a character a receipt cannot print: U+{ord(ch):04X}")
    return text


@dataclass(frozen=True, slots=True)
class Receipt:
    """One copy of one transaction's slip.

    Amounts are :class:`~decimal.Decimal` major units (``Decimal("12.50")``); use
    :func:`pos_sim.journal.minor_to_decimal` to get one from a journal entry. The EMV fields
    (cryptogram, TVR, TSI, ATC) are upper-case hex and may be empty when the card gave none.

    Raises:
        ReceiptError: any field that would print wrong or leak (see the module docstring).
    """

    merchant_name_zh: str
    merchant_name_en: str
    mid: str
    tid: str
    batch: int
    trace: str
    when: datetime
    pan_masked: str
    label: str
    aid: str
    kind: str
    amount: Decimal
    approved: bool
    copy: Copy
    operator: str = "01"
    rrn: str | None = None
    currency: str = "CNY"
    auth_code: str | None = None
    cryptogram_type: str = ""
    cryptogram: str = ""
    tvr: str = ""
    tsi: str = ""
    atc: str = ""
    cvm: Cvm = Cvm.NO_CVM
    balance: Decimal | None = None
    decline_reason: str | None = None
    response_code: str | None = None
    entry_mode: str = "chip"
    reprint: bool = False

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            # annotations are strings here (from __future__ import annotations)
            if f.type == "str" or f.type == "str | None" and value is not None:
                object.__setattr__(self, f.name, _clean_text(f.name, value))
        if not _MASKED_PAN.fullmatch(self.pan_masked):
            raise ReceiptError("pan_masked must show the first 6 and last 4 digits only, the middle as '*'")
        _check_amount("amount", self.amount, signed=False)
        if self.balance is not None:
            _check_amount("balance", self.balance, signed=True)
        if self.kind not in KIND_LABELS:
            raise ReceiptError(f"unknown transaction kind {self.kind!r} (one of {', '.join(KIND_LABELS)})")
        if not re.fullmatch(r"\d{6}", self.trace):
            raise ReceiptError(f"trace (STAN) is 6 digits, not {self.trace!r}")
        if isinstance(self.batch, bool) or not isinstance(self.batch, int) or not 0 <= self.batch <= 999_999:
            raise ReceiptError(f"batch is a number 0..999999, not {self.batch!r}")
        if not isinstance(self.when, datetime):
            raise ReceiptError("when must be a datetime")
        if not isinstance(self.copy, Copy) or not isinstance(self.cvm, Cvm):
            raise ReceiptError("copy must be a Copy and cvm a Cvm")
        if self.entry_mode not in _ENTRY_MODES:
            raise ReceiptError(f"entry_mode is one of {_ENTRY_MODES}, not {self.entry_mode!r}")
        if self.cryptogram_type not in (*_CRYPTOGRAM_TYPES, ""):
            raise ReceiptError(f"cryptogram_type is one of {_CRYPTOGRAM_TYPES}, not {self.cryptogram_type!r}")
        if self.cryptogram and not self.cryptogram_type:
            raise ReceiptError("a cryptogram needs its cryptogram_type (TC, ARQC or AAC)")
        for name, (low, high) in _HEX_LENGTHS.items():
            value = getattr(self, name)
            if value and not (low <= len(value) <= high and re.fullmatch(r"[0-9A-Fa-f]+", value)):
                raise ReceiptError(f"{name} must be {low}..{high} hex digits, not {value!r}")
            object.__setattr__(self, name, value.upper())
        if not self.approved and not self.decline_reason:
            raise ReceiptError("a declined receipt needs a decline_reason to print")
        for name in ("merchant_name_zh", "mid", "tid"):
            if not getattr(self, name).strip():
                raise ReceiptError(f"{name} must not be empty")

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def signed_amount(self) -> str:
        """The amount as printed: ``"12.50"``, or ``"-12.50"`` for refunds and voids."""
        text = format_amount(self.amount)
        return f"-{text}" if self.kind in CREDIT_KINDS and self.amount else text

    def replace(self, **changes: Any) -> Receipt:
        """A copy with some fields changed (e.g. the other ``copy``, or ``reprint=True``), validated."""
        values = {f.name: getattr(self, f.name) for f in fields(self)} | changes
        return Receipt(**values)
