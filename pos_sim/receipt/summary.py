"""The glue between a transaction and its slip: the outcome summary the journal keeps, and a
:class:`Receipt` built from a journal entry.

The journal stores what the receipt needs as a small JSON-able dict (``JournalEntry.outcome``) so
a receipt can be printed or reprinted after a crash from the journal alone, without the kernel's
:class:`~cardkit.emv.outcome.TransactionOutcome` (which holds every data element, the full PAN
among them). :func:`outcome_summary` makes that dict; :func:`receipt_from_entry` reads it.

Summary keys (all optional when reading): ``cryptogram_type`` ("TC"/"ARQC"/"AAC"),
``cryptogram``, ``tvr``, ``tsi``, ``atc`` (hex), ``cvm`` (a :class:`Cvm` name), ``entry_mode``
("chip"/"contactless"), ``balance`` (minor units), ``decline_reason`` and ``outcome`` (the
EMV outcome kind).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cardkit.emv.outcome import TransactionOutcome
from cardkit.emv.tvr import Cid, CryptogramType, CvmResult
from pos_sim.journal import EntryStatus, JournalEntry, minor_to_decimal
from pos_sim.receipt.model import Copy, Cvm, Receipt, ReceiptError

__all__ = ["Merchant", "outcome_summary", "receipt_from_entry"]

_ALPHA_CURRENCY = {"156": "CNY", "344": "HKD", "446": "MOP", "840": "USD", "978": "EUR", "392": "JPY"}
_OFFLINE_PIN_METHODS = frozenset({0x01, 0x03, 0x04, 0x05})
_ONLINE_PIN_METHOD = 0x02
_SIGNATURE_METHOD = 0x1E
_PRINTABLE = (EntryStatus.APPROVED, EntryStatus.DECLINED, EntryStatus.VOIDED)


@dataclass(frozen=True, slots=True)
class Merchant:
    """Who prints the slip: the acquirer's merchant and terminal identifiers."""

    name_zh: str
    name_en: str
    mid: str  # merchant id, ISO 8583 field 42 (15 characters)
    tid: str  # terminal id, field 41 (8 characters)
    operator: str = "01"


def _cvm(outcome: TransactionOutcome) -> Cvm:
    method = outcome.cvm_results.method & 0x3F
    if outcome.online_pin or method == _ONLINE_PIN_METHOD:
        return Cvm.PIN_ONLINE
    if method in _OFFLINE_PIN_METHODS and outcome.cvm_results.result is CvmResult.SUCCESSFUL:
        return Cvm.SIGNATURE if outcome.signature_required else Cvm.PIN_OFFLINE
    if outcome.signature_required or method == _SIGNATURE_METHOD:
        return Cvm.SIGNATURE
    return Cvm.NO_CVM


def outcome_summary(outcome: TransactionOutcome, *, balance: int | None = None) -> dict[str, Any]:
    """What the receipt needs from an EMV outcome, JSON-able and free of PAN and PIN data.

    Args:
        balance: the balance in minor units when the host told it (ISO 8583 field 54); else the
            card's electronic cash balance (9F79) is used when the card gave one.
    """
    summary: dict[str, Any] = {
        "outcome": outcome.kind.value,
        "tvr": outcome.tvr.to_bytes().hex().upper(),
        "tsi": outcome.tsi.to_bytes().hex().upper(),
        "cvm": _cvm(outcome).name,
        "entry_mode": "contactless" if outcome.contactless else "chip",
        "label": outcome.label,
        "aid": outcome.aid.hex().upper(),
    }
    cid, cryptogram, atc = outcome.get(0x9F27), outcome.get(0x9F26), outcome.get(0x9F36)
    if cid and cryptogram:
        kind = Cid.from_bytes(cid[:1]).type
        summary["cryptogram_type"] = "AAC" if kind is CryptogramType.AAR else kind.name
        summary["cryptogram"] = cryptogram.hex().upper()
    if atc:
        summary["atc"] = atc.hex().upper()
    if balance is None and (ec_balance := outcome.get(0x9F79)):
        balance = int(ec_balance.hex())
    if balance is not None:
        summary["balance"] = balance
    if not outcome.approved:
        summary["decline_reason"] = outcome.reason
    return summary


def receipt_from_entry(
    entry: JournalEntry, merchant: Merchant, *, copy: Copy, reprint: bool = False, when: datetime | None = None,
) -> Receipt:
    """The slip of a journal entry (APPROVED, DECLINED, or an approved entry voided since).

    ``when`` defaults to the entry's last update in the machine's local time.

    Raises:
        ReceiptError: the entry has no outcome to print yet (pending or reversed).
    """
    if entry.status not in _PRINTABLE:
        raise ReceiptError(f"journal entry #{entry.id} is {entry.status.value}: there is no receipt to print")
    s: dict[str, Any] = dict(entry.outcome or {})
    approved = entry.status is not EntryStatus.DECLINED
    reason = s.get("decline_reason") or f"response code {entry.response_code or '??'}"
    balance = s.get("balance")
    return Receipt(
        merchant_name_zh=merchant.name_zh, merchant_name_en=merchant.name_en, mid=merchant.mid, tid=merchant.tid,
        operator=merchant.operator, batch=entry.batch, trace=entry.stan, rrn=entry.rrn,
        when=when or entry.updated.astimezone(), pan_masked=entry.pan_masked, label=entry.label, aid=entry.aid,
        kind=entry.kind, amount=minor_to_decimal(entry.amount, entry.currency),
        currency=_ALPHA_CURRENCY.get(entry.currency, entry.currency), auth_code=entry.auth_code,
        cryptogram_type=s.get("cryptogram_type", ""), cryptogram=s.get("cryptogram", ""), tvr=s.get("tvr", ""),
        tsi=s.get("tsi", ""), atc=s.get("atc", ""), cvm=Cvm[s.get("cvm", "NO_CVM")],
        balance=None if balance is None else minor_to_decimal(int(balance), entry.currency),
        approved=approved, decline_reason=None if approved else reason, response_code=entry.response_code,
        entry_mode=s.get("entry_mode", "chip"), copy=copy, reprint=reprint,
    )
