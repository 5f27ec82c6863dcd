"""Which card numbers an issuer has handed out, so none is ever handed out twice.

One SQLite file per issuer (``numbers.db``, WAL, synchronous FULL). A number is *claimed* for an
owner (the holder id) before any card carrying it is made; a claim is never released, so a crash
after the claim can leave a gap in a sequence but never a number on two holders. Claiming again
for the same owner returns the same number, which is what makes an interrupted batch resumable:
the rerun gives each holder the numbers it was given the first time.

It also records which holders have a card (``issued``), so a holder is not issued twice.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cardkit.errors import ProfileError

__all__ = ["NumberRegistry"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sequence (kind TEXT PRIMARY KEY, next INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS claim (kind TEXT NOT NULL, value TEXT NOT NULL, owner TEXT NOT NULL,
                                  claimed REAL NOT NULL, PRIMARY KEY (kind, value));
CREATE UNIQUE INDEX IF NOT EXISTS claim_owner ON claim (kind, owner);
CREATE TABLE IF NOT EXISTS issued (owner TEXT PRIMARY KEY, card_serial TEXT NOT NULL, batch TEXT NOT NULL,
                                   issued REAL NOT NULL);
"""


class NumberRegistry:
    """Claims of PANs, serials and document numbers, and the holders that have a card."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._depth = 0
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One durable commit for every claim inside (a card's numbers: one fsync, not five);
        nothing inside is kept if anything inside fails."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._db.rollback()
                raise
            else:
                self._db.commit()
            finally:
                self._depth = 0

    def claimed(self, kind: str, owner: str) -> str | None:
        """The number of ``kind`` already claimed for ``owner``, if any."""
        row = self._db.execute("SELECT value FROM claim WHERE kind = ? AND owner = ?", (kind, owner)).fetchone()
        return None if row is None else str(row[0])

    def claim(self, kind: str, value: str, owner: str) -> str:
        """Claim a given number (a profile that names its PAN, say).

        Raises:
            ProfileError: the number belongs to another holder, or this holder already has another one.
        """
        with self.transaction():
            row = self._db.execute("SELECT owner FROM claim WHERE kind = ? AND value = ?", (kind, value)).fetchone()
            if row is not None:
                if row[0] != owner:
                    raise ProfileError(f"{kind} {value} is already taken by another holder")
                return value
            other = self._db.execute("SELECT value FROM claim WHERE kind = ? AND owner = ?", (kind, owner)).fetchone()
            if other is not None:
                raise ProfileError(f"holder {owner} already has {kind} {other[0]}; cannot also take {value}")
            self._db.execute("INSERT INTO claim VALUES (?, ?, ?, ?)", (kind, value, owner, time.time()))
        return value

    def allocate(self, kind: str, owner: str, make: Callable[[int], str]) -> str:
        """The owner's number of ``kind``: the one claimed before, or ``make(n)`` for the next free n."""
        with self.transaction():
            row = self._db.execute("SELECT value FROM claim WHERE kind = ? AND owner = ?", (kind, owner)).fetchone()
            if row is not None:
                return str(row[0])
            seq_row = self._db.execute("SELECT next FROM sequence WHERE kind = ?", (kind,)).fetchone()
            n = 1 if seq_row is None else int(seq_row[0])
            while True:
                value = make(n)
                n += 1
                taken = self._db.execute("SELECT 1 FROM claim WHERE kind = ? AND value = ?", (kind, value)).fetchone()
                if taken is None:
                    break
            self._db.execute("INSERT INTO sequence VALUES (?, ?) ON CONFLICT (kind) DO UPDATE SET next = excluded.next",
                             (kind, n))
            self._db.execute("INSERT INTO claim VALUES (?, ?, ?, ?)", (kind, value, owner, time.time()))
        return value

    def issued_card(self, owner: str) -> tuple[str, str] | None:
        """(card serial, batch) of the card this holder got, if one was issued."""
        row = self._db.execute("SELECT card_serial, batch FROM issued WHERE owner = ?", (owner,)).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def mark_issued(self, owner: str, card_serial: str, batch: str) -> None:
        """Record the holder's card (idempotent for the same card; another card is refused)."""
        with self.transaction():
            row = self._db.execute("SELECT card_serial FROM issued WHERE owner = ?", (owner,)).fetchone()
            if row is not None:
                if row[0] != card_serial:
                    raise ProfileError(f"holder {owner} already has card {row[0]}")
                return
            self._db.execute("INSERT INTO issued VALUES (?, ?, ?, ?)", (owner, card_serial, batch, time.time()))

    def counts(self) -> dict[str, int]:
        """Claimed numbers per kind, plus ``cards`` issued."""
        out = {str(k): int(n) for k, n in self._db.execute("SELECT kind, COUNT(*) FROM claim GROUP BY kind")}
        out["cards"] = int(self._db.execute("SELECT COUNT(*) FROM issued").fetchone()[0])
        return out
