"""The EMV / PBOC debit-credit application (docs/bank.md): SELECT, then a table of commands.

:class:`BankApplet` is the runtime glue only: the class and order checks every command shares,
then one handler per instruction from the modules beside it. Persistent state is in the store
(``dgi/<DGI>`` for personalization, ``s/<field>`` for :class:`~applets.bank.state.CardState`);
the transaction in progress is in ``ctx.session`` (:class:`~applets.bank.session.Session`).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from typing import Any

from applets.bank.cvm import get_challenge, verify
from applets.bank.data import get_data, read_record
from applets.bank.genac import external_authenticate, generate_ac, internal_authenticate
from applets.bank.gpo import get_processing_options
from applets.bank.profile import Profile, parse_dgis
from applets.bank.scripts import SCRIPT_INS, issuer_script
from applets.bank.session import Session
from applets.bank.state import CardState, Memory
from applets.runtime import Applet, CommandContext, fci, register_applet, status
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.errors import ProfileError

__all__ = ["BankApplet", "CREDIT_AID", "DEBIT_AID"]

log = logging.getLogger(__name__)

DEBIT_AID = bytes.fromhex("A000000333010101")
CREDIT_AID = bytes.fromhex("A000000333010102")
_DEFAULT_LABELS = {DEBIT_AID: "PBOC DEBIT", CREDIT_AID: "PBOC CREDIT"}


class _Cla(enum.Enum):
    INTERINDUSTRY = "00"  # ISO 7816-4 commands
    PROPRIETARY = "80"  # EMV proprietary, no secure messaging
    SCRIPT = "84"  # EMV proprietary with secure messaging (issuer scripts)


Handler = Callable[[Profile, Memory, Session, CommandAPDU], ResponseAPDU]

_COMMANDS: dict[int, tuple[_Cla, Handler]] = {
    0xA8: (_Cla.PROPRIETARY, get_processing_options),
    0xB2: (_Cla.INTERINDUSTRY, read_record),
    0xCA: (_Cla.PROPRIETARY, get_data),
    0x20: (_Cla.INTERINDUSTRY, verify),
    0x84: (_Cla.INTERINDUSTRY, get_challenge),
    0x88: (_Cla.INTERINDUSTRY, internal_authenticate),
    0xAE: (_Cla.PROPRIETARY, generate_ac),
    0x82: (_Cla.INTERINDUSTRY, external_authenticate),
    **{ins: (_Cla.SCRIPT, issuer_script) for ins in SCRIPT_INS},
}


def _class_error(kind: _Cla, ctx: CommandContext) -> ResponseAPDU | None:
    if ctx.proprietary != (kind is not _Cla.INTERINDUSTRY):
        return status(SW.CLA_NOT_SUPPORTED)
    if kind is _Cla.SCRIPT:
        if ctx.secure_messaging == 0:
            return status(SW.SM_DATA_OBJECTS_MISSING)
        if ctx.secure_messaging != 1:
            return status(SW.SECURE_MESSAGING_NOT_SUPPORTED)
    elif ctx.secure_messaging:
        return status(SW.SECURE_MESSAGING_NOT_SUPPORTED)
    return None


@register_applet("bank")
class BankApplet(Applet):
    """One bank application (debit or credit) of the card.

    Create it, register it on a card, then :meth:`personalize` it with the DGIs of docs/bank.md
    (:func:`applets.bank.install_bank` does all three). Label and priority mirror DGI 9102 so
    the PSE/PPSE and EF.DIR can list the application without reading its store.
    """

    multiselectable = False  # one EMV transaction at a time

    def __init__(self, aid: bytes, *, label: str | None = None, priority: int | None = None) -> None:
        super().__init__(aid, label=label if label is not None else _DEFAULT_LABELS.get(bytes(aid), "BANK"))
        self.priority = priority
        self._cache: tuple[int, Profile] | None = None

    def __repr__(self) -> str:
        return f"BankApplet(aid={self.aid.hex().upper()}, label={self.label!r})"

    # -- personalization -----------------------------------------------------------------------
    def personalize(self, dgis: Mapping[int, bytes]) -> None:
        """Validate and store the DGIs; counters, flags and log start over.

        Raises:
            ProfileError: naming the DGI that is missing or wrong (never with key or PIN bytes).
        """
        profile = parse_dgis(dgis)
        mem = Memory(self.store)
        with self.store.transaction():
            for key in self.store.keys("dgi/"):
                self.store.delete(key)
            for dgi, value in sorted(dgis.items()):
                self.store.set(f"dgi/{dgi:04X}", bytes(value))
            mem.reset(CardState.initial(profile))
            serial = int(self.store.get("perso-serial") or 0) + 1
            self.store.set("perso-serial", serial)
        self._cache = (serial, profile)
        self.label, self.priority = profile.label, profile.priority

    @property
    def personalized(self) -> bool:
        return self.profile() is not None

    def profile(self) -> Profile | None:
        """The validated personalization, parsed once per personalization (``None`` if none)."""
        serial = self.store.get("perso-serial")
        if serial is None:
            return None
        if self._cache is not None and self._cache[0] == serial:
            return self._cache[1]
        dgis = {int(k.removeprefix("dgi/"), 16): self.store.get(k) for k in self.store.keys("dgi/")}
        try:
            profile = parse_dgis(dgis)
        except ProfileError as exc:  # the image checksum passed, so only a changed parser gets here
            log.error("bank application %s: stored personalization no longer valid: %s", self.aid.hex().upper(), exc)
            return None
        self._cache = (int(serial), profile)
        return profile

    def state(self) -> CardState:
        """The committed persistent state (for tools and tests; the PIN stays out of its repr)."""
        return Memory(self.store).load()

    # -- life on a channel -----------------------------------------------------------------------
    def new_session(self) -> Session:
        return Session()

    def select(self, ctx: CommandContext) -> ResponseAPDU:
        """9000 + FCI; 6283 + FCI when blocked; 6A81 after CARD BLOCK; 84 only if unpersonalized."""
        mem = Memory(self.store)
        if mem.card_blocked():
            return status(SW.FUNCTION_NOT_SUPPORTED)
        p = self.profile()
        if p is None:
            return status(SW.OK, fci(self.aid))
        contactless = ctx.interface == "contactless"
        session: Session = ctx.session
        session.pdol = p.pdol_contactless if contactless else p.pdol_contact
        body = fci(self.aid, p.fci_contactless if contactless else p.fci_contact)
        return status(SW.SELECTED_FILE_INVALIDATED if mem.load().blocked else SW.OK, body)

    def process(self, cmd: CommandAPDU, ctx: CommandContext) -> ResponseAPDU:
        entry = _COMMANDS.get(cmd.ins)
        if entry is None:
            return status(SW.INS_NOT_SUPPORTED)
        kind, handler = entry
        refused = _class_error(kind, ctx)
        if refused is not None:
            return refused
        mem = Memory(self.store)
        if mem.card_blocked():
            return status(SW.FUNCTION_NOT_SUPPORTED)
        p = self.profile()
        if p is None or not isinstance(ctx.session, Session):
            return status(SW.CONDITIONS_NOT_SATISFIED)
        return handler(p, mem, ctx.session, cmd)

    # -- card image ------------------------------------------------------------------------------
    def to_config(self) -> dict[str, Any]:
        return {**super().to_config(), "priority": self.priority}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BankApplet:
        priority = config.get("priority")
        return cls(bytes.fromhex(config["aid"]), label=config.get("label"),
                   priority=int(priority) if priority is not None else None)
