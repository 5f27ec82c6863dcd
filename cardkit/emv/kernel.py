"""The EMV terminal kernel: one contact transaction as the Book 3/4 steps, each a method.

:meth:`Kernel.run` walks application selection, initiate application processing (GPO), read
application data, offline data authentication, processing restrictions, cardholder verification,
terminal risk management, terminal and card action analysis (first GENERATE AC), online
processing with issuer authentication and scripts, and completion (second GENERATE AC). Every
step is also a public method that takes the :class:`Transaction`, so a test or a special
terminal can run them one at a time. The kernel talks to the card only through a
:class:`~cardkit.readers.channel.CardChannel`; time and randomness are injected.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime

from cardkit import tlv
from cardkit.apdu import SW
from cardkit.crypto.oda import OdaMethod, RecoveredIccKey
from cardkit.emv import authentication, cvm, processing, restrictions, risk, selection
from cardkit.emv import online as _online
from cardkit.emv.actions import AcResponse, default_action, generate_ac, terminal_action_analysis
from cardkit.emv.config import TerminalConfig, bcd
from cardkit.emv.context import Amount, Transaction, to_minor_units
from cardkit.emv.outcome import CardDataError, OutcomeKind, TransactionEnded, TransactionOutcome
from cardkit.emv.tvr import CryptogramType, CvmResults, Tsi, Tvr
from cardkit.errors import CardError, HostError, TransportError
from cardkit.readers.channel import CardChannel

__all__ = ["Kernel"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Random = Callable[[int], bytes]


class Kernel:
    """An EMV terminal kernel bound to one card channel.

    Args:
        channel: the card, through any reader.
        config: the terminal's parameters (defaults: a UnionPay POS in China).
        pin_entry: the PIN pad, ``pin_entry(PinRequest) -> digits | None``; ``None`` = no PIN pad.
        online: the host, ``online(OnlineRequest) -> OnlineResponse | None``; ``None`` = the
            terminal cannot go online this time (ARC Y3/Z3 rules apply).
        choose_application: the cardholder's choice among several candidates,
            ``choose(candidates) -> candidate | None``; without it the highest priority one that
            needs no confirmation is used.
        clock: the transaction date and time (9A, 9F21).
        rng: random bytes for 9F37, random selection and enciphered PIN padding.
        first_sequence_number: the first Transaction Sequence Counter (9F41) value.
    """

    def __init__(
        self,
        channel: CardChannel,
        config: TerminalConfig | None = None,
        *,
        pin_entry: cvm.PinEntry | None = None,
        online: _online.OnlineCallback | None = None,
        choose_application: selection.ChooseApplication | None = None,
        clock: Clock = datetime.now,
        rng: Random = os.urandom,
        first_sequence_number: int = 1,
    ) -> None:
        self.channel = channel
        self.config = config or TerminalConfig()
        self.pin_entry = pin_entry
        self.online = online
        self.choose_application = choose_application
        self.clock = clock
        self.rng = rng
        self._sequence = first_sequence_number

    # ------------------------------------------------------------------------------- the whole
    def run(
        self,
        amount: Amount,
        *,
        other_amount: Amount = 0,
        transaction_type: int = 0x00,
        contactless: bool = False,
        force_online: bool = False,
    ) -> TransactionOutcome:
        """Run one transaction from selection to completion.

        Args:
            amount: int minor units, or Decimal major units (never float).
            other_amount: cashback (9F03), same rules.
            transaction_type: 9C (00 purchase, 01 cash, 09 purchase with cashback, 20 refund).
            contactless: take the single-tap contactless path (:mod:`cardkit.emv.contactless`).
            force_online: merchant forced the transaction online (TVR byte 4 b4).

        Returns:
            The outcome. Card refusals and malformed card data end as ``END_APPLICATION`` with
            the reason; EMV outcomes (declines, try another interface ...) as their kind.

        Raises:
            TransportError: the reader or the card went away (the outcome is unknown).
            TypeError / ValueError: a float amount, or one out of range.
        """
        txn = self.start(amount, other_amount=other_amount, transaction_type=transaction_type,
                         contactless=contactless, force_online=force_online)
        try:
            if contactless:
                from cardkit.emv.contactless import run_contactless

                return run_contactless(self, txn)
            return self._run_contact(txn)
        except TransactionEnded as end:
            log.info("transaction ended: %s", end)
            return txn.outcome(end.kind, end.reason)
        except (CardError, CardDataError) as exc:
            log.info("transaction terminated: %s", exc)
            return txn.outcome(OutcomeKind.END_APPLICATION, str(exc))

    def _run_contact(self, txn: Transaction) -> TransactionOutcome:
        self.select_and_initiate(txn)
        self.read_records(txn)
        self.authenticate(txn)
        self.check_restrictions(txn)
        self.verify_cardholder(txn)
        self.manage_risk(txn)
        requested = self.analyse_terminal_actions(txn)
        ac1 = self.first_generate_ac(txn, requested)
        return self.complete(txn, ac1)

    def start(
        self,
        amount: Amount,
        *,
        other_amount: Amount = 0,
        transaction_type: int = 0x00,
        contactless: bool = False,
        force_online: bool = False,
    ) -> Transaction:
        """A fresh transaction with the terminal's data, the date, 9F37 and 9F41 filled in."""
        exp = self.config.currency_exponent
        if not 0 <= transaction_type <= 0xFF:
            raise ValueError("transaction type (9C) is one byte")
        txn = Transaction(
            amount=to_minor_units(amount, exp),
            other_amount=to_minor_units(other_amount, exp),
            transaction_type=transaction_type,
            contactless=contactless,
            when=self.clock(),
            terminal=self.config.terminal_data(),
            force_online=force_online,
        )
        txn.terminal[b"\x9f\x37"] = self.rng(4)
        txn.terminal[b"\x9f\x41"] = bcd(self._sequence % 10**8, 4)
        self._sequence += 1
        return txn

    # ------------------------------------------------------------------------------- the steps
    def select_application(self, txn: Transaction) -> selection.SelectedApplication:
        """Book 1 §12: build the candidate list (once), order it, let the cardholder choose, and
        SELECT the choice; candidates the card refuses are dropped and the next is tried.

        Raises:
            TransactionEnded: NOT_ACCEPTED when no candidate is left (contactless:
                TRY_ANOTHER_INTERFACE), END_APPLICATION when the cardholder cancels.
            CardError: the card is blocked (6A81).
        """
        if not txn.candidates_built:
            txn.candidates = selection.build_candidates(self.channel, self.config, contactless=txn.contactless)
            txn.candidates_built = True
        while txn.candidates:
            choice = self._choose(txn)
            chosen = selection.final_select(self.channel, choice)
            txn.candidates.remove(choice)
            if chosen is None:
                continue
            txn.application = choice
            txn.card = dict(chosen.data)
            txn.card.setdefault(b"\x84", chosen.df_name)
            txn.terminal[b"\x9f\x06"] = chosen.df_name
            log.info("selected %s (%s)", chosen.df_name.hex().upper(), choice.label)
            return chosen
        if txn.contactless:
            raise TransactionEnded(OutcomeKind.TRY_ANOTHER_INTERFACE, "no contactless application to use")
        raise TransactionEnded(OutcomeKind.NOT_ACCEPTED, "no application on the card that the terminal supports")

    def _choose(self, txn: Transaction) -> selection.Candidate:
        if self.choose_application is not None and (len(txn.candidates) > 1 or txn.candidates[0].confirmation_required):
            picked = self.choose_application(tuple(txn.candidates))
            if picked is None:
                raise TransactionEnded(OutcomeKind.END_APPLICATION, "the cardholder cancelled application selection")
            if picked not in txn.candidates:
                raise ValueError("choose_application returned a candidate that is not in the list")
            return picked
        for candidate in txn.candidates:
            if not candidate.confirmation_required:
                return candidate
        raise TransactionEnded(OutcomeKind.NOT_ACCEPTED, "every application needs cardholder confirmation")

    def initiate(self, txn: Transaction, pdol: bytes) -> processing.GpoResponse | None:
        """Book 3 §10.1: GET PROCESSING OPTIONS with the PDOL data.

        Returns:
            The AIP/AFL response, or ``None`` when the card answered 6985 (conditions of use not
            satisfied): the application must be removed and selection repeated.

        Raises:
            CardError: any other refusal.
        """
        txn.pdol_data = tlv.build_dol_data(pdol, txn.values()) if pdol else b""
        resp = self.channel.transmit(processing.gpo_command(txn.pdol_data))
        if resp.sw == SW.CONDITIONS_NOT_SATISFIED:
            log.info("GPO answered 6985: application removed from the candidate list")
            return None
        gpo = processing.parse_gpo_response(self.channel.check(resp, context="GET PROCESSING OPTIONS").data)
        txn.aip, txn.afl = gpo.aip, gpo.afl
        txn.card.update(gpo.data)
        txn.card[b"\x82"] = gpo.aip
        txn.card[b"\x94"] = gpo.afl
        return gpo

    def select_and_initiate(self, txn: Transaction) -> processing.GpoResponse:
        """Selection and GPO, going back to selection while GPO answers 6985 (Book 3 §10.1)."""
        while True:
            chosen = self.select_application(txn)
            gpo = self.initiate(txn, chosen.pdol)
            if gpo is not None:
                return gpo
            txn.application = None

    def read_records(self, txn: Transaction) -> None:
        """Book 3 §10.2: read the AFL's records; check the mandatory data (5F24, 5A, 8C, 8D).

        Raises:
            CardError / CardDataError: a record unreadable or malformed, or mandatory data missing.
        """
        records = processing.read_application_data(self.channel, txn.afl, already=txn.card)
        txn.card.update(records.data)
        txn.records = records.oda_records
        txn.all_records = records.records
        if not txn.contactless:
            missing = [t.hex().upper() for t in processing.MANDATORY_CONTACT if t not in txn.card]
            if missing:
                raise CardDataError(f"mandatory card data missing: {', '.join(missing)}")

    def authenticate(self, txn: Transaction) -> OdaMethod | None:
        """Book 3 §10.3 (see :func:`cardkit.emv.authentication.authenticate`)."""
        return authentication.authenticate(self.channel, txn, self.config)

    def check_restrictions(self, txn: Transaction) -> Tvr:
        """Book 3 §10.4: version, usage control, dates. Returns the bits it set."""
        bits = restrictions.check_restrictions(txn.card, self.config, today=txn.when.date(),
                                               transaction_type=txn.transaction_type)
        txn.tvr |= bits
        return bits

    def verify_cardholder(self, txn: Transaction) -> CvmResults:
        """Book 3 §10.5 with this kernel's PIN pad."""

        def icc_key() -> RecoveredIccKey | None:
            if txn.icc_key is not None:
                return txn.icc_key
            return cvm.icc_key_or_none(lambda: authentication.recover_keys(txn, self.config))()

        return cvm.verify_cardholder(self.channel, txn, self.config, self.pin_entry, random=self.rng, icc_key=icc_key)

    def manage_risk(self, txn: Transaction) -> None:
        """Book 3 §10.6; a merchant-forced online transaction also sets TVR byte 4 b4."""
        if txn.force_online:
            txn.tvr |= Tvr.MERCHANT_FORCED_ONLINE
        risk.manage_risk(self.channel, txn, self.config, self.rng)

    def analyse_terminal_actions(self, txn: Transaction) -> CryptogramType:
        """Book 3 §10.7: the cryptogram to request at the first GENERATE AC."""
        can_online = self.config.online_capable
        return terminal_action_analysis(txn.tvr, txn.card, self.config, can_go_online=can_online)

    def first_generate_ac(self, txn: Transaction, requested: CryptogramType) -> AcResponse:
        """Book 3 §10.8: the first GENERATE AC with CDOL1 (CDA when selected)."""
        return generate_ac(self.channel, txn, self.config, requested)

    def go_online(self, txn: Transaction) -> _online.OnlineResponse | None:
        """Book 4 §6.3.8: send the authorisation request; ``None`` = unable to go online."""
        if self.online is None or not self.config.online_capable:
            return None
        outcome = txn.outcome(OutcomeKind.ONLINE_REQUEST, "")
        request = _online.OnlineRequest(
            amount=txn.amount, other_amount=txn.other_amount, transaction_type=txn.transaction_type,
            currency_code=self.config.currency_code, pan=outcome.pan, track2=txn.card.get(b"\x57", b""),
            pan_sequence=txn.card.get(b"\x5f\x34", b""), icc_data=outcome.icc_data(), data=outcome.data,
            pin_block=txn.pin_block, contactless=txn.contactless,
        )
        try:
            return self.online(request)
        except (HostError, TransportError) as exc:
            log.info("unable to go online: %s", exc)
            return None

    def complete(self, txn: Transaction, ac1: AcResponse) -> TransactionOutcome:
        """Everything after the first GENERATE AC: online, issuer authentication, scripts and the
        second GENERATE AC (Book 3 §10.9-§10.11, Book 4 §6.3.8)."""
        got = ac1.cid.type
        cda_failed = txn.cda_performed and Tvr.CDA_FAILED in txn.tvr
        if got is CryptogramType.AAC:
            return txn.outcome(OutcomeKind.DECLINED_OFFLINE, "the card declined offline (AAC)")
        if got is CryptogramType.TC:
            if cda_failed:
                return txn.outcome(OutcomeKind.DECLINED_OFFLINE, "CDA failed on the card's TC")
            txn.response_code = "Y1"
            return txn.outcome(OutcomeKind.APPROVED_OFFLINE, "the card approved offline (TC)")
        if cda_failed:
            self._second_ac(txn, CryptogramType.AAC)
            return txn.outcome(OutcomeKind.DECLINED_OFFLINE, "CDA failed on the card's ARQC")
        response = self.go_online(txn)
        if response is None:
            return self._unable_to_go_online(txn)
        txn.response_code = response.response_code
        txn.terminal[b"\x8a"] = response.response_code.encode("ascii")
        if response.auth_code:
            txn.terminal[b"\x89"] = response.auth_code.encode("ascii")[:6].ljust(6)
        scripts = _online.parse_scripts(response.scripts)
        if response.arpc:
            self._issuer_authentication(txn, response.arpc)
        _online.run_scripts(self.channel, txn, scripts, _online.ScriptPhase.BEFORE_FINAL_GAC)
        requested = CryptogramType.TC if response.approved else CryptogramType.AAC
        ac2 = self._second_ac(txn, requested)
        _online.run_scripts(self.channel, txn, scripts, _online.ScriptPhase.AFTER_FINAL_GAC)
        if not response.approved:
            why = f"the issuer declined (response code {response.response_code})"
            return txn.outcome(OutcomeKind.DECLINED_ONLINE, why)
        if ac2.cid.type is not CryptogramType.TC:
            return txn.outcome(OutcomeKind.DECLINED_ONLINE, "the issuer approved but the card declined (AAC)")
        if txn.cda_performed and Tvr.CDA_FAILED in txn.tvr:
            return txn.outcome(OutcomeKind.DECLINED_ONLINE, "CDA failed on the card's final TC")
        return txn.outcome(OutcomeKind.APPROVED_ONLINE, f"approved online (response code {response.response_code})")

    def _issuer_authentication(self, txn: Transaction, arpc: bytes) -> None:
        """Book 3 §10.9: 91 goes in CDOL2 when the card asks for it there, else EXTERNAL
        AUTHENTICATE when the AIP says issuer authentication is supported."""
        txn.terminal[b"\x91"] = arpc
        cdol2 = txn.card.get(b"\x8d", b"")
        if any(tag == b"\x91" for tag, _ in tlv.parse_dol(cdol2)):
            txn.tsi |= Tsi.ISSUER_AUTHENTICATION_PERFORMED
            return
        if txn.aip[0] & authentication.AIP_ISSUER_AUTHENTICATION:
            _online.external_authenticate(self.channel, txn, arpc)

    def _unable_to_go_online(self, txn: Transaction) -> TransactionOutcome:
        """Book 3 §10.7 / Book 4 §6.3.8: default action codes decide; ARC Z3 or Y3 to the card."""
        wanted = default_action(txn.tvr, txn.card, self.config)
        txn.response_code = "Y3" if wanted is CryptogramType.TC else "Z3"
        txn.terminal[b"\x8a"] = txn.response_code.encode("ascii")
        ac2 = self._second_ac(txn, wanted)
        if ac2.cid.type is CryptogramType.TC and not (txn.cda_performed and Tvr.CDA_FAILED in txn.tvr):
            return txn.outcome(OutcomeKind.APPROVED_OFFLINE, "unable to go online; approved offline (Y3)")
        return txn.outcome(OutcomeKind.DECLINED_OFFLINE, "unable to go online; declined offline (Z3)")

    def _second_ac(self, txn: Transaction, requested: CryptogramType) -> AcResponse:
        return generate_ac(self.channel, txn, self.config, requested, second=True)
