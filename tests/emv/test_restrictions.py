"""Processing restrictions (Book 3 §10.4): version, usage control, dates."""

from __future__ import annotations

from datetime import date

import pytest

from cardkit.emv import TerminalConfig, Tvr
from cardkit.emv.restrictions import check_restrictions, emv_date, usage_allowed

TODAY = date(2025, 6, 15)
CFG = TerminalConfig()


def check(card: dict[bytes, bytes], *, ttype: int = 0x00, config: TerminalConfig = CFG) -> Tvr:
    return check_restrictions(card, config, today=TODAY, transaction_type=ttype)


def test_nothing_to_check_sets_nothing() -> None:
    assert check({}) == Tvr(0)


def test_application_version_mismatch() -> None:
    assert check({b"\x9f\x08": bytes.fromhex("0030")}) == Tvr(0)
    assert check({b"\x9f\x08": bytes.fromhex("0020")}) == Tvr.DIFFERENT_APP_VERSIONS


@pytest.mark.parametrize(
    ("expiry", "effective", "expected"),
    [("250615", "250615", Tvr(0)),  # both on the boundary day: valid
     ("250614", "200101", Tvr.EXPIRED_APPLICATION),
     ("301231", "250616", Tvr.APP_NOT_YET_EFFECTIVE),
     ("991231", "490101", Tvr.EXPIRED_APPLICATION | Tvr.APP_NOT_YET_EFFECTIVE)],  # 99 = 1999, 49 = 2049
)
def test_dates(expiry: str, effective: str, expected: Tvr) -> None:
    card = {b"\x5f\x24": bytes.fromhex(expiry), b"\x5f\x25": bytes.fromhex(effective)}
    assert check(card) == expected


def test_emv_date_century_window_and_garbage() -> None:
    assert emv_date(bytes.fromhex("491231")) == date(2049, 12, 31)
    assert emv_date(bytes.fromhex("500101")) == date(1950, 1, 1)
    with pytest.raises(ValueError):
        emv_date(bytes.fromhex("251332"))
    assert check({b"\x5f\x24": bytes.fromhex("AABBCC")}) == Tvr.EXPIRED_APPLICATION


DOMESTIC = bytes.fromhex("0156")
FOREIGN = bytes.fromhex("0840")


@pytest.mark.parametrize(
    ("auc", "country", "ttype", "allowed"),
    [("FF00", DOMESTIC, 0x00, True),
     ("2B00", DOMESTIC, 0x00, True),  # domestic goods + services, not ATM
     ("2B00", FOREIGN, 0x00, False),  # ... but international is not allowed
     ("1500", FOREIGN, 0x00, True),  # international goods + services
     ("0100", DOMESTIC, 0x00, False),  # only "valid at terminals other than ATMs"
     ("FE00", DOMESTIC, 0x00, False),  # not valid at non-ATM terminals
     ("8100", DOMESTIC, 0x01, True),  # domestic cash
     ("8100", FOREIGN, 0x01, False),
     ("2980", DOMESTIC, 0x09, True),  # domestic cashback
     ("2940", DOMESTIC, 0x09, False),
     ("0100", None, 0x00, True)],  # no issuer country: only the ATM test applies
)
def test_usage_control(auc: str, country: bytes | None, ttype: int, allowed: bool) -> None:
    card = {b"\x9f\x07": bytes.fromhex(auc)}
    if country is not None:
        card[b"\x5f\x28"] = country
    assert (check(card, ttype=ttype) == Tvr(0)) is allowed


def test_atm_needs_the_atm_bit() -> None:
    atm = TerminalConfig(terminal_type=0x14, additional_capabilities=bytes.fromhex("8000000000"))
    assert atm.is_atm
    assert usage_allowed(bytes.fromhex("C200"), domestic=True, transaction_type=0x01, config=atm)
    assert not usage_allowed(bytes.fromhex("C100"), domestic=True, transaction_type=0x01, config=atm)
