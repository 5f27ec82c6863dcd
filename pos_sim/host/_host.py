"""The acquirer + issuer host, sans-IO: ``Host.handle(message bytes) -> reply bytes``.

No socket, thread or clock of its own: the asyncio server (:mod:`pos_sim.host._server`) and the
in-process link (:class:`pos_sim.host.InProcessHostLink`) are thin wrappers around ``handle``, so
``cardkit demo`` runs the same host with no server, and the tests drive it byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType

from cardkit.issuer.demo_keys import DEMO_PURSE_MLK, DEMO_ZPK, demo_issuer
from cardkit.issuer.keys import IssuerKeys
from pos_sim.host._errors import HostMessageError
from pos_sim.host._issuer import FormatError, Issuer, reply_to, text
from pos_sim.host._ledger import Account, Ledger
from pos_sim.host.iso8583 import (
    ECHO,
    MTI,
    SIGN_OFF,
    SIGN_ON,
    Fields,
    SettlementTotals,
    decode_message,
    encode_message,
)

__all__ = ["DEMO_CREDIT_LIMIT", "DEMO_DEBIT_BALANCE", "Host", "HostFaults"]

log = logging.getLogger(__name__)

DEMO_DEBIT_BALANCE = 1_000_000  # 10,000.00 CNY
DEMO_DEBIT_TXN_LIMIT = 5_000_000  # 50,000.00: above the balance, so a big debit sale gets 51
DEMO_CREDIT_LIMIT = 5_000_000  # 50,000.00 CNY
DEMO_CREDIT_TXN_LIMIT = 2_000_000  # 20,000.00: below the limit, so a big credit sale gets 61


@dataclass
class HostFaults:
    """Switches a test flips to make the host misbehave (mutable on purpose).

    Attributes:
        unavailable: answer 91 to every 0100/0200/0400 (the issuer is down, the switch is up).
        lose_replies: process and post the next N requests, then lose their replies (the link
            raises HostTimeout; the TCP server sends nothing back).
        delay: seconds the TCP server waits before each reply.
        offline: the in-process link raises HostUnavailable without sending (the TCP equivalent
            is a stopped server).
    """

    unavailable: bool = False
    lose_replies: int = 0
    delay: float = 0.0
    offline: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def take_lost_reply(self) -> bool:
        """True (and one fewer to lose) when this reply is to be lost."""
        with self._lock:
            if self.lose_replies > 0:
                self.lose_replies -= 1
                return True
            return False


class Host:
    """An acquirer switch and the issuer behind it, on one SQLite ledger.

    Args:
        db_path: the SQLite file; None = in memory.
        issuer: the issuer's master keys (ARQC check, ARPC); None = the published demo issuer.
        zpk: the zone PIN key online PIN blocks arrive under; None = the demo ZPK.
        clock: the host's time (expiry checks, timestamps, host-assigned RRNs).
        pvk: the PIN verification key for stored PIN verifiers; None = derived from the issuer's
            AC master key, so it never sits in the database.
        purse_mlk: the transit purse load master key (top-ups); None = the published demo key.
    """

    def __init__(self, db_path: str | Path | None = None, issuer: IssuerKeys | None = None,
                 zpk: bytes | None = None, clock: Callable[[], datetime] = datetime.now, *,
                 pvk: bytes | None = None, purse_mlk: bytes | None = None) -> None:
        keys = issuer or demo_issuer()
        if pvk is None and not isinstance(keys.imk_ac, (bytes, bytearray)):
            raise ValueError("issuer keys held by a keystore: give the host its own PIN verification key (pvk)")
        pin_key = pvk or hmac.new(bytes(keys.imk_ac), b"cardkit host PIN verification key",  # type: ignore[arg-type]
                                  hashlib.sha256).digest()
        self.ledger = Ledger(db_path, pin_key)
        self.faults = HostFaults()
        self.clock = clock
        self._issuer = Issuer(self.ledger, keys, zpk or DEMO_ZPK, clock, purse_mlk=purse_mlk or DEMO_PURSE_MLK)
        self._handlers: dict[str, Callable[[Fields], Fields]] = {
            MTI.AUTHORIZATION: self._issuer_request(self._issuer.authorize),
            MTI.FINANCIAL: self._issuer_request(self._issuer.authorize),
            MTI.ADVICE: self._issuer.advise,
            MTI.REVERSAL: self._issuer_request(self._issuer.reverse),
            MTI.SETTLEMENT: self._settle,
            MTI.NETWORK: self._network,
        }

    def __repr__(self) -> str:
        return f"Host(faults={self.faults!r})"

    def __enter__(self) -> Host:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.ledger.close()

    # ---------------------------------------------------------------------------- accounts
    def seed_demo_accounts(self) -> None:
        """The demo card's debit and credit accounts (pos_sim.demo_card), PIN DEMO_PIN; existing
        accounts are left as they are, so seeding twice changes nothing."""
        from pos_sim.demo_card import DEMO_PIN, demo_accounts

        debit, credit = demo_accounts(self.clock().date())
        expiry = f"{debit.expiry:%y%m}"
        self.ledger.add_account(debit.pan, kind="debit", balance=DEMO_DEBIT_BALANCE, txn_limit=DEMO_DEBIT_TXN_LIMIT,
                                expiry=expiry, pin=DEMO_PIN)
        self.ledger.add_account(credit.pan, kind="credit", balance=0, credit_limit=DEMO_CREDIT_LIMIT,
                                txn_limit=DEMO_CREDIT_TXN_LIMIT, expiry=f"{credit.expiry:%y%m}", pin=DEMO_PIN)

    def add_account(self, pan: str, *, kind: str = "debit", balance: int = 0, txn_limit: int = 10**11,
                    expiry: str = "4912", pin: str = "123456", credit_limit: int = 0, pin_tries: int = 3,
                    available: bool = True) -> None:
        """Create or replace an account (amounts in minor units, expiry YYMM)."""
        self.ledger.add_account(pan, kind=kind, balance=balance, txn_limit=txn_limit, expiry=expiry, pin=pin,
                                credit_limit=credit_limit, pin_tries=pin_tries, available=available,
                                replace=True)

    def account(self, pan: str) -> Account:
        """The account as it stands; KeyError for an unknown PAN."""
        found = self.ledger.account(pan)
        if found is None:
            raise KeyError("no account for that PAN")
        return found

    # ---------------------------------------------------------------------------- messages
    def handle(self, raw: bytes) -> bytes:
        """One ISO 8583 request in, its response out (no length header).

        A request that decodes but lacks a field it needs is answered 30; an MTI this host does
        not serve, 12. Internal failures are answered 96 and logged.

        Raises:
            HostMessageError: ``raw`` is not a message of this layout, or not a request MTI: there
                is nothing to answer (the TCP server drops the connection).
        """
        return encode_message(self.handle_fields(decode_message(raw)))

    def handle_fields(self, msg: Fields) -> Fields:
        """:meth:`handle` on decoded fields."""
        mti = text(msg, "t")
        if mti[2] not in "0246" or mti[3] not in "01":  # a request or its repeat (0201, 0401)
            raise HostMessageError(f"MTI {mti} is not a request")
        handler = self._handlers.get(mti[:3] + "0")
        if handler is None:
            return reply_to(msg, "12")
        try:
            return handler(msg)
        except FormatError as exc:
            log.info("MTI %s: format error: %s", mti, exc)
            return reply_to(msg, "30")
        except Exception:
            log.exception("MTI %s: host failure; answered 96", mti)
            return reply_to(msg, "96")

    def _issuer_request(self, decide: Callable[[Fields], Fields]) -> Callable[[Fields], Fields]:
        def handler(msg: Fields) -> Fields:
            if self.faults.unavailable:
                log.info("MTI %s answered 91: issuer unavailable (fault switch)", msg.get("t"))
                return reply_to(msg, "91")
            return decide(msg)
        return handler

    def _settle(self, msg: Fields) -> Fields:
        """0500: the terminal's batch totals against the host's for that TID + batch: 00 or 95."""
        tid, batch = text(msg, "41"), text(msg, "60")
        try:
            theirs = SettlementTotals.of(msg)
        except Exception as exc:
            raise FormatError(str(exc)) from None
        ours = self.ledger.totals(tid, batch)
        code = "00" if ours == theirs else "95"
        self.ledger.log_settlement(tid, batch, theirs, ours, code, self.clock().isoformat())
        log.info("0500 TID %s batch %s: terminal %s host %s -> %s", tid, batch, theirs, ours, code)
        return reply_to(msg, code, ("7", "11", "41", "42", "49", "60", "74", "76", "86", "88"))

    def _network(self, msg: Fields) -> Fields:
        code = text(msg, "70")
        answer = "00" if code in (SIGN_ON, SIGN_OFF, ECHO) else "12"
        log.debug("0800 TID %s code %s -> %s", msg.get("41", "-"), code, answer)
        return reply_to(msg, answer, ("7", "11", "41", "42", "70"))

