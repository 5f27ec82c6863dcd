"""GET BALANCE and GET TRANSACTION PROVE: read-only answers from the committed purse state.

GET TRANSACTION PROVE is how a terminal that lost the answer of a CREDIT or DEBIT (a tear, a card
pulled from the field) learns whether it happened: the card keeps the MAC2 and TAC of its last
completed transaction, and answers only if that is the one asked about.
"""

from __future__ import annotations

from applets.runtime import status
from applets.transit.env import EP_P2, Env, balance_field
from applets.transit.layout import ProveAnswer, ProveRequest, u
from applets.transit.state import PendingLoad, PendingPurchase, Session
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.crypto.purse import TransactionType

__all__ = ["get_balance", "get_transaction_prove"]

_PROVABLE = frozenset({TransactionType.EP_LOAD, TransactionType.EP_PURCHASE, TransactionType.CAPP_PURCHASE})
_BALANCE = 4


def get_balance(env: Env, session: Session, cmd: CommandAPDU,
                pending: PendingLoad | PendingPurchase | None) -> ResponseAPDU:
    """``80 5C 00 02 04`` → balance(4)."""
    if cmd.p1 or cmd.p2 != EP_P2:
        return status(SW.INCORRECT_P1P2)
    if cmd.data:
        return status(SW.WRONG_LENGTH)
    return status(SW.OK, u(balance_field(env.purse.load().balance), _BALANCE))


def get_transaction_prove(env: Env, session: Session, cmd: CommandAPDU,
                          pending: PendingLoad | PendingPurchase | None) -> ResponseAPDU:
    """``80 5A 00 type 02`` counter → MAC2(4) TAC(4) of the last transaction, or 9406 if it is not that one."""
    if cmd.p1 or cmd.p2 not in _PROVABLE:
        return status(SW.INCORRECT_P1P2)
    if len(cmd.data) != ProveRequest.LENGTH:
        return status(SW.WRONG_LENGTH)
    request = ProveRequest.parse(cmd.data)
    last = env.purse.load().last
    if last is None or last.txn_type != cmd.p2 or last.counter != request.counter:
        return status(SW.MAC_REQUIRED)  # 9406: no proof for that transaction (it did not complete)
    return status(SW.OK, ProveAnswer(last.mac2, last.tac).to_bytes())
