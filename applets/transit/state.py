"""The purse's persistent state and the transaction a selection has in flight.

Persistent: :class:`PurseState` (balance, the two counters, consecutive MAC failures and the
proof of the last completed transaction) is one value; each field has its own store key
(``p/<field>``) and :meth:`Purse.commit` writes all changed fields, the log record and the CAPP
records of one transaction inside ONE store transaction — a tear leaves all old or all new.

Transient: :class:`Session` is the card's RAM for one selection. It extends the file system's
session (current EF and record for READ RECORD) with the pending INITIALIZE, which the next
command either completes or throws away (docs/transit-card.md "Transaction state").
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from applets.runtime import FileSystem, FsSession, StoreView
from applets.transit.layout import LOG_RECORDS

__all__ = ["LastTransaction", "PendingLoad", "PendingPurchase", "Purse", "PurseState", "Session"]


@dataclass(frozen=True, slots=True)
class LastTransaction:
    """What GET TRANSACTION PROVE can answer for: the card's last completed transaction."""

    txn_type: int
    counter: int  # as its INITIALIZE returned it
    mac2: bytes
    tac: bytes

    def to_value(self) -> tuple[int, int, bytes, bytes]:
        return (self.txn_type, self.counter, self.mac2, self.tac)

    @classmethod
    def from_value(cls, value: Any) -> LastTransaction | None:
        if value is None:
            return None
        txn_type, counter, mac2, tac = value
        return cls(int(txn_type), int(counter), bytes(mac2), bytes(tac))


@dataclass(frozen=True, slots=True)
class PurseState:
    """The money and the counters. ``balance`` is signed: an overdraft makes it negative."""

    balance: int = 0
    online_counter: int = 0
    offline_counter: int = 0
    mac_failures: int = 0
    last: LastTransaction | None = None


_FIELDS = tuple(f.name for f in fields(PurseState))


@dataclass(frozen=True, slots=True)
class PendingLoad:
    """An INITIALIZE FOR LOAD that CREDIT FOR LOAD may complete."""

    amount: int
    terminal: bytes
    old_balance: int
    online_counter: int
    session_key: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class PendingPurchase:
    """An INITIALIZE FOR (CAPP) PURCHASE that DEBIT may complete; CAPP updates wait here."""

    txn_type: int
    amount: int
    terminal: bytes
    old_balance: int
    offline_counter: int
    random: bytes = field(repr=False)
    capp_updates: tuple[tuple[int, bytes], ...] = ()  # (record number, new record), in order

    @property
    def compound(self) -> bool:
        return self.txn_type == 0x09


@dataclass(slots=True)
class Session(FsSession):
    """One selection: the file system's current EF/record plus the pending purse transaction."""

    pending: PendingLoad | PendingPurchase | None = None


class Purse:
    """Reads and commits :class:`PurseState`, the log (SFI 18) and the CAPP cache (SFI 17)."""

    __slots__ = ("_fs", "_store", "capp_path", "log_path")

    def __init__(self, store: StoreView, fs: FileSystem, capp_path: tuple[int, ...],
                 log_path: tuple[int, ...]) -> None:
        self._store = store
        self._fs = fs
        self.capp_path = capp_path
        self.log_path = log_path

    def load(self) -> PurseState:
        values: dict[str, Any] = {}
        for name in _FIELDS:
            value = self._store.get(f"p/{name}")
            if value is not None:
                values[name] = LastTransaction.from_value(value) if name == "last" else value
        return PurseState(**values)

    def _write(self, old: PurseState | None, new: PurseState) -> None:
        for name in _FIELDS:
            value = getattr(new, name)
            if old is None or value != getattr(old, name):
                self._store.set(f"p/{name}", value.to_value() if isinstance(value, LastTransaction) else value)

    def reset(self, state: PurseState) -> None:
        """Write all of ``state`` (personalization); the caller holds the transaction."""
        self._write(None, state)

    def capp_records(self) -> tuple[bytes, ...]:
        return self._fs.records(self.capp_path)

    def log(self) -> tuple[bytes, ...]:
        return self._fs.records(self.log_path)

    def commit(self, old: PurseState, new: PurseState, *, log_record: bytes | None = None,
               capp_updates: tuple[tuple[int, bytes], ...] = ()) -> None:
        """One completed transaction, or a counted MAC failure: all of it in one store transaction."""
        with self._store.transaction():
            self._write(old, new)
            if capp_updates:
                records = list(self.capp_records())
                for number, record in capp_updates:
                    records[number - 1] = record
                self._fs.set_content(self.capp_path, tuple(records))
            if log_record is not None:
                self._fs.set_content(self.log_path, ((log_record,) + self.log())[:LOG_RECORDS])

    def count_mac_failure(self, old: PurseState) -> None:
        """A wrong MAC1/MAC2: committed on its own, before the refusal is answered."""
        self.commit(old, replace(old, mac_failures=old.mac_failures + 1))
