"""A transit fare validator (gate): one tap, in or out, paid from the card's electronic purse.

Each tap is one compound (CAPP) purchase: the card checks the PSAM's MAC1, debits the fare and
rewrites the transit record in its CAPP data cache in one atomic transaction, and answers with
MAC2 (checked by the PSAM) and the TAC. What the tap means comes from the record:

- a flat network charges the flat fare at every tap;
- otherwise a card that is not on a ride taps **in**: the gate opens when the balance is at least
  the minimum to enter, and an amount-0 compound purchase writes the entry station and time;
- a card on a ride taps **out**: the fare from the entry station, less the transfer discount when
  this ride started within the window after the previous ride ended on another line;
- a card on a ride that taps in again (the entry is older than the longest ride, or it is the same
  station) missed its tap-out: it pays the maximum fare for that ride, and the same transaction
  records the new entry.

Every tap is journaled (kind ``fare``) after the card committed: the card, not the validator, is
the record of what was paid.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from cardkit.crypto.hazmat.keys import MasterKey
from cardkit.emv.outcome import mask_pan
from cardkit.purse import TRANSIT_AID, Psam, PurseClient, PurseInfo, PurseResult
from cardkit.readers.channel import CardChannel
from pos_sim.journal import Journal, JournalEntry
from pos_sim.transit.fares import FareKind, FareRules, Station
from pos_sim.transit.record import RECORD_ID, RideState, TransitRecord

__all__ = ["MAX_RIDE_S", "TapAction", "TapResult", "Validator", "demo_gate_psam"]

log = logging.getLogger(__name__)

MAX_RIDE_S = 4 * 3600  # an entry older than this was a ride whose tap-out is missing


class TapAction(enum.Enum):
    ENTRY = "entry"
    EXIT = "exit"
    RIDE = "ride"  # flat fare
    ENTRY_AFTER_MISSING_EXIT = "entry-after-missing-exit"
    REFUSED = "refused"


@dataclass(frozen=True)
class TapResult:
    """What the gate shows and the journal keeps for one tap."""

    action: TapAction
    gate_open: bool
    fare: int
    balance: int
    station: Station
    reason: str
    discount: int = 0
    purse: PurseResult | None = None
    entry: JournalEntry | None = None
    info: PurseInfo | None = None

    @property
    def display(self) -> str:
        """The gate's one display line, Chinese then English."""
        balance = _money(self.balance)
        if self.action is TapAction.REFUSED:
            return f"请到服务台 SEE STAFF — {self.reason} 余额 BAL {balance}"
        if self.action is TapAction.ENTRY:
            return f"进站 ENTRY {self.station.name}  余额 BAL {balance}"
        if self.action is TapAction.ENTRY_AFTER_MISSING_EXIT:
            return f"进站 ENTRY {self.station.name}  上次未出站 扣 {_money(self.fare)}  余额 BAL {balance}"
        word = "出站 EXIT" if self.action is TapAction.EXIT else "乘车 RIDE"
        off = f" (换乘优惠 -{_money(self.discount)})" if self.discount else ""
        return f"{word} {self.station.name}  扣费 FARE {_money(self.fare)}{off}  余额 BAL {balance}"

    def receipt(self) -> str:
        """The short receipt a gate's printer (or a kiosk) gives."""
        lines = ["交通卡 TRANSIT", self.display]
        if self.purse is not None:
            lines.append(f"TAC {self.purse.tac.hex().upper()}  No. {self.purse.counter:05d}")
            lines.append(self.purse.when.strftime("%Y-%m-%d %H:%M:%S"))
        return "\n".join(lines)


def demo_gate_psam(station: Station, journal: Journal, *,
                   keys: tuple[MasterKey, MasterKey] | None = None) -> Psam:
    """The PSAM of a gate: the published demo purchase and TAC keys (or ``keys``, an issuer's MPK and
    MTK, held by its keystore), the line and station code as its terminal id, and its transaction
    numbers from the gate journal (unique across restarts)."""
    from cardkit.issuer.demo_keys import DEMO_PURSE_MPK, DEMO_PURSE_MTK

    mpk, mtk = keys or (DEMO_PURSE_MPK, DEMO_PURSE_MTK)
    return Psam(mpk, mtk, terminal_id=bytes.fromhex(f"{station.line:04d}{station.code:08d}"),
                first_txn_no=int(journal.next_stan()))


def _money(fen: int) -> str:
    return f"{Decimal(fen).scaleb(-2):.2f}"


class Validator:
    """One gate at one station, with its PSAM and (optionally) a journal.

    Args:
        rules: the network's fares.
        psam: the PSAM that authorizes debits (purchase and TAC keys, terminal id and number).
        station: where this gate is.
        journal: where taps are recorded (kind ``fare``); ``None`` = not recorded.
        clock: the gate's time.
    """

    def __init__(self, rules: FareRules, psam: Psam, station: Station, *, journal: Journal | None = None,
                 clock: Callable[[], datetime] = datetime.now) -> None:
        self.rules = rules
        self.psam = psam
        self.station = station
        self.journal = journal
        self.clock = clock

    def tap(self, channel: CardChannel) -> TapResult:
        """Serve one card in the field.

        Raises:
            PurseError: the card refused (the gate stays closed; nothing was debited).
            TransportError: the card left the field (see :meth:`PurseClient.recover`).
        """
        client = PurseClient(channel)
        info = client.select()
        now = self.clock().replace(microsecond=0)
        record = TransitRecord.parse(client.read_capp_record(RECORD_ID))
        rules, here = self.rules, self.station
        terminal = self.psam.terminal_id
        if rules.kind is FareKind.FLAT:
            discount = self._discount(record, now, here.line)
            fare = max(rules.flat - discount, 0)
            new = record.tapped_in(here.code, here.line, now, terminal).tapped_out(here.code, here.line, now, fare,
                                                                                    terminal)
            return self._charge(client, info, TapAction.RIDE, fare, new, now, "flat fare", discount)
        if record.state is RideState.ON and not self._missed_exit(record, now):
            entry = rules.by_code(record.entry_station)
            discount = self._discount(record, record.entry_time or now, here.line)
            fare = max(rules.ride(entry, here) - discount, 0)
            why = f"from {entry.name if entry else 'an unknown station'}"
            new = record.tapped_out(here.code, here.line, now, fare, terminal)
            return self._charge(client, info, TapAction.EXIT, fare, new, now, why, discount)
        missed = record.state is RideState.ON
        fare = rules.max_fare if missed else 0
        if info.balance - fare < rules.min_entry_balance:
            need = _money(rules.min_entry_balance + fare)
            return self._refused(info, f"余额不足 balance below {need}")
        new = record.tapped_in(here.code, here.line, now, terminal)
        if missed:
            new = TransitRecord(RideState.ON, here.code, here.line, now, record.entry_station, record.entry_line,
                                now, fare, terminal, record.rides + 1)
            return self._charge(client, info, TapAction.ENTRY_AFTER_MISSING_EXIT, fare, new, now,
                                "the last ride had no tap-out: maximum fare")
        return self._charge(client, info, TapAction.ENTRY, 0, new, now, "entry")

    # ------------------------------------------------------------------------------ internals
    def _missed_exit(self, record: TransitRecord, now: datetime) -> bool:
        """On a ride since longer than any ride lasts, or tapping again where it entered."""
        if record.entry_station == self.station.code:
            return True
        return record.entry_time is None or (now - record.entry_time).total_seconds() > MAX_RIDE_S

    def _discount(self, record: TransitRecord, ride_start: datetime, line: int) -> int:
        """The transfer discount for a ride starting at ``ride_start`` after the previous one."""
        if record.exit_time is None or record.state is RideState.NONE:
            return 0
        gap = (ride_start - record.exit_time).total_seconds()
        other_line = record.exit_line != line or record.entry_line != line
        return self.rules.transfer_discount if 0 <= gap <= self.rules.transfer_window_s and other_line else 0

    def _charge(self, client: PurseClient, info: PurseInfo, action: TapAction, fare: int, new: TransitRecord,
                now: datetime, why: str, discount: int = 0) -> TapResult:
        payload = new.to_bytes()
        result = client.compound_purchase(fare, self.psam, now, record_id=RECORD_ID, update=lambda _old: payload)
        log.info("%s at %s: %s fen (%s), balance %d", action.value, self.station.name, fare, why,
                 result.balance_after)
        tap = TapResult(action, True, fare, result.balance_after, self.station, why, discount, result, None, info)
        return self._journal(tap, info)

    def _refused(self, info: PurseInfo, why: str) -> TapResult:
        return TapResult(TapAction.REFUSED, False, 0, info.balance, self.station, why, info=info)

    def _journal(self, tap: TapResult, info: PurseInfo) -> TapResult:
        if self.journal is None or tap.purse is None:
            return tap
        purse = tap.purse
        entry = self.journal.begin(
            kind="fare", amount=tap.fare, stan=self.journal.next_stan(), request={},
            pan_masked=mask_pan(info.serial), scheme="Transit", aid=TRANSIT_AID.hex().upper(), label="TRANSIT",
        )
        entry = self.journal.approve(entry.id, response={}, auth_code="", response_code="00", rrn=None, outcome={
            "action": tap.action.value, "station": self.station.name, "line": self.station.line,
            "discount": tap.discount, "balance": tap.balance, "tac": purse.tac.hex().upper(),
            "mac2": purse.mac2.hex().upper(), "counter": purse.counter, "display": tap.display,
        })
        self.journal.mark_printed(entry.id)  # a gate prints nothing: its display is the receipt
        return TapResult(tap.action, tap.gate_open, tap.fare, tap.balance, tap.station, tap.reason, tap.discount,
                         purse, entry, info)

