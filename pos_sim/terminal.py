"""The POS device: sale, refund, void, pre-authorization and completion, balance inquiry, electronic-
cash top-up, settlement — the EMV kernel on one side, the ISO 8583 host on the other, the journal
in between.

The durability rule (docs/pos.md): an online transaction is written to the journal as PENDING
*before* its request leaves, and its outcome is committed before a receipt can print. Whatever
is PENDING when the terminal starts again had an unknown outcome, so :meth:`Terminal.recover`
turns it into a reversal; reversals are retried (at every start and before every transaction)
until the host acknowledges them. A lost host reply, a card that declines after the host approved
(second GENERATE AC = AAC) and a card pulled out mid-transaction all end the same way: reversed.
So a kill -9 anywhere between tap and receipt never charges a card twice, and an approval the
journal committed is never lost (its receipt is reprinted at start-up when it never printed).

The journal never holds a full PAN or a PIN block; a reversal therefore identifies its original
by field 90 (MTI, STAN, transmission time) and the TID, as ISO 8583 intends.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from cardkit import tlv
from cardkit.emv import Amount, Kernel, OnlineRequest, OnlineResponse, TransactionOutcome, to_minor_units
from cardkit.emv.cvm import PinEntry
from cardkit.emv.outcome import TransactionEnded, mask_pan
from cardkit.emv.risk import get_data
from cardkit.emv.tvr import Tvr
from cardkit.errors import CardkitError, HostError, TransportError
from cardkit.readers.channel import CardChannel
from pos_sim.config import PosConfig
from pos_sim.host import HostLink, HostTimeout
from pos_sim.host.iso8583 import COMPLETION_CONDITION, MTI, OriginalData, OriginalReference, SettlementTotals
from pos_sim.journal import EntryStatus, Journal, JournalEntry
from pos_sim.receipt import Copy, Merchant, Receipt, outcome_summary, receipt_from_entry

__all__ = ["PosError", "PosResult", "Terminal", "storable"]

log = logging.getLogger(__name__)

#: Journal kinds the card decides alone (journaled after the card answered): no reversal is owed.
OFFLINE_KINDS = frozenset({"fare", "medical"})
REVERSAL_ATTEMPTS = 3  # per pass; what is still pending is retried at the next start or transaction
APPROVED = ("00", "10", "11")


class PosError(CardkitError):
    """The terminal cannot do what was asked (no such original, a batch with pending reversals ...)."""


@dataclass(frozen=True)
class PosResult:
    """What one POS operation ended with: the journal entry (what the receipt prints, see
    :meth:`Terminal.receipt`) and the EMV outcome when a card was used."""

    approved: bool
    reason: str
    entry: JournalEntry
    outcome: TransactionOutcome | None = None
    balance: Decimal | None = None
    reversed: bool = False


@dataclass
class _OnlineLeg:
    """What the kernel's online callback learned, for the terminal to settle after the card."""

    entry: JournalEntry | None = None
    reply: dict[str, str | bytes] | None = None
    lost: bool = False
    unavailable: str = ""

    @property
    def host_approved(self) -> bool:
        return self.reply is not None and str(self.reply.get("39", "")) in APPROVED


@dataclass(frozen=True)
class _Kind:
    """One transaction kind: journal name, ISO 8583 MTI and processing code, EMV 9C."""

    name: str
    mti: str
    processing: str
    emv_type: int


SALE = _Kind("sale", MTI.FINANCIAL, "000000", 0x00)
REFUND = _Kind("refund", MTI.FINANCIAL, "200000", 0x20)
VOID = _Kind("void", MTI.FINANCIAL, "020000", 0x02)
PREAUTH = _Kind("preauth", MTI.AUTHORIZATION, "030000", 0x03)
COMPLETION = _Kind("completion", MTI.FINANCIAL, "000000", 0x00)
BALANCE = _Kind("balance", MTI.AUTHORIZATION, "310000", 0x31)
EC_LOAD = _Kind("ec_load", MTI.FINANCIAL, "280000", 0x60)
ADVICE = _Kind("sale", MTI.ADVICE, "000000", 0x00)  # an offline-approved sale told to the acquirer


@dataclass
class Terminal:
    """One POS terminal bound to a journal and a host link.

    Args:
        config: merchant, terminal and EMV parameters.
        journal: the durable journal (opened by the caller, shared across restarts).
        host: the acquirer link (in process or TCP).
        pin_entry: the PIN pad (offline and online PIN); ``None`` = no PIN pad.
        zpk: the zone PIN key the online PIN block is enciphered under (demo key by default).
    """

    config: PosConfig
    journal: Journal
    host: HostLink
    pin_entry: PinEntry | None = None
    zpk: bytes | None = field(default=None, repr=False)
    clock: Callable[[], datetime] = datetime.now
    rng: Callable[[int], bytes] = os.urandom

    def __post_init__(self) -> None:
        if self.zpk is None:
            from cardkit.issuer.demo_keys import DEMO_ZPK

            self.zpk = DEMO_ZPK

    def receipt(self, entry: JournalEntry, copy: Copy = Copy.CUSTOMER, *, reprint: bool = False) -> Receipt:
        """The slip of a journal entry, from the journal alone (so a crash can reprint it).

        Raises:
            ReceiptError: the entry has nothing to print (pending, reversed, or no card number).
        """
        c = self.config
        return receipt_from_entry(entry, Merchant(c.merchant_name_zh, c.merchant_name_en, c.mid, c.tid),
                                  copy=copy, reprint=reprint)

    # ----------------------------------------------------------------------------- start-up
    def recover(self) -> list[JournalEntry]:
        """Start-up: reverse what a crash left PENDING, retry pending reversals, and return the
        entries whose receipt never printed (the caller reprints them)."""
        for entry in self.journal.incomplete():
            if entry.kind == "purse_load":  # only the card can say whether it took the credit
                log.warning("top-up STAN %s is unconfirmed: it settles when its card is presented", entry.stan)
                continue
            if entry.kind in OFFLINE_KINDS:  # the host never heard of it: nothing to reverse there
                continue
            log.warning("STAN %s was in flight when the terminal stopped: reversing it", entry.stan)
            self.journal.mark_reversal_pending(entry.id, "the terminal stopped before the outcome was known")
        self.send_reversals()
        return self.journal.unprinted()

    def send_reversals(self) -> int:
        """Send every pending reversal (0400) until acknowledged; returns how many are still pending."""
        for entry in self.journal.pending_reversals():
            for attempt in range(1, REVERSAL_ATTEMPTS + 1):
                try:
                    reply = self.host.exchange(self._reversal(entry))
                except HostError as exc:
                    log.info("reversal of STAN %s, attempt %d: %s", entry.stan, attempt, exc)
                    continue
                if str(reply.get("39")) in ("00", "25"):  # 25: the host never had it: nothing to undo
                    self.journal.mark_reversed(entry.id)
                    break
                log.warning("reversal of STAN %s answered %s", entry.stan, reply.get("39"))
        return len(self.journal.pending_reversals())

    def _reversal(self, entry: JournalEntry) -> dict[str, str | bytes]:
        original = entry.request
        now = self.clock()
        fields: dict[str, str | bytes] = {
            "t": MTI.REVERSAL, "3": original.get("3", "000000"), "4": original.get("4", f"{entry.amount:012d}"),
            "7": now.strftime("%m%d%H%M%S"), "11": self.journal.next_stan(), "41": self.config.tid,
            "42": self.config.mid, "49": self.config.currency,
            "90": str(OriginalData(original.get("t", MTI.FINANCIAL), entry.stan, original.get("7", "0" * 10))),
        }
        return fields

    # ------------------------------------------------------------------------------- card use
    def sale(self, channel: CardChannel, amount: Amount, *, contactless: bool = False) -> PosResult:
        """A purchase (0200, 9C 00): the EMV kernel with this terminal as its online side."""
        return self._with_card(channel, SALE, amount, contactless=contactless)

    def preauth(self, channel: CardChannel, amount: Amount, *, contactless: bool = False) -> PosResult:
        """A pre-authorization (0100, 9C 03): the amount is held, not taken, until completion."""
        return self._with_card(channel, PREAUTH, amount, contactless=contactless)

    def balance(self, channel: CardChannel, *, contactless: bool = False) -> PosResult:
        """A balance inquiry (0100, 9C 31); the balance comes back in field 54."""
        return self._with_card(channel, BALANCE, 0, contactless=contactless)

    def refund(self, channel: CardChannel, amount: Amount, *, original_stan: str | None = None) -> PosResult:
        """A refund (0200, 20xxxx) to the card in the reader, of an earlier sale when its STAN is
        given (at most its amount). The card is read, not asked for a cryptogram: EMV refunds are
        decided by the acquirer (Book 4 §6.3.2)."""
        minor = self._minor(amount)
        original = self._original(original_stan, ("sale", "completion")) if original_stan else None
        if original is not None and minor > original.amount:
            raise PosError(f"a refund of {self._money(minor)} exceeds the sale's {self._money(original.amount)}")
        card, label, aid = self._read_card(channel, REFUND, minor, original)
        fields = self._fields(REFUND, minor, card, entry_mode="051")
        if original is not None:
            fields["61"] = str(OriginalReference(original.stan, original.request.get("7", "0" * 10)))
        return self._without_card(REFUND, fields, minor, card, label=label, original=original, aid=aid)

    def void(self, channel: CardChannel, stan: str) -> PosResult:
        """Cancel an approved sale or completion of the current batch (0200, 02xxxx). The card is
        read again, as UnionPay terminals do, and must be the one the original was paid with."""
        original = self._original(stan, ("sale", "completion"))
        card, _, _ = self._read_card(channel, VOID, original.amount, original)
        fields = self._reference_fields(VOID, original, card)
        # the journal voids the original in the same commit as the void's approval
        return self._without_card(VOID, fields, original.amount, card, label=original.label, original=original,
                                  aid=original.aid)

    def complete(self, channel: CardChannel, stan: str, amount: Amount) -> PosResult:
        """Complete a pre-authorization for at most its amount (0200, 25 = 06, 38 = its code),
        with the card that was pre-authorized."""
        original = self._original(stan, ("preauth",))
        minor = self._minor(amount)
        if minor > original.amount:
            raise PosError(f"completion of {self._money(minor)} exceeds the pre-authorization's "
                           f"{self._money(original.amount)}")
        card, _, _ = self._read_card(channel, COMPLETION, minor, original)
        fields = self._reference_fields(COMPLETION, original, card, amount=minor)
        fields["25"] = COMPLETION_CONDITION
        fields["38"] = original.auth_code or ""
        return self._without_card(COMPLETION, fields, minor, card, label=original.label, original=original,
                                  aid=original.aid)

    def ec_load(self, channel: CardChannel, amount: Amount) -> PosResult:
        """Electronic-cash top-up (0200, 28xxxx; 9C 60): the account pays, the issuer's script
        (PUT DATA 9F79 under secure messaging) raises the card's offline balance."""
        return self._with_card(channel, EC_LOAD, amount, contactless=False)

    # ----------------------------------------------------------------------------- settlement
    def settle(self) -> tuple[bool, SettlementTotals, str]:
        """Batch close and settlement (0500): reversals first, then the totals the journal holds
        against the host's. Returns (in balance, totals, response code); the batch closes either
        way — an out-of-balance batch is the acquirer's to reconcile (code 95)."""
        if self.send_reversals():
            raise PosError("reversals are still pending and the host does not answer: settle later")
        totals = self.journal.totals()
        debit, credit = totals.debit, totals.credit
        ours = SettlementTotals(debit.count, debit.amount, credit.count, credit.amount)
        now = self.clock()
        fields: dict[str, str | bytes] = {
            "t": MTI.SETTLEMENT, "3": "920000", "7": now.strftime("%m%d%H%M%S"), "11": self.journal.next_stan(),
            "41": self.config.tid, "42": self.config.mid, "49": self.config.currency,
            "60": f"{self.journal.current_batch():06d}", **ours.fields(),
        }
        reply = self.host.exchange(fields)
        code = str(reply.get("39", ""))
        self.journal.close_batch()
        return code == "00", ours, code

    # ------------------------------------------------------------------------------ internals
    def _minor(self, amount: Amount) -> int:
        return to_minor_units(amount, self.config.emv.currency_exponent)

    def _money(self, minor: int) -> str:
        return f"{Decimal(minor).scaleb(-self.config.emv.currency_exponent):.2f}"

    def _original(self, stan: str, kinds: tuple[str, ...]) -> JournalEntry:
        entry = self.journal.find_by_stan(stan.zfill(6))
        if entry is None:
            raise PosError(f"no transaction with trace number {stan} in the current batch")
        if entry.kind not in kinds or entry.status is not EntryStatus.APPROVED:
            raise PosError(f"trace {entry.stan} is a {entry.status.value} {entry.kind}, not an approved "
                           f"{' or '.join(kinds)}")
        return entry

    def _kernel(self, channel: CardChannel, online: Callable[[OnlineRequest], OnlineResponse | None] | None) -> Kernel:
        return Kernel(channel, self.config.emv, pin_entry=self.pin_entry, online=online, clock=self.clock,
                      rng=self.rng)

    def _fields(self, kind: _Kind, amount: int, card: dict[int, bytes], *, entry_mode: str,
                icc_data: bytes = b"") -> dict[str, str | bytes]:
        """The request fields common to every card-present message (docs/host.md)."""
        now = self.clock()
        pan = (card.get(0x5A) or b"").hex().upper().rstrip("F")
        fields: dict[str, str | bytes] = {
            "t": kind.mti, "3": kind.processing, "4": f"{amount:012d}", "7": now.strftime("%m%d%H%M%S"),
            "11": self.journal.next_stan(), "12": now.strftime("%H%M%S"), "13": now.strftime("%m%d"),
            "22": entry_mode, "25": "00", "41": self.config.tid, "42": self.config.mid,
            "49": self.config.currency, "60": f"{self.journal.current_batch():06d}",
        }
        if pan:
            fields["2"] = pan
        if card.get(0x5F24):
            fields["14"] = card[0x5F24].hex()[:4]
        if card.get(0x5F34):
            fields["23"] = f"{card[0x5F34][0]:03d}"
        track2 = card.get(0x57)
        if track2:
            fields["35"] = track2.hex().upper().rstrip("F")
        if icc_data:
            fields["55"] = icc_data
        return fields

    def _reference_fields(self, kind: _Kind, original: JournalEntry, card: dict[int, bytes], *,
                          amount: int | None = None) -> dict[str, str | bytes]:
        """A message that names its original by STAN and transmission time (field 61)."""
        fields = self._fields(kind, original.amount if amount is None else amount, card, entry_mode="051")
        fields["61"] = str(OriginalReference(original.stan, original.request.get("7", "0" * 10)))
        return fields

    def _read_card(self, channel: CardChannel, kind: _Kind, amount: int, original: JournalEntry | None
                   ) -> tuple[dict[int, bytes], str, str]:
        """Select the card's application and read its records (no cryptogram): the PAN, track 2
        and expiry for a message the host alone decides. Returns (data by tag, label, AID).

        Raises:
            PosError: no usable application, or not the card the original was paid with.
        """
        kernel = self._kernel(channel, None)
        txn = kernel.start(amount, transaction_type=kind.emv_type)
        try:
            kernel.select_and_initiate(txn)
            kernel.read_records(txn)
        except TransactionEnded as end:
            raise PosError(f"cannot read the card: {end}") from None
        card = {int.from_bytes(t, "big"): v for t, v in txn.card.items()}
        pan = (card.get(0x5A) or b"").hex().upper().rstrip("F")
        if original is not None and original.pan_masked and mask_pan(pan) != original.pan_masked:
            raise PosError(f"this is not the card of trace {original.stan} ({original.pan_masked})")
        label = txn.application.label if txn.application else ""
        return card, label, txn.aid.hex().upper()

    def _exchange(self, entry: JournalEntry, fields: dict[str, str | bytes], leg: _OnlineLeg) -> None:
        """Send a request the journal already holds; a lost reply becomes a pending reversal."""
        leg.entry = entry
        try:
            leg.reply = self.host.exchange(fields)
        except HostTimeout as exc:
            log.warning("no reply for STAN %s: %s", entry.stan, exc)
            leg.lost = True
            leg.entry = self.journal.mark_reversal_pending(entry.id, "no reply from the host")
        except HostError as exc:  # nothing left this terminal
            log.warning("host unavailable for STAN %s: %s", entry.stan, exc)
            leg.unavailable = str(exc)

    def _with_card(self, channel: CardChannel, kind: _Kind, amount: Amount, *, contactless: bool) -> PosResult:
        minor = self._minor(amount)
        self.send_reversals()
        leg = _OnlineLeg()

        def online(request: OnlineRequest) -> OnlineResponse | None:
            card = dict(request.data)
            icc = request.icc_data
            if kind is EC_LOAD:  # the issuer's script sets the new balance: it needs the present one
                balance = get_data(channel, 0x9F79)
                if balance is None:
                    raise PosError("the card has no electronic-cash balance (9F79) to load")
                icc += tlv.build(0x9F79, balance)
            fields = self._fields(kind, request.amount, card, entry_mode="071" if request.contactless else "051",
                                  icc_data=icc)
            if request.pin_block is not None:
                from cardkit.crypto.pin import encrypt_pin_block

                assert self.zpk is not None
                fields["52"] = encrypt_pin_block(self.zpk, request.pin_block)
            entry = self.journal.begin(  # before the request leaves: a crash now ends in a reversal
                kind=kind.name, amount=request.amount, stan=str(fields["11"]), request=fields,
                pan_masked=mask_pan(request.pan), scheme="UnionPay", aid=card.get(0x84, b"").hex().upper(),
                label=(card.get(0x50) or b"").decode("ascii", "replace"), currency=self.config.currency,
            )
            self._exchange(entry, fields, leg)
            if leg.reply is None:
                return None
            return _online_response(leg.reply)

        try:
            outcome = self._kernel(channel, online).run(minor, transaction_type=kind.emv_type,
                                                         contactless=contactless)
        except TransportError:
            if leg.entry is not None and leg.entry.status is EntryStatus.PENDING:
                self.journal.mark_reversal_pending(leg.entry.id, "the card left before the transaction completed")
                self.send_reversals()
            raise
        return self._settle_card(kind, outcome, leg)

    def _settle_card(self, kind: _Kind, outcome: TransactionOutcome, leg: _OnlineLeg) -> PosResult:
        """Journal the outcome of a card transaction; reverse what the host approved and the card did not."""
        balance = _available_balance(leg.reply) if leg.reply is not None else None
        summary = outcome_summary(outcome, balance=balance)
        if leg.entry is None:  # decided offline by the card and the terminal
            return self._offline(kind, outcome, summary)
        entry = leg.entry
        if leg.lost:
            self.send_reversals()
            entry = self.journal.get(entry.id)
            return self._result(False, "no reply from the host: the transaction was reversed", entry, outcome,
                                summary, reversed=True)
        if leg.reply is None:
            entry = self.journal.decline(entry.id, response=None, response_code="91", outcome=summary,
                                         reason=f"host unavailable ({leg.unavailable})")
            return self._result(False, f"host unavailable: {outcome.reason}", entry, outcome, summary)
        reply = storable(leg.reply)
        code = str(leg.reply.get("39", ""))
        rrn = str(leg.reply.get("37", "")) or None
        script_failed = Tvr.SCRIPT_FAILED_AFTER_FINAL_GAC in outcome.tvr
        if leg.host_approved and outcome.approved and kind is EC_LOAD and script_failed:
            why = "the card refused the issuer's balance update"
            self.journal.mark_reversal_pending(entry.id, why)
            self.send_reversals()
            return self._result(False, f"{why}; the load was reversed", self.journal.get(entry.id), outcome,
                                summary, reversed=True)
        if leg.host_approved and not outcome.approved:
            self.journal.mark_reversal_pending(entry.id, f"the card declined after the host approved: {outcome.reason}")
            self.send_reversals()
            entry = self.journal.get(entry.id)
            return self._result(False, f"{outcome.reason}; the authorization was reversed", entry, outcome, summary,
                                reversed=True)
        if outcome.approved:
            entry = self.journal.approve(entry.id, response=reply, auth_code=str(leg.reply.get("38", "")),
                                         response_code=code, rrn=rrn, outcome=summary)
        else:
            entry = self.journal.decline(entry.id, response=reply, response_code=code, outcome=summary,
                                         reason=outcome.reason)
        return self._result(outcome.approved, outcome.reason, entry, outcome, summary)

    def _offline(self, kind: _Kind, outcome: TransactionOutcome, summary: dict[str, Any]) -> PosResult:
        """Journal an offline outcome at once; an offline-approved sale is then told to the
        acquirer in a 0220 advice (best effort: the card has decided, so nothing is reversed; an
        advice the host never got shows as an out-of-balance settlement, 95)."""
        card = dict(outcome.data)
        advice = self._fields(ADVICE, outcome.amount, card, entry_mode="071" if outcome.contactless else "051",
                              icc_data=outcome.icc_data())
        entry = self.journal.begin(
            kind=kind.name, amount=outcome.amount, stan=str(advice["11"]),
            request=advice if outcome.approved and kind is SALE else {},
            pan_masked=outcome.masked_pan() if outcome.pan else "", scheme="UnionPay",
            aid=outcome.aid.hex().upper(), label=outcome.label, currency=self.config.currency,
        )
        if not outcome.approved:
            entry = self.journal.decline(entry.id, response=None, response_code=outcome.response_code or "",
                                         outcome=summary, reason=outcome.reason)
            return self._result(False, outcome.reason, entry, outcome, summary)
        entry = self.journal.approve(entry.id, response={}, auth_code="", response_code=outcome.response_code or "Y1",
                                     rrn=None, outcome=summary)
        if kind is SALE:
            try:
                reply = self.host.exchange(advice)
                log.info("advice of STAN %s answered %s", entry.stan, reply.get("39"))
            except HostError as exc:
                log.warning("advice of STAN %s not delivered (%s): settlement will be out of balance", entry.stan, exc)
        return self._result(True, outcome.reason, entry, outcome, summary)

    def _without_card(self, kind: _Kind, fields: dict[str, str | bytes], amount: int, card: dict[int, bytes], *,
                      label: str, aid: str, original: JournalEntry | None) -> PosResult:
        """A message the host alone decides (refund, void, completion): the card was only read."""
        self.send_reversals()
        pan = (card.get(0x5A) or b"").hex().upper().rstrip("F")
        entry = self.journal.begin(
            kind=kind.name, amount=amount, stan=str(fields["11"]), request=fields,
            pan_masked=mask_pan(pan), scheme="UnionPay", aid=aid,
            label=label, original_id=original.id if original else None, currency=self.config.currency,
        )
        leg = _OnlineLeg()
        self._exchange(entry, fields, leg)
        summary: dict[str, Any] = {"label": label, "aid": aid, "entry_mode": "chip", "cvm": "SIGNATURE"}
        if leg.reply is not None and (balance := _available_balance(leg.reply)) is not None:
            summary["balance"] = balance
        if leg.lost:
            self.send_reversals()
            return self._result(False, "no reply from the host: the transaction was reversed",
                                self.journal.get(entry.id), None, summary, reversed=True)
        if leg.reply is None:
            entry = self.journal.decline(entry.id, response=None, response_code="91", outcome=summary,
                                         reason=f"host unavailable ({leg.unavailable})")
            return self._result(False, "host unavailable", entry, None, summary)
        code = str(leg.reply.get("39", ""))
        if code in APPROVED:
            entry = self.journal.approve(entry.id, response=storable(leg.reply),
                                         auth_code=str(leg.reply.get("38", "")), response_code=code,
                                         rrn=str(leg.reply.get("37", "")) or None, outcome=summary)
            return self._result(True, f"approved ({code})", entry, None, summary)
        from pos_sim.host.iso8583 import RESPONSE_CODES

        reason = f"declined by the host ({code} {RESPONSE_CODES.get(code, 'unknown')})"
        entry = self.journal.decline(entry.id, response=storable(leg.reply), response_code=code, outcome=summary,
                                     reason=reason)
        return self._result(False, reason, entry, None, summary)

    def _result(self, approved: bool, reason: str, entry: JournalEntry, outcome: TransactionOutcome | None,
                summary: dict[str, Any], *, reversed: bool = False) -> PosResult:
        minor = summary.get("balance")
        balance = None if minor is None else Decimal(int(minor)).scaleb(-self.config.emv.currency_exponent)
        return PosResult(approved, reason, entry, outcome, balance, reversed)


def _online_response(reply: dict[str, str | bytes]) -> OnlineResponse:
    """The host's 0110/0210 as the kernel's OnlineResponse: 39, 38, and 91/71/72 from field 55."""
    code = str(reply.get("39", "96"))
    arpc: bytes | None = None
    scripts = b""
    icc = reply.get("55")
    if isinstance(icc, bytes) and icc:
        for obj in tlv.decode(icc):
            if obj.tag == b"\x91":
                arpc = obj.value
            elif obj.tag in (b"\x71", b"\x72"):
                scripts += obj.to_bytes()
    return OnlineResponse(code if len(code) == 2 else "96", arpc=arpc, scripts=scripts,
                          auth_code=str(reply.get("38", "")).strip())


def _available_balance(reply: dict[str, str | bytes]) -> int | None:
    from pos_sim.host.iso8583 import AdditionalAmount

    text = reply.get("54")
    if not isinstance(text, str) or not text:
        return None
    amounts = AdditionalAmount.parse_all(text)
    for entry in amounts:
        if entry.amount_type == "02":
            return entry.amount
    return amounts[0].amount if amounts else None


def storable(fields: dict[str, str | bytes]) -> dict[str, str]:
    """A message as the journal keeps it (hex for binary fields); the journal scrubs PAN data."""
    return {k: v.hex().upper() if isinstance(v, bytes) else v for k, v in fields.items()}
