"""The issuer's ledger in SQLite: accounts, every authorization and posting, reversals, settlements.

One connection per host, behind a lock, every request in one ``BEGIN IMMEDIATE`` transaction:
SQLite serializes the writers, so two terminals can neither double-spend a balance nor both pass a
duplicate check. A file database runs in WAL mode with ``synchronous=NORMAL``: a committed
authorization survives a crash of the host process; a power cut may lose the last commits.

PINs are never stored: an account keeps a salt and HMAC-SHA256(PIN verification key, salt ‖ PAN ‖
PIN). The key lives with the host (derived from the issuer's keys), not in the database, so a
stolen database alone does not give the six-digit PINs away to a brute-force search.
"""

from __future__ import annotations

import hmac
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import Any

from cardkit.errors import HostError
from pos_sim.host.iso8583 import SettlementTotals

__all__ = ["Account", "Ledger", "Posting", "PinCheck"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    pan            TEXT PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('debit', 'credit')),
    currency       TEXT NOT NULL,
    balance        INTEGER NOT NULL,            -- minor units; a credit card's is minus what it owes
    credit_limit   INTEGER NOT NULL DEFAULT 0,
    held           INTEGER NOT NULL DEFAULT 0,  -- open pre-authorizations
    txn_limit      INTEGER NOT NULL,            -- per transaction (61)
    expiry         TEXT NOT NULL,               -- YYMM
    pin_salt       BLOB NOT NULL,
    pin_verifier   BLOB NOT NULL,               -- HMAC-SHA256(PVK, salt || PAN || PIN)
    pin_tries_left INTEGER NOT NULL,
    pin_tries_max  INTEGER NOT NULL,
    available      INTEGER NOT NULL DEFAULT 1   -- 0: this card's issuer is unavailable (91)
);
CREATE TABLE IF NOT EXISTS transactions (
    id          INTEGER PRIMARY KEY,
    tid         TEXT NOT NULL,
    stan        TEXT NOT NULL,
    transmitted TEXT NOT NULL,                  -- field 7, MMDDhhmmss
    rrn         TEXT,
    rrn_source  TEXT NOT NULL,                  -- 'terminal' | 'host' | 'none'
    mti         TEXT NOT NULL,
    txn_type    TEXT NOT NULL,                  -- field 3 digits 1-2
    pan         TEXT,
    amount      INTEGER NOT NULL,
    effect      INTEGER NOT NULL,               -- signed change to the balance
    hold        INTEGER NOT NULL,               -- signed change to held
    response    TEXT NOT NULL,
    auth_code   TEXT NOT NULL DEFAULT '',
    batch       TEXT NOT NULL,
    settle      TEXT,                           -- 'debit' | 'credit' | NULL: counted in settlement
    state       TEXT NOT NULL,                  -- posted declined reversed voided completed
    original_id INTEGER REFERENCES transactions (id),
    created     TEXT NOT NULL,
    UNIQUE (tid, stan, transmitted)
);
CREATE UNIQUE INDEX IF NOT EXISTS transactions_rrn ON transactions (tid, rrn) WHERE rrn_source = 'terminal';
CREATE INDEX IF NOT EXISTS transactions_batch ON transactions (tid, batch, state);
CREATE INDEX IF NOT EXISTS transactions_auth ON transactions (pan, auth_code);
CREATE TABLE IF NOT EXISTS reversals (
    id INTEGER PRIMARY KEY, tid TEXT NOT NULL, stan TEXT NOT NULL, original TEXT NOT NULL,
    original_id INTEGER, outcome TEXT NOT NULL, created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settlements (
    id INTEGER PRIMARY KEY, tid TEXT NOT NULL, batch TEXT NOT NULL, terminal_totals TEXT NOT NULL,
    host_totals TEXT NOT NULL, response TEXT NOT NULL, created TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Account:
    """A card account as the host sees it; holds no PIN material."""

    pan: str
    kind: str  # "debit" | "credit"
    currency: str
    balance: int
    credit_limit: int
    held: int
    txn_limit: int
    expiry: str  # YYMM
    pin_tries_left: int
    available: bool

    @property
    def available_funds(self) -> int:
        """What the card can still spend: balance + credit limit − open pre-authorizations."""
        return self.balance + self.credit_limit - self.held

    @property
    def account_type(self) -> str:
        """ISO 8583 account type for field 54: 10 savings (debit), 30 credit."""
        return "30" if self.kind == "credit" else "10"


@dataclass(frozen=True, slots=True)
class Posting:
    """One row of the transactions table."""

    id: int
    tid: str
    stan: str
    transmitted: str
    rrn: str | None
    mti: str
    txn_type: str
    pan: str | None
    amount: int
    effect: int
    hold: int
    response: str
    auth_code: str
    batch: str
    settle: str | None
    state: str
    original_id: int | None


_POSTING_COLUMNS = ("id, tid, stan, transmitted, rrn, mti, txn_type, pan, amount, effect, hold, response, "
                    "auth_code, batch, settle, state, original_id")
_ACCOUNT_COLUMNS = "pan, kind, currency, balance, credit_limit, held, txn_limit, expiry, pin_tries_left, available"


def _account(row: tuple[Any, ...]) -> Account:
    pan, kind, currency, balance, credit_limit, held, txn_limit, expiry, tries, available = row
    return Account(pan, kind, currency, balance, credit_limit, held, txn_limit, expiry, tries, bool(available))


class PinCheck:
    OK, WRONG, BLOCKED = "ok", "wrong", "blocked"


class Ledger:
    """The SQLite store behind one host. ``path`` None = in memory (tests, the embedded demo)."""

    def __init__(self, path: str | Path | None, pin_key: bytes) -> None:
        self._pin_key = pin_key
        self._lock = threading.RLock()
        target = ":memory:" if path is None else str(path)
        try:
            self._db = sqlite3.connect(target, isolation_level=None, check_same_thread=False, timeout=30)
            if path is not None:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        except sqlite3.Error as exc:
            raise HostError(f"cannot open the host database {target}: {exc}") from None
        self._in_txn = False

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One request's reads and writes, atomically (BEGIN IMMEDIATE takes the write lock first)."""
        with self._lock:
            if self._in_txn:  # nested: the outer one commits
                yield
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._in_txn = True
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._in_txn = False

    # ------------------------------------------------------------------------------- accounts
    def _verifier(self, salt: bytes, pan: str, pin: str) -> bytes:
        return hmac.new(self._pin_key, salt + pan.encode() + b"\x00" + pin.encode(), sha256).digest()

    def add_account(self, pan: str, *, kind: str, balance: int, txn_limit: int, expiry: str, pin: str,
                    credit_limit: int = 0, currency: str = "156", pin_tries: int = 3,
                    available: bool = True, replace: bool = False) -> None:
        """Create (or with ``replace``, overwrite) an account; amounts in minor units."""
        if not (pin.isdigit() and 4 <= len(pin) <= 12):
            raise HostError("a PIN is 4 to 12 digits")
        if len(expiry) != 4 or not expiry.isdigit():
            raise HostError("expiry is YYMM")
        salt = os.urandom(16)
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        with self.transaction():
            self._db.execute(
                f"{verb} INTO accounts (pan, kind, currency, balance, credit_limit, held, txn_limit, expiry, "
                "pin_salt, pin_verifier, pin_tries_left, pin_tries_max, available) "
                "VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)",
                (pan, kind, currency, balance, credit_limit, txn_limit, expiry, salt,
                 self._verifier(salt, pan, pin), pin_tries, pin_tries, int(available)))

    def account(self, pan: str) -> Account | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE pan = ?", (pan,)).fetchone()
        return None if row is None else _account(row)

    def accounts(self) -> list[Account]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts ORDER BY pan").fetchall()
        return [_account(row) for row in rows]

    def set_available(self, pan: str, available: bool) -> None:
        with self.transaction():
            self._db.execute("UPDATE accounts SET available = ? WHERE pan = ?", (int(available), pan))

    def check_pin(self, pan: str, pin: str | None) -> str:
        """Compare ``pin`` (None = undecipherable block: wrong) and move the try counter."""
        with self.transaction():
            row = self._db.execute("SELECT pin_salt, pin_verifier, pin_tries_left, pin_tries_max FROM accounts "
                                   "WHERE pan = ?", (pan,)).fetchone()
            if row is None or row[2] <= 0:
                return PinCheck.BLOCKED
            salt, verifier, left, most = row
            if pin is not None and hmac.compare_digest(self._verifier(salt, pan, pin), verifier):
                if left != most:
                    self._db.execute("UPDATE accounts SET pin_tries_left = pin_tries_max WHERE pan = ?", (pan,))
                return PinCheck.OK
            self._db.execute("UPDATE accounts SET pin_tries_left = ? WHERE pan = ?", (left - 1, pan))
            return PinCheck.BLOCKED if left - 1 <= 0 else PinCheck.WRONG

    # ------------------------------------------------------------------------------- postings
    def _one(self, where: str, args: tuple[object, ...]) -> Posting | None:
        row = self._db.execute(f"SELECT {_POSTING_COLUMNS} FROM transactions WHERE {where} "
                               "ORDER BY id DESC LIMIT 1", args).fetchone()
        return Posting(*row) if row else None

    def find(self, tid: str, stan: str, transmitted: str) -> Posting | None:
        with self._lock:
            return self._one("tid = ? AND stan = ? AND transmitted = ?", (tid, stan, transmitted))

    def find_duplicate(self, tid: str, stan: str, transmitted: str, rrn: str | None) -> Posting | None:
        """A transaction with the same TID + STAN + transmission date-time, or TID + terminal RRN."""
        with self._lock:
            if rrn is None:
                return self._one("tid = ? AND stan = ? AND transmitted = ?", (tid, stan, transmitted))
            return self._one("(tid = ? AND stan = ? AND transmitted = ?) OR "
                             "(tid = ? AND rrn = ? AND rrn_source = 'terminal')", (tid, stan, transmitted, tid, rrn))

    def find_preauth(self, pan: str, auth_code: str) -> Posting | None:
        with self._lock:
            return self._one("pan = ? AND auth_code = ? AND txn_type = '03' AND state = 'posted'", (pan, auth_code))

    def refunded(self, original_id: int) -> int:
        with self._lock:
            row = self._db.execute("SELECT COALESCE(SUM(amount), 0) FROM transactions WHERE original_id = ? "
                                   "AND txn_type = '20' AND state = 'posted'", (original_id,)).fetchone()
        return int(row[0])

    def post(self, *, tid: str, stan: str, transmitted: str, rrn: str | None, rrn_source: str, mti: str,
             txn_type: str, pan: str | None, amount: int, effect: int = 0, hold: int = 0, response: str,
             batch: str, settle: str | None = None, state: str, original_id: int | None = None,
             created: str, auth: bool = False) -> Posting:
        """Record one request's outcome and apply ``effect``/``hold`` to the account. ``auth``:
        give it an authorization code (six digits of the row id, chosen in the same statement)."""
        with self.transaction():
            row_id, auth_code = self._db.execute(
                "INSERT INTO transactions (id, auth_code, tid, stan, transmitted, rrn, rrn_source, mti, txn_type, "
                "pan, amount, effect, hold, response, batch, settle, state, original_id, created) "
                "SELECT next, CASE WHEN ? THEN printf('%06d', next % 1000000) ELSE '' END, "
                "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? "
                "FROM (SELECT COALESCE(MAX(id), 0) + 1 AS next FROM transactions) RETURNING id, auth_code",
                (auth, tid, stan, transmitted, rrn, rrn_source, mti, txn_type, pan, amount, effect, hold, response,
                 batch, settle, state, original_id, created)).fetchone()
            if pan is not None and (effect or hold):
                self._db.execute("UPDATE accounts SET balance = balance + ?, held = held + ? WHERE pan = ?",
                                 (effect, hold, pan))
        return Posting(row_id, tid, stan, transmitted, rrn, mti, txn_type, pan, amount, effect, hold, response,
                       auth_code, batch, settle, state, original_id)

    def set_state(self, posting_id: int, state: str) -> None:
        with self.transaction():
            self._db.execute("UPDATE transactions SET state = ? WHERE id = ?", (state, posting_id))

    def undo(self, posting: Posting) -> None:
        """Take a posted transaction back: its balance and hold effects, and what it did to its
        original (a void's purchase, a completion's pre-authorization) becomes posted again."""
        with self.transaction():
            if posting.pan is not None:
                self._db.execute("UPDATE accounts SET balance = balance - ?, held = held - ? WHERE pan = ?",
                                 (posting.effect, posting.hold, posting.pan))
            self._db.execute("UPDATE transactions SET state = 'reversed' WHERE id = ?", (posting.id,))
            if posting.original_id is not None and posting.txn_type != "20":
                self._db.execute("UPDATE transactions SET state = 'posted' WHERE id = ? AND state IN "
                                 "('voided', 'completed')", (posting.original_id,))

    def log_reversal(self, tid: str, stan: str, original: str, original_id: int | None, outcome: str,
                     created: str) -> None:
        with self.transaction():
            self._db.execute("INSERT INTO reversals (tid, stan, original, original_id, outcome, created) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (tid, stan, original, original_id, outcome, created))

    # ----------------------------------------------------------------------------- settlement
    def totals(self, tid: str, batch: str) -> SettlementTotals:
        with self._lock:
            rows = self._db.execute(
                "SELECT settle, COUNT(*), COALESCE(SUM(amount), 0) FROM transactions WHERE tid = ? AND batch = ? "
                "AND state IN ('posted', 'completed') AND settle IS NOT NULL GROUP BY settle", (tid, batch)).fetchall()
        by = {kind: (int(n), int(total)) for kind, n, total in rows}
        debits, credits = by.get("debit", (0, 0)), by.get("credit", (0, 0))
        return SettlementTotals(debits[0], debits[1], credits[0], credits[1])

    def log_settlement(self, tid: str, batch: str, terminal: SettlementTotals, host: SettlementTotals,
                       response: str, created: str) -> None:
        with self.transaction():
            self._db.execute("INSERT INTO settlements (tid, batch, terminal_totals, host_totals, response, created) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (tid, batch, repr(terminal), repr(host), response, created))

    def count(self, where: str = "1", args: tuple[object, ...] = ()) -> int:
        """Rows of transactions matching ``where`` (tests and the benchmark count postings)."""
        with self._lock:
            return int(self._db.execute(f"SELECT COUNT(*) FROM transactions WHERE {where}", args).fetchone()[0])
