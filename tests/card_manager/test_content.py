"""INSTALL, STORE DATA, GET STATUS and DELETE: the real applications installed and personalized
through the card manager from data preparation's DGI maps, then used."""

from __future__ import annotations

import pytest

from applets.bank import DEBIT_AID, PPSE_NAME, PSE_NAME, BankApplet, PpseApplet
from applets.card_manager import (
    BANK_LOAD_FILE,
    BANK_MODULE,
    EID_LOAD_FILE,
    EID_MODULE,
    LOAD_FILES,
    PPSE_LOAD_FILE,
    PPSE_MODULE,
    PSE_LOAD_FILE,
    PSE_MODULE,
    SOCIAL_LOAD_FILE,
    SOCIAL_MODULE,
    TRANSIT_LOAD_FILE,
    TRANSIT_MODULE,
    AppLifeCycle,
    CardManager,
)
from applets.eid import EID_AID
from applets.runtime import SimulatedCard, listed_applications
from applets.social import SOCIAL_AID
from applets.transit import TRANSIT_AID
from cardkit import tlv

from .kit import (
    ISD,
    H,
    Scp03Host,
    apdu,
    bank_dgis,
    blank_card,
    dgi_stream,
    eid_dgis,
    install_data,
    open_scp03,
    perso_data,
    personalize,
    select,
    send,
    social_dgis,
    store_data_blocks,
    transit_dgis,
)

PPSE_DGIS = {0x9102: H("6119") + H("4F08") + DEBIT_AID + H("500A") + b"PBOC DEBIT" + H("870101")}


@pytest.fixture
def card() -> SimulatedCard:
    c = blank_card()
    assert select(c, ISD) == 0x9000
    return c


@pytest.fixture
def host(card: SimulatedCard) -> Scp03Host:
    return open_scp03(card, level=0x03)


def cm(card: SimulatedCard) -> CardManager:
    manager = card.applet(ISD)
    assert isinstance(manager, CardManager)
    return manager


def entries(data: bytes) -> list[dict[bytes, bytes]]:
    return [{c.tag: c.value for c in e3.children} for e3 in tlv.decode(data)]


def life_cycle(card: SimulatedCard, aid: bytes) -> int:
    entry = cm(card).stored_entry(aid)
    assert entry is not None
    return entry.life_cycle


@pytest.mark.parametrize(
    ("load_file", "module", "aid", "dgis", "label"),
    [
        (BANK_LOAD_FILE, BANK_MODULE, DEBIT_AID, bank_dgis, "PBOC DEBIT"),
        (TRANSIT_LOAD_FILE, TRANSIT_MODULE, TRANSIT_AID, transit_dgis, "TRANSIT"),
        (EID_LOAD_FILE, EID_MODULE, EID_AID, eid_dgis, "ID"),
        (SOCIAL_LOAD_FILE, SOCIAL_MODULE, SOCIAL_AID, social_dgis, "SOCIAL"),
    ],
    ids=["bank", "transit", "eid", "social"],
)
def test_install_and_personalize_a_real_application(card: SimulatedCard, host: Scp03Host, load_file: bytes,
                                                    module: bytes, aid: bytes, dgis: object, label: str) -> None:
    stream = dgi_stream(dgis())  # type: ignore[operator]
    assert personalize(host, load_file, module, aid, dgis(), size=180) == 0x9000  # type: ignore[operator]
    assert len(stream) > 180  # several blocks, DGIs cut across them
    assert life_cycle(card, aid) == AppLifeCycle.PERSONALIZED
    assert aid in listed_applications(card)
    assert cm(card).store.get("perso") is None  # the buffer is gone
    rsp, sw = send(card, apdu(0x00, 0xA4, 0x04, 0x00, aid, le=0))
    assert sw == 0x9000 and tlv.find(tlv.decode(rsp), [0x6F, 0x84]).value == aid  # type: ignore[union-attr]
    assert card.applet(aid).label == label


def test_personalized_bank_runs_a_transaction(card: SimulatedCard, host: Scp03Host) -> None:
    from tests.bank.kit import Terminal  # the bank tests' little kernel

    assert personalize(host, BANK_LOAD_FILE, BANK_MODULE, DEBIT_AID, bank_dgis()) == 0x9000
    applet = card.applet(DEBIT_AID)
    assert isinstance(applet, BankApplet) and applet.personalized
    terminal = Terminal(card)
    terminal.start()
    assert terminal.genac(0x80) == 0x9000  # an ARQC from the application the card manager made
    assert terminal.response


def test_ppse_personalized_from_dgi_9102(card: SimulatedCard, host: Scp03Host) -> None:
    assert personalize(host, PPSE_LOAD_FILE, PPSE_MODULE, PPSE_NAME, PPSE_DGIS) == 0x9000
    assert personalize(host, PSE_LOAD_FILE, PSE_MODULE, PSE_NAME, PPSE_DGIS) == 0x9000
    ppse = card.applet(PPSE_NAME)
    assert isinstance(ppse, PpseApplet) and [e.aid for e in ppse.entries] == [DEBIT_AID]
    assert PPSE_NAME not in listed_applications(card) and PSE_NAME not in listed_applications(card)
    rsp, sw = send(card, apdu(0x00, 0xA4, 0x04, 0x00, PPSE_NAME, le=0))
    assert sw == 0x9000
    assert tlv.find(tlv.decode(rsp), [0x6F, 0xA5, 0xBF0C, 0x61, 0x4F]).value == DEBIT_AID  # type: ignore[union-attr]
    select(card, PSE_NAME)
    rsp, sw = send(card, "00B2010C00")
    assert sw == 0x9000 and tlv.find(tlv.decode(rsp), [0x70, 0x61, 0x50]).value == b"PBOC DEBIT"  # type: ignore[union-attr]


def test_install_errors(card: SimulatedCard, host: Scp03Host) -> None:
    ok = install_data(BANK_LOAD_FILE, BANK_MODULE, DEBIT_AID)
    assert host.send(apdu(0x80, 0xE6, 0x0C, 0x00, ok, le=0)) == (b"\x00", 0x9000)
    assert host.send(apdu(0x80, 0xE6, 0x0C, 0x00, ok, le=0))[1] == 0x6985  # the AID is taken
    taken = install_data(BANK_LOAD_FILE, BANK_MODULE, ISD)
    assert host.send(apdu(0x80, 0xE6, 0x0C, 0x00, taken, le=0))[1] == 0x6985
    other = H("A000000333010199")
    for lf, module in ((H("F0636172646B697409"), BANK_MODULE), (BANK_LOAD_FILE, TRANSIT_MODULE)):
        assert host.send(apdu(0x80, 0xE6, 0x0C, 0x00, install_data(lf, module, other), le=0))[1] == 0x6A88
    bad = [install_data(BANK_LOAD_FILE, BANK_MODULE, other, privileges=b"\x80"),  # security domain
           install_data(BANK_LOAD_FILE, BANK_MODULE, other, parameters=b"\xc9\x01\x01"),  # bank takes none
           install_data(BANK_LOAD_FILE, BANK_MODULE, other, token=b"\x01"),
           install_data(BANK_LOAD_FILE, BANK_MODULE, b"\x01\x02"),  # AID too short
           install_data(BANK_LOAD_FILE, BANK_MODULE, other)[:-1]]
    for data in bad:
        assert host.send(apdu(0x80, 0xE6, 0x0C, 0x00, data, le=0))[1] == 0x6A80, data.hex()
    assert host.send(apdu(0x80, 0xE6, 0x02, 0x00, ok, le=0))[1] == 0x6A86
    assert all(a.aid != other for a in card.applets)


def test_installed_application_is_not_selectable_until_personalized(card: SimulatedCard, host: Scp03Host) -> None:
    host.send(apdu(0x80, 0xE6, 0x0C, 0x00, install_data(TRANSIT_LOAD_FILE, TRANSIT_MODULE, TRANSIT_AID), le=0))
    assert life_cycle(card, TRANSIT_AID) == AppLifeCycle.SELECTABLE
    assert send(card, apdu(0x01, 0xA4, 0x04, 0x00, TRANSIT_AID, le=0))[1] == 0x6881  # (no channel 1)
    send(card, "0070000001")
    assert select(card, TRANSIT_AID, channel=1) == 0x6985
    rsp, sw = host.send(apdu(0x80, 0xF2, 0x40, 0x02, H("4F00"), le=0))
    assert sw == 0x9000
    (entry,) = [e for e in entries(rsp) if e[b"\x4f"] == TRANSIT_AID]
    assert entry[b"\x9f\x70"] == b"\x07" and entry[b"\xc4"] == TRANSIT_LOAD_FILE and entry[b"\xcc"] == ISD


def test_install_only_then_make_selectable(card: SimulatedCard, host: Scp03Host) -> None:
    aid = TRANSIT_AID
    assert host.send(apdu(0x80, 0xE6, 0x04, 0x00, install_data(TRANSIT_LOAD_FILE, TRANSIT_MODULE, aid), le=0))[1] \
        == 0x9000
    assert life_cycle(card, aid) == AppLifeCycle.INSTALLED
    make = install_data(b"", b"", aid, parameters=b"")
    assert host.send(apdu(0x80, 0xE6, 0x08, 0x00, make, le=0)) == (b"\x00", 0x9000)
    assert life_cycle(card, aid) == AppLifeCycle.SELECTABLE
    assert host.send(apdu(0x80, 0xE6, 0x08, 0x00, make, le=0))[1] == 0x6985


def test_store_data_rules(card: SimulatedCard, host: Scp03Host) -> None:
    host.send(apdu(0x80, 0xE6, 0x0C, 0x00, install_data(TRANSIT_LOAD_FILE, TRANSIT_MODULE, TRANSIT_AID), le=0))
    assert host.send(apdu(0x80, 0xE6, 0x20, 0x00, perso_data(TRANSIT_AID), le=0)) == (b"\x00", 0x9000)
    blocks = store_data_blocks(dgi_stream(transit_dgis()), 100)
    assert len(blocks) >= 3
    assert host.send(blocks[1])[1] == 0x6A86  # block 01 first: out of sequence
    assert host.send(blocks[0])[1] == 0x9000
    assert host.send(blocks[0])[1] == 0x6A86  # block 00 again
    assert host.send(apdu(0x80, 0xE2, 0x10, 0x01, b"\x42\x01\x00"))[1] == 0x6A86  # BER-TLV for an application
    assert host.send(apdu(0x80, 0xE2, 0x48, 0x01, blocks[1][5:]))[1] == 0x6A86  # b7-b6 = 10 is RFU
    for block in blocks[1:]:
        assert host.send(block)[1] == 0x9000
    assert life_cycle(card, TRANSIT_AID) == AppLifeCycle.PERSONALIZED


def test_store_data_needs_a_session(card: SimulatedCard) -> None:
    for block in store_data_blocks(dgi_stream(transit_dgis())):
        assert send(card, block)[1] == 0x6982


def test_encrypted_store_data_needs_c_decryption(card: SimulatedCard) -> None:
    host = open_scp03(card, level=0x01)
    host.send(apdu(0x80, 0xE6, 0x0C, 0x00, install_data(PPSE_LOAD_FILE, PPSE_MODULE, PPSE_NAME), le=0))
    host.send(apdu(0x80, 0xE6, 0x20, 0x00, perso_data(PPSE_NAME), le=0))
    (block,) = store_data_blocks(dgi_stream(PPSE_DGIS), p1=0x68)  # DGI format, "encrypted"
    assert host.send(block)[1] == 0x6982
    select(card, ISD)
    host = open_scp03(card, level=0x03)
    host.send(apdu(0x80, 0xE6, 0x20, 0x00, perso_data(PPSE_NAME), le=0))
    assert host.send(block)[1] == 0x9000


@pytest.mark.parametrize("damage", ["missing_dgi", "truncated_stream", "repeated_dgi"])
def test_bad_dgi_map_is_6a80_and_the_application_stays_unpersonalized(card: SimulatedCard, host: Scp03Host,
                                                                       damage: str) -> None:
    dgis = dict(transit_dgis())
    stream = dgi_stream(dgis)
    if damage == "missing_dgi":
        stream = dgi_stream({k: v for k, v in dgis.items() if k != min(dgis)})
    elif damage == "truncated_stream":
        stream = stream[:-1]
    else:
        first = min(dgis)
        stream += dgi_stream({first: dgis[first]})
    host.send(apdu(0x80, 0xE6, 0x0C, 0x00, install_data(TRANSIT_LOAD_FILE, TRANSIT_MODULE, TRANSIT_AID), le=0))
    host.send(apdu(0x80, 0xE6, 0x20, 0x00, perso_data(TRANSIT_AID), le=0))
    sws = [host.send(b)[1] for b in store_data_blocks(stream)]
    assert sws[-1] == 0x6A80 and set(sws[:-1]) <= {0x9000}
    assert life_cycle(card, TRANSIT_AID) == AppLifeCycle.SELECTABLE
    assert TRANSIT_AID not in listed_applications(card)
    assert cm(card).store.get("perso") is None
    assert not card.store.keys(f"app/{TRANSIT_AID.hex().upper()}/dgi/")
    # no target any more: the block would be for the security domain, which takes BER-TLV, not DGIs
    assert host.send(store_data_blocks(stream)[0])[1] == 0x6A86
    # ... and a good map still works afterwards
    assert personalize_again(host, TRANSIT_AID, dgi_stream(transit_dgis())) == 0x9000


def personalize_again(host: Scp03Host, aid: bytes, stream: bytes) -> int:
    host.send(apdu(0x80, 0xE6, 0x20, 0x00, perso_data(aid), le=0))
    return [host.send(b)[1] for b in store_data_blocks(stream)][-1]


def test_dgi_with_three_byte_length_spans_blocks(card: SimulatedCard, host: Scp03Host) -> None:
    entry = H("610F4F08") + DEBIT_AID + H("5003414243")
    dgis = {0x9102: entry * 20}  # 340 bytes: the FF-length form
    stream = dgi_stream(dgis)
    assert stream[2:5] == H("FF0154")
    assert personalize(host, PPSE_LOAD_FILE, PPSE_MODULE, PPSE_NAME, dgis, size=50) == 0x9000
    ppse = card.applet(PPSE_NAME)
    assert isinstance(ppse, PpseApplet) and len(ppse.entries) == 20


def test_get_status(card: SimulatedCard, host: Scp03Host) -> None:
    personalize(host, PPSE_LOAD_FILE, PPSE_MODULE, PPSE_NAME, PPSE_DGIS)
    rsp, sw = host.send(apdu(0x80, 0xF2, 0x40, 0x02, H("4F00"), le=0))
    assert sw == 0x9000
    apps = {e[b"\x4f"]: e for e in entries(rsp)}
    assert apps[PPSE_NAME][b"\x9f\x70"] == b"\x0f" and apps[PPSE_NAME][b"\xc4"] == PPSE_LOAD_FILE
    assert ISD not in apps  # the ISD is P1 80
    rsp, sw = host.send(apdu(0x80, 0xF2, 0x40, 0x02, H("4F02") + PPSE_NAME[:2] + H("5C034F9F70"), le=0))
    assert sw == 0x9000 and entries(rsp) == [{b"\x4f": PPSE_NAME, b"\x9f\x70": b"\x0f"}]  # prefix + tag list
    assert host.send(apdu(0x80, 0xF2, 0x40, 0x02, H("4F03FFFFFF"), le=0))[1] == 0x6A88
    rsp, sw = host.send(apdu(0x80, 0xF2, 0x20, 0x02, H("4F00"), le=0))
    assert sw == 0x9000 and [e[b"\x4f"] for e in entries(rsp)] == list(LOAD_FILES)
    assert all(b"\x84" not in e and e[b"\x9f\x70"] == b"\x01" for e in entries(rsp))
    # load files and modules: more than one answer holds, so 6310 and "next occurrence"
    first, sw = host.send(apdu(0x80, 0xF2, 0x10, 0x02, H("4F00"), le=0))
    assert sw == 0x6310
    rest, sw = host.send(apdu(0x80, 0xF2, 0x10, 0x03, H("4F00"), le=0))
    assert sw == 0x9000
    listed = entries(first) + entries(rest)
    assert [(e[b"\x4f"], e[b"\x84"]) for e in listed] == [(lf.aid, lf.module) for lf in LOAD_FILES.values()]
    assert host.send(apdu(0x80, 0xF2, 0x10, 0x03, H("4F00"), le=0))[1] == 0x6A86  # nothing to continue
    assert host.send(apdu(0x80, 0xF2, 0x40, 0x00, H("4F00"), le=0))[1] == 0x6A86  # legacy format
    assert host.send(apdu(0x80, 0xF2, 0x41, 0x02, H("4F00"), le=0))[1] == 0x6A86
    assert host.send(apdu(0x80, 0xF2, 0x40, 0x02, H("9F7000"), le=0))[1] == 0x6A80


def test_issuance_applications_are_in_the_registry(card: SimulatedCard) -> None:
    from applets.transit import install_transit

    install_transit(card, transit_dgis())  # outside the card manager, as the demo card does
    select(card, ISD)
    host = open_scp03(card)
    rsp, _ = host.send(apdu(0x80, 0xF2, 0x40, 0x02, H("4F00"), le=0))
    transit = [e for e in entries(rsp) if e[b"\x4f"] == TRANSIT_AID]
    assert transit and transit[0][b"\x9f\x70"] == b"\x07" and b"\xc4" not in transit[0]


def test_delete_application(card: SimulatedCard, host: Scp03Host) -> None:
    personalize(host, TRANSIT_LOAD_FILE, TRANSIT_MODULE, TRANSIT_AID, transit_dgis())
    assert TRANSIT_AID in listed_applications(card)
    assert host.send(apdu(0x80, 0xE4, 0x00, 0x00, H("4F08") + TRANSIT_AID, le=0)) == (b"\x00", 0x9000)
    assert all(a.aid != TRANSIT_AID for a in card.applets)
    assert TRANSIT_AID not in listed_applications(card)
    assert not card.store.keys(f"app/{TRANSIT_AID.hex().upper()}/")
    assert cm(card).stored_entry(TRANSIT_AID) is None
    assert select(card, TRANSIT_AID, channel=0) == 0x6A82
    select(card, ISD)
    host = open_scp03(card)
    assert host.send(apdu(0x80, 0xE4, 0x00, 0x00, H("4F08") + TRANSIT_AID, le=0))[1] == 0x6A88
    assert host.send(apdu(0x80, 0xE4, 0x00, 0x00, H("4F08") + ISD, le=0))[1] == 0x6985
    assert host.send(apdu(0x80, 0xE4, 0x00, 0x80, H("4F09") + TRANSIT_LOAD_FILE, le=0))[1] == 0x6985
    assert host.send(apdu(0x80, 0xE4, 0x00, 0x00, H("4F08") + TRANSIT_AID + H("D20130"), le=0))[1] == 0x6A80
    # the AID is free again
    assert personalize(host, TRANSIT_LOAD_FILE, TRANSIT_MODULE, TRANSIT_AID, transit_dgis()) == 0x9000


def test_delete_a_selected_application_drops_it_from_its_channel(card: SimulatedCard, host: Scp03Host) -> None:
    personalize(host, PPSE_LOAD_FILE, PPSE_MODULE, PPSE_NAME, PPSE_DGIS)
    send(card, "0070000001")
    assert select(card, PPSE_NAME, channel=1) == 0x9000
    assert host.send(apdu(0x80, 0xE4, 0x00, 0x00, H("4F0E") + PPSE_NAME, le=0))[1] == 0x9000
    assert card.selected(1) is None
