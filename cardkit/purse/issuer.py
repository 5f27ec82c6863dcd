"""The issuer's side of a purse load: check the card's MAC1, answer MAC2, check the TAC.

A top-up is authorized online: the terminal sends the card's INITIALIZE FOR LOAD answer
(:class:`~cardkit.purse.LoadInit`) and the card serial to the host, which holds the load master
key MLK (and the TAC master key MTK). The host diversifies DLK = MLK by X, derives SESLK from the
card random and online counter, verifies MAC1 — proof that this card, with this balance, asked
for this amount — takes the money, and answers MAC2 for CREDIT FOR LOAD. The TAC the card returns
is checked later with :func:`verify_load_tac` (REFERENCE.md "PBOC electronic purse").

Use it as the ``authorize`` callback of :meth:`cardkit.purse.PurseClient.load`::

    client.load(1000, terminal_id, lambda info, init, when: load_mac2(mlk, info, init, when), when)
"""

from __future__ import annotations

import logging
from datetime import datetime

from cardkit.crypto import purse as keymath
from cardkit.crypto.hazmat._base import constant_time_equal
from cardkit.crypto.purse import PurseAlgorithm
from cardkit.purse.errors import MacInvalid, PurseError
from cardkit.purse.psam import card_serial
from cardkit.purse.records import LoadInit, PurseInfo, PurseResult, TransactionKind, bcd_date, bcd_time

__all__ = ["load_mac2", "verify_load_tac"]

log = logging.getLogger(__name__)


def _field(balance: int) -> int:
    """A balance as the card MACs it: 4 bytes, two's complement once overdrawn."""
    return balance & 0xFFFFFFFF


def _session_key(mlk: bytes, card: PurseInfo | bytes, init: LoadInit) -> bytes:
    if len(mlk) != 16:
        raise PurseError(f"the load master key is {len(mlk)} bytes instead of 16", context="issuer")
    dlk = keymath.diversify_card_key(mlk, card_serial(card), init.algorithm)
    return keymath.load_session_key(dlk, init.random, init.online_counter, init.algorithm)


def load_mac2(mlk: bytes, card: PurseInfo | bytes, init: LoadInit, when: datetime) -> bytes:
    """Verify the card's MAC1 and compute MAC2 for CREDIT FOR LOAD.

    Args:
        mlk: the load master key (16 bytes, of the algorithm ``init`` names).
        card: the card (:class:`PurseInfo`) or its 8-byte serial X.
        init: the card's answer to INITIALIZE FOR LOAD.
        when: the date and time the terminal will send in CREDIT FOR LOAD.

    Returns:
        MAC2 (4 bytes).

    Raises:
        MacInvalid: MAC1 does not verify (another card, balance, amount or terminal; or a wrong key).
        PurseError: a key or serial of the wrong length.
    """
    seslk = _session_key(mlk, card, init)
    expected = keymath.load_mac1(seslk, _field(init.old_balance), init.amount, init.terminal_id,
                                 keymath.TransactionType.EP_LOAD, init.algorithm)
    if not constant_time_equal(expected, init.mac1):
        raise MacInvalid("the card's MAC1 does not verify: load refused", context="issuer MAC1 check")
    log.debug("load of %d fen authorized (online counter %d)", init.amount, init.online_counter)
    return keymath.load_mac2(seslk, init.amount, init.terminal_id, bcd_date(when), bcd_time(when),
                             keymath.TransactionType.EP_LOAD, init.algorithm)


def verify_load_tac(mtk: bytes, card: PurseInfo | bytes, load: LoadInit | PurseResult, when: datetime | None = None,
                    tac: bytes | None = None, *, algorithm: PurseAlgorithm | None = None) -> None:
    """Check the TAC of a completed load: new balance | online counter | amount | type | terminal | date | time.

    Args:
        mtk: the TAC master key (16 bytes).
        card: the card or its serial X.
        load: the load's :class:`PurseResult` (it holds the TAC and the date), or its
            :class:`LoadInit` together with ``when`` and ``tac``.
        when: the date and time sent in CREDIT FOR LOAD (with a ``LoadInit``).
        tac: the card's TAC from CREDIT FOR LOAD or GET TRANSACTION PROVE (with a ``LoadInit``).
        algorithm: the cipher, when ``load`` is a result (default 3DES); a ``LoadInit`` names it.

    Raises:
        MacInvalid: the TAC does not verify.
        PurseError: a key of the wrong length, a result that is not a load, or ``when``/``tac`` missing.
    """
    if len(mtk) != 16:
        raise PurseError(f"the TAC master key is {len(mtk)} bytes instead of 16", context="issuer")
    if isinstance(load, PurseResult):
        if load.kind is not TransactionKind.LOAD:
            raise PurseError(f"a {load.kind.value} has no load TAC", context="issuer")
        new_balance, when, tac = load.balance_after, load.when, load.tac
        alg = algorithm or PurseAlgorithm.TDES
    else:
        if when is None or tac is None:
            raise PurseError("verifying a load TAC from its LoadInit needs when and tac", context="issuer")
        new_balance, alg = load.old_balance + load.amount, load.algorithm
    dtk = keymath.diversify_card_key(mtk, card_serial(card), alg)
    expected = keymath.load_tac(dtk, _field(new_balance), load.counter, load.amount, load.terminal_id, bcd_date(when),
                                bcd_time(when), keymath.TransactionType.EP_LOAD, alg)
    if not constant_time_equal(expected, bytes(tac)):
        raise MacInvalid("the load TAC does not verify", context="issuer TAC check")
