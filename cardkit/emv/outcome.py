"""The result of one EMV transaction: what happened, why, and every data element a receipt, a
journal or an ISO 8583 field 55 needs.

A :class:`TransactionOutcome` is a frozen value, built once at the end of :meth:`Kernel.run`. It
holds the card's and the terminal's data by tag (``data``), so a POS never reaches back into
the kernel, and it never holds a PIN or a PIN block.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from cardkit import tlv
from cardkit.crypto.oda import OdaMethod, OdaReason
from cardkit.emv.tvr import CvmResults, Tsi, Tvr
from cardkit.errors import CardkitError

__all__ = ["FIELD55_TAGS", "CardDataError", "OutcomeKind", "TransactionEnded", "TransactionOutcome", "mask_pan"]


class OutcomeKind(enum.Enum):
    """What the terminal does next (Book 4 §6.3, EMV contactless Book A §6.2 outcomes)."""

    APPROVED_OFFLINE = "approved-offline"
    APPROVED_ONLINE = "approved-online"
    DECLINED_OFFLINE = "declined-offline"
    DECLINED_ONLINE = "declined-online"
    ONLINE_REQUEST = "online-request"  # contactless: the card's ARQC waits for the host (no callback given)
    TRY_ANOTHER_INTERFACE = "try-another-interface"
    END_APPLICATION = "end-application"  # the transaction was terminated (card error, missing data ...)
    NOT_ACCEPTED = "not-accepted"  # no application on the card that the terminal supports

    @property
    def approved(self) -> bool:
        return self in (OutcomeKind.APPROVED_OFFLINE, OutcomeKind.APPROVED_ONLINE)


class TransactionEnded(CardkitError):
    """A step ended the transaction with an EMV outcome (not a malfunction of cardkit).

    :meth:`Kernel.run` turns it into a :class:`TransactionOutcome`; callers that drive the steps
    one by one catch it themselves.
    """

    def __init__(self, kind: OutcomeKind, reason: str) -> None:
        self.kind = kind
        self.reason = reason
        super().__init__(f"{kind.value}: {reason}")


class CardDataError(CardkitError):
    """The card answered 9000 but its data breaks the EMV rules (malformed template, missing or
    duplicated mandatory data, a cryptogram stronger than requested). EMV terminates the
    transaction; :meth:`Kernel.run` reports it as :attr:`OutcomeKind.END_APPLICATION`."""


#: The ICC system related data of ISO 8583 field 55 as UnionPay and most acquirers ask for it.
FIELD55_TAGS: tuple[int, ...] = (
    0x9F26, 0x9F27, 0x9F10, 0x9F37, 0x9F36, 0x95, 0x9A, 0x9C, 0x9F02, 0x5F2A, 0x82, 0x9F1A, 0x9F03,
    0x9F33, 0x9F34, 0x9F35, 0x9F1E, 0x84, 0x9F09, 0x9F41, 0x9F63,
)


def mask_pan(pan: str) -> str:
    """``6212345678901234567`` -> ``621234*********4567`` (first 6 and last 4 digits, PCI DSS 3.4)."""
    if len(pan) <= 10:
        return "*" * len(pan)
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


@dataclass(frozen=True, slots=True)
class TransactionOutcome:
    """How one transaction ended.

    Attributes:
        kind: the outcome.
        reason: one human line saying why (never holds a PIN or key).
        tvr, tsi, cvm_results: the final 95, 9B and 9F34.
        aid, label: the selected application (84 / 50), empty when none was selected.
        oda_method, oda_failure: the ODA method run (``None``: none) and why it failed (``None``: it
            did not fail).
        data: every data element by tag as an int (``0x9F26``): the terminal's, the card's and
            the cryptograms.
        signature_required: a signature line must be printed.
        online_pin: an online PIN was entered (it went to the host, not into this object).
        response_code: the authorisation response code (8A) as text, e.g. ``"00"``, ``"Y3"``.
        script_results: the issuer script results (9F5B), 5 bytes per script.
        contactless: the transaction ran over the contactless path.
    """

    kind: OutcomeKind
    reason: str
    tvr: Tvr = Tvr(0)
    tsi: Tsi = Tsi(0)
    cvm_results: CvmResults = field(default_factory=CvmResults)
    aid: bytes = b""
    label: str = ""
    oda_method: OdaMethod | None = None
    oda_failure: OdaReason | None = None
    data: Mapping[int, bytes] = field(default_factory=dict)
    signature_required: bool = False
    online_pin: bool = False
    response_code: str = ""
    script_results: bytes = b""
    contactless: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", MappingProxyType(dict(self.data)))

    @property
    def approved(self) -> bool:
        return self.kind.approved

    def get(self, tag: int) -> bytes | None:
        return self.data.get(tag)

    def icc_data(self, tags: Iterable[int] = FIELD55_TAGS) -> bytes:
        """BER-TLV of ``tags`` that are present, in that order: ISO 8583 field 55."""
        return b"".join(tlv.build(t, self.data[t]) for t in tags if t in self.data)

    @property
    def pan(self) -> str:
        """The PAN digits from 5A, else from track 2 (57); empty when the card gave neither."""
        raw = self.data.get(0x5A)
        if raw:
            return raw.hex().upper().rstrip("F")
        track2 = self.data.get(0x57)
        if track2:
            return track2.hex().upper().split("D", 1)[0]
        return ""

    def masked_pan(self) -> str:
        """The PAN for a receipt: first 6 and last 4 digits."""
        return mask_pan(self.pan)

    @property
    def amount(self) -> int:
        """Amount authorised (9F02) in minor units."""
        raw = self.data.get(0x9F02)
        return int(raw.hex()) if raw else 0

    @property
    def cryptogram(self) -> bytes:
        """The last application cryptogram (9F26)."""
        return self.data.get(0x9F26, b"")
