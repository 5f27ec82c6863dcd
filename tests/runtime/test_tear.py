"""Tear at every persistent write of a multi-write command: old or new state, never mixed."""

from __future__ import annotations

import pytest

from applets.runtime import SimulatedCard, TransactionError
from cardkit.apdu import SW
from cardkit.errors import CardTornError

from .helpers import send, sw
from .toy import COUNTER_AID, CounterApplet


def _card() -> tuple[SimulatedCard, CounterApplet]:
    app = CounterApplet()
    card = SimulatedCard(applets=[app], default_aid=COUNTER_AID)
    card.power_on()
    return card, app


def _writes_of(ins: int) -> int:
    card, _ = _card()
    before = card.store.writes
    assert sw(card, bytes([0x80, ins, 0, 0])) == SW.OK
    return card.store.writes - before


def test_one_transaction_tear_at_every_write() -> None:
    n = _writes_of(0x10)
    assert n == 5  # four fields and the commit record
    for k in range(1, n + 2):
        card, app = _card()
        assert sw(card, "80 10 0000") == SW.OK  # state (1,1,1,1)
        gen = card.store.generation
        card.arm_tear(k)
        if k <= n:
            with pytest.raises(CardTornError):
                card.transmit(bytes.fromhex("80100000"))
            assert not card.powered
            card.power_on()
            assert app.values() == (1, 1, 1, 1), f"tear at write {k}"
            assert card.store.generation == gen
        else:
            assert sw(card, "80 10 0000") == SW.OK  # the tear point lies beyond this command
            card.disarm_tear()
            assert app.values() == (2, 2, 2, 2)
        assert send(card, "80 14 0000 00")[0] in (bytes([1] * 4), bytes([2] * 4))


def test_two_transactions_tear_gives_a_committed_prefix() -> None:
    n = _writes_of(0x12)
    assert n == 6
    seen = set()
    for k in range(1, n + 1):
        card, app = _card()
        card.arm_tear(k)
        with pytest.raises(CardTornError):
            card.transmit(bytes.fromhex("80120000"))
        card.power_on()
        seen.add(app.values())
        assert app.values() in {(0, 0, 0, 0), (1, 1, 0, 0)}, f"tear at write {k}"
    assert seen == {(0, 0, 0, 0), (1, 1, 0, 0)}


def test_tear_cannot_be_swallowed_by_the_applet() -> None:
    card, app = _card()
    card.arm_tear(1)
    with pytest.raises(CardTornError):
        card.transmit(bytes.fromhex("801C0000"))
    card.power_on()
    assert app.values() == (0, 0, 0, 0)


def test_applet_bugs_answer_6f00_and_roll_back() -> None:
    card, app = _card()
    assert sw(card, "80 16 0000") == SW.NO_PRECISE_DIAGNOSIS
    assert isinstance(card.last_error, TransactionError)
    assert sw(card, "80 18 0000") == SW.NO_PRECISE_DIAGNOSIS
    assert isinstance(card.last_error, ValueError)
    assert sw(card, "80 1A 0000") == SW.NO_PRECISE_DIAGNOSIS  # left a transaction open
    assert isinstance(card.last_error, TransactionError) and not card.store.in_transaction
    assert sw(card, "80 1E 0000") == SW.NO_PRECISE_DIAGNOSIS
    assert app.values() == (0, 0, 0, 0)
    assert card.powered and sw(card, "80 10 0000") == SW.OK


def test_strict_mode_reraises_for_applet_unit_tests() -> None:
    card, _ = _card()
    card.strict = True
    with pytest.raises(ValueError):
        card.transmit(bytes.fromhex("80180000"))


def test_tear_during_default_selection_at_power_on() -> None:
    class Writer(CounterApplet):
        def select(self, ctx):  # type: ignore[no-untyped-def]
            with self.store.transaction():
                self.store.set("a", self.store.get("a") + 1)
            return super().select(ctx)

    app = Writer()
    card = SimulatedCard(applets=[app], default_aid=COUNTER_AID)
    card.arm_tear(1)
    with pytest.raises(CardTornError):
        card.power_on()
    assert not card.powered and app.values() == (0, 0, 0, 0)
    card.power_on()
    assert app.values() == (1, 0, 0, 0)


@pytest.mark.parametrize("setup, cmd, read", [
    ("00 20 0001 04 31323334", "00 D6 8100 04 41424344", "00 B0 8100 00"),
    ("00 A4 000C 02 3F00", "00 E2 00 20 02 0102", "00 B2 01 24 00"),
    ("00 20 0001 04 31323334", "00 DC 01 1C 04 5A5A5A5A", "00 B2 01 1C 00"),
])
def test_file_writes_are_atomic(setup: str, cmd: str, read: str) -> None:
    from .conftest import build_fs_card

    def fresh() -> SimulatedCard:
        card = build_fs_card()
        assert sw(card, setup) == SW.OK
        return card

    probe = fresh()
    old = send(probe, read)
    before = probe.store.writes
    assert sw(probe, cmd) == SW.OK
    n = probe.store.writes - before
    new = send(probe, read)
    assert n >= 2 and old != new
    for k in range(1, n + 1):
        card = fresh()
        card.arm_tear(k)
        with pytest.raises(CardTornError):
            card.transmit(bytes.fromhex(cmd.replace(" ", "")))
        card.power_on()
        assert sw(card, setup) == SW.OK
        assert send(card, read) == old
