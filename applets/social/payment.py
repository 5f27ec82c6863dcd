"""The medical account: GET BALANCE, INITIALIZE (medical payment) and DEBIT.

cardkit uses the PBOC purse formulas for the medical account (docs/social.md "Medical payment"):
the SAM's MAC1 under SESPK (from the card's DPK, random, counter and the terminal transaction
number), the card's MAC2 over the amount and its TAC under DTK_left ⊕ DTK_right, all from
:mod:`cardkit.crypto.purse` with transaction type 06. A payment needs the PIN verified on this
channel (the SAM's MAC1 already proves the terminal); reading the balance needs the terminal
authentication.
"""

from __future__ import annotations

from applets.runtime import status
from applets.social.account import AccountState, Env, PendingPayment, Session, same_mac
from applets.social.layout import (
    BALANCE_LENGTH,
    KEY_TERMINAL,
    PIN_REF,
    DebitRequest,
    InitAnswer,
    InitRequest,
    LogRecord,
)
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.crypto.purse import TransactionType, purchase_mac1, purchase_mac2, purchase_session_key, purchase_tac

__all__ = ["debit", "get_balance", "initialize"]

_P2_ACCOUNT = 0x02  # P2 of INITIALIZE / GET BALANCE (the purse's "EP")
_P1_PURCHASE = 0x01
_KEY_INDEX = 0x01
_COUNTER_MAX = 0xFFFF
_TYPE = TransactionType.EP_PURCHASE


def get_balance(env: Env, session: Session, cmd: CommandAPDU, pending: PendingPayment | None) -> ResponseAPDU:
    """``80 5C 00 02 04`` → balance 4, after terminal authentication."""
    if cmd.p1 or cmd.p2 != _P2_ACCOUNT:
        return status(SW.INCORRECT_P1P2)
    if cmd.data:
        return status(SW.WRONG_LENGTH)
    if KEY_TERMINAL not in session.keys:
        return status(SW.SECURITY_STATUS_NOT_SATISFIED)
    return status(SW.OK, env.account.load().balance.to_bytes(BALANCE_LENGTH, "big"))


def initialize(env: Env, session: Session, cmd: CommandAPDU, pending: PendingPayment | None) -> ResponseAPDU:
    """``80 50 01 02 0B`` key index ‖ amount ‖ terminal → the purse's 15-byte answer; nothing written."""
    if cmd.p1 != _P1_PURCHASE or cmd.p2 != _P2_ACCOUNT:
        return status(SW.INCORRECT_P1P2)
    if len(cmd.data) != InitRequest.LENGTH:
        return status(SW.WRONG_LENGTH)
    request = InitRequest.parse(cmd.data)
    if request.key_index != _KEY_INDEX:
        return status(SW.KEY_INDEX_NOT_SUPPORTED)
    if env.fs.pins.tries_left(PIN_REF) == 0:
        return status(SW.AUTH_METHOD_BLOCKED)
    if PIN_REF not in session.verified:
        return status(SW.SECURITY_STATUS_NOT_SATISFIED)
    if request.amount == 0:
        return status(SW.WRONG_DATA)
    state = env.account.load()
    if request.amount > state.balance:
        return status(SW.INSUFFICIENT_BALANCE)
    if state.counter >= _COUNTER_MAX:
        return status(SW.COUNTER_AT_LIMIT)
    random = bytes(env.random(4))
    session.pending = PendingPayment(request.amount, request.terminal, state.balance, state.counter, random)
    return status(SW.OK, InitAnswer(state.balance, state.counter, env.account.key_version, random).to_bytes())


def debit(env: Env, session: Session, cmd: CommandAPDU, pending: PendingPayment | None) -> ResponseAPDU:
    """``80 54 01 00 0F`` txn no ‖ date ‖ time ‖ MAC1 → TAC 4 ‖ MAC2 4; balance, counter, log in one commit."""
    if cmd.p1 != _P1_PURCHASE or cmd.p2:
        return status(SW.INCORRECT_P1P2)
    if len(cmd.data) != DebitRequest.LENGTH:
        return status(SW.WRONG_LENGTH)
    if pending is None:
        return status(SW.CONDITIONS_NOT_SATISFIED)
    state = env.account.load()
    if state != AccountState(pending.old_balance, pending.counter):  # another channel moved it
        return status(SW.CONDITIONS_NOT_SATISFIED)
    request = DebitRequest.parse(cmd.data)
    dpk, dtk = env.account.key("DPK"), env.account.key("DTK")
    sespk = purchase_session_key(dpk, pending.random, pending.counter, request.terminal_txn_no)
    expected = purchase_mac1(sespk, pending.amount, pending.terminal, request.date, request.time, _TYPE)
    if not same_mac(expected, request.mac1):
        return status(SW.MAC_INVALID)
    mac2 = purchase_mac2(sespk, pending.amount)
    tac = purchase_tac(dtk, pending.amount, pending.terminal, request.terminal_txn_no, request.date, request.time,
                       _TYPE)
    new = AccountState(state.balance - pending.amount, state.counter + 1)
    record = LogRecord(pending.counter, pending.amount, _TYPE, pending.terminal, request.terminal_txn_no,
                       request.date, request.time, new.balance)
    env.account.commit(state, new, record.to_bytes())
    return status(SW.OK, tac + mac2)
