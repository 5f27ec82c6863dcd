"""INITIALIZE FOR (CAPP) PURCHASE, UPDATE CAPP DATA CACHE and DEBIT (REFERENCE.md "PBOC electronic purse").

The card only trusts the DEBIT's MAC1 (under SESPK, from the PSAM). UPDATE CAPP DATA CACHE writes
nothing: the new record waits in the pending purchase and is written by the DEBIT, in the same
store transaction as the balance, the offline counter and the log — a failed or torn DEBIT drops
it with everything else.
"""

from __future__ import annotations

from dataclasses import replace

from applets.runtime import status
from applets.transit.env import Env, balance_field, check_completion, check_initialize, same_mac
from applets.transit.layout import CAPP_CACHE_SFI, DebitRequest, InitAnswerPurchase, InitKind, LogRecord
from applets.transit.state import LastTransaction, PendingLoad, PendingPurchase, Session
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.crypto.purse import TransactionType, purchase_mac1, purchase_mac2, purchase_session_key, purchase_tac

__all__ = ["debit_for_purchase", "initialize_for_purchase", "update_capp_data_cache"]

_UPDATE_CAPP_P2 = CAPP_CACHE_SFI << 3  # SFI 17, mode 0: P1 is the record identifier
_DEBIT_P1 = 0x01
_TYPES = {InitKind.PURCHASE: TransactionType.EP_PURCHASE, InitKind.CAPP_PURCHASE: TransactionType.CAPP_PURCHASE}


def initialize_for_purchase(env: Env, session: Session, cmd: CommandAPDU,
                            pending: PendingLoad | PendingPurchase | None) -> ResponseAPDU:
    """``80 50 01|03 02 0B`` key index, amount, terminal → old balance, offline counter, overdraft
    limit, key version, algorithm, random."""
    if pending is not None:
        return status(SW.CONDITIONS_NOT_SATISFIED)  # INITIALIZE twice: both are gone
    state = env.purse.load()
    request = check_initialize(env, cmd, state, state.offline_counter)
    if isinstance(request, ResponseAPDU):
        return request
    overdraft = env.profile.purse.overdraft_limit
    if request.amount > state.balance + overdraft:
        return status(SW.INSUFFICIENT_BALANCE)
    random = env.random(4)
    session.pending = PendingPurchase(_TYPES[InitKind(cmd.p1)], request.amount, request.terminal, state.balance,
                                      state.offline_counter, random)
    answer = InitAnswerPurchase(balance_field(state.balance), state.offline_counter, overdraft,
                                env.profile.purse.key_version, env.algorithm_byte, random)
    return status(SW.OK, answer.to_bytes())


def update_capp_data_cache(env: Env, session: Session, cmd: CommandAPDU,
                           pending: PendingLoad | PendingPurchase | None) -> ResponseAPDU:
    """``80 DC id B8 Lc record``: replace the CAPP record with identifier ``id`` — at the DEBIT."""
    if not isinstance(pending, PendingPurchase) or not pending.compound:
        return status(SW.CONDITIONS_NOT_SATISFIED)
    if cmd.p2 != _UPDATE_CAPP_P2:
        return status(SW.INCORRECT_P1P2)
    records = env.purse.capp_records()
    number = next((i + 1 for i, r in enumerate(records) if r[0] == cmd.p1), None)
    if number is None:
        return status(SW.RECORD_NOT_FOUND)
    if len(cmd.data) != len(records[number - 1]):
        return status(SW.WRONG_LENGTH)
    if cmd.data[0] != cmd.p1:
        return status(SW.WRONG_DATA)  # a record keeps its identifier as its first byte
    updates = tuple(u for u in pending.capp_updates if u[0] != number) + ((number, bytes(cmd.data)),)
    session.pending = replace(pending, capp_updates=updates)
    return status(SW.OK)


def debit_for_purchase(env: Env, session: Session, cmd: CommandAPDU,
                       pending: PendingLoad | PendingPurchase | None) -> ResponseAPDU:
    """``80 54 01 00 0F`` terminal txn no, date, time, MAC1 → TAC, MAC2; the purchase commits here."""
    state = check_completion(env, cmd, pending, PendingPurchase, _DEBIT_P1, DebitRequest.LENGTH)
    if isinstance(state, ResponseAPDU):
        return state
    assert isinstance(pending, PendingPurchase)
    request = DebitRequest.parse(cmd.data)
    algorithm = env.profile.purse.algorithm
    sespk = purchase_session_key(env.profile.dpk, pending.random, pending.offline_counter,
                                 request.terminal_txn_no, algorithm)
    expected = purchase_mac1(sespk, pending.amount, pending.terminal, request.date, request.time,
                             pending.txn_type, algorithm)
    if not same_mac(expected, request.mac1):
        env.purse.count_mac_failure(state)
        return status(SW.MAC_INVALID)
    mac2 = purchase_mac2(sespk, pending.amount, algorithm)
    tac = purchase_tac(env.profile.dtk, pending.amount, pending.terminal, request.terminal_txn_no, request.date,
                       request.time, pending.txn_type, algorithm)
    record = LogRecord(pending.offline_counter, env.profile.purse.overdraft_limit, pending.amount,
                       pending.txn_type, pending.terminal, request.date, request.time)
    new = replace(state, balance=state.balance - pending.amount, offline_counter=pending.offline_counter + 1,
                  mac_failures=0, last=LastTransaction(pending.txn_type, pending.offline_counter, mac2, tac))
    env.purse.commit(state, new, log_record=record.to_bytes(), capp_updates=pending.capp_updates)
    return status(SW.OK, tac + mac2)
