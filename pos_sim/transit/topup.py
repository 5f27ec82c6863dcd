"""A transit purse top-up at the POS: online to the host for MAC2, journaled like any sale.

The walk: INITIALIZE FOR LOAD (the card's balance, online counter, random and MAC1) → the journal
holds the 0200 (processing code 60) as PENDING → the host checks MAC1 with the load master key and
answers MAC2 → CREDIT FOR LOAD (the card's new balance and its TAC) → the journal commits the
approval. What can go wrong ends as in a sale (docs/pos.md): a lost host reply is reversed; a card
that did not take the credit (refused MAC2, or left the field before it answered) is asked with
GET TRANSACTION PROVE whether it committed — if it did the load stands, if not the host's
authorization is reversed. The card is never credited without the host, nor the host paid twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cardkit import tlv
from cardkit.emv.outcome import mask_pan
from cardkit.errors import CardkitError, HostError, TransportError
from cardkit.purse import LoadInit, PurseClient, PurseInfo, PurseResult
from pos_sim.config import PosConfig
from pos_sim.host import HostLink, HostTimeout
from pos_sim.host.iso8583 import MTI, PurseLoadData
from pos_sim.journal import Journal, JournalEntry
from pos_sim.terminal import Terminal, storable

__all__ = ["TopUpResult", "purse_terminal_id", "top_up"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TopUpResult:
    approved: bool
    reason: str
    entry: JournalEntry
    info: PurseInfo
    purse: PurseResult | None = None
    reversed: bool = False


def purse_terminal_id(config: PosConfig) -> bytes:
    """The 6-byte terminal number the purse MACs carry: the TID's digits, right-aligned in 12."""
    digits = "".join(c for c in config.tid if c.isdigit())[-12:]
    return bytes.fromhex(digits.rjust(12, "0"))


def top_up(client: PurseClient, amount: int, *, config: PosConfig, journal: Journal, host: HostLink,
           clock: Callable[[], datetime] = datetime.now) -> TopUpResult:
    """Load ``amount`` fen onto the purse in the field, authorized by the host.

    Raises:
        PurseError: the card refused INITIALIZE FOR LOAD (e.g. over its maximum balance).
        TransportError: the card left before INITIALIZE FOR LOAD answered (nothing happened).
    """
    terminal = Terminal(config, journal, host)  # its reversal queue is the POS's
    terminal.send_reversals()
    info = client.select()
    when = clock().replace(microsecond=0)
    terminal_id = purse_terminal_id(config)
    init = client.initialize_load(amount, terminal_id)
    fields = _request(config, journal, info, init, when)
    entry = journal.begin(kind="purse_load", amount=amount, stan=str(fields["11"]), request=fields,
                          pan_masked=mask_pan(info.serial), scheme="Transit", aid=client.aid.hex().upper(),
                          label="TRANSIT", currency=config.currency)
    try:
        reply = host.exchange(fields)
    except HostTimeout as exc:
        log.warning("purse load STAN %s: no reply (%s): reversing", entry.stan, exc)
        journal.mark_reversal_pending(entry.id, "no reply from the host")
        terminal.send_reversals()
        return TopUpResult(False, "no reply from the host: the top-up was reversed", journal.get(entry.id), info,
                           reversed=True)
    except HostError as exc:
        entry = journal.decline(entry.id, response=None, response_code="91", outcome=None,
                                reason=f"host unavailable ({exc})")
        return TopUpResult(False, f"host unavailable: {exc}", entry, info)
    code = str(reply.get("39", ""))
    mac2 = _mac2(reply)
    if code != "00" or mac2 is None:
        entry = journal.decline(entry.id, response=storable(reply), response_code=code, outcome=None,
                                reason=f"declined by the host ({code})")
        return TopUpResult(False, f"declined by the host ({code})", entry, info)
    result = _credit(client, init, mac2, when)
    if result is None:
        journal.mark_reversal_pending(entry.id, "the card did not take the credit")
        terminal.send_reversals()
        return TopUpResult(False, "the card did not take the credit: the top-up was reversed",
                           journal.get(entry.id), info, reversed=True)
    entry = journal.approve(entry.id, response=storable(reply), auth_code=str(reply.get("38", "")),
                            response_code=code, rrn=str(reply.get("37", "")) or None, outcome={
                                "balance": result.balance_after, "tac": result.tac.hex().upper(),
                                "counter": result.counter, "recovered": result.recovered})
    return TopUpResult(True, "loaded" + (" (completed through GET TRANSACTION PROVE)" if result.recovered else ""),
                       entry, info, result)


def _credit(client: PurseClient, init: LoadInit, mac2: bytes, when: datetime) -> PurseResult | None:
    """CREDIT FOR LOAD; when its answer is lost or refused, whether the card committed anyway."""
    try:
        return client.credit_for_load(init, mac2, when)
    except (TransportError, CardkitError) as exc:
        log.warning("CREDIT FOR LOAD failed (%s): asking the card whether it committed", exc)
    try:
        return client.recover(init)
    except CardkitError as exc:
        log.warning("the card cannot tell (%s): treating the load as not done", exc)
        return None


def _request(config: PosConfig, journal: Journal, info: PurseInfo, init: LoadInit, when: datetime
             ) -> dict[str, str | bytes]:
    data = PurseLoadData(random=init.random, online_counter=init.online_counter, old_balance=init.old_balance,
                         mac1=init.mac1, terminal_id=init.terminal_id, when=when.strftime("%Y%m%d%H%M%S"),
                         algorithm=0x04 if init.algorithm.value == "sm4" else 0x00, key_version=init.key_version)
    return {
        "t": MTI.FINANCIAL, "2": info.diversifier.hex(), "3": "600000", "4": f"{init.amount:012d}",
        "7": when.strftime("%m%d%H%M%S"), "11": journal.next_stan(), "12": when.strftime("%H%M%S"),
        "13": when.strftime("%m%d"), "22": "071", "25": "00", "41": config.tid, "42": config.mid,
        "49": config.currency, "55": data.to_bytes(), "60": f"{journal.current_batch():06d}",
    }


def _mac2(reply: dict[str, str | bytes]) -> bytes | None:
    raw = reply.get("55")
    if not isinstance(raw, bytes):
        return None
    found = tlv.find(tlv.decode(raw), PurseLoadData.MAC2_TAG)
    return found.value if found is not None and len(found.value) == 4 else None



