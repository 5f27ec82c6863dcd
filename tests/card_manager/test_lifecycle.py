"""Card and application life cycle, enforced card-wide by the card manager's gate (GP 2.3 §5)."""

from __future__ import annotations

import pytest

from applets.bank import DEBIT_AID, install_bank
from applets.card_manager import (
    LOCKED_BIT,
    TRANSIT_LOAD_FILE,
    TRANSIT_MODULE,
    AppLifeCycle,
    CardLifeCycle,
    CardManager,
    KeyType,
)
from applets.runtime import MF_AID, SimulatedCard
from applets.transit import TRANSIT_AID

from .kit import (
    ISD,
    H,
    Scp03Host,
    apdu,
    bank_dgis,
    blank_card,
    open_scp03,
    personalize,
    put_key_data,
    select,
    send,
    transit_dgis,
)

NEW = [bytes(range(0x10 * i, 0x10 * i + 16)) for i in (1, 2, 3)]


def cm(card: SimulatedCard) -> CardManager:
    manager = card.applet(ISD)
    assert isinstance(manager, CardManager)
    return manager


@pytest.fixture
def card() -> SimulatedCard:
    c = blank_card()
    install_bank(c, {DEBIT_AID: bank_dgis()})  # an application from issuance, outside the card manager
    c.power_on()
    assert select(c, ISD) == 0x9000
    return c


def set_card(host: Scp03Host, state: int) -> int:
    return host.send(apdu(0x80, 0xF0, 0x80, state))[1]


def secure_keys(card: SimulatedCard) -> Scp03Host:
    """Replace the default keys: KVN 30 gets NEW, KVN 20 (default DES keys) is deleted."""
    host = open_scp03(card)
    data = put_key_data(host, 0x30, [(KeyType.AES, k) for k in NEW])
    assert host.send(apdu(0x80, 0xD8, 0x30, 0x81, data, le=0))[1] == 0x9000
    assert host.send(apdu(0x80, 0xE4, 0x00, 0x00, H("D20120"), le=0))[1] == 0x9000
    select(card, ISD)
    return open_scp03(card, enc=NEW[0], mac=NEW[1], dek=NEW[2])


def test_forward_transitions_and_secured_needs_own_keys(card: SimulatedCard) -> None:
    host = open_scp03(card)
    assert set_card(host, CardLifeCycle.INITIALIZED) == 0x9000
    assert set_card(host, CardLifeCycle.OP_READY) == 0x6985  # backwards
    assert set_card(host, CardLifeCycle.CARD_LOCKED) == 0x6985  # only from SECURED
    assert set_card(host, CardLifeCycle.SECURED) == 0x6985  # default test keys still on the card
    assert set_card(host, 0x05) == 0x6A86  # not a state
    assert cm(card).life_cycle == CardLifeCycle.INITIALIZED
    host = secure_keys(card)
    assert set_card(host, CardLifeCycle.SECURED) == 0x9000
    assert set_card(host, CardLifeCycle.INITIALIZED) == 0x6985
    rsp, _ = host.send("80F28002024F0000")
    assert H("9F70010F") in rsp


def test_card_locked(card: SimulatedCard) -> None:
    host = secure_keys(card)
    assert set_card(host, CardLifeCycle.SECURED) == 0x9000
    assert set_card(host, CardLifeCycle.CARD_LOCKED) == 0x9000
    assert select(card, DEBIT_AID) == 0x6A81
    card.power_on()
    assert card.selected(0) is None  # the MF is not selected at reset any more
    assert send(card, "00A40000023F00")[1] == 0x6A81
    assert send(card, "00B2010C00")[1] == 0x6985  # nothing selected
    assert select(card, ISD) == 0x9000  # the ISD still is
    host = open_scp03(card, enc=NEW[0], mac=NEW[1], dek=NEW[2])
    assert set_card(host, CardLifeCycle.INITIALIZED) == 0x6985
    assert set_card(host, CardLifeCycle.SECURED) == 0x9000  # unlock
    assert select(card, DEBIT_AID) == 0x9000
    card.power_on()
    assert card.selected(0) is not None and card.selected(0).aid == MF_AID  # type: ignore[union-attr]


def test_card_locked_while_an_application_is_selected_on_another_channel(card: SimulatedCard) -> None:
    send(card, "0070000001")
    assert select(card, DEBIT_AID, channel=1) == 0x9000
    host = secure_keys(card)
    set_card(host, CardLifeCycle.SECURED)
    assert set_card(host, CardLifeCycle.CARD_LOCKED) == 0x9000
    assert send(card, "81CA9F3600")[1] == 0x6A81  # the bank on channel 1 answers nothing now


def test_terminated_refuses_everything_for_ever(card: SimulatedCard) -> None:
    host = open_scp03(card)
    assert set_card(host, CardLifeCycle.TERMINATED) == 0x9000
    for raw in ("80CA9F7F00", "00A4040008A000000151000000", "0070000001", "80500000080000000000000000",
                "00A40000023F00", "00C0000000"):
        assert send(card, raw)[1] == 0x6A81, raw
    card.power_on()
    assert card.selected(0) is None
    assert select(card, ISD) == 0x6A81
    assert select(card, DEBIT_AID) == 0x6A81


def test_no_transition_out_of_terminated() -> None:
    from applets.card_manager._codes import card_transition_allowed

    assert not any(card_transition_allowed(CardLifeCycle.TERMINATED, s) for s in CardLifeCycle)
    assert all(card_transition_allowed(s, CardLifeCycle.TERMINATED) for s in CardLifeCycle if s != 0xFF)


def test_lock_and_unlock_an_application(card: SimulatedCard) -> None:
    host = open_scp03(card)
    assert personalize(host, TRANSIT_LOAD_FILE, TRANSIT_MODULE, TRANSIT_AID, transit_dgis()) == 0x9000
    send(card, "0070000001")
    assert select(card, TRANSIT_AID, channel=1) == 0x9000
    assert host.send(apdu(0x80, 0xF0, 0x40, 0x80, TRANSIT_AID))[1] == 0x9000
    entry = cm(card).stored_entry(TRANSIT_AID)
    assert entry is not None and entry.life_cycle == AppLifeCycle.PERSONALIZED | LOCKED_BIT  # 8F
    assert send(card, "815C000204")[1] == 0x6985  # the purse, selected before, is refused now
    assert select(card, TRANSIT_AID, channel=1) == 0x6999
    rsp, _ = host.send(apdu(0x80, 0xF2, 0x40, 0x02, H("4F08") + TRANSIT_AID, le=0))
    assert H("9F70018F") in rsp
    assert host.send(apdu(0x80, 0xF0, 0x40, 0x00, H("4F08") + TRANSIT_AID))[1] == 0x9000  # 4F form too
    assert select(card, TRANSIT_AID, channel=1) == 0x9000
    entry = cm(card).stored_entry(TRANSIT_AID)
    assert entry is not None and entry.life_cycle == AppLifeCycle.PERSONALIZED


def test_lock_an_issuance_application(card: SimulatedCard) -> None:
    host = open_scp03(card)
    assert host.send(apdu(0x80, 0xF0, 0x40, 0x80, DEBIT_AID))[1] == 0x9000
    assert select(card, DEBIT_AID) == 0x6999
    select(card, ISD)
    host = open_scp03(card)
    assert host.send(apdu(0x80, 0xF0, 0x40, 0x00, DEBIT_AID))[1] == 0x9000
    assert select(card, DEBIT_AID) == 0x9000


def test_set_status_errors(card: SimulatedCard) -> None:
    host = open_scp03(card)
    assert host.send(apdu(0x80, 0xF0, 0x40, 0x80, H("A0000003339999")))[1] == 0x6A88
    assert host.send(apdu(0x80, 0xF0, 0x40, 0x80, ISD))[1] == 0x6985
    assert host.send(apdu(0x80, 0xF0, 0x20, 0x80, DEBIT_AID))[1] == 0x6A86
    assert host.send(apdu(0x80, 0xF0, 0x80, 0x07, H("A0000003339999")))[1] == 0x6A88


def test_cards_without_a_card_manager_have_no_gate() -> None:
    card = blank_card(card_manager=False)
    assert card.gate is None and all(not isinstance(a, CardManager) for a in card.applets)
    assert select(card, ISD) == 0x6A82
