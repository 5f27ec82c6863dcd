"""SocialClient ↔ the real applet on the demo card through VirtualReader; the issuer's unblock; secrets."""

from __future__ import annotations

import pickle
from datetime import datetime

import pytest

from cardkit.issuer.demo_keys import DEMO_PURSE_MPK, DEMO_SOCIAL_MAK, DEMO_SOCIAL_MPK, DEMO_SOCIAL_MTK, DEMO_SOCIAL_MUK
from cardkit.readers import CardChannel, VirtualReader
from cardkit.social import (
    InsufficientBalance,
    InsuranceState,
    MacInvalid,
    NotAuthenticated,
    PinBlocked,
    Scheme,
    SocialClient,
    SocialSam,
    SocialUsageError,
    TerminalAuthFailed,
    WrongPin,
)
from cardkit.social.issuer import unblock_pin
from pos_sim.demo_card import DEMO_PIN, DEMO_SOCIAL_CARD_NUMBER, make_demo_card

TERMINAL = bytes.fromhex("110105000001")
WHEN = datetime(2026, 5, 4, 9, 30, 0)


@pytest.fixture
def client() -> SocialClient:
    return SocialClient(CardChannel(VirtualReader(make_demo_card()).connect()))


def sam(mak: bytes = DEMO_SOCIAL_MAK, mpk: bytes = DEMO_SOCIAL_MPK) -> SocialSam:
    return SocialSam(mak, mpk, DEMO_SOCIAL_MTK, TERMINAL)


def test_select_read_and_log(client: SocialClient) -> None:
    info = client.select()
    assert info.card_number == DEMO_SOCIAL_CARD_NUMBER and info.region == "110105" and info.version == "3.00"
    with pytest.raises(NotAuthenticated):
        client.read()
    client.authenticate_terminal(sam())
    record = client.read()
    assert record.holder.name == "张三" and record.holder.latin_name == "ZHANG/SAN"
    assert record.holder.birth_date.isoformat() == "1990-01-01" and record.holder.id_number == "110105199001010010"
    assert "110105199001010010" not in repr(record)
    assert record.balance == 80_000 and len(record.insurance) == 5
    status = record.status(Scheme.MEDICAL)
    assert status is not None and status.state is InsuranceState.ENROLLED
    assert client.log() == []


def test_wrong_terminal_key(client: SocialClient) -> None:
    client.select()
    with pytest.raises(TerminalAuthFailed):
        client.authenticate_terminal(sam(mak=DEMO_PURSE_MPK))


def test_pay_and_log(client: SocialClient) -> None:
    client.select()
    with pytest.raises(NotAuthenticated):
        client.pay(100, sam(), WHEN)
    client.verify_pin(DEMO_PIN)
    result = client.pay(12_50, sam(), WHEN)
    assert (result.balance_before, result.balance_after, result.counter) == (80_000, 78_750, 0)
    with pytest.raises(InsufficientBalance):
        client.pay(80_000, sam(), WHEN)
    client.authenticate_terminal(sam())
    (entry,) = client.log()
    assert (entry.amount, entry.balance_after, entry.when, entry.terminal_id) == (12_50, 78_750, WHEN, TERMINAL)
    assert client.balance() == 78_750


def test_card_refuses_another_purchase_key(client: SocialClient) -> None:
    client.select()
    client.verify_pin(DEMO_PIN)
    with pytest.raises(MacInvalid) as info:
        client.pay(100, sam(mpk=DEMO_PURSE_MPK), WHEN)
    assert info.value.sw == 0x9302


def test_pin_tries_block_and_issuer_unblock(client: SocialClient) -> None:
    client.select()
    with pytest.raises(SocialUsageError) as usage:
        client.verify_pin("12345")
    assert "12345" not in str(usage.value)
    for left in (2, 1):
        with pytest.raises(WrongPin) as wrong:
            client.verify_pin("000000")
        assert wrong.value.tries_left == left and "000000" not in str(wrong.value)
    with pytest.raises(PinBlocked):
        client.verify_pin("000000")
    assert client.pin_tries_left() == 0
    with pytest.raises(PinBlocked):
        client.verify_pin(DEMO_PIN)
    with pytest.raises(MacInvalid):
        unblock_pin(client, DEMO_PURSE_MPK)
    unblock_pin(client, DEMO_SOCIAL_MUK)
    assert client.pin_tries_left() == 3
    client.verify_pin(DEMO_PIN)


def test_sam_keeps_its_keys() -> None:
    s = sam()
    assert DEMO_SOCIAL_MAK.hex() not in repr(s).lower() and "110105000001" in repr(s)
    with pytest.raises(TypeError):
        pickle.dumps(s)
