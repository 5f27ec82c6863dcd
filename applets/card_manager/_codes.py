"""Life cycle states, the status words the card manager answers that ISO's table lacks, and Refusal.

Card life cycle: GP Card Spec 2.3 §5.1.1 (Table 11-5 coding); application life cycle: §5.3.1
(Table 11-6). Transitions of the card: §5.1.2 — forward only, CARD_LOCKED and SECURED both ways,
TERMINATED from anywhere and for ever.
"""

from __future__ import annotations

from cardkit.cardaids import LOCKED_BIT, AppLifeCycle, CardLifeCycle

__all__ = [
    "APPLET_SELECT_FAILED",
    "LOCKED_BIT",
    "MORE_DATA",
    "AppLifeCycle",
    "CardLifeCycle",
    "Refusal",
    "card_transition_allowed",
]

#: Java Card's ISO7816.SW_APPLET_SELECT_FAILED: the answer to SELECT of a LOCKED application.
APPLET_SELECT_FAILED = 0x6999
#: GP 2.3 §11.4.3 GET STATUS: more data available (send the command again with P2 b1 "next").
MORE_DATA = 0x6310




class Refusal(Exception):
    """A command refused with status word ``sw``: raised deep in a handler, answered by the applet.

    The message is for logs and never holds key material.
    """

    def __init__(self, sw: int, why: str = "") -> None:
        super().__init__(why or f"{sw:04X}")
        self.sw = int(sw)


_FORWARD = (CardLifeCycle.OP_READY, CardLifeCycle.INITIALIZED, CardLifeCycle.SECURED)


def card_transition_allowed(current: int, new: int) -> bool:
    """Whether SET STATUS may move the card from ``current`` to ``new`` (GP 2.3 §5.1.2)."""
    if current == CardLifeCycle.TERMINATED:
        return False
    if new == CardLifeCycle.TERMINATED:
        return True
    if current == CardLifeCycle.CARD_LOCKED:
        return new == CardLifeCycle.SECURED
    if new == CardLifeCycle.CARD_LOCKED:
        return current == CardLifeCycle.SECURED
    if current in _FORWARD and new in _FORWARD:
        return _FORWARD.index(new) > _FORWARD.index(current)
    return False
