"""SimulatedCard: the card as a reader sees it — power, ATR, one C-APDU in, one R-APDU out.

The card never raises from :meth:`SimulatedCard.transmit` except :class:`CardTornError`: malformed
bytes get a status word from the dispatcher, and a bug inside an applet becomes 6F00 with the
traceback logged (and kept in ``last_error`` for tests). A power loss injected with
:meth:`SimulatedCard.arm_tear` rolls back every uncommitted write, powers the card off and raises
:class:`CardTornError`; the next :meth:`power_on` starts from the last committed state.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from applets.runtime.applet import Applet
from applets.runtime.atr import (
    HISTORICAL_BYTES,
    ContactlessIdentity,
    build_contact_atr,
    derive_uid,
)
from applets.runtime.dispatch import Dispatcher
from applets.runtime.gate import CardGate
from applets.runtime.store import PowerLoss, Store, TransactionError
from cardkit.apdu import SW, ResponseAPDU
from cardkit.errors import CardTornError

__all__ = ["SimulatedCard"]

log = logging.getLogger(__name__)


class SimulatedCard:
    """A simulated unified citizen card: the runtime plus its registered applets.

    Args:
        applets: applets to register (and install) in this order; the order is also the order
            SELECT walks for partial names.
        default_aid: the applet selected on the basic channel at power-on (and on channels opened
            from it); ``None`` for none.
        uid: 7-byte ISO 14443 UID; derived from ``default_aid`` and the applet AIDs if omitted.
        store: persistent memory to start from (a card image supplies it); a fresh one if omitted.
        historical_bytes: ATR / ATS historical bytes.
        strict: re-raise applet exceptions from ``transmit`` instead of answering 6F00 — for
            applet unit tests only; a card served to readers never does this.
    """

    def __init__(
        self,
        *,
        applets: Sequence[Applet] = (),
        default_aid: bytes | None = None,
        uid: bytes | None = None,
        store: Store | None = None,
        historical_bytes: bytes = HISTORICAL_BYTES,
        strict: bool = False,
    ) -> None:
        self.store = store if store is not None else Store()
        self._applets: list[Applet] = []
        self.default_aid = default_aid
        self.historical_bytes = historical_bytes
        self.strict = strict
        self.last_error: BaseException | None = None
        self.powered = False
        #: asked before every command and selection (the card manager sets itself here); ``None``: admit all
        self.gate: CardGate | None = None
        self._atr = build_contact_atr(historical_bytes)
        self._dispatcher = Dispatcher(lambda: self._applets, self._default_applet, lambda: self.gate)
        for applet in applets:
            self.register(applet)
        if uid is None:
            uid = derive_uid(b"".join(a.aid for a in self._applets) + (default_aid or b""))
        self.contactless = ContactlessIdentity(uid)

    # -- applets ---------------------------------------------------------------------------------
    @property
    def applets(self) -> tuple[Applet, ...]:
        return tuple(self._applets)

    def register(self, applet: Applet) -> None:
        """Add an applet and run its ``install`` in a transaction (its first-time persistent setup)."""
        self.attach(applet)
        with self.store.transaction():
            applet.install()

    def attach(self, applet: Applet) -> None:
        """Add an applet whose persistent state already exists (rebuilding from an image)."""
        if any(a.aid == applet.aid for a in self._applets):
            raise ValueError(f"an applet with AID {applet.aid.hex().upper()} is already registered")
        applet.bind(self.store.view(f"app/{applet.aid.hex().upper()}"))
        self._applets.append(applet)
        applet.attached(self)

    def detach(self, aid: bytes) -> Applet:
        """Take the applet with this AID off the card (memory only: its store keys stay as they are).

        It is dropped from every logical channel it is selected on (with ``deselect``). The card
        manager calls this after the transaction that erased the applet's state has committed, and to
        undo an INSTALL whose transaction failed. ``KeyError`` if no applet has this AID.
        """
        applet = self.applet(aid)
        self._dispatcher.forget(applet)
        self._applets.remove(applet)
        return applet

    def replace(self, applet: Applet) -> Applet:
        """Put ``applet`` in the place of the registered applet with the same AID and return the old one.

        The new object is bound to the same store view (its persistent state is the old one's); the
        old one is dropped from every channel. Used to roll in-memory configuration back when a
        transaction that changed it did not commit.
        """
        old = self.applet(applet.aid)
        self._dispatcher.forget(old)
        applet.bind(self.store.view(f"app/{applet.aid.hex().upper()}"))
        self._applets[self._applets.index(old)] = applet
        applet.attached(self)
        return old

    def applet(self, aid: bytes) -> Applet:
        """The registered applet with exactly this AID; ``KeyError`` otherwise."""
        for a in self._applets:
            if a.aid == aid:
                return a
        raise KeyError(aid.hex().upper())

    def selected(self, channel: int = 0) -> Applet | None:
        """The applet selected on ``channel`` (``None`` if none or the channel is closed)."""
        return self._dispatcher.selected(channel)

    def _default_applet(self) -> Applet | None:
        if self.default_aid is None:
            return None
        return next((a for a in self._applets if a.aid == self.default_aid), None)

    # -- power -----------------------------------------------------------------------------------
    @property
    def atr(self) -> bytes:
        """The contact ATR (ISO 7816-3): T=0 and T=1 offered, see :mod:`applets.runtime.atr`."""
        return self._atr

    def power_on(self, *, contactless: bool = False) -> bytes:
        """Cold reset: drop all transient state, select the default applet on channel 0.

        Returns the contact ATR, or the PC/SC contactless ATR when ``contactless``.
        Raises ``CardTornError`` if an armed tear fires during the default selection.
        """
        self._boot("contactless" if contactless else "contact")
        return self.contactless.atr if contactless else self._atr

    def reset(self) -> bytes:
        """Warm reset on the same interface; returns the ATR for that interface."""
        return self.power_on(contactless=self._dispatcher.interface == "contactless")

    def power_off(self) -> None:
        self.store.abort()
        self._dispatcher.clear()
        self.powered = False

    def _boot(self, interface: str) -> None:
        self.power_off()
        try:
            for applet in self._applets:
                applet.on_reset()
            self._dispatcher.start(interface)
        except PowerLoss:
            self.power_off()
            raise CardTornError("card lost power during reset (injected tear)") from None
        self.powered = True

    # -- tears -----------------------------------------------------------------------------------
    def arm_tear(self, after_writes: int) -> None:
        """The ``after_writes``-th persistent write from now (1 = the next) loses power instead.

        Writes are every store ``set``/``delete`` plus each transaction's commit record.
        """
        self.store.arm_tear(after_writes)

    def disarm_tear(self) -> None:
        self.store.disarm_tear()

    # -- APDUs -----------------------------------------------------------------------------------
    def transmit(self, capdu: bytes) -> bytes:
        """Process one command APDU and return ``data || SW1 SW2``.

        Raises:
            CardTornError: an injected tear fired (the card is now off), or the card is not powered.
        """
        if not self.powered:
            raise CardTornError("the card is not powered: call power_on() first")
        try:
            resp = self._dispatcher.dispatch(bytes(capdu))
            if self.store.in_transaction:
                raise TransactionError("the applet returned with a transaction still open")
            return resp.to_bytes()
        except PowerLoss:
            self.power_off()
            raise CardTornError("card lost power during a persistent write (injected tear)") from None
        except Exception as exc:  # an applet bug: the card answers 6F00 and stays alive
            self.store.abort()
            self.last_error = exc
            log.exception("applet failed on %s", bytes(capdu[:4]).hex().upper())
            if self.strict:
                raise
            return ResponseAPDU.status(SW.NO_PRECISE_DIAGNOSIS).to_bytes()
