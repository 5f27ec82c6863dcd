"""Power loss in the middle of card management, and the card image: the card stays consistent."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from applets.bank import DEBIT_AID, BankApplet
from applets.card_manager import (
    BANK_LOAD_FILE,
    BANK_MODULE,
    TRANSIT_LOAD_FILE,
    TRANSIT_MODULE,
    AppLifeCycle,
    CardLifeCycle,
    CardManager,
    KeyType,
)
from applets.runtime import SimulatedCard, listed_applications, load_card, save_card
from applets.transit import TRANSIT_AID
from cardkit.errors import CardTornError
from cardkit.issuer import BankProduct

from .kit import (
    ISD,
    H,
    apdu,
    bank_dgis,
    blank_card,
    dgi_stream,
    install_data,
    open_scp03,
    perso_data,
    personalize,
    put_key_data,
    select,
    store_data_blocks,
    transit_dgis,
)

NEW = [bytes(range(0x10 * i, 0x10 * i + 16)) for i in (1, 2, 3)]


def cm(card: SimulatedCard) -> CardManager:
    manager = card.applet(ISD)
    assert isinstance(manager, CardManager)
    return manager


def test_tear_during_the_last_store_data_block() -> None:
    """Every write of the last block in turn loses power: before the commit the application is not
    personalized, not listed, keeps its label and waits for INSTALL again; at the commit it is done."""
    from cardkit.issuer import BankAccount, prepare_bank_dgis
    from cardkit.issuer.demo_keys import DEMO_PAN, demo_issuer

    account = BankAccount(DEMO_PAN, "ZHANG/SAN", date(2099, 12, 31), date(2020, 1, 1))
    dgis = prepare_bank_dgis(account, demo_issuer(), product=BankProduct(label="CITIZEN PAY"))
    blocks = store_data_blocks(dgi_stream(dgis))
    outcomes = []
    for n in range(1, 200):
        card = blank_card()
        select(card, ISD)
        host = open_scp03(card)
        assert host.send(apdu(0x80, 0xE6, 0x0C, 0x00, install_data(BANK_LOAD_FILE, BANK_MODULE, DEBIT_AID),
                              le=0))[1] == 0x9000
        assert host.send(apdu(0x80, 0xE6, 0x20, 0x00, perso_data(DEBIT_AID), le=0))[1] == 0x9000
        for block in blocks[:-1]:
            assert host.send(block)[1] == 0x9000
        card.arm_tear(n)
        try:
            sw = host.send(blocks[-1])[1]
        except CardTornError:
            outcomes.append("torn")
        else:
            card.disarm_tear()
            assert sw == 0x9000
            outcomes.append("done")
            break
        card.power_on()
        bank = card.applet(DEBIT_AID)
        assert isinstance(bank, BankApplet) and not bank.personalized
        assert bank.label == "PBOC DEBIT"  # the label the rolled-back personalization had set is gone too
        entry = cm(card).stored_entry(DEBIT_AID)
        assert entry is not None and entry.life_cycle == AppLifeCycle.SELECTABLE
        assert DEBIT_AID not in listed_applications(card)
        assert select(card, DEBIT_AID) == 0x6985
        # the card is usable: personalize it again from the start
        select(card, ISD)
        host = open_scp03(card)
        assert host.send(apdu(0x80, 0xE6, 0x20, 0x00, perso_data(DEBIT_AID), le=0))[1] == 0x9000
        assert [host.send(b)[1] for b in blocks][-1] == 0x9000
        assert card.applet(DEBIT_AID).label == "CITIZEN PAY" and DEBIT_AID in listed_applications(card)
        assert select(card, DEBIT_AID) == 0x9000
    assert outcomes[-1] == "done" and outcomes.count("torn") >= 3


def test_tear_during_install_leaves_no_instance() -> None:
    for n in (1, 2, 3):
        card = blank_card()
        select(card, ISD)
        host = open_scp03(card)
        card.arm_tear(n)
        with pytest.raises(CardTornError):
            host.send(apdu(0x80, 0xE6, 0x0C, 0x00, install_data(TRANSIT_LOAD_FILE, TRANSIT_MODULE, TRANSIT_AID),
                           le=0))
        card.power_on()
        assert all(a.aid != TRANSIT_AID for a in card.applets)
        assert cm(card).stored_entry(TRANSIT_AID) is None
        select(card, ISD)
        host = open_scp03(card)
        assert personalize(host, TRANSIT_LOAD_FILE, TRANSIT_MODULE, TRANSIT_AID, transit_dgis()) == 0x9000


def test_tear_during_delete_keeps_the_application() -> None:
    card = blank_card()
    select(card, ISD)
    host = open_scp03(card)
    personalize(host, TRANSIT_LOAD_FILE, TRANSIT_MODULE, TRANSIT_AID, transit_dgis())
    card.arm_tear(3)
    with pytest.raises(CardTornError):
        host.send(apdu(0x80, 0xE4, 0x00, 0x00, H("4F08") + TRANSIT_AID, le=0))
    card.power_on()
    assert TRANSIT_AID in listed_applications(card)
    assert select(card, TRANSIT_AID) == 0x9000
    assert card.transmit(H("805C000204"))[-2:] == H("9000")  # GET BALANCE: the purse is whole


def test_tear_during_put_key_keeps_the_old_keys() -> None:
    card = blank_card()
    select(card, ISD)
    host = open_scp03(card)
    data = put_key_data(host, 0x30, [(KeyType.AES, k) for k in NEW])
    card.arm_tear(1)
    with pytest.raises(CardTornError):
        host.send(apdu(0x80, 0xD8, 0x30, 0x81, data, le=0))
    card.power_on()
    select(card, ISD)
    open_scp03(card)  # the default keys still open KVN 30


def test_image_round_trip(tmp_path: Path) -> None:
    card = blank_card()
    select(card, ISD)
    host = open_scp03(card)
    assert personalize(host, TRANSIT_LOAD_FILE, TRANSIT_MODULE, TRANSIT_AID, transit_dgis()) == 0x9000
    assert host.send(apdu(0x80, 0xE6, 0x0C, 0x00, install_data(BANK_LOAD_FILE, BANK_MODULE, DEBIT_AID),
                          le=0))[1] == 0x9000  # installed, not yet personalized
    data = put_key_data(host, 0x31, [(KeyType.AES, k) for k in NEW])
    assert host.send(apdu(0x80, 0xD8, 0x00, 0x81, data, le=0))[1] == 0x9000
    assert host.send(apdu(0x80, 0xF0, 0x80, CardLifeCycle.INITIALIZED))[1] == 0x9000
    counter = cm(card).sequence_counter(0x30)
    save_card(card, tmp_path / "card.json")
    loaded = load_card(tmp_path / "card.json")
    loaded.strict = True
    loaded.power_on()
    manager = cm(loaded)
    assert loaded.gate is manager and manager.life_cycle == CardLifeCycle.INITIALIZED
    assert [ks.kvn for ks in manager.key_sets()] == [0x30, 0x20, 0x31]
    assert manager.cplc == cm(card).cplc
    assert select(loaded, TRANSIT_AID) == 0x9000
    assert select(loaded, DEBIT_AID) == 0x6985  # still waiting for its personalization
    select(loaded, ISD)
    host = open_scp03(loaded, kvn=0x31, enc=NEW[0], mac=NEW[1], dek=NEW[2])
    assert manager.sequence_counter(0x30) == counter
    assert host.send(apdu(0x80, 0xE6, 0x20, 0x00, perso_data(DEBIT_AID), le=0))[1] == 0x9000
    assert [host.send(b)[1] for b in store_data_blocks(dgi_stream(bank_dgis()))][-1] == 0x9000
    assert select(loaded, DEBIT_AID) == 0x9000


def test_blank_card_image_keeps_its_card_manager(tmp_path: Path) -> None:
    card = blank_card()
    save_card(card, tmp_path / "blank.json")
    loaded = load_card(tmp_path / "blank.json")
    loaded.power_on()
    assert isinstance(loaded.gate, CardManager)
    assert select(loaded, ISD) == 0x9000
    open_scp03(loaded)
