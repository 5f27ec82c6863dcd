"""The fare validator and the top-up on the demo card: taps in and out with distance fares, the
transfer discount, a missing tap-out, the minimum balance, flat fares, and a top-up through the host."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cardkit.issuer.demo_keys import DEMO_PURSE_MPK, DEMO_PURSE_MTK
from cardkit.purse import Psam, PurseClient
from cardkit.readers import CardChannel, VirtualReader
from pos_sim.config import PosConfig
from pos_sim.demo_card import make_demo_card
from pos_sim.host import Host, InProcessHostLink
from pos_sim.journal import EntryStatus, Journal
from pos_sim.transit import FareKind, RideState, TapAction, TransitRecord, Validator, demo_rules, top_up

T0 = datetime(2026, 12, 1, 8, 0, 0)


class Network:
    """The demo card, the demo metro, a clock the test moves, a gate journal."""

    def __init__(self, tmp: Path) -> None:
        self.card = make_demo_card()
        self.rules = demo_rules()
        self.now = T0
        self.journal = Journal(tmp / "gate.sqlite")
        self.txn_no = 1

    def channel(self) -> CardChannel:
        return CardChannel(VirtualReader(self.card).connect())

    def tap(self, station: str, *, minutes: float = 0, rules: object | None = None) -> object:
        self.now += timedelta(minutes=minutes)
        here = self.rules.station(station)
        psam = Psam(DEMO_PURSE_MPK, DEMO_PURSE_MTK, terminal_id=bytes.fromhex(f"{here.line:04d}{here.code:08d}"),
                    first_txn_no=self.txn_no)
        self.txn_no += 1
        return Validator(rules or self.rules, psam, here, journal=self.journal,  # type: ignore[arg-type]
                         clock=lambda: self.now).tap(self.channel())

    def balance(self) -> int:
        client = PurseClient(self.channel())
        return client.select().balance

    def record(self) -> TransitRecord:
        client = PurseClient(self.channel())
        client.select()
        return TransitRecord.parse(client.read_capp_record(1))


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Network]:
    n = Network(tmp_path)
    yield n
    n.journal.close()


def test_tap_in_then_out_charges_the_distance_fare(net: Network) -> None:
    start = net.balance()
    entry = net.tap("Xizhimen")
    assert entry.action is TapAction.ENTRY and entry.gate_open and entry.fare == 0  # type: ignore[attr-defined]
    assert net.record().state is RideState.ON and net.balance() == start
    exit_ = net.tap("Dongzhimen", minutes=20)  # 7.9 km: the 6-12 km band, 4.00
    assert exit_.action is TapAction.EXIT and exit_.fare == 400 and net.balance() == start - 400  # type: ignore[attr-defined]
    assert exit_.purse.tac and "出站 EXIT Dongzhimen" in exit_.display  # type: ignore[attr-defined]
    record = net.record()
    assert record.state is RideState.OFF and record.last_fare == 400 and record.rides == 1
    kinds = [(e.kind, e.amount, e.status) for e in net.journal.entries()]
    assert kinds == [("fare", 0, EntryStatus.APPROVED), ("fare", 400, EntryStatus.APPROVED)]


def test_a_transfer_within_the_window_is_discounted(net: Network) -> None:
    net.tap("Xizhimen")
    net.tap("Dongzhimen", minutes=20)
    net.tap("Sanyuanqiao", minutes=10)  # line 2, 10 minutes after the exit
    second = net.tap("Guomao", minutes=15)  # 9.5 km: 4.00, less 1.00
    assert second.discount == 100 and second.fare == 300  # type: ignore[attr-defined]


def test_no_discount_after_the_window(net: Network) -> None:
    net.tap("Xizhimen")
    net.tap("Dongzhimen", minutes=20)
    net.tap("Sanyuanqiao", minutes=120)
    assert net.tap("Guomao", minutes=15).discount == 0  # type: ignore[attr-defined]


def test_a_missing_tap_out_costs_the_maximum_fare_at_the_next_entry(net: Network) -> None:
    start = net.balance()
    net.tap("Xizhimen")
    again = net.tap("Gulou", minutes=5 * 60)  # on a ride for five hours: that ride never tapped out
    assert again.action is TapAction.ENTRY_AFTER_MISSING_EXIT and again.fare == net.rules.max_fare  # type: ignore[attr-defined]
    assert net.balance() == start - net.rules.max_fare and net.record().entry_station == net.rules.station("Gulou").code


def test_below_the_minimum_balance_the_gate_stays_shut(net: Network, tmp_path: Path) -> None:
    strict = replace(net.rules, min_entry_balance=net.balance() + 1)
    refused = net.tap("Xizhimen", rules=strict)
    assert refused.action is TapAction.REFUSED and not refused.gate_open  # type: ignore[attr-defined]
    assert net.record().state is RideState.NONE and net.journal.entries() == []


def test_flat_fare_network(net: Network) -> None:
    flat = replace(net.rules, kind=FareKind.FLAT, flat=250)
    start = net.balance()
    ride = net.tap("Xizhimen", rules=flat)
    assert ride.action is TapAction.RIDE and ride.fare == 250 and net.balance() == start - 250  # type: ignore[attr-defined]


def test_top_up_through_the_host(tmp_path: Path) -> None:
    card = make_demo_card()
    config = PosConfig.demo(journal=tmp_path / "pos.sqlite")
    with Host(tmp_path / "host.sqlite") as host, Journal(config.journal) as journal:
        client = PurseClient(CardChannel(VirtualReader(card).connect()))
        before = client.select().balance
        result = top_up(client, 2000, config=config, journal=journal, host=InProcessHostLink(host))
        assert result.approved and result.purse is not None and result.purse.balance_after == before + 2000
        assert journal.get(result.entry.id).status is EntryStatus.APPROVED and result.entry.kind == "purse_load"
        assert "52" not in result.entry.request and result.entry.request["3"] == "600000"


def test_a_top_up_whose_reply_is_lost_is_reversed_and_the_card_not_credited(tmp_path: Path) -> None:
    card = make_demo_card()
    config = PosConfig.demo(journal=tmp_path / "pos.sqlite")
    with Host(tmp_path / "host.sqlite") as host, Journal(config.journal) as journal:
        client = PurseClient(CardChannel(VirtualReader(card).connect()))
        before = client.select().balance
        host.faults.lose_replies = 1
        result = top_up(client, 2000, config=config, journal=journal, host=InProcessHostLink(host))
        assert not result.approved and result.reversed
        assert journal.get(result.entry.id).status is EntryStatus.REVERSED
        assert PurseClient(CardChannel(VirtualReader(card).connect())).select().balance == before


def test_the_gate_receipt_and_journal_entry(net: Network) -> None:
    net.tap("Xizhimen")
    exit_ = net.tap("Qianmen", minutes=25)  # 14.6 km: 5.00
    text = exit_.receipt()  # type: ignore[attr-defined]
    assert text.splitlines()[0] == "交通卡 TRANSIT" and "扣费 FARE 5.00" in text
    assert f"TAC {exit_.purse.tac.hex().upper()}" in text  # type: ignore[attr-defined]
    entry = net.journal.entries()[-1]
    assert entry.kind == "fare" and entry.amount == 500 and entry.pan_masked.startswith("310000")
    assert entry.outcome is not None and entry.outcome["station"] == "Qianmen" and entry.outcome["tac"]


def test_a_top_up_the_issuer_cannot_verify_is_declined_and_not_credited(tmp_path: Path) -> None:
    card = make_demo_card()
    config = PosConfig.demo(journal=tmp_path / "pos.sqlite")
    with Host(tmp_path / "host.sqlite", purse_mlk=bytes(16)) as host, Journal(config.journal) as journal:
        client = PurseClient(CardChannel(VirtualReader(card).connect()))
        before = client.select().balance
        result = top_up(client, 2000, config=config, journal=journal, host=InProcessHostLink(host))
        assert not result.approved and result.entry.response_code == "05"  # MAC1 does not verify under that key
        assert PurseClient(CardChannel(VirtualReader(card).connect())).select().balance == before


class GoneAfterCredit:
    """The card takes CREDIT FOR LOAD, then leaves the field before its answer arrives: every APDU
    from then on fails, so not even GET TRANSACTION PROVE can ask it."""

    def __init__(self, card: object) -> None:
        self._conn = VirtualReader(card).connect()  # type: ignore[arg-type]
        self.gone = False

    def __getattr__(self, name: str) -> object:
        return getattr(self._conn, name)

    def transmit(self, capdu: bytes, **kw: object) -> bytes:
        from cardkit.errors import TransportError

        if self.gone:
            raise TransportError("the card left the field")
        rapdu: bytes = self._conn.transmit(capdu, **kw)
        if capdu[1] == 0x52:  # CREDIT FOR LOAD: committed on the card, the answer never arrives
            self.gone = True
            raise TransportError("the card left the field")
        return rapdu


def test_an_unconfirmed_top_up_waits_for_its_card_then_settles(tmp_path: Path) -> None:
    card = make_demo_card()
    config = PosConfig.demo(journal=tmp_path / "pos.sqlite")
    with Host(tmp_path / "host.sqlite") as host, Journal(config.journal) as journal:
        link = InProcessHostLink(host)
        before = PurseClient(CardChannel(VirtualReader(card).connect())).select().balance
        lost = top_up(PurseClient(CardChannel(GoneAfterCredit(card))), 2000, config=config, journal=journal,  # type: ignore[arg-type]
                      host=link)
        assert not lost.approved and "present it again" in lost.reason
        assert journal.get(lost.entry.id).status is EntryStatus.PENDING  # neither reversed nor approved
        from pos_sim.terminal import Terminal

        assert Terminal(config, journal, link).recover() == []  # a restart does not reverse it blindly
        assert journal.get(lost.entry.id).status is EntryStatus.PENDING
        again = top_up(PurseClient(CardChannel(VirtualReader(card).connect())), 1000, config=config,
                       journal=journal, host=link)
        assert journal.get(lost.entry.id).status is EntryStatus.APPROVED  # the card had it: it stands
        assert again.approved and again.purse is not None and again.purse.balance_after == before + 3000
