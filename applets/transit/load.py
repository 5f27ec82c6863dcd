"""INITIALIZE FOR LOAD and CREDIT FOR LOAD (REFERENCE.md "PBOC electronic purse").

INITIALIZE answers MAC1 under SESLK so the host can check the card; CREDIT checks the host's MAC2
and only then, in one store transaction, adds the amount, bumps the online counter, logs and
keeps the proof — the TAC is the card's receipt for it.
"""

from __future__ import annotations

from dataclasses import replace

from applets.runtime import status
from applets.transit.env import Env, balance_field, check_completion, check_initialize, same_mac
from applets.transit.layout import CreditRequest, InitAnswerLoad, LogRecord
from applets.transit.state import LastTransaction, PendingLoad, PendingPurchase, Session
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.crypto.purse import TransactionType, load_mac1, load_mac2, load_session_key, load_tac

__all__ = ["credit_for_load", "initialize_for_load"]

_LOAD = TransactionType.EP_LOAD
_CREDIT_P1 = 0x00


def initialize_for_load(env: Env, session: Session, cmd: CommandAPDU,
                        pending: PendingLoad | PendingPurchase | None) -> ResponseAPDU:
    """``80 50 00 02 0B`` key index, amount, terminal → old balance, online counter, ..., MAC1."""
    if pending is not None:
        return status(SW.CONDITIONS_NOT_SATISFIED)  # INITIALIZE twice: both are gone
    state = env.purse.load()
    request = check_initialize(env, cmd, state, state.online_counter)
    if isinstance(request, ResponseAPDU):
        return request
    if state.balance + request.amount > env.profile.purse.max_balance:
        return status(SW.CONDITIONS_NOT_SATISFIED)  # the documented "exceeds the maximum balance"
    algorithm = env.profile.purse.algorithm
    random = env.random(4)
    old = balance_field(state.balance)
    seslk = load_session_key(env.profile.dlk, random, state.online_counter, algorithm)
    mac1 = load_mac1(seslk, old, request.amount, request.terminal, _LOAD, algorithm)
    session.pending = PendingLoad(request.amount, request.terminal, state.balance, state.online_counter, seslk)
    answer = InitAnswerLoad(old, state.online_counter, env.profile.purse.key_version, env.algorithm_byte,
                            random, mac1)
    return status(SW.OK, answer.to_bytes())


def credit_for_load(env: Env, session: Session, cmd: CommandAPDU,
                    pending: PendingLoad | PendingPurchase | None) -> ResponseAPDU:
    """``80 52 00 00 0B`` date, time, MAC2 → TAC; the load commits here or not at all."""
    state = check_completion(env, cmd, pending, PendingLoad, _CREDIT_P1, CreditRequest.LENGTH)
    if isinstance(state, ResponseAPDU):
        return state
    assert isinstance(pending, PendingLoad)
    request = CreditRequest.parse(cmd.data)
    algorithm = env.profile.purse.algorithm
    expected = load_mac2(pending.session_key, pending.amount, pending.terminal, request.date, request.time,
                         _LOAD, algorithm)
    if not same_mac(expected, request.mac2):
        env.purse.count_mac_failure(state)
        return status(SW.MAC_INVALID)
    new_balance = state.balance + pending.amount
    tac = load_tac(env.profile.dtk, balance_field(new_balance), pending.online_counter, pending.amount,
                   pending.terminal, request.date, request.time, _LOAD, algorithm)
    record = LogRecord(pending.online_counter, env.profile.purse.overdraft_limit, pending.amount, _LOAD,
                       pending.terminal, request.date, request.time)
    new = replace(state, balance=new_balance, online_counter=pending.online_counter + 1, mac_failures=0,
                  last=LastTransaction(_LOAD, pending.online_counter, request.mac2, tac))
    env.purse.commit(state, new, log_record=record.to_bytes())
    return status(SW.OK, tac)
