"""Transient state of one selection (``ctx.session``): where the transaction is, and what it did.

It dies with the selection (runtime CLEAR_ON_DESELECT model), which is exactly the life of an EMV
transaction: a new SELECT starts a new one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from applets.bank.profile import Dol
from applets.bank.state import CardState

__all__ = ["Cid", "Session", "Stage"]


class Stage(enum.Enum):
    """The transaction's place in the command table of docs/bank.md."""

    SELECTED = "selected"  # GPO expected
    INITIATED = "initiated"  # contact GPO done: records, VERIFY, INTERNAL AUTHENTICATE, GENERATE AC
    FIRST_AC = "first-ac"  # first GENERATE AC answered: EXTERNAL AUTHENTICATE, scripts, second GENERATE AC
    DONE = "done"  # nothing changes state any more (scripts still run after an online second AC)


class Cid(enum.IntEnum):
    """Cryptogram information data (9F27) b8-b7, also the GENERATE AC P1 reference control."""

    AAC = 0x00
    TC = 0x40
    ARQC = 0x80


@dataclass(slots=True)
class Session:
    """One selection's transaction. Mutable on purpose: it is the card's RAM."""

    pdol: Dol = ()
    stage: Stage = Stage.SELECTED
    atc: int = 0
    prior: CardState | None = None  # persistent state when this transaction began (GPO)
    pdol_data: bytes = b""
    cdol1_data: bytes = b""
    fields: dict[bytes, bytes] = field(default_factory=dict)  # terminal data of this transaction
    first_cid: Cid | None = None
    first_ac: bytes = b""
    contactless: bool = False  # the qPBOC GPO ran: no GENERATE AC, no scripts follow
    pin_performed: bool = False
    pin_failed: bool = False
    oda_performed: bool = False
    issuer_auth_performed: bool = False
    issuer_auth_failed: bool = False
    challenge: bytes | None = field(default=None, repr=False)

    @property
    def online(self) -> bool:
        """A contact first GENERATE AC asked the issuer: EXTERNAL AUTHENTICATE and scripts make sense."""
        return self.first_cid is Cid.ARQC and not self.contactless
