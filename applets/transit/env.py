"""What every purse command handler gets, and the checks the INITIALIZE commands share.

Handlers are plain functions ``(env, session, cmd, pending) -> ResponseAPDU``: ``env`` holds the
validated personalization, the persistent purse and the card's random source (passed in, so the
applet stays sans-IO and a test can fix it); ``pending`` is what the previous command left in
flight — the applet has already taken it out of the session, so a handler that does not put a
new one back ends the transaction (docs/transit-card.md "Transaction state").
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass

from applets.runtime import status
from applets.transit.layout import ALGORITHM_BYTES, InitRequest
from applets.transit.profile import Profile
from applets.transit.state import PendingLoad, PendingPurchase, Purse, PurseState
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU

__all__ = ["EP_P2", "KEY_INDEX", "Env", "balance_field", "check_completion", "check_initialize", "same_mac"]

EP_P2 = 0x02  # P2 of INITIALIZE / GET BALANCE: the electronic purse (01 would be the ED)
KEY_INDEX = 0x01  # the one DLK/DPK index the card holds
_COUNTER_MAX = 0xFFFF
_BALANCE_MASK = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class Env:
    """The card side of one command: personalization, persistent purse, randomness."""

    profile: Profile
    purse: Purse
    random: Callable[[int], bytes]

    @property
    def algorithm_byte(self) -> int:
        return ALGORITHM_BYTES[self.profile.purse.algorithm.value]

    def locked(self, state: PurseState) -> bool:
        """Too many consecutive wrong MACs: the purse refuses INITIALIZE, CREDIT and DEBIT."""
        return state.mac_failures >= self.profile.purse.mac_failure_limit


def balance_field(balance: int) -> int:
    """The 4-byte balance as the card sends and MACs it (two's complement once overdrawn)."""
    return balance & _BALANCE_MASK


def same_mac(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def check_initialize(env: Env, cmd: CommandAPDU, state: PurseState, counter: int) -> InitRequest | ResponseAPDU:
    """The checks every INITIALIZE shares, in the order docs/transit-card.md lists them: the
    request, or the refusal to answer."""
    if cmd.p2 != EP_P2:
        return status(SW.INCORRECT_P1P2)
    if len(cmd.data) != InitRequest.LENGTH:
        return status(SW.WRONG_LENGTH)
    request = InitRequest.parse(cmd.data)
    if request.key_index != KEY_INDEX:
        return status(SW.KEY_INDEX_NOT_SUPPORTED)
    if env.locked(state):
        return status(SW.APPLICATION_LOCKED_PERMANENTLY)
    if counter >= _COUNTER_MAX:
        return status(SW.COUNTER_AT_LIMIT)
    return request


def check_completion(env: Env, cmd: CommandAPDU, pending: PendingLoad | PendingPurchase | None,
                     expected: type[PendingLoad] | type[PendingPurchase], p1: int, length: int
                     ) -> PurseState | ResponseAPDU:
    """The checks CREDIT FOR LOAD and DEBIT share: P1/P2, Lc, the right INITIALIZE before, and a
    purse that has not changed since (another channel, a lock): the state, or the refusal."""
    if cmd.p1 != p1 or cmd.p2:
        return status(SW.INCORRECT_P1P2)
    if len(cmd.data) != length:
        return status(SW.WRONG_LENGTH)
    if not isinstance(pending, expected):
        return status(SW.CONDITIONS_NOT_SATISFIED)
    state = env.purse.load()
    if env.locked(state) or state.balance != pending.old_balance:
        return status(SW.CONDITIONS_NOT_SATISFIED)
    return state
