"""The terminal's durable transaction journal: SQLite in WAL mode with ``synchronous=FULL``.

The promise: a transaction is in the journal before its receipt prints, and a terminal killed at
any point (``kill -9``, power loss) never loses an approved transaction and never charges a card
twice. The terminal keeps it by writing a PENDING entry (:meth:`Journal.begin`) *before* the
request goes to the host, recording the host's answer (:meth:`Journal.approve` /
:meth:`Journal.decline`) before printing, and reversing at start-up every entry that
:meth:`Journal.incomplete` still reports. This module is the state machine under that
promise; every method that changes state is one SQLite transaction that is on disk
(``fsync``) when it returns.

State machine (any other step raises :class:`JournalError` and changes nothing)::

    PENDING ──approve──> APPROVED ──mark_voided──> VOIDED
       │  └──decline──> DECLINED       │
       └──mark_reversal_pending──> REVERSAL_PENDING <──┘
                                       └──mark_reversed──> REVERSED

Approving a ``void`` entry voids its original in the same commit, so no crash can leave both
counted; reversing an approved void gives the original back.

Nothing secret is stored: field 52 (the PIN block) is dropped from requests and responses, and
the PAN (fields 2, 35, 36, 45 and PAN tags inside field 55) is masked before it reaches the disk.
"""

from __future__ import annotations

import csv
import enum
import json
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, TextIO

from cardkit.errors import CardkitError
from pos_sim._redact import masked_pan, scrub_message, scrub_outcome

__all__ = [
    "KINDS",
    "BatchTotals",
    "EntryStatus",
    "Journal",
    "JournalEntry",
    "JournalError",
    "Total",
    "minor_to_decimal",
]

log = logging.getLogger(__name__)

#: The transaction kinds a journal entry (and a receipt) can be.
KINDS: tuple[str, ...] = ("sale", "refund", "void", "preauth", "completion", "balance", "ec_load", "fare",
                          "purse_load", "medical")
# what the merchant collects: the host's 0500 counts EC loads (and purse top-ups) as debits too
_DEBIT_KINDS = frozenset({"sale", "completion", "ec_load", "fare", "purse_load", "medical"})
_CREDIT_KINDS = frozenset({"refund"})

_SCHEMA_NAME = "cardkit-journal"
_SCHEMA_VERSION = 1
_STAN_RE = re.compile(r"\d{6}")
_CURRENCY_RE = re.compile(r"\d{3}")
_CURRENCY_EXPONENT = {"392": 0, "410": 0, "048": 3, "414": 3}  # ISO 4217; everything else has 2


class JournalError(CardkitError):
    """An illegal journal operation (a transition the state machine forbids, an unknown entry) or
    a journal file that is not a journal or is corrupt."""


class EntryStatus(enum.Enum):
    """Where an entry stands; the value is what the database and the CSV export hold."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    REVERSAL_PENDING = "reversal_pending"
    REVERSED = "reversed"
    VOIDED = "voided"


_S = EntryStatus
#: The only legal steps: (from, operation) -> to.
_NEXT: Mapping[tuple[EntryStatus, str], EntryStatus] = MappingProxyType({
    (_S.PENDING, "approve"): _S.APPROVED,
    (_S.PENDING, "decline"): _S.DECLINED,
    (_S.PENDING, "reversal_pending"): _S.REVERSAL_PENDING,
    (_S.APPROVED, "reversal_pending"): _S.REVERSAL_PENDING,
    (_S.APPROVED, "void"): _S.VOIDED,
    (_S.REVERSAL_PENDING, "reversed"): _S.REVERSED,
})


def minor_to_decimal(amount: int, currency: str = "156") -> Decimal:
    """Minor units to an exact Decimal for display: ``1250`` CNY -> ``Decimal("12.50")``."""
    exponent = _CURRENCY_EXPONENT.get(currency, 2)
    return Decimal(amount).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One transaction as the journal holds it (never a PIN block, never a full PAN)."""

    id: int
    batch: int
    stan: str
    rrn: str | None
    kind: str
    amount: int  # minor units
    currency: str  # ISO 4217 numeric, "156" = CNY
    status: EntryStatus
    created: datetime
    updated: datetime
    pan_masked: str
    scheme: str
    aid: str
    label: str
    request: Mapping[str, str]
    response: Mapping[str, str] | None
    auth_code: str | None
    response_code: str | None
    outcome: Mapping[str, Any] | None
    reversal_reason: str | None
    receipt_printed: bool
    original_id: int | None


@dataclass(frozen=True, slots=True)
class Total:
    """A count and a sum in minor units."""

    count: int = 0
    amount: int = 0

    def __add__(self, other: Total) -> Total:
        return Total(self.count + other.count, self.amount + other.amount)

    def decimal(self, currency: str = "156") -> Decimal:
        return minor_to_decimal(self.amount, currency)


@dataclass(frozen=True, slots=True)
class BatchTotals:
    """Settlement totals of one batch in one currency: approved entries only.

    Sales and completions are debits, refunds credits; other kinds (pre-authorisations, balance
    inquiries, EC loads, voids) are counted in ``by_kind`` but move no money in settlement.
    Reversed, voided, declined and unresolved entries are left out.
    """

    batch: int
    currency: str
    by_kind: Mapping[str, Total] = field(default_factory=dict)
    by_scheme_debit: Mapping[str, Total] = field(default_factory=dict)
    by_scheme_credit: Mapping[str, Total] = field(default_factory=dict)

    @property
    def debit(self) -> Total:
        return sum(self.by_scheme_debit.values(), Total())

    @property
    def credit(self) -> Total:
        return sum(self.by_scheme_credit.values(), Total())

    @property
    def net(self) -> int:
        """Debits minus credits, minor units."""
        return self.debit.amount - self.credit.amount

    def decimal(self, amount: int) -> Decimal:
        """Any amount of this batch as an exact Decimal for display."""
        return minor_to_decimal(amount, self.currency)


_COLUMNS = (
    "id", "batch", "stan", "rrn", "kind", "amount", "currency", "status", "created", "updated",
    "pan_masked", "scheme", "aid", "label", "request", "response", "auth_code", "response_code",
    "outcome", "reversal_reason", "receipt_printed", "original_id",
)
_CSV_COLUMNS = tuple(c for c in _COLUMNS if c not in ("request", "response", "outcome"))

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    batch INTEGER NOT NULL,
    stan TEXT NOT NULL CHECK (length(stan) = 6),
    rrn TEXT,
    kind TEXT NOT NULL CHECK (kind IN ({", ".join(repr(k) for k in KINDS)})),
    amount INTEGER NOT NULL CHECK (amount >= 0),
    currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ({", ".join(repr(s.value) for s in EntryStatus)})),
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    pan_masked TEXT NOT NULL,
    scheme TEXT NOT NULL,
    aid TEXT NOT NULL,
    label TEXT NOT NULL,
    request TEXT NOT NULL,
    response TEXT,
    auth_code TEXT,
    response_code TEXT,
    outcome TEXT,
    reversal_reason TEXT,
    receipt_printed INTEGER NOT NULL DEFAULT 0,
    original_id INTEGER REFERENCES entries(id)
);
CREATE INDEX IF NOT EXISTS entries_status ON entries(status);
CREATE INDEX IF NOT EXISTS entries_batch_stan ON entries(batch, stan);
CREATE INDEX IF NOT EXISTS entries_rrn ON entries(rrn);
"""


def _checked_outcome(outcome: Mapping[str, Any] | None) -> dict[str, Any] | None:
    try:
        return scrub_outcome(outcome)
    except ValueError as exc:
        raise JournalError(str(exc)) from None


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Journal:
    """The durable transaction journal of one terminal.

    One SQLite connection, serialised with a lock, so a journal is safe to share between the
    terminal's threads. Every state-changing method commits (and fsyncs) before it returns.

    Raises:
        JournalError: the file is not a cardkit journal, is corrupt, or cannot be opened.
    """

    def __init__(self, path: str | Path, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.RLock()
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
            os.close(fd)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(f"cannot open the journal {self.path}: {exc}") from None
        try:
            self._open()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise JournalError(f"{self.path} is not a cardkit journal or is corrupt ({exc})") from None
        except JournalError:
            self._db.close()
            raise

    def _open(self) -> None:
        db = self._db
        if db.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() != "wal":
            raise JournalError(f"{self.path}: SQLite refused WAL mode")
        db.execute("PRAGMA synchronous=FULL")
        if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise JournalError(f"{self.path}: the journal is corrupt (SQLite quick_check failed)")
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "meta" not in tables:
            raise JournalError(f"{self.path} is an SQLite database but not a cardkit journal")
        self._admit_new_kinds()
        db.execute("PRAGMA foreign_keys=ON")
        with self._write():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            for key, value in (("schema", _SCHEMA_NAME), ("version", str(_SCHEMA_VERSION)),
                               ("stan", "0"), ("batch", "1")):
                db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, value))
        if self._meta("schema") != _SCHEMA_NAME:
            raise JournalError(f"{self.path} is an SQLite database but not a cardkit journal")
        if self._meta("version") != str(_SCHEMA_VERSION):
            raise JournalError(f"{self.path}: journal version {self._meta('version')} is not supported")

    def _admit_new_kinds(self) -> None:
        """A journal made by an earlier cardkit checks ``kind`` against the kinds of its day: rebuild
        the table (rows, ids and all) under today's schema, in one transaction, foreign keys off."""
        row = self._db.execute("SELECT sql FROM sqlite_master WHERE type='table' AND name='entries'").fetchone()
        if row is None or all(repr(k) in row[0] for k in KINDS):
            return
        log.info("%s: admitting new transaction kinds into an older journal", self.path)
        with self._write() as db:
            db.execute("ALTER TABLE entries RENAME TO entries_before")
            for statement in _SCHEMA.split(";"):
                if "CREATE TABLE IF NOT EXISTS entries" in statement:
                    db.execute(statement)
            db.execute(f"INSERT INTO entries ({', '.join(_COLUMNS)}) SELECT {', '.join(_COLUMNS)} FROM entries_before")
            db.execute("DROP TABLE entries_before")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One immediate (write-locked) transaction: committed on success, rolled back on error."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _meta(self, key: str) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise JournalError(f"{self.path}: the journal has no {key!r} record")
        return str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("UPDATE meta SET value = ? WHERE key = ?", (value, key))

    # -- counters ---------------------------------------------------------------------------

    def next_stan(self) -> str:
        """The next System Trace Audit Number (field 11), committed before it is returned so no
        two requests ever share one, even across a crash: 000001..999999, then 000001 again."""
        with self._write():
            stan = int(self._meta("stan")) % 999_999 + 1
            self._set_meta("stan", str(stan))
        return f"{stan:06d}"

    def current_batch(self) -> int:
        with self._lock:
            return int(self._meta("batch"))

    # -- transitions ------------------------------------------------------------------------

    def begin(
        self, *, kind: str, amount: int, stan: str, request: Mapping[Any, Any], pan_masked: str,
        scheme: str, aid: str, label: str, original_id: int | None = None, currency: str = "156",
    ) -> JournalEntry:
        """Record a transaction about to go to the host, as PENDING, committed before return.

        The request is stored as sent minus field 52, with the PAN masked.

        Raises:
            JournalError: an unknown kind, a bad amount/STAN/currency, a missing original, or a
                void of an entry that is not APPROVED.
        """
        if kind not in KINDS:
            raise JournalError(f"unknown transaction kind {kind!r} (one of {', '.join(KINDS)})")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise JournalError(f"amount must be a non-negative int in minor units, not {amount!r}")
        if not _STAN_RE.fullmatch(stan):
            raise JournalError(f"a STAN is 6 digits, not {stan!r}")
        if not _CURRENCY_RE.fullmatch(currency):
            raise JournalError(f"currency is an ISO 4217 numeric code like '156', not {currency!r}")
        now = self._clock().isoformat()
        with self._write() as db:
            if kind == "void" and original_id is None:
                raise JournalError("a void needs original_id: the entry it voids")
            if original_id is not None:
                original = self._get(original_id)
                if kind == "void" and original.status is not EntryStatus.APPROVED:
                    raise JournalError(f"cannot void journal entry #{original_id}: it is {original.status.value}")
            cur = db.execute(
                "INSERT INTO entries (batch, stan, kind, amount, currency, status, created, updated,"
                " pan_masked, scheme, aid, label, request, original_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (int(self._meta("batch")), stan, kind, amount, currency, EntryStatus.PENDING.value, now,
                 now, masked_pan(pan_masked), scheme, aid.upper(), label,
                 json.dumps(scrub_message(request)), original_id),
            )
            entry_id = int(cur.lastrowid or 0)
        log.info("journal: %s #%d STAN %s pending", kind, entry_id, stan)
        return self.get(entry_id)

    def approve(
        self, entry_id: int, *, response: Mapping[Any, Any], auth_code: str, response_code: str,
        rrn: str | None, outcome: Mapping[str, Any] | None,
    ) -> JournalEntry:
        """PENDING -> APPROVED. An approved void voids its original in the same commit; if the
        original is no longer APPROVED (another void won), nothing changes and the void stays
        PENDING, to be reversed like any unanswered request."""
        with self._write():
            entry = self._step(entry_id, "approve", response=json.dumps(scrub_message(response)),
                               auth_code=auth_code, response_code=response_code, rrn=rrn,
                               outcome=json.dumps(_checked_outcome(outcome)))
            if entry.kind == "void" and entry.original_id is not None:
                self._step(entry.original_id, "void")
        return self.get(entry_id)

    def decline(
        self, entry_id: int, *, response: Mapping[Any, Any] | None, response_code: str,
        outcome: Mapping[str, Any] | None, reason: str,
    ) -> JournalEntry:
        """PENDING -> DECLINED. ``reason`` (one human line for the receipt) is kept in the outcome
        summary as ``decline_reason`` unless the summary already has one."""
        summary = dict(_checked_outcome(outcome) or {})
        summary.setdefault("decline_reason", reason)
        with self._write():
            self._step(entry_id, "decline", response=json.dumps(scrub_message(response)),
                       response_code=response_code, outcome=json.dumps(summary))
        return self.get(entry_id)

    def mark_reversal_pending(self, entry_id: int, reason: str) -> JournalEntry:
        """PENDING or APPROVED -> REVERSAL_PENDING: the terminal owes the host a reversal."""
        with self._write():
            self._step(entry_id, "reversal_pending", reversal_reason=reason)
        log.info("journal: #%d reversal pending (%s)", entry_id, reason)
        return self.get(entry_id)

    def mark_reversed(self, entry_id: int) -> JournalEntry:
        """REVERSAL_PENDING -> REVERSED (the host acknowledged). A reversed approved void gives its
        original back (VOIDED -> APPROVED), in the same commit."""
        with self._write() as db:
            entry = self._step(entry_id, "reversed")
            if entry.kind == "void" and entry.original_id is not None and entry.auth_code is not None:
                db.execute("UPDATE entries SET status = ?, updated = ? WHERE id = ? AND status = ?",
                           (EntryStatus.APPROVED.value, self._clock().isoformat(), entry.original_id,
                            EntryStatus.VOIDED.value))
        return self.get(entry_id)

    def mark_voided(self, entry_id: int) -> JournalEntry:
        """APPROVED -> VOIDED. Idempotent on a VOIDED entry, since approving its void already
        voided it."""
        with self._write():
            if self._get(entry_id).status is not EntryStatus.VOIDED:
                self._step(entry_id, "void")
        return self.get(entry_id)

    def mark_printed(self, entry_id: int) -> None:
        """The receipt of this entry came out of the printer (any status)."""
        with self._write() as db:
            self._get(entry_id)
            db.execute("UPDATE entries SET receipt_printed = 1 WHERE id = ?", (entry_id,))

    def _step(self, entry_id: int, operation: str, **columns: Any) -> JournalEntry:
        """Apply one legal transition inside the caller's transaction, or raise and change nothing."""
        entry = self._get(entry_id)
        target = _NEXT.get((entry.status, operation))
        if target is None:
            raise JournalError(
                f"journal entry #{entry_id} ({entry.kind}, STAN {entry.stan}) is {entry.status.value}: "
                f"cannot {operation.replace('_', ' ')} it")
        columns |= {"status": target.value, "updated": self._clock().isoformat()}
        assignments = ", ".join(f"{name} = ?" for name in columns)
        self._db.execute(f"UPDATE entries SET {assignments} WHERE id = ?", (*columns.values(), entry_id))
        return self._get(entry_id)

    # -- queries ----------------------------------------------------------------------------

    def get(self, entry_id: int) -> JournalEntry:
        with self._lock:
            return self._get(entry_id)

    def _get(self, entry_id: int) -> JournalEntry:
        found = self._select("id = ?", (entry_id,))
        if not found:
            raise JournalError(f"no journal entry #{entry_id}")
        return found[0]

    def _select(self, where: str, args: tuple[Any, ...] = ()) -> list[JournalEntry]:
        with self._lock:
            rows = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM entries WHERE {where} ORDER BY id",
                                    args).fetchall()
        return [_entry(row) for row in rows]

    def _batch(self, batch: int | None) -> int:
        return self.current_batch() if batch is None else batch

    def find_by_stan(self, stan: str, batch: int | None = None) -> JournalEntry | None:
        """The latest entry with this STAN in ``batch`` (default: the current batch)."""
        found = self._select("stan = ? AND batch = ?", (stan, self._batch(batch)))
        return found[-1] if found else None

    def find_by_rrn(self, rrn: str) -> JournalEntry | None:
        found = self._select("rrn = ?", (rrn,))
        return found[-1] if found else None

    def incomplete(self) -> list[JournalEntry]:
        """PENDING entries: begun but never answered; the terminal reverses them at start-up."""
        return self._select("status = ?", (EntryStatus.PENDING.value,))

    def pending_reversals(self) -> list[JournalEntry]:
        return self._select("status = ?", (EntryStatus.REVERSAL_PENDING.value,))

    def unprinted(self) -> list[JournalEntry]:
        """APPROVED or DECLINED entries whose receipt never printed: reprint them at start-up."""
        return self._select("status IN (?, ?) AND receipt_printed = 0",
                            (EntryStatus.APPROVED.value, EntryStatus.DECLINED.value))

    def entries(self, batch: int | None = None) -> list[JournalEntry]:
        """Every entry of ``batch`` (default: the current batch), oldest first."""
        return self._select("batch = ?", (self._batch(batch),))

    def totals(self, batch: int | None = None, currency: str = "156") -> BatchTotals:
        """Settlement totals of ``batch`` (default: the current one) in ``currency``."""
        with self._lock:
            return self._totals(self._batch(batch), currency)

    def _totals(self, batch: int, currency: str) -> BatchTotals:
        rows = self._db.execute(
            "SELECT kind, scheme, count(*), coalesce(sum(amount), 0) FROM entries"
            " WHERE batch = ? AND currency = ? AND status = ? GROUP BY kind, scheme",
            (batch, currency, EntryStatus.APPROVED.value)).fetchall()
        by_kind: dict[str, Total] = {}
        debit: dict[str, Total] = {}
        credit: dict[str, Total] = {}
        for kind, scheme, count, amount in rows:
            total = Total(int(count), int(amount))
            by_kind[kind] = by_kind.get(kind, Total()) + total
            side = debit if kind in _DEBIT_KINDS else credit if kind in _CREDIT_KINDS else None
            if side is not None:
                side[scheme] = side.get(scheme, Total()) + total
        return BatchTotals(batch, currency, MappingProxyType(by_kind), MappingProxyType(debit),
                           MappingProxyType(credit))

    def close_batch(self, currency: str = "156") -> BatchTotals:
        """Settle: the current batch's totals, then the batch number moves on (durably).

        Raises:
            JournalError: an entry still waits for its answer or for its reversal; settle those first.
        """
        with self._write() as db:
            waiting = db.execute("SELECT count(*) FROM entries WHERE status IN (?, ?)",
                                 (EntryStatus.PENDING.value, EntryStatus.REVERSAL_PENDING.value)).fetchone()[0]
            if waiting:
                raise JournalError(f"cannot close the batch: {waiting} entr{'y' if waiting == 1 else 'ies'} "
                                   "still pending or awaiting reversal; send the reversals first")
            batch = int(self._meta("batch"))
            totals = self._totals(batch, currency)
            self._set_meta("batch", str(batch + 1))
        log.info("journal: batch %d closed, net %s", batch, totals.decimal(totals.net))
        return totals

    def export_csv(self, out: TextIO | Path, batch: int | None = None) -> int:
        """Write ``batch``'s entries (default: the current batch) as CSV with a header row.

        Only the columns a reconciliation needs: no request or response fields, PAN masked.
        Returns the number of data rows written.
        """
        entries = self.entries(batch)
        if isinstance(out, Path):
            with out.open("w", newline="", encoding="utf-8") as fh:
                return _write_csv(fh, entries)
        return _write_csv(out, entries)


def _write_csv(out: TextIO, entries: list[JournalEntry]) -> int:
    writer = csv.writer(out)
    writer.writerow(_CSV_COLUMNS)
    for e in entries:
        values = {name: getattr(e, name) for name in _CSV_COLUMNS}
        values |= {"status": e.status.value, "created": e.created.isoformat(), "updated": e.updated.isoformat(),
                   "receipt_printed": int(e.receipt_printed)}
        writer.writerow(["" if values[name] is None else values[name] for name in _CSV_COLUMNS])
    return len(entries)


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    r = dict(zip(_COLUMNS, row, strict=True))

    def _json(name: str) -> Any:
        value = r[name]
        return None if value is None else json.loads(value)

    return JournalEntry(
        id=r["id"], batch=r["batch"], stan=r["stan"], rrn=r["rrn"], kind=r["kind"], amount=r["amount"],
        currency=r["currency"], status=EntryStatus(r["status"]), created=datetime.fromisoformat(r["created"]),
        updated=datetime.fromisoformat(r["updated"]), pan_masked=r["pan_masked"], scheme=r["scheme"],
        aid=r["aid"], label=r["label"], request=_json("request"), response=_json("response"),
        auth_code=r["auth_code"], response_code=r["response_code"], outcome=_json("outcome"),
        reversal_reason=r["reversal_reason"], receipt_printed=bool(r["receipt_printed"]),
        original_id=r["original_id"],
    )
