"""Cardholder verification (Book 3 §10.5): list parsing, conditions incl. X/Y, and the walk."""

from __future__ import annotations

import pytest

from cardkit.emv import (
    CvmList,
    CvmResult,
    CvmResults,
    CvRule,
    PinKind,
    PinRequest,
    TerminalConfig,
    Transaction,
    Tsi,
    Tvr,
    parse_cvm_list,
)
from cardkit.emv.cvm import condition_satisfied, verify_cardholder
from cardkit.emv.outcome import CardDataError

from .cards import PAN, FakeEmvCard, channel_for

CFG = TerminalConfig()


def test_parse_cvm_list() -> None:
    raw = bytes.fromhex("00000064 000003E8 4103 4203 1E06 1F00".replace(" ", ""))
    lst = parse_cvm_list(raw)
    assert (lst.x, lst.y) == (100, 1000)
    assert lst.rules[0] == CvRule(0x41, 0x03)
    assert lst.rules[0].method == 0x01 and lst.rules[0].continue_on_failure
    assert not lst.rules[3].continue_on_failure
    for bad in (bytes(7), bytes(9)):
        with pytest.raises(CardDataError):
            parse_cvm_list(bad)


LIST = CvmList(x=1000, y=5000, rules=())


def cond(code: int, *, amount: int = 100, other: int = 0, ttype: int = 0x00, currency: bool = True,
         method: int = 0x1F, config: TerminalConfig = CFG) -> bool:
    return condition_satisfied(CvRule(method, code), cvm_list=LIST, amount=amount, other_amount=other,
                               transaction_type=ttype, in_application_currency=currency, config=config)


UNATTENDED = TerminalConfig(terminal_type=0x25)


@pytest.mark.parametrize(
    ("code", "kwargs", "expected"),
    [(0x00, {}, True),
     (0x01, {"ttype": 0x01, "config": UNATTENDED}, True),  # unattended cash
     (0x01, {"ttype": 0x01}, False),  # attended
     (0x02, {}, True),  # not cash, not cashback
     (0x02, {"other": 5}, False),
     (0x02, {"ttype": 0x01}, False),
     (0x03, {"method": 0x1E}, True),  # terminal supports signature
     (0x03, {"method": 0x1E, "config": TerminalConfig(capabilities=bytes.fromhex("E0C0C8"))}, False),
     (0x04, {"ttype": 0x01}, True),  # manual cash
     (0x04, {"ttype": 0x01, "config": UNATTENDED}, False),
     (0x05, {"ttype": 0x09}, True),
     (0x05, {}, False),
     (0x06, {"amount": 999}, True), (0x06, {"amount": 1000}, False),  # under X is strict
     (0x07, {"amount": 1001}, True), (0x07, {"amount": 1000}, False),  # over X is strict
     (0x08, {"amount": 4999}, True), (0x08, {"amount": 5000}, False),
     (0x09, {"amount": 5001}, True), (0x09, {"amount": 5000}, False),
     (0x06, {"amount": 1, "currency": False}, False),  # not in the application currency
     (0x0A, {}, False), (0x80, {}, False)],  # RFU / proprietary: not understood, skipped
)
def test_conditions(code: int, kwargs: dict[str, object], expected: bool) -> None:
    assert cond(code, **kwargs) is expected  # type: ignore[arg-type]


class Pad:
    """A PIN pad that answers from a list and remembers what it was asked."""

    def __init__(self, *pins: str | None) -> None:
        self.pins = list(pins)
        self.requests: list[PinRequest] = []

    def __call__(self, request: PinRequest) -> str | None:
        self.requests.append(request)
        return self.pins.pop(0)


def run(cvm_list: str, *, amount: int = 100, pad: Pad | None = None, card: FakeEmvCard | None = None,
        config: TerminalConfig = CFG, aip: str = "1C00") -> tuple[Transaction, FakeEmvCard]:
    card = card or FakeEmvCard()
    txn = Transaction(amount=amount)
    txn.aip = bytes.fromhex(aip)
    txn.terminal.update(config.terminal_data())
    txn.card.update({b"\x5a": PAN, b"\x9f\x42": bytes.fromhex("0156")})
    if cvm_list:
        txn.card[b"\x8e"] = bytes.fromhex(cvm_list.replace(" ", ""))
    verify_cardholder(channel_for(card.card), txn, config, pad, random=lambda n: bytes(n))
    return txn, card


def test_offline_plaintext_pin_success() -> None:
    pad = Pad("1234")
    txn, card = run("0000000000000000 0100", pad=pad)
    assert txn.cvm_results == CvmResults(0x01, 0x00, CvmResult.SUCCESSFUL)
    assert Tsi.CARDHOLDER_VERIFICATION_PERFORMED in txn.tsi and txn.tvr == Tvr(0)
    verify = card.card.sent(0x20)
    assert len(verify) == 1 and verify[0].p2 == 0x80 and verify[0].data == bytes.fromhex("241234FFFFFFFFFF")
    assert pad.requests == [PinRequest(PinKind.OFFLINE_PLAINTEXT, 100, tries_left=3, retry=False)]


def test_wrong_pin_then_right_reprompts_with_tries_left() -> None:
    pad = Pad("9999", "1234")
    txn, _ = run("0000000000000000 0100", pad=pad)
    assert txn.cvm_results.result is CvmResult.SUCCESSFUL
    assert pad.requests[1].retry and pad.requests[1].tries_left == 2


def test_pin_try_limit_exceeded_during_entry_falls_to_the_next_rule() -> None:
    pad = Pad("0000", "0000", "0000")
    txn, card = run("0000000000000000 4100 1E00", pad=pad)
    assert Tvr.PIN_TRY_LIMIT_EXCEEDED in txn.tvr
    assert txn.cvm_results == CvmResults(0x1E, 0x00, CvmResult.UNKNOWN) and txn.signature_required
    assert card.pin_tries == 0


def test_blocked_pin_is_not_prompted() -> None:
    pad = Pad()
    txn, card = run("0000000000000000 0100", pad=pad, card=FakeEmvCard(pin_tries=0))
    assert pad.requests == [] and card.card.sent(0x20) == []
    assert Tvr.PIN_TRY_LIMIT_EXCEEDED in txn.tvr and Tvr.CARDHOLDER_VERIFICATION_FAILED in txn.tvr
    assert txn.cvm_results == CvmResults(0x01, 0x00, CvmResult.FAILED)


def test_pin_bypass_sets_pin_not_entered() -> None:
    txn, _ = run("0000000000000000 0100", pad=Pad(None))
    assert Tvr.PIN_NOT_ENTERED in txn.tvr and Tvr.CARDHOLDER_VERIFICATION_FAILED in txn.tvr


def test_no_pin_pad() -> None:
    txn, _ = run("0000000000000000 4100 1F00", pad=None)
    assert Tvr.PIN_PAD_NOT_PRESENT in txn.tvr
    assert txn.cvm_results == CvmResults(0x1F, 0x00, CvmResult.SUCCESSFUL)


def test_online_pin_builds_a_format_0_block_and_sets_the_tvr() -> None:
    txn, card = run("0000000000000000 4203", pad=Pad("1234"))
    assert txn.cvm_results == CvmResults(0x42, 0x03, CvmResult.UNKNOWN)
    assert Tvr.ONLINE_PIN_ENTERED in txn.tvr
    assert txn.pin_block is not None and txn.pin_block.format == 0
    assert txn.pin_block.reveal() == bytes.fromhex("041262876FEDCBA9")  # 041234FF.. XOR 0000 567890123456
    assert "1234" not in repr(txn.pin_block) and card.card.sent(0x20) == []


def test_unsupported_cvm_fails_without_continuing() -> None:
    cfg = TerminalConfig(capabilities=bytes.fromhex("E008C8"))  # no PIN, no signature
    txn, _ = run("0000000000000000 0200 1F00", pad=Pad("1234"), config=cfg)
    assert Tvr.CARDHOLDER_VERIFICATION_FAILED in txn.tvr and Tvr.PIN_PAD_NOT_PRESENT in txn.tvr
    assert txn.cvm_results == CvmResults(0x02, 0x00, CvmResult.FAILED)


def test_unrecognised_cvm() -> None:
    txn, _ = run("0000000000000000 6000 1F00")
    assert Tvr.UNRECOGNISED_CVM in txn.tvr
    assert txn.cvm_results.result is CvmResult.SUCCESSFUL


def test_amount_conditions_choose_the_rule() -> None:
    # X = 10.00: no CVM under X, online PIN over X
    lst = "000003E8 00000000 1F06 0207"
    small, _ = run(lst, amount=999)
    assert small.cvm_results == CvmResults(0x1F, 0x06, CvmResult.SUCCESSFUL)
    big, _ = run(lst, amount=1001, pad=Pad("1234"))
    assert big.cvm_results == CvmResults(0x02, 0x07, CvmResult.UNKNOWN)


def test_no_rule_applies() -> None:
    txn, _ = run("000003E8 00000000 1F06", amount=5000)
    assert txn.cvm_results == CvmResults(0x3F, 0x00, CvmResult.FAILED)
    assert Tvr.CARDHOLDER_VERIFICATION_FAILED in txn.tvr


def test_fail_cvm_rule() -> None:
    txn, _ = run("0000000000000000 0000")
    assert txn.cvm_results == CvmResults(0x00, 0x00, CvmResult.FAILED)


def test_missing_list_sets_icc_data_missing_and_no_tsi() -> None:
    txn, _ = run("")
    assert Tvr.ICC_DATA_MISSING in txn.tvr and Tsi.CARDHOLDER_VERIFICATION_PERFORMED not in txn.tsi
    assert txn.cvm_results.to_bytes() == bytes.fromhex("3F0000")


def test_not_performed_when_the_aip_does_not_support_it() -> None:
    txn, card = run("0000000000000000 0100", pad=Pad("1234"), aip="0800")
    assert txn.tsi == Tsi(0) and card.card.commands == []


def test_plaintext_pin_and_signature() -> None:
    txn, _ = run("0000000000000000 0300", pad=Pad("1234"))
    assert txn.signature_required and txn.cvm_results == CvmResults(0x03, 0x00, CvmResult.UNKNOWN)
