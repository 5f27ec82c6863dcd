"""An in-process simulated card as a reader: no daemon, no socket, microseconds per APDU.

The reader takes any :class:`~cardkit.readers.base.CardLike` (``applets.runtime.SimulatedCard``
fits); this module never imports ``applets``. With ``image_path`` the card's image is saved after
every exchange that committed persistent state, so the file always holds the card as it is.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from cardkit.errors import CardTornError, NoCardError, TransportError
from cardkit.readers.base import CardLike, Connection, Reader, normalize_protocol

__all__ = ["StatePersister", "VirtualConnection", "VirtualReader"]

log = logging.getLogger(__name__)


class StatePersister:
    """Save a card's image whenever ``card.store.generation`` moved (after each committed change).

    Args:
        card: the card (it must have ``store.generation`` for anything to be saved).
        path: the image file.
        save: ``save(card, path)``; by default ``applets.runtime.save_card``, imported on first use
            (a function-local import: ``cardkit`` must not depend on ``applets`` at module level).
    """

    def __init__(self, card: CardLike, path: str | Path,
                 save: Callable[[CardLike, Path], None] | None = None) -> None:
        self.card = card
        self.path = Path(path)
        self._save = save
        self._seen = self.generation()

    def generation(self) -> int | None:
        store = getattr(self.card, "store", None)
        return getattr(store, "generation", None)

    def maybe_save(self) -> bool:
        """Save if the state changed since the last save; returns whether it saved."""
        now = self.generation()
        if now is None or now == self._seen:
            return False
        self.save()
        return True

    def save(self) -> None:
        if self._save is None:
            from applets.runtime import (
                save_card,  # card images are the runtime's format
            )

            self._save = save_card  # type: ignore[assignment]
        assert self._save is not None
        self._save(self.card, self.path)
        self._seen = self.generation()
        log.debug("card image saved to %s (generation %s)", self.path, self._seen)


class VirtualReader(Reader):
    """A reader whose slot holds an in-process card.

    Args:
        card: the card; ``None`` for an empty slot (see :meth:`insert` / :meth:`remove`).
        name: the reader name shown to users.
        image_path: persist the card's image there after any exchange that changed its state.
    """

    backend = "virtual"

    def __init__(
        self, card: CardLike | None, *, name: str = "Virtual card", image_path: str | Path | None = None
    ) -> None:
        super().__init__(name)
        self._card = card
        self._cond = threading.Condition()
        self._persister = StatePersister(card, image_path) if card is not None and image_path else None

    @property
    def card(self) -> CardLike | None:
        return self._card

    def insert(self, card: CardLike) -> None:
        with self._cond:
            self._card = card
            self._cond.notify_all()

    def remove(self) -> None:
        with self._cond:
            if self._card is not None:
                self._card.power_off()
            self._card = None
            self._cond.notify_all()

    def has_card(self) -> bool:
        return self._card is not None

    def atr(self) -> bytes | None:
        return None if self._card is None else self._card.atr

    def wait_for_card(self, timeout: float | None = None) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._card is not None, timeout):
                raise NoCardError(f"no card in reader {self.name!r} after {timeout} s")

    def wait_for_removal(self, timeout: float | None = None) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._card is None, timeout):
                raise TransportError(f"the card is still in reader {self.name!r} after {timeout} s")

    def connect(self, protocol: str | None = None) -> VirtualConnection:
        proto = normalize_protocol(protocol)
        card = self._card
        if card is None:
            raise NoCardError(f"no card in reader {self.name!r}")
        return VirtualConnection(self, card, proto or "T1", self._persister)


class VirtualConnection(Connection):
    """A connection to an in-process card: ``_transmit`` is one method call."""

    def __init__(self, reader: VirtualReader, card: CardLike, protocol: str, persister: StatePersister | None) -> None:
        super().__init__(reader.name, protocol)
        self._reader = reader
        self._card = card
        self._persister = persister
        self._atr = card.power_on()

    @property
    def atr(self) -> bytes:
        return self._atr

    def _transmit(self, capdu: bytes) -> bytes:
        if self._reader.card is not self._card:
            raise NoCardError(f"the card was removed from reader {self.name!r}")
        try:
            return self._card.transmit(capdu)
        except CardTornError as exc:
            raise CardTornError(f"card in {self.name!r} went mute: {exc}") from exc
        finally:
            if self._persister is not None:
                self._persister.maybe_save()

    @property
    def name(self) -> str:
        return self.reader_name

    def _reconnect(self, reset: bool) -> bytes:
        if reset:
            self._atr = self._card.reset()
        elif not getattr(self._card, "powered", True):  # a torn card is off: power it again
            self._atr = self._card.power_on()
        return self._atr

    def _close(self) -> None:
        pass
