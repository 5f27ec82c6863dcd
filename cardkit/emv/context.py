"""The working state of one transaction, shared by the kernel's steps.

Each step reads and writes a :class:`Transaction`: the terminal's data, the card's data, the
TVR/TSI/CVM results and what the steps learned (AIP, AFL, the ODA keys, the DOL data sent). It is
deliberately mutable and private to one run; the frozen :class:`TransactionOutcome` is what leaves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from cardkit.crypto.oda import OdaMethod, OdaReason, RecoveredIccKey
from cardkit.crypto.pin import PinBlock
from cardkit.emv.config import bcd
from cardkit.emv.outcome import OutcomeKind, TransactionEnded, TransactionOutcome
from cardkit.emv.selection import Candidate
from cardkit.emv.tvr import CvmResults, Tsi, Tvr

__all__ = ["Amount", "Transaction", "to_minor_units"]

Amount = int | Decimal


def to_minor_units(amount: Amount, exponent: int) -> int:
    """An amount as integer minor units: ints are minor units already, Decimals are major units.

    Raises:
        TypeError: a float (binary fractions do not hold money) or a bool.
        ValueError: negative, more decimals than the currency has, or over 12 digits (n12).
    """
    if isinstance(amount, bool) or not isinstance(amount, int | Decimal):
        raise TypeError(f"amount must be int minor units or Decimal, not {type(amount).__name__}")
    if isinstance(amount, Decimal):
        scaled = amount.scaleb(exponent)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"amount {amount} has more than {exponent} decimals")
        minor = int(scaled)
    else:
        minor = amount
    if not 0 <= minor < 10**12:
        raise ValueError(f"amount {amount} is outside 0..999999999999 minor units")
    return minor


@dataclass(eq=False)
class Transaction:
    """Everything one transaction knows, step by step.

    ``terminal`` and ``card`` map raw tags to values. :meth:`values` merges them with the live
    95/9B/9F34 for building DOL data.
    """

    amount: int
    other_amount: int = 0
    transaction_type: int = 0x00
    contactless: bool = False
    when: datetime = field(default_factory=datetime.now)
    terminal: dict[bytes, bytes] = field(default_factory=dict)
    card: dict[bytes, bytes] = field(default_factory=dict)
    tvr: Tvr = Tvr(0)
    tsi: Tsi = Tsi(0)
    cvm_results: CvmResults = field(default_factory=CvmResults)
    candidates: list[Candidate] = field(default_factory=list)
    candidates_built: bool = False  # the list is built once; GPO 6985 removes from it (Book 3 §10.1)
    application: Candidate | None = None
    aip: bytes = b"\x00\x00"
    afl: bytes = b""
    pdol_data: bytes = b""
    cdol1_data: bytes = b""
    cdol2_data: bytes = b""
    records: list[tuple[int, bytes]] = field(default_factory=list)  # the ODA records, AFL order
    all_records: list[tuple[int, int, bytes]] = field(default_factory=list)  # (sfi, number, bytes)
    oda_method: OdaMethod | None = None
    oda_failure: OdaReason | None = None
    icc_key: RecoveredIccKey | None = None
    cda_requested: bool = False  # ODA chose CDA and its keys were recovered
    cda_performed: bool = False  # the last GENERATE AC asked for a CDA signature
    pin_block: PinBlock | None = field(default=None, repr=False)
    signature_required: bool = False
    force_online: bool = False
    response_code: str = ""
    cryptogram_tvr: bytes | None = None  # contactless: the 95 the card's cryptogram covers (PDOL time)
    script_results: bytearray = field(default_factory=bytearray)

    def __post_init__(self) -> None:
        self.terminal.setdefault(b"\x9f\x02", bcd(self.amount, 6))
        self.terminal.setdefault(b"\x9f\x03", bcd(self.other_amount, 6))
        self.terminal.setdefault(b"\x9c", bytes((self.transaction_type,)))
        self.terminal.setdefault(b"\x9a", bytes.fromhex(self.when.strftime("%y%m%d")))
        self.terminal.setdefault(b"\x9f\x21", bytes.fromhex(self.when.strftime("%H%M%S")))

    # ------------------------------------------------------------------------------------ data
    def values(self) -> dict[bytes, bytes]:
        """Card data, then terminal data over it, then the live TVR, TSI and CVM results.

        After a qPBOC GPO, 95 stays what the card's cryptogram covered (``cryptogram_tvr``), so an
        issuer rebuilding the AC from field 55 sees the same bytes; ``tvr`` keeps the kernel's view.
        """
        out = dict(self.card)
        out.update(self.terminal)
        out[b"\x95"] = self.cryptogram_tvr if self.cryptogram_tvr is not None else self.tvr.to_bytes()
        out[b"\x9b"] = self.tsi.to_bytes()
        out[b"\x9f\x34"] = self.cvm_results.to_bytes()
        return out

    def get(self, tag: bytes) -> bytes | None:
        """One value: terminal first (it owns 9F02, 9F37 ...), then the card."""
        return self.terminal.get(tag, self.card.get(tag))

    @property
    def pan(self) -> bytes:
        return self.card.get(b"\x5a", b"")

    @property
    def today(self) -> datetime:
        return self.when

    @property
    def aid(self) -> bytes:
        if self.application is None:
            return b""
        return self.card.get(b"\x84", self.application.aid)

    # ------------------------------------------------------------------------------- endings
    def end(self, kind: OutcomeKind, reason: str) -> TransactionEnded:
        """The exception a step raises to stop here with ``kind``."""
        return TransactionEnded(kind, reason)

    def outcome(self, kind: OutcomeKind, reason: str) -> TransactionOutcome:
        """Freeze the state into the outcome value (no PIN block, no keys)."""
        data = {int.from_bytes(tag, "big"): value for tag, value in self.values().items()}
        if self.application is not None:
            data.setdefault(0x84, self.application.aid)
            data.setdefault(0x4F, self.application.aid)
            data.setdefault(0x9F06, self.application.aid)
            if self.application.label and 0x50 not in data:
                data[0x50] = self.application.label.encode("ascii", "replace")
        if self.response_code:
            data[0x8A] = self.response_code.encode("ascii")
        if self.script_results:
            data[0x9F5B] = bytes(self.script_results)
        return TransactionOutcome(
            kind=kind,
            reason=reason,
            tvr=self.tvr,
            tsi=self.tsi,
            cvm_results=self.cvm_results,
            aid=self.aid,
            label=self.application.label if self.application else "",
            oda_method=self.oda_method,
            oda_failure=self.oda_failure,
            data=data,
            signature_required=self.signature_required,
            online_pin=Tvr.ONLINE_PIN_ENTERED in self.tvr,
            response_code=self.response_code,
            script_results=bytes(self.script_results),
            contactless=self.contactless,
        )
