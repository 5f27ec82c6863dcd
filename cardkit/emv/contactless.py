"""The single-tap contactless path (qPBOC, UnionPay JR/T 0025.12; the same shape as Visa qVSDC,
EMV contactless Book C-3/C-7).

Pre-processing compares the amount with the reader limits and sets the Terminal Transaction
Qualifiers (9F66) for this transaction: "online cryptogram required" above the contactless floor
limit, "CVM required" at or above the CVM limit; at or above the contactless transaction limit
the card must be used another way. Then PPSE -> SELECT -> GET PROCESSING OPTIONS, where the card
does its whole risk management and answers in format 2 with a cryptogram: a TC (offline
approval, e.g. electronic cash with enough balance) that the reader checks with fDDA, an ARQC
(online request, e.g. balance too low on an online-capable reader) or an AAC (decline). The card
can leave the field after the records are read: there is no second GENERATE AC, no issuer
authentication and no script on this path.

Rules marked *check* in docs/emv.md follow public, informal qPBOC/qVSDC material.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from cardkit.crypto import oda
from cardkit.crypto.oda import OdaError, OdaMethod, OdaReason
from cardkit.crypto.pin import encode_pin_block
from cardkit.emv import authentication, restrictions
from cardkit.emv.context import Transaction
from cardkit.emv.cvm import PinKind, PinRequest
from cardkit.emv.outcome import CardDataError, OutcomeKind, TransactionEnded, TransactionOutcome
from cardkit.emv.tvr import Cid, CryptogramType, CvmResult, CvmResults, Tsi, Tvr
from cardkit.errors import CardError, CryptoError

if TYPE_CHECKING:
    from cardkit.emv.config import TerminalConfig
    from cardkit.emv.kernel import Kernel

__all__ = ["authenticate_fdda", "prepare_ttq", "run_contactless"]

log = logging.getLogger(__name__)

# TTQ (9F66) bits, qPBOC / qVSDC layout
TTQ_OFFLINE_ONLY = (0, 0x08)
TTQ_ONLINE_PIN = (0, 0x04)
TTQ_SIGNATURE = (0, 0x02)
TTQ_ONLINE_CRYPTOGRAM_REQUIRED = (1, 0x80)
TTQ_CVM_REQUIRED = (1, 0x40)
# CTQ (9F6C) byte 1
CTQ_ONLINE_PIN = 0x80
CTQ_SIGNATURE = 0x40


def prepare_ttq(amount: int, config: TerminalConfig) -> bytes:
    """The TTQ for this amount (EMV contactless Book A §5.2 pre-processing, qPBOC reader rules).

    Raises:
        TransactionEnded: TRY_ANOTHER_INTERFACE at or above the contactless transaction limit.
    """
    if amount >= config.contactless_transaction_limit:
        raise TransactionEnded(OutcomeKind.TRY_ANOTHER_INTERFACE,
                               "the amount is at or above the contactless transaction limit")
    ttq = bytearray(config.ttq)
    ttq[1] &= 0x3F  # the per-transaction bits are ours to set
    if amount > config.contactless_floor_limit and config.online_capable:
        ttq[1] |= TTQ_ONLINE_CRYPTOGRAM_REQUIRED[1]
    if amount >= config.contactless_cvm_limit:
        ttq[1] |= TTQ_CVM_REQUIRED[1]
    if not config.online_capable:
        ttq[0] |= TTQ_OFFLINE_ONLY[1]
    return bytes(ttq)


def _has(ttq: bytes, bit: tuple[int, int]) -> bool:
    return bool(ttq[bit[0]] & bit[1])


def _ctq(txn: Transaction) -> int | None:
    """CTQ byte 1 from 9F6C, else from the last 2 bytes of 9F69 (cardkit bank profile)."""
    ctq = txn.card.get(b"\x9f\x6c")
    if ctq:
        return ctq[0]
    c9f69 = txn.card.get(b"\x9f\x69")
    if c9f69 and len(c9f69) >= 7:
        return c9f69[5]
    return None


def authenticate_fdda(kernel: Kernel, txn: Transaction) -> bool:
    """Verify the card's fDDA signature (9F4B over 9F37 [‖ 9F02 ‖ 5F2A ‖ 9F69]); TVR/TSI set."""
    config = kernel.config
    if not (txn.aip[0] & authentication.AIP_DDA and config.supports_dda):
        txn.tvr |= Tvr.ODA_NOT_PERFORMED
        txn.oda_method = None
        return False
    txn.oda_method = OdaMethod.FDDA
    txn.tsi |= Tsi.ODA_PERFORMED
    try:
        icc = authentication.recover_keys(txn, config)
        dynamic = oda.verify_fdda(
            icc, txn.card.get(b"\x9f\x4b"), un=txn.terminal[b"\x9f\x37"], amount=txn.terminal[b"\x9f\x02"],
            currency=txn.terminal[b"\x5f\x2a"], card_auth_data=txn.card.get(b"\x9f\x69"),
        )
    except OdaError as exc:
        authentication.record_failure(txn, OdaMethod.FDDA, exc.reason)
        return False
    txn.card[b"\x9f\x4c"] = dynamic.icc_dynamic_number
    return True


def _cvm(kernel: Kernel, txn: Transaction, ttq: bytes, online: bool) -> bool:
    """Contactless CVM: none below the CVM limit; above it online PIN (online only, when the
    reader and the card allow it) or signature. Returns False when no CVM could be done."""
    if not _has(ttq, TTQ_CVM_REQUIRED):
        txn.cvm_results = CvmResults(0x1F, 0x00, CvmResult.SUCCESSFUL)
        return True
    txn.tsi |= Tsi.CARDHOLDER_VERIFICATION_PERFORMED
    ctq = _ctq(txn)
    wants_pin = ctq is None or bool(ctq & CTQ_ONLINE_PIN)
    if online and wants_pin and _has(ttq, TTQ_ONLINE_PIN) and kernel.pin_entry is not None and kernel.online:
        pin = kernel.pin_entry(PinRequest(PinKind.ONLINE, txn.amount))
        if pin is not None:
            try:
                txn.pin_block = encode_pin_block(pin, txn.pan or None, 0)
            except CryptoError as exc:
                log.info("online PIN not usable: %s", exc)
            else:
                txn.tvr |= Tvr.ONLINE_PIN_ENTERED
                txn.cvm_results = CvmResults(0x02, 0x00, CvmResult.UNKNOWN)
                return True
        txn.tvr |= Tvr.PIN_NOT_ENTERED
    if _has(ttq, TTQ_SIGNATURE) and (ctq is None or ctq & CTQ_SIGNATURE or not ctq & CTQ_ONLINE_PIN):
        txn.signature_required = True
        txn.cvm_results = CvmResults(0x1E, 0x00, CvmResult.UNKNOWN)
        return True
    txn.tvr |= Tvr.CARDHOLDER_VERIFICATION_FAILED
    txn.cvm_results = CvmResults(0x3F, 0x00, CvmResult.FAILED)
    return False


def _online(kernel: Kernel, txn: Transaction, why: str) -> TransactionOutcome:
    """Send the card's cryptogram to the host; without a host callback the outcome is an
    ONLINE_REQUEST for the caller to send."""
    if kernel.online is None:
        return txn.outcome(OutcomeKind.ONLINE_REQUEST, why)
    response = kernel.go_online(txn)
    if response is None:
        txn.response_code = "Z3"
        return txn.outcome(OutcomeKind.DECLINED_OFFLINE, f"{why}; unable to go online")
    txn.response_code = response.response_code
    txn.terminal[b"\x8a"] = response.response_code.encode("ascii")
    if response.auth_code:
        txn.terminal[b"\x89"] = response.auth_code.encode("ascii")[:6].ljust(6)
    if response.approved:
        return txn.outcome(OutcomeKind.APPROVED_ONLINE, f"{why}; approved online ({response.response_code})")
    return txn.outcome(OutcomeKind.DECLINED_ONLINE, f"{why}; declined online ({response.response_code})")


def run_contactless(kernel: Kernel, txn: Transaction) -> TransactionOutcome:
    """One tap: pre-processing, PPSE, SELECT, GPO (format 2), records, fDDA, CVM, outcome.

    Raises:
        TransactionEnded: TRY_ANOTHER_INTERFACE (limit, no contactless application, the card
            answers 6984 or wants the full/contact flow) and other EMV outcomes.
        CardError, CardDataError: a refusal or malformed data (``run`` reports END_APPLICATION).
    """
    config = kernel.config
    ttq = prepare_ttq(txn.amount, config)
    txn.terminal[b"\x9f\x66"] = ttq
    try:
        gpo = kernel.select_and_initiate(txn)
    except CardError as exc:
        if exc.sw == 0x6984:  # qVSDC/qPBOC: the card wants another interface
            raise TransactionEnded(OutcomeKind.TRY_ANOTHER_INTERFACE, "the card asks for another interface") from None
        raise
    if gpo.format != 2 or b"\x9f\x27" not in gpo.data:
        raise TransactionEnded(OutcomeKind.TRY_ANOTHER_INTERFACE,
                               "the card did not answer qPBOC (no cryptogram in GPO): use the contact interface")
    txn.cryptogram_tvr = txn.tvr.to_bytes()  # what the PDOL carried: the card's AC covers it
    kernel.read_records(txn)
    txn.card.update(gpo.data)  # the GPO's own cryptogram data win over anything read later
    cid = Cid.from_bytes(gpo.data[b"\x9f\x27"])
    txn.tsi |= Tsi.CARD_RISK_MANAGEMENT_PERFORMED
    if b"\x9f\x26" not in txn.card or b"\x9f\x36" not in txn.card:
        raise CardDataError("qPBOC GPO response lacks 9F26 or 9F36")
    txn.tvr |= restrictions.check_restrictions(txn.card, config, today=txn.when.date(),
                                               transaction_type=txn.transaction_type)
    kind = cid.type
    log.info("contactless GPO: card returned %s", kind.name)
    if kind is CryptogramType.AAC or kind is CryptogramType.AAR:
        return txn.outcome(OutcomeKind.DECLINED_OFFLINE, "the card declined (AAC)")
    if kind is CryptogramType.ARQC:
        if not config.online_capable:
            return txn.outcome(OutcomeKind.DECLINED_OFFLINE, "the card asked to go online; the reader is offline only")
        if not _cvm(kernel, txn, ttq, online=True):
            return txn.outcome(OutcomeKind.DECLINED_OFFLINE, "no cardholder verification method available")
        return _online(kernel, txn, "the card asked to go online (ARQC)")
    # a TC: offline approval, if fDDA verifies and the application is in date
    ok = authenticate_fdda(kernel, txn)
    expired = bool(txn.tvr & (Tvr.EXPIRED_APPLICATION | Tvr.APP_NOT_YET_EFFECTIVE))
    if not ok or expired:
        failure = (txn.oda_failure or OdaReason.ICC_DATA_MISSING).value
        why = "application out of date" if ok else f"fDDA failed ({failure})"
        if config.online_capable and kernel.online is not None:  # check: qVSDC sends the TC online
            _cvm(kernel, txn, ttq, online=True)
            return _online(kernel, txn, why)
        return txn.outcome(OutcomeKind.DECLINED_OFFLINE, why)
    if not _cvm(kernel, txn, ttq, online=False):
        return txn.outcome(OutcomeKind.DECLINED_OFFLINE, "a CVM is required and the reader cannot do one offline")
    txn.response_code = "Y1"
    return txn.outcome(OutcomeKind.APPROVED_OFFLINE, "the card approved offline (TC, fDDA verified)")
