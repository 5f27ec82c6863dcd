"""A transit purse top-up at the POS: online to the host for MAC2, journaled like any sale.

The walk: INITIALIZE FOR LOAD (the card's balance, online counter, random and MAC1) → the journal
holds the 0200 (processing code 60) as PENDING → the host checks MAC1 with the load master key and
answers MAC2 → CREDIT FOR LOAD (the card's new balance and its TAC) → the journal commits the
approval. What can go wrong ends as in a sale (docs/pos.md): a lost host reply is reversed; a card
that did not take the credit (refused MAC2, or left the field before it answered) is asked with
GET TRANSACTION PROVE whether it committed — if it did the load stands, if not the host's
authorization is reversed. When the card cannot say (it left the field for good), the entry stays
PENDING — neither reversed nor approved — until the card is presented again: the next top-up of
that card first asks it with GET TRANSACTION PROVE and settles the old one (approved if the card
has it, reversed if not). Such an entry also holds the batch open. The card is never credited
without the host, nor the host paid twice, nor a credit the card kept reversed.
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
    _settle_unconfirmed(client, info, journal, terminal)
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
    if result is _UNKNOWN:
        log.warning("purse load STAN %s: the card cannot confirm; kept pending until it is presented", entry.stan)
        return TopUpResult(False, f"the card did not confirm the top-up: present it again to complete trace "
                           f"{entry.stan}", entry, info)
    if result is None:
        journal.mark_reversal_pending(entry.id, "the card did not take the credit")
        terminal.send_reversals()
        return TopUpResult(False, "the card did not take the credit: the top-up was reversed",
                           journal.get(entry.id), info, reversed=True)
    assert isinstance(result, PurseResult)
    entry = journal.approve(entry.id, response=storable(reply), auth_code=str(reply.get("38", "")),
                            response_code=code, rrn=str(reply.get("37", "")) or None, outcome={
                                "balance": result.balance_after, "tac": result.tac.hex().upper(),
                                "counter": result.counter, "recovered": result.recovered})
    return TopUpResult(True, "loaded" + (" (completed through GET TRANSACTION PROVE)" if result.recovered else ""),
                       entry, info, result)


_UNKNOWN = object()  # the card could not say whether it took the credit


def _credit(client: PurseClient, init: LoadInit, mac2: bytes, when: datetime) -> PurseResult | None | object:
    """CREDIT FOR LOAD; when its answer is lost or refused, whether the card committed anyway:
    the result, ``None`` (it did not: safe to reverse) or ``_UNKNOWN`` (it cannot say)."""
    try:
        return client.credit_for_load(init, mac2, when)
    except (TransportError, CardkitError) as exc:
        log.warning("CREDIT FOR LOAD failed (%s): asking the card whether it committed", exc)
    try:
        return client.recover(init)
    except CardkitError as exc:
        log.warning("the card cannot tell (%s)", exc)
        return _UNKNOWN


def _settle_unconfirmed(client: PurseClient, info: PurseInfo, journal: Journal, terminal: Terminal) -> None:
    """Top-ups of this card left PENDING: GET TRANSACTION PROVE with their online counter says
    whether the card took them (approve) or not (reverse)."""
    for entry in journal.incomplete():
        if entry.kind != "purse_load" or entry.pan_masked != mask_pan(info.serial):
            continue
        data = PurseLoadData.parse(bytes.fromhex(entry.request.get("55", "")))
        try:
            mac2, tac = client.prove(data.online_counter, 0x02)
        except TransportError:
            raise
        except CardkitError as exc:  # the card has no such load: it never took the credit
            log.info("trace %s: the card did not take that top-up (%s): reversing", entry.stan, exc)
            journal.mark_reversal_pending(entry.id, "the card did not take the credit")
            continue
        journal.approve(entry.id, response={}, auth_code="", response_code="00", rrn=None,
                        outcome={"tac": tac.hex().upper(), "mac2": mac2.hex().upper(), "recovered": True})
        log.info("trace %s: the card has that top-up (TAC %s): approved", entry.stan, tac.hex().upper())
    terminal.send_reversals()


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



