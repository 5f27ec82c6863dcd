"""The bank application's persistent state: one value object, written through one transaction.

Each field lives under its own store key (``s/<field>``) so a tear can fall between any two of
them; :meth:`Memory.commit` writes every changed field of a command inside ONE
``store.transaction()``, which is what makes a tear leave the old or the new state of all of them
together (docs/bank.md "Persistent state"). The personalization DGIs live under ``dgi/<DGI>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from applets.bank.profile import Profile
from applets.runtime import StoreView

__all__ = ["CARD_BLOCKED_KEY", "CardState", "Memory"]

# CARD BLOCK is card-wide: every bank application and the PSE/PPSE look at this one root key.
CARD_BLOCKED_KEY = "bank/card-blocked"


@dataclass(frozen=True, slots=True)
class CardState:
    """Counters, flags, limits changeable by script, the current PIN and the transaction log."""

    atc: int = 0
    last_online_atc: int = 0
    offline_count: int = 0
    ec_balance: int = 0
    pin_tries: int = 0
    pin_block: bytes | None = field(default=None, repr=False)
    blocked: bool = False
    blocked_by_script: bool = False
    issuer_auth_failed: bool = False
    online_pending: bool = False
    script_failed: bool = False
    script_count: int = 0
    lower_limit: int = 0
    upper_limit: int = 0
    ec_limit: int = 0
    ec_single_limit: int = 0
    ec_reset: int = 0
    log: tuple[bytes, ...] = ()

    @classmethod
    def initial(cls, profile: Profile) -> CardState:
        """The state right after personalization."""
        r, c = profile.risk, profile.counters
        return cls(
            atc=c.atc,
            last_online_atc=c.last_online_atc,
            ec_balance=c.ec_balance,
            pin_tries=profile.pin_tries,
            pin_block=profile.pin_block,
            lower_limit=r.lower_limit,
            upper_limit=r.upper_limit,
            ec_limit=r.ec_limit,
            ec_single_limit=r.ec_single_limit,
            ec_reset=r.ec_reset,
        )

    def with_log(self, record: bytes, keep: int) -> CardState:
        """A cyclic log: ``record`` becomes record 1, the oldest beyond ``keep`` drops out."""
        return replace(self, log=((record,) + self.log)[:keep])


_FIELDS = tuple(f.name for f in fields(CardState))


class Memory:
    """Reads and commits :class:`CardState` in an applet's store view."""

    __slots__ = ("_store",)

    def __init__(self, store: StoreView) -> None:
        self._store = store

    def load(self) -> CardState:
        values: dict[str, Any] = {}
        for name in _FIELDS:
            value = self._store.get(f"s/{name}")
            if value is not None:
                values[name] = tuple(value) if name == "log" else value
        return CardState(**values)

    def commit(self, old: CardState, new: CardState, *, block_card: bool = False) -> None:
        """Write every field that changed (and the card-wide block) in one store transaction."""
        with self._store.transaction():
            for name in _FIELDS:
                value = getattr(new, name)
                if value != getattr(old, name):
                    self._store.set(f"s/{name}", value)
            if block_card:
                self._store.store.set(CARD_BLOCKED_KEY, True)

    def reset(self, state: CardState) -> None:
        """Write all of ``state`` (personalization); the caller holds the transaction."""
        for name in _FIELDS:
            self._store.set(f"s/{name}", getattr(state, name))

    def card_blocked(self) -> bool:
        return bool(self._store.store.get(CARD_BLOCKED_KEY, False))
