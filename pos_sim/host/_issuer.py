"""The issuer's decisions for 0100/0200 requests and 0400 reversals (docs/host.md, "Decisions").

The cryptogram is checked with :mod:`cardkit.issuer.authorization` before the ledger is touched
(pure CPU, outside the database lock); everything that reads or moves money happens in one
ledger transaction, so a duplicate check and the posting it guards cannot be split by another
terminal's request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from cardkit import tlv
from cardkit.crypto.pin import decode_pin_block, decrypt_pin_block
from cardkit.emv.outcome import mask_pan
from cardkit.errors import CryptoError, TlvError
from cardkit.issuer.authorization import IssuerScript, ScriptCommand, issuer_script, make_arpc, verify_arqc
from cardkit.issuer.keys import IssuerKeys
from pos_sim.host._errors import HostMessageError
from pos_sim.host._ledger import Account, Ledger, PinCheck, Posting
from pos_sim.host._purse import authorize_purse_load
from pos_sim.host.iso8583 import (
    COMPLETION_CONDITION,
    AdditionalAmount,
    Fields,
    OriginalData,
    OriginalReference,
    TxnType,
    response_mti,
)

__all__ = ["FormatError", "Issuer"]

log = logging.getLogger(__name__)

_ECHOED = ("2", "3", "4", "7", "11", "12", "13", "22", "23", "25", "37", "41", "42", "49", "60")
_DEBITS = (TxnType.PURCHASE, TxnType.EC_LOAD, TxnType.PREAUTH)
_VOIDABLE = {TxnType.PURCHASE.value, TxnType.EC_LOAD.value, TxnType.PREAUTH.value, TxnType.REFUND.value}


class FormatError(Exception):
    """A request that decodes but misses or garbles a field it needs: answered 30."""


def text(msg: Fields, number: str, default: str | None = None) -> str:
    value = msg.get(number, default)
    if value is None:
        raise FormatError(f"field {number} is required")
    if not isinstance(value, str):
        raise FormatError(f"field {number} must be text")
    return value


def reply_to(msg: Fields, code: str, echo: tuple[str, ...] = _ECHOED) -> Fields:
    """The response skeleton: response MTI, the echoed fields, field 39."""
    out: Fields = {"t": response_mti(text(msg, "t"))}
    out.update((k, msg[k]) for k in echo if k in msg)
    out["39"] = code
    return out


@dataclass(frozen=True, slots=True)
class _Request:
    mti: str
    tid: str
    stan: str
    transmitted: str
    rrn: str | None
    pan: str
    txn_type: TxnType
    amount: int
    condition: str
    batch: str
    expiry: str | None
    icc: dict[int, bytes] | None

    @staticmethod
    def of(msg: Fields) -> _Request:
        try:
            txn_type = TxnType(text(msg, "3")[:2])
        except ValueError:
            raise FormatError("processing code not supported") from None
        track2 = text(msg, "35", "")
        sep = next((i for i, c in enumerate(track2) if c in "=D"), -1)
        expiry = msg.get("14") or (track2[sep + 1:sep + 5] if sep >= 0 else None)
        pan = text(msg, "2", "") or (track2[:sep] if sep > 0 else "")
        if not pan:
            raise FormatError("field 2 or 35 must carry the PAN")
        return _Request(mti=text(msg, "t"), tid=text(msg, "41"), stan=text(msg, "11"), transmitted=text(msg, "7"),
                        rrn=text(msg, "37", "") or None, pan=pan, txn_type=txn_type, amount=int(text(msg, "4", "0")),
                        condition=text(msg, "25", "00"), batch=text(msg, "60", "000000"),
                        expiry=expiry if isinstance(expiry, str) else None, icc=_icc(msg, pan))


def _icc(msg: Fields, pan: str) -> dict[int, bytes] | None:
    """Field 55 by tag, plus the PAN (5A) and PSN (5F34) from fields 2 and 23 when 55 lacks them:
    the issuer derives the card's keys from them."""
    raw = msg.get("55")
    if raw is None:
        return None
    if not isinstance(raw, bytes):
        raise FormatError("field 55 must be binary")
    try:
        data = {int.from_bytes(tag, "big"): value for tag, value in tlv.flatten(raw).items()}
    except TlvError:
        raise FormatError("field 55 is not BER-TLV") from None
    data.setdefault(0x5A, bytes.fromhex(pan + "F" * (len(pan) % 2)))
    psn = msg.get("23")
    if isinstance(psn, str) and psn.isdigit():
        data.setdefault(0x5F34, bytes((int(psn) % 100 // 10 * 16 + int(psn) % 10,)))
    return data


def _expired(expiry: str | None, today: datetime) -> bool:
    if not expiry or len(expiry) != 4 or not expiry.isdigit():
        return False
    return (2000 + int(expiry[:2]), int(expiry[2:])) < (today.year, today.month)


class Issuer:
    """Decides on requests against one ledger with one issuer's keys and one zone PIN key."""

    def __init__(self, ledger: Ledger, issuer: IssuerKeys, zpk: bytes, clock: Callable[[], datetime], *,
                 purse_mlk: bytes) -> None:
        self.ledger = ledger
        self.keys = issuer
        self._zpk = zpk
        self._purse_mlk = purse_mlk
        self.clock = clock

    # ------------------------------------------------------------------------- 0100 / 0200
    def authorize(self, msg: Fields) -> Fields:
        req = _Request.of(msg)
        if req.txn_type is TxnType.PURSE_LOAD:
            return self._purse_load(msg, req)
        now = self.clock()
        arqc_ok, session_key = self._arqc_ok(req)
        with self.ledger.transaction():
            dup = self.ledger.find_duplicate(req.tid, req.stan, req.transmitted, req.rrn)
            if dup is not None:
                log.info("%s TID %s STAN %s: duplicate of #%d", req.mti, req.tid, req.stan, dup.id)
                return self._answer(msg, req, "94", None, None)
            account = self.ledger.account(req.pan)
            code, effect, hold, original = self._decide(msg, req, account, arqc_ok, now)
            approved = code == "00"
            rrn = req.rrn or f"{now:%y}"[1] + f"{now:%j%H}" + req.stan
            settle = None
            if approved and req.txn_type in (TxnType.PURCHASE, TxnType.EC_LOAD):
                settle = "debit"
            elif approved and req.txn_type is TxnType.REFUND:
                settle = "credit"
            posting = self.ledger.post(
                tid=req.tid, stan=req.stan, transmitted=req.transmitted, rrn=rrn,
                rrn_source="terminal" if req.rrn else "host", mti=req.mti, txn_type=req.txn_type.value,
                pan=req.pan if account else None, amount=req.amount, effect=effect if approved else 0,
                hold=hold if approved else 0, response=code, batch=req.batch, settle=settle,
                state="posted" if approved else "declined", original_id=original.id if original else None,
                created=now.isoformat(), auth=approved)
            if approved and original is not None and req.txn_type is not TxnType.REFUND:
                self.ledger.set_state(original.id, "voided" if req.txn_type is TxnType.VOID else "completed")
            after = replace(account, balance=account.balance + posting.effect,
                            held=account.held + posting.hold) if account else None
        log.info("%s %s TID %s STAN %s %s amount %d -> %s", req.mti, req.txn_type.name, req.tid, req.stan,
                 mask_pan(req.pan), req.amount, code)
        reply = self._answer(msg, req, code, posting, after, session_key=session_key)
        reply["37"] = rrn
        return reply

    def _arqc_ok(self, req: _Request) -> tuple[bool | None, bytes | None]:
        """(None: no ICC data | False | True, the AC session key when the cryptogram verified)."""
        if req.icc is None:
            return None, None
        try:
            session_key = verify_arqc(self.keys, req.icc)
        except CryptoError as exc:
            log.info("TID %s STAN %s: ARQC rejected: %s", req.tid, req.stan, exc)
            return False, None
        amount = req.icc.get(0x9F02)
        if amount is not None and amount.hex() != f"{req.amount:012d}":
            log.info("TID %s STAN %s: field 4 differs from the amount the ARQC covers", req.tid, req.stan)
            return False, session_key
        return True, session_key

    def _decide(self, msg: Fields, req: _Request, account: Account | None, arqc_ok: bool | None,
                now: datetime) -> tuple[str, int, int, Posting | None]:
        """(response code, balance effect, hold effect, the original it refers to)."""
        if account is None:
            return "14", 0, 0, None
        if not account.available:
            return "91", 0, 0, None
        if arqc_ok is False:
            return "05", 0, 0, None
        if _expired(req.expiry, now) or _expired(account.expiry, now):
            return "54", 0, 0, None
        pin_code = self._pin(msg, req.pan)
        if pin_code:
            return pin_code, 0, 0, None
        kind, amount = req.txn_type, req.amount
        if kind in (TxnType.BALANCE, TxnType.BALANCE_CREDIT):
            return "00", 0, 0, None
        if amount <= 0:
            return "13", 0, 0, None
        if kind is TxnType.PURCHASE and req.condition == COMPLETION_CONDITION:
            return self._completion(msg, req, account)
        if kind is TxnType.EC_LOAD and (req.icc is None or len(req.icc.get(0x9F79, b"")) != 6):
            return "30", 0, 0, None  # without the card's balance no script can load it: nothing is taken
        if kind in _DEBITS:
            if amount > account.txn_limit:
                return "61", 0, 0, None
            if amount > account.available_funds:
                return "51", 0, 0, None
            return ("00", 0, amount, None) if kind is TxnType.PREAUTH else ("00", -amount, 0, None)
        original = self._original(msg, req, required=kind is TxnType.VOID)
        if kind is TxnType.REFUND:
            if original is False:
                return "25", 0, 0, None
            if original is not None and amount + self.ledger.refunded(original.id) > original.amount:
                return "13", 0, 0, None
            return "00", amount, 0, original or None
        if not original or original.txn_type not in _VOIDABLE or original.tid != req.tid:
            return "25", 0, 0, None
        if amount != original.amount:
            return "13", 0, 0, None
        # voiding a completion leaves its pre-authorization consumed: only a pre-auth's own hold returns
        return "00", -original.effect, -original.hold if original.txn_type == TxnType.PREAUTH.value else 0, original

    def _completion(self, msg: Fields, req: _Request, account: Account) -> tuple[str, int, int, Posting | None]:
        preauth = self.ledger.find_preauth(req.pan, text(msg, "38", ""))
        if preauth is None:
            return "25", 0, 0, None
        if req.amount > preauth.amount:
            return "13", 0, 0, None
        return "00", -req.amount, -preauth.hold, preauth

    def _original(self, msg: Fields, req: _Request, *, required: bool) -> Posting | None | Literal[False]:
        """The posted transaction field 61 names; None when 61 is absent, False when not found."""
        if "61" not in msg:
            if required:
                raise FormatError("a void needs field 61")
            return None
        try:
            ref = OriginalReference.parse(text(msg, "61"))
        except HostMessageError as exc:
            raise FormatError(str(exc)) from None
        found = self.ledger.find(ref.tid.strip() or req.tid, ref.stan, ref.transmitted)
        if found is None or found.state != "posted" or found.pan != req.pan:
            return False
        return found

    def _pin(self, msg: Fields, pan: str) -> str | None:
        """None when no online PIN or a right one; 55 wrong; 75 tries exhausted."""
        block = msg.get("52")
        if block is None:
            return None
        if not isinstance(block, bytes):
            raise FormatError("field 52 must be binary")
        pin: str | None
        try:
            pin = decode_pin_block(decrypt_pin_block(self._zpk, block), pan)
        except CryptoError:
            pin = None  # wrong ZPK or not a format 0 block for this PAN: counts as a wrong PIN
        result = self.ledger.check_pin(pan, pin)
        return None if result == PinCheck.OK else "75" if result == PinCheck.BLOCKED else "55"

    def _answer(self, msg: Fields, req: _Request, code: str, posting: Posting | None,
                account: Account | None, *, session_key: bytes | None = None) -> Fields:
        reply = reply_to(msg, code)
        if posting is not None and posting.auth_code:
            reply["38"] = posting.auth_code
        if account is not None and (code == "00"):
            reply["54"] = str(AdditionalAmount(account.account_type, "02", account.currency,
                                               account.available_funds))
        if req.icc is not None and 0x9F26 in req.icc and code != "91":  # 91: the issuer did not see it
            try:
                icc = tlv.build(0x91, make_arpc(self.keys, req.icc, code.encode("ascii"), session_key=session_key))
                reply["55"] = icc
                if code == "00" and req.txn_type is TxnType.EC_LOAD:
                    reply["55"] = icc + self._ec_load_script(req)
            except CryptoError as exc:
                log.info("no ARPC for TID %s STAN %s: %s", req.tid, req.stan, exc)
        return reply

    def _ec_load_script(self, req: _Request) -> bytes:
        """The electronic-cash load itself: a 72 script PUT DATA 9F79 = the card's balance (9F79 in
        field 55) plus the amount, under the card's SMI session key (PBOC: the card checks its
        limit 9F77 and refuses an update above it; the terminal then reverses)."""
        assert req.icc is not None
        present = req.icc.get(0x9F79)
        if present is None or len(present) != 6 or not present.hex().isdigit():
            raise CryptoError("an EC load needs the card's balance (9F79, n12) in field 55")
        new = int(present.hex()) + req.amount
        command = issuer_script(self.keys, req.icc, ScriptCommand.PUT_DATA, tag=0x9F79,
                                value=bytes.fromhex(f"{new:012d}"))
        return IssuerScript(command, 0x72).tlv()

    # --------------------------------------------------------------------- 0200 purse load
    def _purse_load(self, msg: Fields, req: _Request) -> Fields:
        """A transit purse top-up: MAC1 checked, MAC2 answered, posted for settlement (pos_sim.host._purse)."""
        now = self.clock()
        with self.ledger.transaction():
            if self.ledger.find(req.tid, req.stan, req.transmitted) is not None:
                return self._answer(msg, req, "94", None, None)
            try:
                code, icc = authorize_purse_load(self._purse_mlk, msg, req.pan, req.amount)
            except HostMessageError as exc:
                raise FormatError(str(exc)) from None
            if code == "00" and req.amount <= 0:
                code, icc = "13", b""
            rrn = req.rrn or f"{now:%y}"[1] + f"{now:%j%H}" + req.stan
            posting = self.ledger.post(
                tid=req.tid, stan=req.stan, transmitted=req.transmitted, rrn=rrn, rrn_source="host", mti=req.mti,
                txn_type=req.txn_type.value, pan=None, amount=req.amount, response=code, batch=req.batch,
                settle="debit" if code == "00" else None, state="posted" if code == "00" else "declined",
                created=now.isoformat(), auth=code == "00")
        log.info("purse load TID %s STAN %s of %d -> %s", req.tid, req.stan, req.amount, code)
        reply = reply_to(msg, code)
        if posting.auth_code and code == "00":
            reply["38"] = posting.auth_code
        if icc:
            reply["55"] = icc
        reply["37"] = rrn
        return reply

    # ------------------------------------------------------------------------------- 0220
    def advise(self, msg: Fields) -> Fields:
        """0220: a card approved a sale offline (a TC, e.g. from electronic cash) and the terminal
        tells the acquirer so it is settled. The card already decided, so the advice is recorded,
        not judged: the TC is checked (a bad one is logged for the issuer's risk team, code 05
        still acknowledges), the account balance is not touched (electronic cash was paid for when
        it was loaded), and the amount counts in the batch's settlement totals. Duplicates: 94."""
        req = _Request.of(msg)
        now = self.clock()
        with self.ledger.transaction():
            if self.ledger.find(req.tid, req.stan, req.transmitted) is not None:
                return self._answer(msg, req, "94", None, None)
            code = "00" if self._arqc_ok(req)[0] is not False else "05"
            rrn = req.rrn or f"{now:%y}"[1] + f"{now:%j%H}" + req.stan
            self.ledger.post(tid=req.tid, stan=req.stan, transmitted=req.transmitted, rrn=rrn, rrn_source="host",
                             mti=req.mti, txn_type=req.txn_type.value, pan=None, amount=req.amount, response=code,
                             batch=req.batch, settle="debit", state="posted", created=now.isoformat())
        log.info("0220 TID %s STAN %s offline approval of %d recorded (%s)", req.tid, req.stan, req.amount, code)
        reply = reply_to(msg, code)
        reply["37"] = rrn
        return reply

    # ------------------------------------------------------------------------------- 0400
    def reverse(self, msg: Fields) -> Fields:
        """Undo the original named by field 90 (and TID 41) exactly once; always 00 when there is
        nothing (left) to undo, and a reversal of an original never seen blocks it from posting
        later (it would otherwise be charged after the terminal gave up on it)."""
        tid, stan = text(msg, "41"), text(msg, "11")
        try:
            orig = OriginalData.parse(text(msg, "90"))
        except HostMessageError as exc:
            raise FormatError(str(exc)) from None
        now = self.clock().isoformat()
        with self.ledger.transaction():
            original = self.ledger.find(tid, orig.stan, orig.transmitted)
            if original is None:
                outcome = "unknown original: recorded so it can never post"
                self.ledger.post(tid=tid, stan=orig.stan, transmitted=orig.transmitted, rrn=None, rrn_source="none",
                                 mti=orig.mti, txn_type="--", pan=None, amount=int(text(msg, "4", "0")),
                                 response="--", batch=text(msg, "60", "000000"), state="reversed", created=now)
            elif original.state == "posted":
                self.ledger.undo(original)
                outcome = "undone"
            else:
                outcome = f"nothing to undo (original {original.state})"
            self.ledger.log_reversal(tid, stan, str(orig), original.id if original else None, outcome, now)
        log.info("0400 TID %s STAN %s for %s STAN %s: %s", tid, stan, orig.mti, orig.stan, outcome)
        return reply_to(msg, "00", (*_ECHOED, "90"))
