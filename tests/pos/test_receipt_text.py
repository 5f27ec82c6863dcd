"""Plain-text receipts: widths, alignment, wrapping and what each kind of slip says."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pos_sim.receipt import WIDTHS, Copy, Cvm, Receipt, display_width, render_text
from pos_sim.receipt.layout import wrap
from tests.pos.receipt_kit import names, receipts, sample


def columns(line: str) -> int:
    """Display columns as a terminal counts them (East Asian Wide and Fullwidth are 2)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


@settings(max_examples=150)
@given(receipts(), st.sampled_from(WIDTHS))
def test_no_line_is_wider_than_the_paper(receipt: Receipt, width: int) -> None:
    text = render_text(receipt, width)
    assert text.endswith("\n")
    for line in text.splitlines():
        assert columns(line) <= display_width(line) <= width, line


@settings(max_examples=100)
@given(names, names, st.sampled_from(WIDTHS), st.sampled_from(Copy))
def test_merchant_names_are_all_there(zh: str, en: str, width: int, copy: Copy) -> None:
    text = render_text(sample(merchant_name_zh=zh, merchant_name_en=en, copy=copy), width)
    squashed = "".join(text.split())
    assert "".join(zh.split()) in squashed and "".join(en.split()) in squashed
    assert copy.value in text


@given(names, st.integers(min_value=2, max_value=48))
def test_wrap_keeps_every_character_and_the_width(text: str, width: int) -> None:
    lines = wrap(text, width)
    assert all(display_width(line) <= width for line in lines)
    assert "".join("".join(lines).split()) == "".join(text.split())


def test_wrap_breaks_between_words() -> None:
    assert wrap("insufficient funds in the account", 14) == ["insufficient", "funds in the", "account"]
    assert wrap("北京市民卡示范商户", 8) == ["北京市民", "卡示范商", "户"]
    assert wrap("A" * 10, 4) == ["AAAA", "AAAA", "AA"]


@pytest.mark.parametrize("width", WIDTHS)
def test_label_value_lines_are_right_aligned(width: int) -> None:
    lines = render_text(sample(), width).splitlines()
    trace = next(line for line in lines if line.startswith("凭证号 TRACE NO."))
    assert trace.endswith("000123") and display_width(trace) == width
    assert lines[0].strip() == "签购单 SALES SLIP"
    assert any(line.endswith("CNY 12.50") and line.startswith("金额 AMOUNT") for line in lines)


def test_sample_customer_copy_32_columns() -> None:
    text = render_text(sample(), 32)
    assert text.splitlines()[:4] == [
        "       签购单 SALES SLIP",
        "   持卡人存根 CARDHOLDER COPY",
        "-" * 32,
        "商户名称 MERCHANT NAME",
    ]
    for expected in ("             621234*********4567", "余额 BALANCE           CNY 87.50",
                     "TC              1A2B3C4D5E6F7081", "PIN verified (offline)", "输入方式 ENTRY         插卡 CHIP"):
        assert expected in text.splitlines()
    assert "REPRINT" not in text and "DECLINED" not in text and "SIGNATURE" not in text


def test_merchant_copy_signature_and_acknowledgement() -> None:
    text = render_text(sample(copy=Copy.MERCHANT, cvm=Cvm.SIGNATURE, reprint=True), 32)
    assert "商户存根 MERCHANT COPY" in text and "重打印 REPRINT" in text
    assert "持卡人签名 CARDHOLDER SIGNATURE" in text and "_" * 32 in text
    assert "本人确认以上交易，同意将其记入本卡账户" in "".join(text.split())
    assert "本人确认" not in render_text(sample(copy=Copy.CUSTOMER), 32)


def test_declined_says_so_clearly() -> None:
    r = sample(approved=False, decline_reason="insufficient funds", response_code="51", auth_code=None,
               cryptogram_type="AAC", cvm=Cvm.SIGNATURE)
    lines = [line.strip() for line in render_text(r, 42).splitlines()]
    assert "交易失败" in lines and "DECLINED — insufficient funds" in lines
    assert "SIGNATURE" not in render_text(r, 42) and "AUTH NO." not in render_text(r, 42)


def test_optional_fields_are_left_out() -> None:
    text = render_text(sample(rrn=None, auth_code=None, balance=None, cryptogram="", cryptogram_type="",
                              tvr="", tsi="", atc="", merchant_name_en=""), 32)
    for absent in ("参考号 REF NO.", "授权码 AUTH NO.", "余额 BALANCE", "TVR ", "TSI ", "ATC "):
        assert not any(line.startswith(absent) for line in text.splitlines()), absent


def test_balance_inquiry_shows_the_balance_not_an_amount() -> None:
    text = render_text(sample(kind="balance", amount=__import__("decimal").Decimal("0")), 32)
    assert "余额查询 BALANCE" in text and "AMOUNT" not in text and "CNY 87.50" in text


def test_contactless_entry_mode() -> None:
    assert "挥卡 CONTACTLESS" in render_text(sample(entry_mode="contactless"), 32)


def test_unknown_width_is_refused() -> None:
    with pytest.raises(ValueError, match="32, 42, 48"):
        render_text(sample(), 40)
