"""The card-wide gate: one object (the GlobalPlatform card manager, when a card has one) that the
dispatcher asks before every command and every selection.

A card without a gate behaves as if every answer were "admit". The gate only refuses, with a status
word; it never rewrites a command. Life-cycle rules (a terminated or locked card, a locked or not yet
personalized application) live in the gate, not in each applet (docs/card-manager.md).
"""

from __future__ import annotations

from typing import Protocol

from applets.runtime.applet import Applet
from cardkit.apdu import CommandAPDU

__all__ = ["CardGate"]


class CardGate(Protocol):
    """What the dispatcher asks; ``None`` admits, an int is the status word of the refusal."""

    def admit_command(self, current: Applet | None, cmd: CommandAPDU) -> int | None:
        """Before any handling of ``cmd`` (SELECT and MANAGE CHANNEL included); ``current`` is the
        applet selected on the command's logical channel, ``None`` if none."""

    def admit_select(self, target: Applet) -> int | None:
        """Before ``target`` is offered a selection: SELECT by name or by file, the default selection
        at reset, and the one MANAGE CHANNEL OPEN makes."""
