"""A clinic's medical payment from the social insurance application, journaled.

PIN, then the payment (INITIALIZE → the SAM's MAC1 → DEBIT → MAC2 and TAC checked by the SAM),
then the journal entry (kind ``medical``) and a short slip. The card decides offline — the medical
account and its log are on the card — so, like a transit gate, the terminal journals after the
card answered: the card's log is the record of what was paid. A refusal (wrong or blocked PIN,
balance too low, a MAC refused) is a declined entry with the reason, and nothing is debited.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from cardkit.emv.outcome import mask_pan
from cardkit.social import (
    SOCIAL_AID,
    InsufficientBalance,
    MacInvalid,
    PaymentResult,
    PinBlocked,
    SocialClient,
    SocialSam,
    WrongPin,
)
from pos_sim.journal import Journal, JournalEntry
from pos_sim.receipt.model import KIND_LABELS

__all__ = ["MedicalPayment", "pay_medical", "pin_refusal"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MedicalPayment:
    approved: bool
    reason: str
    entry: JournalEntry | None
    card_number: str
    result: PaymentResult | None = None

    def slip(self, clinic: str = "DEMO CLINIC") -> str:
        """The clinic's short slip (the card number masked)."""
        lines = [clinic, KIND_LABELS["medical"], f"CARD   {mask_pan(self.card_number)}"]
        if self.entry is not None:
            lines.append(f"AMOUNT CNY {_money(self.entry.amount)}")
            lines.append(f"TRACE  {self.entry.stan}")
        if self.result is not None:
            lines += [f"BAL    CNY {_money(self.result.balance_after)}", f"TAC    {self.result.tac.hex().upper()}"]
        if not self.approved:
            lines.append(f"DECLINED — {self.reason}")
        return "\n".join(lines)


def _money(fen: int) -> str:
    return f"{Decimal(fen).scaleb(-2):.2f}"


def pin_refusal(client: SocialClient, pin: str) -> str | None:
    """VERIFY the holder's PIN: ``None`` when accepted, else the one line to show (never the PIN)."""
    try:
        client.verify_pin(pin)
    except WrongPin as exc:
        return f"wrong PIN: {exc.tries_left} {'try' if exc.tries_left == 1 else 'tries'} left"
    except PinBlocked:
        return "the PIN is blocked: the issuer must unblock it"
    return None


def pay_medical(client: SocialClient, amount: int, pin: str, sam: SocialSam, journal: Journal,
                when: datetime) -> MedicalPayment:
    """Verify the PIN and debit ``amount`` fen from the medical account.

    Raises:
        SocialError: the card refused something other than the PIN, the balance or a MAC.
        TransportError: the card left (the card's log says whether it paid).
    """
    card = client.select()
    refused = pin_refusal(client, pin)
    if refused is not None:
        return MedicalPayment(False, refused, None, card.card_number)
    try:
        result = client.pay(amount, sam, when)
    except (InsufficientBalance, MacInvalid) as exc:
        reason = "insufficient medical balance" if isinstance(exc, InsufficientBalance) else "MAC refused"
        entry = journal.begin(kind="medical", amount=amount, stan=journal.next_stan(), request={},
                              pan_masked=mask_pan(card.card_number), scheme="Social", aid=SOCIAL_AID.hex().upper(),
                              label="SOCIAL")
        entry = journal.decline(entry.id, response=None, response_code="51" if isinstance(exc, InsufficientBalance)
                                else "A0", outcome=None, reason=reason)
        journal.mark_printed(entry.id)
        return MedicalPayment(False, reason, entry, card.card_number)
    entry = journal.begin(kind="medical", amount=amount, stan=journal.next_stan(), request={},
                          pan_masked=mask_pan(card.card_number), scheme="Social", aid=SOCIAL_AID.hex().upper(),
                          label="SOCIAL")
    entry = journal.approve(entry.id, response={}, auth_code="", response_code="00", rrn=None, outcome={
        "balance": result.balance_after, "counter": result.counter, "terminal_txn_no": result.terminal_txn_no,
        "tac": result.tac.hex().upper(), "mac2": result.mac2.hex().upper()})
    journal.mark_printed(entry.id)
    log.info("medical payment of %d fen approved, balance %d", amount, result.balance_after)
    return MedicalPayment(True, "approved", entry, card.card_number, result)
