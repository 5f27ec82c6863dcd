"""Random and malformed APDUs, and random sequences of loads, purchases and tears.

* Any command, in any phase of a transaction: a status word the card means (never 6F00 — the card
  runs ``strict``, so an exception fails the example), and no committed change unless the command
  completed a transaction (CREDIT / DEBIT answered 9000) or was refused for a wrong MAC (9302).
* Any sequence of loads, purchases, compound purchases and tears: balance == initial + completed
  loads − completed purchases, counters count the completed ones, and the log agrees.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from applets.runtime import SimulatedCard
from applets.transit import LogRecord
from cardkit.crypto.purse import TransactionType
from cardkit.errors import CardTornError

from .kit import Terminal, apdu, applet, init_apdu, make_card, select, send

_INS = [0x50, 0x52, 0x54, 0x5A, 0x5C, 0xDC, 0xB0, 0xB2, 0xA4, 0xD6, 0xE2, 0x20, 0xC0, 0x70]
_WRITING = {(0x52, 0x9000), (0x54, 0x9000), (0x52, 0x9302), (0x54, 0x9302)}
_NEVER = {0x6F00}


def _selected(card: SimulatedCard) -> None:
    select(card)


def _load_pending(card: SimulatedCard) -> None:
    select(card)
    send(card, init_apdu(0x00, 100))


def _purchase_pending(card: SimulatedCard) -> None:
    select(card)
    send(card, init_apdu(0x01, 100))


def _capp_pending(card: SimulatedCard) -> None:
    select(card)
    send(card, init_apdu(0x03, 100))
    send(card, apdu(0x80, 0xDC, 0x01, 0xB8, b"\x01" + bytes(47)))


PHASES: dict[str, Callable[[SimulatedCard], None]] = {
    "selected": _selected, "load": _load_pending, "purchase": _purchase_pending, "capp": _capp_pending}

structured = st.builds(
    lambda cla, ins, p1, p2, data, le: bytes((cla, ins, p1, p2)) + (bytes((len(data),)) + data if data else b"")
    + (bytes((le,)) if le is not None else b""),
    st.sampled_from([0x00, 0x80, 0x84, 0x04, 0x81, 0x90]) | st.integers(0, 255),
    st.sampled_from(_INS) | st.integers(0, 255),
    st.sampled_from([0x00, 0x01, 0x02, 0x03, 0x95, 0x96]) | st.integers(0, 255),
    st.sampled_from([0x00, 0x02, 0x06, 0x09, 0xB8, 0xBC, 0xC4]) | st.integers(0, 255),
    st.binary(max_size=20) | st.sampled_from([bytes(11), bytes(15), bytes(2), b"\x01" + bytes(47)]),
    st.none() | st.integers(0, 255),
)
raw = st.binary(max_size=40)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(phase=st.sampled_from(sorted(PHASES)), cmds=st.lists(structured | raw, min_size=1, max_size=4))
def test_random_apdus(phase: str, cmds: list[bytes]) -> None:
    card = make_card()
    PHASES[phase](card)
    for cmd in cmds:
        before = card.store.committed()
        r = card.transmit(cmd)
        sw = int.from_bytes(r[-2:], "big")
        assert len(r) >= 2 and sw not in _NEVER and 0x61 <= r[-2] <= 0x9F, r.hex()
        if card.store.committed() != before:
            assert len(cmd) > 1 and (cmd[1], sw) in _WRITING, (cmd.hex(), hex(sw))


_STEP = st.tuples(st.sampled_from(["load", "purchase", "capp", "bad-mac"]), st.integers(0, 3_000),
                  st.none() | st.integers(1, 6))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(_STEP, min_size=1, max_size=12))
def test_money_is_conserved_through_tears(steps: list[tuple[str, int, int | None]]) -> None:
    card = make_card()
    initial = applet(card).state()
    loads = purchases = 0
    done_loads = done_purchases = 0
    expected_log: list[tuple[int, int]] = []  # (type, amount), newest first
    for kind, amount, tear in steps:
        select(card)
        t = Terminal(card)
        if tear is not None:
            card.arm_tear(tear)
        try:
            if kind == "load":
                out = t.load(amount)
            elif kind == "bad-mac":
                out = t.purchase(amount, wrong_mac=True)
            else:
                out = t.purchase(amount, capp=b"\x01" + bytes([amount & 0xFF]) * 47 if kind == "capp" else None)
        except CardTornError:
            card.power_on()
            continue
        finally:
            card.disarm_tear()
        if out.sw != 0x9000:
            continue
        if kind == "load":
            loads += amount
            done_loads += 1
            expected_log.insert(0, (TransactionType.EP_LOAD, amount))
        else:
            purchases += amount
            done_purchases += 1
            expected_log.insert(0, (TransactionType.CAPP_PURCHASE if kind == "capp" else TransactionType.EP_PURCHASE,
                                    amount))
    state = applet(card).state()
    assert state.balance == initial.balance + loads - purchases
    assert state.balance >= 0
    assert state.online_counter == initial.online_counter + done_loads
    assert state.offline_counter == initial.offline_counter + done_purchases
    log: tuple[LogRecord, ...] = applet(card).log_records()
    assert [(r.txn_type, r.amount) for r in log] == expected_log[:10]
