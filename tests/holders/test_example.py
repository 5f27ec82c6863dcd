"""Synthetic holders: deterministic, valid, plausible, and identical after a trip through CSV."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cardkit.issuer.eid_data import citizen_id_check_digit
from cardkit.issuer.holder import (
    APPLICATIONS,
    BANK_PRODUCTS,
    BankSection,
    HolderProfile,
    IdSection,
    SocialSection,
    TransitSection,
    luhn_valid,
)
from cardkit.issuer.holder_csv import read_holders, write_holders
from cardkit.issuer.holder_example import REGIONS, example_holders

_REGION_CODES = {code for code, _, _ in REGIONS}


def round_trip(profiles: list[HolderProfile], tmp_path: Path, *, include_secrets: bool = False) -> list[HolderProfile]:
    path = tmp_path / "holders.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        write_holders(profiles, f, include_secrets=include_secrets)
    return list(read_holders(path))


@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_500_holders_survive_csv(tmp_path: Path, seed: int) -> None:
    profiles = list(example_holders(500, seed=seed))
    assert round_trip(profiles, tmp_path) == profiles


def test_stdout_form_reads_back(tmp_path: Path) -> None:
    """What ``cardkit issue-batch --example N > holders.csv`` writes: write_holders to a text stream."""
    buf = io.StringIO()
    assert write_holders(example_holders(50, seed=7), buf) == 50
    (tmp_path / "h.csv").write_text(buf.getvalue(), encoding="utf-8")
    assert list(read_holders(tmp_path / "h.csv")) == list(example_holders(50, seed=7))


def test_deterministic_per_seed_and_lazy() -> None:
    assert list(example_holders(20, seed=3)) == list(example_holders(20, seed=3))
    assert list(example_holders(20, seed=3)) != list(example_holders(20, seed=4))
    assert list(example_holders(5)) == list(example_holders(100))[:5]  # a prefix does not depend on n
    assert list(example_holders(0)) == []
    gen = example_holders(10**9)
    assert next(gen).holder_id == "H000001"
    with pytest.raises(ValueError):
        list(example_holders(-1))


def test_holders_are_plausible_and_distinct() -> None:
    profiles = list(example_holders(2000, seed=11))
    assert [p.holder_id for p in profiles] == [f"H{i:06d}" for i in range(1, 2001)]
    assert len({p.citizen_id for p in profiles}) == 2000
    for p in profiles:
        cid = p.citizen_id
        assert cid[:6] in _REGION_CODES and cid[6:14] == f"{p.birth_date:%Y%m%d}"
        assert cid[17] == citizen_id_check_digit(cid[:17])
        assert date(1940, 1, 1) <= p.birth_date <= date(2008, 12, 31)
        assert all("\u4e00" <= c <= "\u9fff" for c in p.name) and 2 <= len(p.name) <= 4
        assert p.photo is None and p.id == IdSection()  # the issuer allocates and decides
        assert p.bank is not None and p.bank.pan is None and p.bank.pin is None
        assert p.transit is None or p.transit.serial is None
        if p.social is not None:
            assert p.social.region == cid[:6] and p.social.pin is None and p.social.card_number is None
            assert p.social.medical_balance % 100 == 0
        if p.transit is not None:
            assert p.transit.card_type == (1 if p.birth_date.year >= 2000 else 2 if p.birth_date.year < 1960 else 0)
    apps = Counter(p.applications for p in profiles)
    assert apps[APPLICATIONS] > 1000 and apps[("bank", "id")] > 0
    assert 0.7 < sum(p.transit is not None for p in profiles) / 2000 < 0.9
    assert 0.78 < sum(p.social is not None for p in profiles) / 2000 < 0.92
    products = Counter(p.bank.products for p in profiles if p.bank)
    assert products[("debit",)] > 1400 and products[("debit", "credit")] > 300
    assert Counter(p.sex for p in profiles).keys() == {"M", "F"}


# --- any valid profile, not only the generator's, survives the CSV -------------------------------------------

_LATIN = st.from_regex(r"[A-Z]{1,8}(?:[ -][A-Z]{1,6})?", fullmatch=True)
_TEXT = st.text(st.characters(codec="gb18030", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), min_size=1,
                max_size=8)
_AMOUNT = st.integers(0, 0x7FFFFFFF)


def _luhn(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


@st.composite
def profiles(draw: st.DrawFn) -> HolderProfile:
    birth = draw(st.dates(date(1900, 1, 1), date(2020, 12, 31)))
    sex = draw(st.sampled_from("MFX"))
    seq = draw(st.integers(0, 999))
    if sex != "X":
        seq = seq // 2 * 2 + (sex == "M")
    first17 = f"{draw(st.sampled_from(sorted(_REGION_CODES)))}{birth:%Y%m%d}{seq:03d}"
    apps = draw(st.lists(st.sampled_from(APPLICATIONS), min_size=1, max_size=4, unique=True))
    opt = st.none
    max_balance = draw(st.integers(1, 0x7FFFFFFF))
    sections = {
        "id": IdSection(draw(opt() | st.from_regex(r"[A-Z0-9]{1,9}", fullmatch=True)),
                        draw(opt() | st.dates(date(2021, 1, 1)))),
        "bank": BankSection(tuple(draw(st.permutations(BANK_PRODUCTS)))[:draw(st.integers(1, 2))],
                            draw(opt() | st.from_regex(r"62[0-9]{10,16}", fullmatch=True).map(_luhn)),
                            draw(opt() | st.from_regex(r"[0-9]{4,12}", fullmatch=True)), draw(_AMOUNT),
                            draw(opt() | st.dates())),
        "transit": TransitSection(draw(st.integers(0, max_balance)), max_balance, draw(st.integers(0, 255)),
                                  draw(opt() | st.from_regex(r"[0-9]{20}", fullmatch=True))),
        "social": SocialSection(draw(opt() | st.from_regex(r"[0-9]{6}", fullmatch=True)),
                                draw(st.from_regex(r"[0-9]{2}", fullmatch=True)), draw(_AMOUNT),
                                draw(opt() | st.from_regex(r"[0-9]{16}", fullmatch=True)),
                                draw(opt() | st.from_regex(r"[0-9]{6}", fullmatch=True))),
    }
    address = draw(st.just("") | _TEXT.map(lambda t: t + ', "x"'))
    return HolderProfile(
        draw(st.from_regex(r"[A-Za-z0-9_-]{1,32}", fullmatch=True)), draw(_LATIN), draw(_LATIN),
        draw(_TEXT.filter(lambda t: len(t.encode("gb18030")) <= 20)), sex, birth,
        first17 + citizen_id_check_digit(first17), address=address, applications=tuple(apps),
        **{app: sections[app] for app in apps})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(st.lists(profiles(), max_size=5, unique_by=lambda p: p.holder_id))
def test_any_profiles_csv_round_trip_is_identity(tmp_path: Path, batch: list[HolderProfile]) -> None:
    assert round_trip(batch, tmp_path, include_secrets=True) == batch
