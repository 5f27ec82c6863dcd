"""Terminal risk management (Book 3 §10.6): floor limit, random selection maths, velocity."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from cardkit.emv import TerminalConfig, Transaction, Tsi, Tvr
from cardkit.emv.risk import manage_risk, random_number, randomly_selected, target_percent

from .cards import FakeEmvCard, channel_for

CFG = TerminalConfig(floor_limit=10_000, random_threshold=2_000, random_target_percent=20,
                     random_max_target_percent=60)


def fixed(*values: int) -> Callable[[int], bytes]:
    """An rng that returns the given bytes in turn."""
    it = itertools.cycle(values)
    return lambda n: bytes(next(it) for _ in range(n))


def test_random_number_is_1_to_99_and_rejects_the_biased_tail() -> None:
    assert random_number(fixed(0)) == 1
    assert random_number(fixed(98)) == 99
    assert random_number(fixed(99)) == 1
    assert random_number(fixed(197)) == 99
    assert random_number(fixed(198, 250, 5)) == 6  # 198 and 250 are redrawn


@pytest.mark.parametrize(
    ("amount", "expected"),
    [(0, 20.0), (1_999, 20.0), (2_000, 20.0), (6_000, 40.0), (9_999, 59.995), (10_000, None), (50_000, None)],
)
def test_target_percent_rises_linearly_between_threshold_and_floor(amount: int, expected: float | None) -> None:
    got = target_percent(amount, CFG)
    assert got == pytest.approx(expected) if expected is not None else got is None


def test_random_selection_compares_with_the_target() -> None:
    # amount 6000: target 40%; random 40 (byte 39) is selected, 41 (byte 40) is not
    assert randomly_selected(6_000, CFG, fixed(39))
    assert not randomly_selected(6_000, CFG, fixed(40))
    assert not randomly_selected(500, TerminalConfig(floor_limit=10_000), fixed(0))  # 0 % never selects


def test_random_selection_frequency_matches_the_target() -> None:
    draws = iter(range(198 * 10))
    rng = lambda n: bytes([next(draws) % 198])  # noqa: E731  (every byte value equally often)
    hits = sum(randomly_selected(1_000, CFG, rng) for _ in range(1980))
    assert hits == 1980 * 20 // 99  # Book 3: random 1..99 <= target, so 20 of 99 values


def _txn(amount: int, aip: str = "0800") -> Transaction:
    txn = Transaction(amount=amount)
    txn.aip = bytes.fromhex(aip)
    txn.card[b"\x5a"] = bytes.fromhex("6212345678901234567F")
    return txn


def test_floor_limit_and_tsi() -> None:
    card = FakeEmvCard()
    txn = _txn(10_000)
    manage_risk(channel_for(card.card), txn, CFG, fixed(0))
    assert Tvr.EXCEEDS_FLOOR_LIMIT in txn.tvr and Tvr.RANDOMLY_SELECTED_ONLINE not in txn.tvr
    assert Tsi.TERMINAL_RISK_MANAGEMENT_PERFORMED in txn.tsi


def test_not_performed_when_the_aip_says_so() -> None:
    txn = _txn(10_000, aip="0000")
    manage_risk(channel_for(FakeEmvCard().card), txn, CFG, fixed(0))
    assert txn.tvr == Tvr(0) and txn.tsi == Tsi(0)


def test_exception_file() -> None:
    cfg = TerminalConfig(floor_limit=10_000, exception_file=frozenset({"6212345678901234567"}))
    txn = _txn(100)
    manage_risk(channel_for(FakeEmvCard().card), txn, cfg, fixed(98))
    assert txn.tvr == Tvr.CARD_ON_EXCEPTION_FILE


@pytest.mark.parametrize(
    ("atc", "last_online", "expected"),
    [(5, 3, Tvr(0)),  # 2 consecutive offline: within 2/4
     (6, 3, Tvr.LOWER_OFFLINE_LIMIT_EXCEEDED),
     (8, 3, Tvr.LOWER_OFFLINE_LIMIT_EXCEEDED | Tvr.UPPER_OFFLINE_LIMIT_EXCEEDED),
     (2, 0, Tvr.NEW_CARD),
     (5, None, Tvr.LOWER_OFFLINE_LIMIT_EXCEEDED | Tvr.UPPER_OFFLINE_LIMIT_EXCEEDED)],  # 9F13 not given
)
def test_velocity_checking(atc: int, last_online: int | None, expected: Tvr) -> None:
    card = FakeEmvCard(atc=atc, last_online_atc=last_online)
    txn = _txn(100)
    txn.card[b"\x9f\x14"] = b"\x02"
    txn.card[b"\x9f\x23"] = b"\x04"
    manage_risk(channel_for(card.card), txn, CFG, fixed(98))
    assert txn.tvr == expected
    assert [c.p2 for c in card.card.sent(0xCA)] == [0x36, 0x13]


def test_velocity_skipped_without_both_limits() -> None:
    card = FakeEmvCard()
    txn = _txn(100)
    txn.card[b"\x9f\x14"] = b"\x02"
    manage_risk(channel_for(card.card), txn, CFG, fixed(98))
    assert card.card.sent(0xCA) == []
