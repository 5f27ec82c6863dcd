"""What an applet is to the runtime: the base class, the command context and the type registry.

An applet is a sans-IO object (DESIGN.md): it gets a :class:`CommandAPDU` and a
:class:`CommandContext` and returns a :class:`ResponseAPDU`. It keeps persistent state only in its
:class:`StoreView` (``self.store``, bound by the card) and transient state only in
``ctx.session``, which the runtime creates fresh on every selection and drops on deselection,
channel close and reset — the Java Card ``CLEAR_ON_DESELECT`` model, per logical channel.

Applets are rebuilt from a card image by type name: decorate each class with
``@register_applet("name")`` and give it ``to_config`` / ``from_config`` for whatever it needs that
is not in the store (JSON values only).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from applets.runtime.store import StoreView
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.tlv import build

if TYPE_CHECKING:
    from applets.runtime.card import SimulatedCard

__all__ = [
    "Applet",
    "CommandContext",
    "applet_from_config",
    "applet_type",
    "fci",
    "register_applet",
    "status",
]


def status(sw: int, data: bytes = b"") -> ResponseAPDU:
    """A response with ``data`` and status word ``sw`` (use :class:`SW` names, never literals)."""
    return ResponseAPDU(data, int(sw))


def fci(aid: bytes, proprietary: bytes = b"") -> bytes:
    """ISO 7816-4 §7.4.1 FCI template of an application: ``6F { 84 DF name, [A5 proprietary] }``."""
    body = build(0x84, aid)
    if proprietary:
        body += build(0xA5, proprietary)
    return build(0x6F, body)


@dataclass(slots=True)
class CommandContext:
    """Everything about one command that is not in its bytes.

    Attributes:
        channel: logical channel from CLA (ISO 7816-4 §5.4.1), 0..3.
        secure_messaging: CLA SM indication: 0 none, 1 proprietary, 2 ISO without header
            authentication, 3 ISO with header authentication (first interindustry b4-b3; EMV/GP
            proprietary classes 8x use the same bits, so 84 gives 1).
        chained: CLA b5 — more commands of this chain follow (ISO 7816-4 §5.3.3). Only reaches
            applets whose ``supports_chaining`` is true; others never see it (6884).
        proprietary: CLA b8 = 1 (EMV / GlobalPlatform class 80..8F).
        session: this applet's transient state on this channel (from ``Applet.new_session``).
        interface: ``"contact"`` or ``"contactless"`` — how the card was powered.
    """

    channel: int = 0
    secure_messaging: int = 0
    chained: bool = False
    proprietary: bool = False
    session: Any = None
    interface: str = "contact"


class Applet:
    """Base class of every card application.

    Subclasses set ``aid`` (via ``__init__``), override :meth:`process`, and usually
    :meth:`select`, :meth:`new_session` and :meth:`install`.

    Class attributes the runtime reads:
        supports_chaining: the applet handles CLA b5 chains itself; otherwise the runtime
            answers 6884 to a chained command.
        multiselectable: may be selected on several logical channels at once (JC 3.1 RE §4.2);
            otherwise the second selection is refused with 6985.
        handles_file_select: the applet answers SELECT by FID / path itself. When false, such a
            SELECT goes to the card's MF applet, as on a multi-application COS.
    """

    type_name: ClassVar[str] = ""
    supports_chaining: ClassVar[bool] = False
    multiselectable: ClassVar[bool] = True
    handles_file_select: ClassVar[bool] = False

    def __init__(self, aid: bytes, *, label: str | None = None) -> None:
        if not 5 <= len(aid) <= 16:
            raise ValueError(f"AID must be 5..16 bytes (ISO 7816-5), got {len(aid)}")
        self.aid = bytes(aid)
        self.label = label if label is not None else (self.type_name or type(self).__name__)
        self._store: StoreView | None = None

    # -- wiring by the card ----------------------------------------------------------------------
    @property
    def store(self) -> StoreView:
        if self._store is None:
            raise RuntimeError(f"applet {self.aid.hex().upper()} is not registered on a card")
        return self._store

    def bind(self, store: StoreView) -> None:
        """Called by the card when the applet is registered or rebuilt from an image."""
        self._store = store

    def attached(self, card: SimulatedCard) -> None:
        """Called once the applet is on ``card`` (registered or rebuilt from an image), after :meth:`bind`.

        Most applets ignore the card; the card manager keeps it to install applications and to gate
        commands (:class:`applets.runtime.gate.CardGate`).
        """

    def install(self) -> None:
        """Create initial persistent state; runs once, inside a transaction, on first registration."""

    def on_reset(self) -> None:
        """Cold or warm reset: drop any card-wide transient state kept outside sessions."""

    # -- life on a channel -----------------------------------------------------------------------
    def new_session(self) -> Any:
        """Fresh transient state for one selection on one channel."""
        return {}

    def select(self, ctx: CommandContext) -> ResponseAPDU:
        """Accept (9000 + FCI) or refuse (any error SW) selection. ``ctx.session`` is fresh."""
        return status(SW.OK, fci(self.aid))

    def deselect(self) -> None:
        """The applet's session on some channel is being dropped."""

    def process(self, cmd: CommandAPDU, ctx: CommandContext) -> ResponseAPDU:
        """Handle one command addressed to this applet; the default knows no instruction."""
        return status(SW.INS_NOT_SUPPORTED)

    # -- card image ------------------------------------------------------------------------------
    def to_config(self) -> dict[str, Any]:
        """Non-store configuration as JSON values; ``from_config(to_config())`` rebuilds the applet."""
        return {"aid": self.aid.hex().upper(), "label": self.label}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Applet:
        return cls(bytes.fromhex(config["aid"]), label=config.get("label"))


_A = TypeVar("_A", bound=type[Applet])
_REGISTRY: dict[str, type[Applet]] = {}


def register_applet(name: str) -> Callable[[_A], _A]:
    """Class decorator: make an applet type rebuildable from a card image under a stable ``name``."""

    def deco(cls: _A) -> _A:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"applet type name {name!r} is already taken by {_REGISTRY[name].__qualname__}")
        cls.type_name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def applet_type(name: str) -> type[Applet]:
    """The applet class registered under ``name``; ``KeyError`` if none is."""
    return _REGISTRY[name]


def applet_from_config(name: str, config: Mapping[str, Any]) -> Applet:
    return applet_type(name).from_config(config)
