"""What every social insurance command handler gets: the keys, the medical account, the session.

Persistent: the medical account (balance, transaction counter) lives under ``acct/`` and the card
keys under ``key/``; :meth:`Account.commit` writes the new balance, counter and log record of one
payment in ONE store transaction, so a tear leaves all old or all new.

Transient: :class:`Session` is the card's RAM for one selection — the file system's session (whose
``keys`` set carries the terminal authentication and ``verified`` the PIN) plus the last GET
CHALLENGE and the pending INITIALIZE. Both live for exactly one following command: the applet takes
them out of the session before it dispatches, so anything in between abandons them.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field

from applets.runtime import FileSystem, FsSession, StoreView
from applets.social.layout import LOG_RECORDS

__all__ = ["Account", "AccountState", "Env", "PendingPayment", "Session", "same_mac"]


@dataclass(frozen=True, slots=True)
class AccountState:
    """The medical account: balance in fen and the count of completed payments."""

    balance: int = 0
    counter: int = 0


@dataclass(frozen=True, slots=True)
class PendingPayment:
    """An INITIALIZE that the next command, a DEBIT, may complete."""

    amount: int
    terminal: bytes
    old_balance: int
    counter: int
    random: bytes = field(repr=False)


@dataclass(slots=True)
class Session(FsSession):
    """One selection: current EF/record, verified PIN, terminal key, challenge, pending payment."""

    challenge: bytes | None = field(default=None, repr=False)
    pending: PendingPayment | None = None


class Account:
    """Reads and commits the medical account and its log (SFI 08); reads the card keys."""

    __slots__ = ("_fs", "_store", "log_path")

    def __init__(self, store: StoreView, fs: FileSystem, log_path: tuple[int, ...]) -> None:
        self._store = store
        self._fs = fs
        self.log_path = log_path

    def __repr__(self) -> str:
        return "Account(...)"

    def key(self, name: str) -> bytes:
        value = self._store.get(f"key/{name}")
        assert isinstance(value, bytes), f"card key {name} missing"
        return value

    @property
    def key_version(self) -> int:
        return int(self._store.get("acct/key_version") or 0)

    def load(self) -> AccountState:
        return AccountState(int(self._store.get("acct/balance") or 0), int(self._store.get("acct/counter") or 0))

    def log(self) -> tuple[bytes, ...]:
        return self._fs.records(self.log_path)

    def reset(self, state: AccountState, key_version: int, keys: dict[str, bytes]) -> None:
        """Personalization: write everything; the caller holds the transaction."""
        self._store.set("acct/balance", state.balance)
        self._store.set("acct/counter", state.counter)
        self._store.set("acct/key_version", key_version)
        for name, value in keys.items():
            self._store.set(f"key/{name}", value)

    def commit(self, old: AccountState, new: AccountState, log_record: bytes) -> None:
        """One completed payment, all of it in one store transaction."""
        with self._store.transaction():
            if new.balance != old.balance:
                self._store.set("acct/balance", new.balance)
            self._store.set("acct/counter", new.counter)
            self._fs.set_content(self.log_path, ((log_record,) + self.log())[:LOG_RECORDS])


@dataclass(frozen=True, slots=True)
class Env:
    """The card side of one command: the account (and keys), the file system, randomness."""

    account: Account
    fs: FileSystem
    random: Callable[[int], bytes]


def same_mac(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)
