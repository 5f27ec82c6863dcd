"""The outcome value: field 55, masked PAN, amounts, and no secrets."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cardkit import tlv
from cardkit.crypto.pin import encode_pin_block
from cardkit.emv import (
    FIELD55_TAGS,
    OutcomeKind,
    TerminalConfig,
    Transaction,
    TransactionOutcome,
    Tvr,
    mask_pan,
    to_minor_units,
)


def test_icc_data_is_the_present_tags_in_order() -> None:
    out = TransactionOutcome(OutcomeKind.APPROVED_ONLINE, "ok",
                             data={0x9F26: b"\x01" * 8, 0x95: bytes(5), 0x9F27: b"\x80", 0x5A: b"\x62"})
    objs = tlv.decode(out.icc_data())
    assert [o.tag.hex().upper() for o in objs] == ["9F26", "9F27", "95"]  # 5A is not field 55
    assert out.icc_data([0x5A]) == bytes.fromhex("5A0162")
    assert 0x5A not in FIELD55_TAGS


def test_masked_pan_from_5a_or_track2() -> None:
    out = TransactionOutcome(OutcomeKind.APPROVED_OFFLINE, "", data={0x5A: bytes.fromhex("6212345678901234567F")})
    assert out.masked_pan() == "621234*********4567"
    t2 = TransactionOutcome(OutcomeKind.APPROVED_OFFLINE, "",
                            data={0x57: bytes.fromhex("6212345678901234D30122200000")})
    assert t2.pan == "6212345678901234" and t2.masked_pan() == "621234******1234"
    assert mask_pan("1234") == "****"


def test_outcome_is_frozen_and_its_data_read_only() -> None:
    out = TransactionOutcome(OutcomeKind.DECLINED_OFFLINE, "", data={0x95: bytes(5)})
    with pytest.raises(AttributeError):
        out.kind = OutcomeKind.APPROVED_ONLINE  # type: ignore[misc]
    with pytest.raises(TypeError):
        out.data[0x95] = b"x"  # type: ignore[index]


def test_transaction_outcome_carries_terminal_data_but_no_pin_block() -> None:
    txn = Transaction(amount=1250, terminal=TerminalConfig().terminal_data())
    txn.pin_block = encode_pin_block("1234", "6212345678901234567", 0)
    txn.tvr |= Tvr.ONLINE_PIN_ENTERED
    out = txn.outcome(OutcomeKind.ONLINE_REQUEST, "x")
    assert out.amount == 1250 and out.data[0x9F02] == bytes.fromhex("000000001250")
    assert out.data[0x9F1A] == bytes.fromhex("0156") and out.data[0x95] == Tvr.ONLINE_PIN_ENTERED.to_bytes()
    assert out.online_pin
    assert txn.pin_block.reveal() not in b"".join(out.data.values())
    assert "pin_block" not in repr(txn)


@pytest.mark.parametrize(("amount", "minor"), [(1250, 1250), (Decimal("12.50"), 1250), (Decimal("12.5"), 1250),
                                               (Decimal(0), 0), (999_999_999_999, 999_999_999_999)])
def test_amounts(amount: int | Decimal, minor: int) -> None:
    assert to_minor_units(amount, 2) == minor


@pytest.mark.parametrize(("amount", "error"), [(12.5, TypeError), (True, TypeError), (Decimal("1.005"), ValueError),
                                               (-1, ValueError), (10**12, ValueError)])
def test_bad_amounts(amount: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        to_minor_units(amount, 2)  # type: ignore[arg-type]
