"""The receipt model refuses what must not print, and builds from journal entries."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardkit.emv.outcome import OutcomeKind, TransactionOutcome
from cardkit.emv.tvr import CvmResult, CvmResults, Tsi, Tvr
from cardkit.errors import CardkitError
from pos_sim.journal import KINDS, Journal
from pos_sim.receipt import (
    KIND_LABELS,
    Copy,
    Cvm,
    Merchant,
    ReceiptError,
    format_amount,
    outcome_summary,
    receipt_from_entry,
    render_text,
)
from tests.pos.receipt_kit import sample


@given(st.decimals(min_value=Decimal("-9999999999.99"), max_value=Decimal("9999999999.99"), places=2,
                   allow_nan=False, allow_infinity=False))
def test_amounts_print_with_exactly_two_decimals(amount: Decimal) -> None:
    text = format_amount(amount)
    whole, _, cents = text.lstrip("-").partition(".")
    assert len(cents) == 2 and whole.isdigit() and Decimal(text) == amount


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**6, max_value=10**6))
def test_no_stray_cent_is_ever_printed(amount: Decimal) -> None:
    """Exact amounts print exactly; anything finer than a cent is refused, never rounded."""
    if amount != amount.quantize(Decimal("0.01")):
        with pytest.raises(ReceiptError, match="fractions of a cent"):
            format_amount(amount)
    else:
        assert Decimal(format_amount(amount)) == amount


@pytest.mark.parametrize(("value", "expected"), [
    (Decimal("12.5"), "12.50"), (Decimal("1E+3"), "1000.00"), (Decimal("0"), "0.00"), (Decimal("-0.00"), "0.00"),
    (Decimal("0.10"), "0.10"), (Decimal("9999999999.99"), "9999999999.99"),
])
def test_format_amount(value: Decimal, expected: str) -> None:
    assert format_amount(value) == expected


@pytest.mark.parametrize(("field", "value", "match"), [
    ("amount", 12.5, "Decimal"), ("amount", 1250, "Decimal"), ("amount", Decimal("NaN"), "finite"),
    ("amount", Decimal("12.505"), "fractions of a cent"), ("amount", Decimal("-1.00"), "negative"),
    ("amount", Decimal("10000000000.00"), "more than"), ("balance", 3.0, "Decimal"),
    ("pan_masked", "6212345678901234567", "first 6 and last 4"), ("pan_masked", "621234567890***4567", "first 6"),
    ("pan_masked", "621234*****67890123", "first 6"), ("kind", "refudn", "unknown transaction kind"),
    ("trace", "123", "6 digits"), ("batch", -1, "batch"), ("entry_mode", "swipe", "entry_mode"),
    ("cryptogram_type", "XYZ", "cryptogram_type"), ("cryptogram", "XYZ", "hex"), ("tvr", "00", "hex digits"),
    ("merchant_name_zh", "北京\n商户", "cannot print"), ("label", "A\x1b@", "cannot print"),
    ("merchant_name_zh", " ", "empty"), ("mid", 123, "text"),
])
def test_model_refuses(field: str, value: Any, match: str) -> None:
    with pytest.raises(ReceiptError, match=match):
        sample(**{field: value})


def test_declined_needs_a_reason_and_errors_are_cardkit_errors() -> None:
    with pytest.raises(CardkitError, match="decline_reason"):
        sample(approved=False)
    with pytest.raises(ReceiptError, match="cryptogram_type"):
        sample(cryptogram_type="")


def test_text_is_normalised_and_hex_upper_cased() -> None:
    r = sample(merchant_name_en="Cafe\u0301", aid="a000000333010101", tvr="00000080ff")
    assert r.merchant_name_en == "Café" and r.aid == "A000000333010101" and r.tvr == "00000080FF"


def test_kinds_are_shown_in_chinese_and_english() -> None:
    assert set(KIND_LABELS) == set(KINDS)
    assert KIND_LABELS["sale"] == "消费 SALE" and KIND_LABELS["completion"] == "预授权完成 COMPLETION"
    for kind, label in KIND_LABELS.items():
        assert label in render_text(sample(kind=kind), 48)


def test_refunds_and_voids_print_negative() -> None:
    assert "CNY -12.50" in render_text(sample(kind="refund"))
    assert "CNY -12.50" in render_text(sample(kind="void"))
    assert "CNY 12.50" in render_text(sample(kind="sale")) and "-12.50" not in render_text(sample())


def test_replace_validates() -> None:
    assert sample().replace(copy=Copy.MERCHANT).copy is Copy.MERCHANT
    with pytest.raises(ReceiptError):
        sample().replace(pan_masked="6212345678901234567")


# -- from the journal ---------------------------------------------------------------------------

MERCHANT = Merchant("北京市民卡示范商户", "CITIZEN CARD DEMO SHOP", "898110048160001", "10020001")


def _outcome(kind: OutcomeKind = OutcomeKind.APPROVED_ONLINE, **kw: Any) -> TransactionOutcome:
    data = {0x5A: bytes.fromhex("6212345678901234567F"), 0x9F26: bytes.fromhex("1A2B3C4D5E6F7081"),
            0x9F27: b"\x40", 0x9F36: b"\x00\x2a", 0x9F02: bytes.fromhex("000000001250")}
    return TransactionOutcome(kind=kind, reason=kw.pop("reason", "approved"), tvr=Tvr.EXCEEDS_FLOOR_LIMIT,
                              tsi=Tsi.ODA_PERFORMED | Tsi.CARD_RISK_MANAGEMENT_PERFORMED,
                              aid=bytes.fromhex("A000000333010101"), label="UnionPay Debit",
                              data=data | kw.pop("data", {}), **kw)


@pytest.mark.parametrize(("kw", "cvm"), [
    ({"online_pin": True, "cvm_results": CvmResults(0x42, 0x03, CvmResult.UNKNOWN)}, Cvm.PIN_ONLINE),
    ({"cvm_results": CvmResults(0x41, 0x03, CvmResult.SUCCESSFUL)}, Cvm.PIN_OFFLINE),
    ({"cvm_results": CvmResults(0x5E, 0x03, CvmResult.UNKNOWN), "signature_required": True}, Cvm.SIGNATURE),
    ({}, Cvm.NO_CVM),
])
def test_outcome_summary_cvm(kw: dict[str, Any], cvm: Cvm) -> None:
    assert outcome_summary(_outcome(**kw))["cvm"] == cvm.name


def test_outcome_summary_has_what_the_receipt_needs_and_no_pan() -> None:
    s = outcome_summary(_outcome(contactless=True, data={0x9F79: bytes.fromhex("000000008750")}))
    assert s == {"outcome": "approved-online", "tvr": "0000008000", "tsi": "A000", "cvm": "NO_CVM",
                 "entry_mode": "contactless", "label": "UnionPay Debit", "aid": "A000000333010101",
                 "cryptogram_type": "TC", "cryptogram": "1A2B3C4D5E6F7081", "atc": "002A", "balance": 8750}
    declined = outcome_summary(_outcome(OutcomeKind.DECLINED_OFFLINE, reason="card declined (AAC)",
                                        data={0x9F27: b"\x00"}), balance=100)
    assert declined["cryptogram_type"] == "AAC" and declined["decline_reason"] == "card declined (AAC)"
    assert declined["balance"] == 100 and "6212345678901234567" not in str(declined)


def test_receipt_from_entries(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.db") as j:
        e = j.begin(kind="sale", amount=1250, stan=j.next_stan(), request={}, pan_masked="621234*********4567",
                    scheme="UnionPay", aid="A000000333010101", label="UnionPay Debit")
        with pytest.raises(ReceiptError, match="pending: there is no receipt"):
            receipt_from_entry(e, MERCHANT, copy=Copy.MERCHANT)
        e = j.approve(e.id, response={"39": "00"}, auth_code="123456", response_code="00", rrn="412345678901",
                      outcome=outcome_summary(_outcome(cvm_results=CvmResults(0x41, 0x03, CvmResult.SUCCESSFUL))))
        when = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
        r = receipt_from_entry(e, MERCHANT, copy=Copy.CUSTOMER, reprint=True, when=when)
        assert (r.amount, r.currency, r.trace, r.auth_code, r.cvm, r.atc, r.approved, r.reprint, r.when) == (
            Decimal("12.50"), "CNY", e.stan, "123456", Cvm.PIN_OFFLINE, "002A", True, True, when)
        d = j.begin(kind="sale", amount=99, stan=j.next_stan(), request={}, pan_masked="621234*********4567",
                    scheme="UnionPay", aid="A000000333010101", label="UnionPay Debit")
        d = j.decline(d.id, response={"39": "51"}, response_code="51", outcome=None, reason="insufficient funds")
        text = render_text(receipt_from_entry(d, MERCHANT, copy=Copy.CUSTOMER), 48)
        assert "DECLINED — insufficient funds" in text and "交易失败" in text and "51" in text
