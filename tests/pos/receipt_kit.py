"""A sample receipt and hypothesis strategies shared by the receipt tests."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from pos_sim.receipt import Copy, Cvm, Receipt

PAN_MASKED = "621234*********4567"


def sample(**changes: Any) -> Receipt:
    values: dict[str, Any] = dict(
        merchant_name_zh="北京市民卡示范商户", merchant_name_en="CITIZEN CARD DEMO SHOP", mid="898110048160001",
        tid="10020001", batch=1, trace="000123", when=datetime(2024, 5, 1, 12, 34, 56), pan_masked=PAN_MASKED,
        label="UnionPay Debit", aid="A000000333010101", kind="sale", amount=Decimal("12.50"), approved=True,
        copy=Copy.CUSTOMER, rrn="412345678901", auth_code="123456", cryptogram_type="TC",
        cryptogram="1A2B3C4D5E6F7081", tvr="0000008000", tsi="E800", atc="0001", cvm=Cvm.PIN_OFFLINE,
        balance=Decimal("87.50"),
    )
    return Receipt(**(values | changes))


# Names mixing CJK, ASCII, full-width punctuation and accented Latin, as merchants write them.
_ALPHABET = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5),
    st.sampled_from(list("（）、。，·—éüñ　")),
)
names = st.text(_ALPHABET, min_size=1, max_size=60).filter(lambda s: s.strip() != "")
amounts = st.decimals(min_value=0, max_value=Decimal("9999999999.99"), places=2, allow_nan=False,
                      allow_infinity=False)


@st.composite
def receipts(draw: st.DrawFn) -> Receipt:
    approved = draw(st.booleans())
    return sample(
        merchant_name_zh=draw(names), merchant_name_en=draw(st.one_of(st.just(""), names)),
        kind=draw(st.sampled_from(["sale", "refund", "void", "preauth", "completion", "balance", "ec_load"])),
        amount=draw(amounts), copy=draw(st.sampled_from(Copy)), cvm=draw(st.sampled_from(Cvm)),
        reprint=draw(st.booleans()), approved=approved, label=draw(names),
        decline_reason=None if approved else draw(names), response_code=None if approved else "51",
        balance=draw(st.one_of(st.none(), amounts)), entry_mode=draw(st.sampled_from(["chip", "contactless"])),
        rrn=draw(st.one_of(st.none(), st.text("0123456789", min_size=12, max_size=12))),
    )
