"""The card's persistent memory: a key/value store with atomic transactions and tear injection.

Modelled after Java Card's ``JCSystem.beginTransaction / commitTransaction / abortTransaction``
(JC 3.1 RE spec §7): applets change persistent state only inside a transaction, and a transaction
either lands completely or not at all. Writes go to a pending overlay; ``commit`` applies it in one
step. A write outside a transaction is a programming error and raises :class:`TransactionError`.

One exception: inside :meth:`Store.atomic` the transactions that code opens (an applet's own
``personalize``) join the enclosing one and land with it, so a card manager can personalize an
application and record the outcome in one step.

Tears: :meth:`Store.arm_tear` makes the Nth write from now (``set``, ``delete`` or the commit record
itself) lose power instead. The store then drops everything uncommitted and raises
:class:`PowerLoss`, a ``BaseException`` so that an applet's ``except Exception`` cannot swallow it;
the card turns it into :class:`cardkit.errors.CardTornError`.

Values are bytes, int, bool, str, None, and tuples / string-keyed mappings of those. They are frozen
on write (lists become tuples, dicts read-only mappings) so nobody can change persistent state by
mutating an object they got from ``get``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, TypeAlias

__all__ = ["PowerLoss", "Store", "StoreView", "TransactionError", "Value"]

Value: TypeAlias = Any  # bytes | int | bool | str | None | tuple[Value, ...] | Mapping[str, Value]

_DELETED = object()


class TransactionError(RuntimeError):
    """An applet broke the transaction rules (a bug in the applet, never a card answer)."""


class PowerLoss(BaseException):
    """Injected power loss during a persistent write. Uncommitted writes are already rolled back."""


def _freeze(value: Any) -> Value:
    if value is None or isinstance(value, (bool, int, str, bytes)):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, Mapping):
        out: dict[str, Value] = {}
        for k, v in value.items():
            if not isinstance(k, str) or k.startswith("$"):
                raise TypeError(f"store mapping keys must be str not starting with '$', got {k!r}")
            out[k] = _freeze(v)
        return MappingProxyType(out)
    raise TypeError(f"{type(value).__name__} cannot live in the persistent store")


def encode_value(value: Value) -> Any:
    """Store value -> JSON value (bytes become ``{"$hex": ...}``)."""
    if isinstance(value, bytes):
        return {"$hex": value.hex()}
    if isinstance(value, tuple):
        return [encode_value(v) for v in value]
    if isinstance(value, Mapping):
        return {k: encode_value(v) for k, v in value.items()}
    return value


def decode_value(obj: Any) -> Value:
    """JSON value -> store value; raises ``ValueError`` on anything the store cannot hold."""
    if isinstance(obj, dict):
        if set(obj) == {"$hex"}:
            return bytes.fromhex(obj["$hex"])
        return _freeze({k: decode_value(v) for k, v in obj.items()})
    if isinstance(obj, list):
        return tuple(decode_value(v) for v in obj)
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    raise ValueError(f"unexpected {type(obj).__name__} in the store")


class Store:
    """Persistent key/value memory with Java Card-style transactions.

    ``generation`` grows by one on every commit that changed something; readers compare it with the
    value they last saved to know when the card image is stale.
    """

    def __init__(self, data: Mapping[str, Value] | None = None, *, generation: int = 0) -> None:
        self._data: dict[str, Value] = {k: _freeze(v) for k, v in (data or {}).items()}
        self._pending: dict[str, Any] | None = None
        self._atomic = False  # inside atomic(): begin/commit of inner transactions only count depth
        self._joined = 0
        self._doomed = False  # an inner transaction of atomic() aborted: the whole block must not commit
        self.generation = generation
        self._tear_in: int | None = None
        self.writes = 0  # every persistent write since the store was made (a wear counter)

    # -- reading ---------------------------------------------------------------------------------
    def get(self, key: str, default: Value = None) -> Value:
        if self._pending is not None and key in self._pending:
            v = self._pending[key]
            return default if v is _DELETED else v
        return self._data.get(key, default)

    def __contains__(self, key: str) -> bool:
        return self.get(key, _DELETED) is not _DELETED

    def keys(self, prefix: str = "") -> list[str]:
        """Keys (as seen inside the current transaction) starting with ``prefix``, sorted."""
        keys = {k for k in self._data if k.startswith(prefix)}
        if self._pending is not None:
            for k, v in self._pending.items():
                if k.startswith(prefix):
                    (keys.discard if v is _DELETED else keys.add)(k)
        return sorted(keys)

    def committed(self) -> dict[str, Value]:
        """A copy of the committed contents (what survives a power loss)."""
        return dict(self._data)

    # -- transactions ----------------------------------------------------------------------------
    @property
    def in_transaction(self) -> bool:
        return self._pending is not None

    def begin(self) -> None:
        """Start a transaction. Nesting is refused, as Java Card's TransactionException(IN_PROGRESS),
        except inside :meth:`atomic`, where an inner transaction joins the enclosing one."""
        if self._pending is not None:
            if self._atomic:
                self._joined += 1
                return
            raise TransactionError("a transaction is already in progress (transactions do not nest)")
        self._pending = {}

    def commit(self) -> None:
        """Apply every pending write at once. Writing the commit record is itself a tear point."""
        if self._pending is None:
            raise TransactionError("commit without a transaction")
        if self._joined:
            self._joined -= 1  # an inner transaction of atomic(): its writes land with the outer one
            return
        if self._doomed:
            self.abort()
            raise TransactionError("a transaction joined inside atomic() was aborted; nothing was committed")
        self._count_write()
        pending, self._pending = self._pending, None
        for k, v in pending.items():
            if v is _DELETED:
                self._data.pop(k, None)
            else:
                self._data[k] = v
        if pending:
            self.generation += 1

    def abort(self) -> None:
        """Drop every pending write. Harmless when no transaction is open.

        An inner transaction of :meth:`atomic` that aborts dooms the whole block instead: its writes
        cannot be told apart from the outer ones, so the outer commit will refuse.
        """
        if self._joined and self._pending is not None:
            self._joined -= 1
            self._doomed = True
            return
        self._pending = None
        self._atomic = False
        self._joined = 0
        self._doomed = False

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """A transaction that the transactions opened inside it join (they commit with it, or not at all).

        For code that must run another component's self-contained update (which opens its own
        transaction) and its own bookkeeping as one atomic step. Raises :class:`TransactionError`
        if a transaction is already open, or at exit if an inner transaction aborted.
        """
        self.begin()
        self._atomic = True
        try:
            yield
        except BaseException:
            self._joined = 0
            self.abort()
            raise
        self._atomic = False
        self.commit()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """``with store.transaction():`` commits at exit, aborts if the block raises."""
        self.begin()
        try:
            yield
        except BaseException:
            self.abort()
            raise
        self.commit()

    # -- writing ---------------------------------------------------------------------------------
    def set(self, key: str, value: Any) -> None:
        """Write ``value`` under ``key`` inside the open transaction."""
        if self._pending is None:
            raise TransactionError(f"persistent write to {key!r} outside a transaction")
        frozen = _freeze(value)
        self._count_write()
        self._pending[key] = frozen

    def delete(self, key: str) -> None:
        if self._pending is None:
            raise TransactionError(f"persistent delete of {key!r} outside a transaction")
        self._count_write()
        self._pending[key] = _DELETED

    # -- tears -----------------------------------------------------------------------------------
    def arm_tear(self, after_writes: int) -> None:
        """Lose power on the ``after_writes``-th write from now (1 = the very next one)."""
        if after_writes < 1:
            raise ValueError("after_writes counts from 1")
        self._tear_in = after_writes

    def disarm_tear(self) -> None:
        self._tear_in = None

    @property
    def tear_armed(self) -> bool:
        return self._tear_in is not None

    def _count_write(self) -> None:
        self.writes += 1
        if self._tear_in is None:
            return
        self._tear_in -= 1
        if self._tear_in == 0:
            self._tear_in = None
            self._pending = None  # everything uncommitted is gone with the power
            raise PowerLoss("injected tear")

    # -- views -----------------------------------------------------------------------------------
    def view(self, prefix: str) -> StoreView:
        return StoreView(self, prefix)


class StoreView:
    """One applet's corner of the store: every key is prefixed with ``<prefix>/``."""

    __slots__ = ("prefix", "store")

    def __init__(self, store: Store, prefix: str) -> None:
        self.store = store
        self.prefix = prefix

    def _k(self, key: str) -> str:
        return f"{self.prefix}/{key}"

    def get(self, key: str, default: Value = None) -> Value:
        return self.store.get(self._k(key), default)

    def __contains__(self, key: str) -> bool:
        return self._k(key) in self.store

    def set(self, key: str, value: Any) -> None:
        self.store.set(self._k(key), value)

    def delete(self, key: str) -> None:
        self.store.delete(self._k(key))

    def keys(self, prefix: str = "") -> list[str]:
        cut = len(self.prefix) + 1
        return [k[cut:] for k in self.store.keys(self._k(prefix))]

    def transaction(self) -> Any:
        return self.store.transaction()

    @property
    def in_transaction(self) -> bool:
        return self.store.in_transaction
