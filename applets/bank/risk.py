"""Card risk management: which cryptogram the card gives (docs/bank.md, "Card risk management").

Pure functions of the request, the persistent state and the profile: no store, no crypto, so
every rule of the matrix is one line here and one test case there. EMV Book 3 Table 12: the card
may always answer weaker than asked (AAC < ARQC < TC), never stronger.
"""

from __future__ import annotations

from dataclasses import dataclass

from applets.bank.profile import Risk
from applets.bank.session import Cid, Session
from applets.bank.state import CardState

__all__ = ["APPROVING_ARCS", "UNABLE_ONLINE_ARCS", "Decision", "first_ac", "second_ac"]

APPROVING_ARCS = frozenset({b"00", b"10", b"11", b"Y1", b"Y3"})
UNABLE_ONLINE_ARCS = frozenset({b"Y3", b"Z3"})

# ADA 9F52 byte 1 (VIS/PBOC meaning, docs/bank.md)
ADA_IA_FAILED_ONLINE = 0x80
ADA_IA_NOT_DONE_DECLINE = 0x40
ADA_IA_FAILED_DECLINE = 0x20
ADA_NEW_CARD_ONLINE = 0x10
ADA_PIN_EXCEEDED_ONLINE = 0x08
ADA_PIN_EXCEEDED_DECLINE = 0x04
ADA_PIN_EXCEEDED_BLOCK = 0x02


@dataclass(frozen=True, slots=True)
class Decision:
    """The cryptogram to generate and the CVR facts risk management found on the way."""

    cid: Cid
    lower_exceeded: bool = False
    upper_exceeded: bool = False
    unable_online: bool = False


def pin_exceeded(state: CardState) -> bool:
    return state.pin_block is not None and state.pin_tries == 0


def first_ac(requested: Cid, state: CardState, risk: Risk) -> Decision:
    """First GENERATE AC: decline, go online, or approve offline."""
    ada = risk.ada[0]
    lower = state.offline_count + 1 > state.lower_limit
    upper = state.offline_count + 1 > state.upper_limit
    if requested is Cid.AAC or state.blocked:
        return Decision(Cid.AAC, lower, upper)
    if ada & ADA_PIN_EXCEEDED_DECLINE and pin_exceeded(state):
        return Decision(Cid.AAC, lower, upper)
    if requested is Cid.ARQC:
        return Decision(Cid.ARQC, lower, upper)
    online = (
        (ada & ADA_NEW_CARD_ONLINE and state.last_online_atc == 0)
        or (ada & ADA_IA_FAILED_ONLINE and state.issuer_auth_failed)
        or (ada & ADA_PIN_EXCEEDED_ONLINE and pin_exceeded(state))
        or state.online_pending
        or lower
    )
    return Decision(Cid.ARQC if online else Cid.TC, lower, upper)


def second_ac(requested: Cid, arc: bytes, s: Session, state: CardState, risk: Risk) -> Decision:
    """Second GENERATE AC after an ARQC: approve (TC) or decline (AAC) the issuer's answer."""
    ada = risk.ada[0]
    unable = arc in UNABLE_ONLINE_ARCS
    upper = state.offline_count + 1 > state.upper_limit
    ia_failed = s.issuer_auth_performed and s.issuer_auth_failed
    decline = (
        requested is Cid.AAC
        or state.blocked
        or arc not in APPROVING_ARCS
        or (ia_failed and (risk.issuer_auth_required or ada & ADA_IA_FAILED_DECLINE))
        or (not unable and not s.issuer_auth_performed and ada & ADA_IA_NOT_DONE_DECLINE)
        or (unable and upper)
    )
    return Decision(Cid.AAC if decline else Cid.TC, upper_exceeded=unable and upper, unable_online=unable)
