"""The client against the real card manager (applets/card_manager) of a blank simulated card, in process.

A blank card starts OP_READY with two test key sets (KVN 30 AES for SCP03, KVN 20 DES for SCP02).
These scenarios walk what an issuer does to it — and what a real card would answer the same way.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from applets.runtime import SimulatedCard, new_blank_card
from applets.transit import TRANSIT_AID
from cardkit.cardaids import BANK_LOAD_FILE, ISD_AID, TRANSIT_LOAD_FILE, TRANSIT_MODULE
from cardkit.errors import CardError
from cardkit.gp import (
    CardLifeCycle,
    GpError,
    GpSession,
    Scope,
    SecurityLevel,
    StaticKeys,
    delete,
    delete_key,
    diversify_emv,
    encode_dgis,
    get_card_data,
    get_cplc,
    get_data,
    get_key_information,
    get_status,
    install_for_install,
    install_for_personalization,
    open_secure_channel,
    put_key,
    select_aid,
    set_status,
    store_data,
)
from cardkit.issuer.demo_keys import DEMO_CARD_MANAGER_KMC
from cardkit.purse import PurseClient, PurseError
from cardkit.readers import CardChannel, VirtualReader
from tests.card_manager.kit import transit_dgis

H = bytes.fromhex
SERIAL = "8986000000000000018"
LEVELS_SCP03 = [0x00, 0x01, 0x03, 0x11, 0x13, 0x33]


@pytest.fixture
def card() -> SimulatedCard:
    c = new_blank_card(serial=SERIAL)
    c.strict = True  # an exception inside an applet fails the test instead of answering 6F00
    return c


@pytest.fixture
def channel(card: SimulatedCard) -> Iterator[CardChannel]:
    conn = VirtualReader(card).connect()  # type: ignore[arg-type]
    yield CardChannel(conn)
    conn.close()


def scp03(channel: CardChannel, level: int = 0x03, keys: StaticKeys | None = None) -> GpSession:
    return open_secure_channel(channel, keys or StaticKeys.default(0x30), level=SecurityLevel(level))


def test_blank_card_reads_without_a_secure_channel(channel: CardChannel) -> None:
    select_aid(channel, ISD_AID)
    cplc = get_cplc(channel)
    assert (cplc.ic_fabricator, cplc.os_id, cplc.ic_type) == (H("434B"), H("434B"), H("0001"))
    assert (cplc.ic_batch_identifier, cplc.ic_serial_number) == (H("0000"), H("00000018"))
    fab = cplc.dates()["ic_fabrication_date"]
    assert fab is not None and (fab.year_digit, fab.day_of_year) == (6, 1)
    data = get_card_data(channel)
    assert data.gp_version == "2.3" and data.scp == ((3, 0x70), (2, 0x55))
    keys = get_key_information(channel)
    assert sorted((k.kvn, k.key_id, k.type_name, k.length) for k in keys) == (
        [(0x20, i, "DES", 16) for i in (1, 2, 3)] + [(0x30, i, "AES", 16) for i in (1, 2, 3)])
    assert len(get_data(channel, 0x0045)) == 10  # CIN = EF.ICCID
    assert get_data(channel, 0x00CF) == H("434B0001") + H("00000018") + H("0000")


@pytest.mark.parametrize("level", LEVELS_SCP03)
def test_scp03_every_level(channel: CardChannel, level: int) -> None:
    session = scp03(channel, level)
    assert (session.scp, session.kvn, session.i) == (3, 0x30, 0x70)
    (isd,) = get_status(session, Scope.ISD)
    assert isd.aid == ISD_AID and isd.state == "OP_READY" and "Security Domain" in isd.privilege_names
    assert get_cplc(session).ic_serial_number == H("00000018")  # GET DATA through the channel too


@pytest.mark.parametrize("level", [0x00, 0x01, 0x03])
def test_scp02_every_level(channel: CardChannel, level: int) -> None:
    session = open_secure_channel(channel, StaticKeys.default(0x20), level=SecurityLevel(level))
    assert session.scp == 2 and session.kvn == 0x20 and len(session.sequence_counter) == 2
    (isd,) = get_status(session, Scope.ISD)
    assert isd.state == "OP_READY"
    install_for_install(session, TRANSIT_LOAD_FILE, TRANSIT_MODULE, TRANSIT_AID)
    install_for_personalization(session, TRANSIT_AID)
    if level == 0x00:  # STORE DATA needs at least C-MAC on this card
        with pytest.raises(CardError, match="STORE DATA block 0.*6982"):
            store_data(session, transit_dgis())
        return
    assert store_data(session, transit_dgis(), block_size=64) == -(-len(encode_dgis(transit_dgis())) // 64)


def test_the_default_kvn_is_the_cards_first_set(channel: CardChannel) -> None:
    assert scp03(channel, keys=StaticKeys.default()).kvn == 0x30


def test_wrong_keys_are_caught_at_the_card_cryptogram(channel: CardChannel) -> None:
    with pytest.raises(GpError, match=r"card cryptogram wrong: the card does not hold these keys \(KVN 30\)"):
        scp03(channel, keys=StaticKeys.single(bytes(16), 0x30))
    with pytest.raises(GpError, match="no key set with KVN 31"):
        scp03(channel, keys=StaticKeys.default(0x31))
    assert scp03(channel).kvn == 0x30  # nothing was counted against the card


def test_registry_lists_load_files_and_pages_with_6310(channel: CardChannel) -> None:
    session = scp03(channel, 0x33)
    files = get_status(session, Scope.LOAD_FILES_AND_MODULES)
    assert BANK_LOAD_FILE in [f.aid for f in files] and all(f.state == "LOADED" for f in files)
    assert all(f.modules == (f.aid + b"\x01",) for f in files)
    assert [f.aid for f in get_status(session, Scope.LOAD_FILES)] == [f.aid for f in files]
    assert get_status(session, Scope.APPLICATIONS, aid=H("A0000009")) == []


def test_transit_installed_personalized_then_used(card: SimulatedCard, channel: CardChannel) -> None:
    session = scp03(channel, 0x03)
    install_for_install(session, TRANSIT_LOAD_FILE, TRANSIT_MODULE, TRANSIT_AID)
    install_for_personalization(session, TRANSIT_AID)
    blocks = store_data(session, transit_dgis(), block_size=100)  # DGIs spanning blocks
    assert blocks == -(-len(encode_dgis(transit_dgis())) // 100) > 1
    apps = {e.aid: e for e in get_status(session, Scope.APPLICATIONS)}
    assert apps[TRANSIT_AID].state == "PERSONALIZED" and apps[TRANSIT_AID].load_file == TRANSIT_LOAD_FILE
    assert PurseClient(channel).select().balance == 5_000
    # lock and unlock the application (P2 80 / 00)
    session = scp03(channel)
    set_status(session, Scope.APPLICATIONS, 0x80, TRANSIT_AID)
    assert {e.aid: e.state for e in get_status(session, Scope.APPLICATIONS)}[TRANSIT_AID] == "LOCKED"
    with pytest.raises(PurseError, match="6999"):  # a locked application's SELECT
        PurseClient(channel).select()
    session = scp03(channel)
    set_status(session, Scope.APPLICATIONS, 0x00, TRANSIT_AID)
    assert PurseClient(channel).select().balance == 5_000
    session = scp03(channel)
    delete(session, TRANSIT_AID)
    assert TRANSIT_AID not in [e.aid for e in get_status(session, Scope.APPLICATIONS)]


def test_issuer_keys_replace_the_test_keys_and_the_card_is_secured(channel: CardChannel) -> None:
    session = scp03(channel, 0x33)
    set_status(session, Scope.ISD, CardLifeCycle.INITIALIZED)
    with pytest.raises(CardError, match="SET STATUS 80 0F.*6985"):  # not while a set holds 40..4F
        set_status(session, Scope.ISD, CardLifeCycle.SECURED)
    session = scp03(channel, 0x33)
    issuer = diversify_emv(DEMO_CARD_MANAGER_KMC, session.diversification_data, kvn=0x31)
    kcvs = put_key(session, issuer, replace_kvn=0x30)
    assert kcvs == b"".join(issuer.kcvs(3))
    delete_key(session, 0x20)
    set_status(session, Scope.ISD, CardLifeCycle.SECURED)
    with pytest.raises(GpError, match="no key set with KVN 30"):
        scp03(channel)
    session = scp03(channel, 0x33, keys=issuer)
    assert get_status(session, Scope.ISD)[0].state == "SECURED"
    assert [(k.kvn, k.type_name) for k in get_key_information(session)] == [(0x31, "AES")] * 3
    set_status(session, Scope.ISD, CardLifeCycle.CARD_LOCKED)
    session = scp03(channel, keys=issuer)  # SELECT of the ISD still works on a locked card (6283)
    assert get_status(session, Scope.ISD)[0].state == "CARD_LOCKED"
    set_status(session, Scope.ISD, CardLifeCycle.SECURED)
    assert get_status(session, Scope.ISD)[0].state == "SECURED"


def test_aes256_key_set_round_trip(channel: CardChannel) -> None:
    session = scp03(channel)
    big = StaticKeys(bytes(range(32)), bytes(range(32, 64)), bytes(range(64, 96)), kvn=0x32)
    put_key(session, big)
    session = scp03(channel, 0x33, keys=big)
    assert session.kvn == 0x32
    assert (0x32, "AES", 32) in [(k.kvn, k.type_name, k.length) for k in get_key_information(session)]


def test_scp02_put_key_under_the_session_dek(channel: CardChannel) -> None:
    session = open_secure_channel(channel, StaticKeys.default(0x20), level=SecurityLevel(0x03))
    new = StaticKeys.single(H("00112233445566778899AABBCCDDEEFF"), kvn=0x21)
    put_key(session, new, replace_kvn=0x20)
    session = open_secure_channel(channel, new, level=SecurityLevel.C_MAC)
    assert session.scp == 2 and session.kvn == 0x21


def test_logical_channel_sessions(channel: CardChannel) -> None:
    """The ISD is multiselectable: a session on channel 1 beside one on channel 0 (SCP03 and SCP02)."""
    other = channel.open_channel()
    assert other.channel == 1
    one = scp03(other, 0x33)
    zero = open_secure_channel(channel, StaticKeys.default(0x20), level=SecurityLevel(0x03))
    assert get_status(one, Scope.ISD)[0].state == "OP_READY"
    assert get_status(zero, Scope.ISD)[0].state == "OP_READY"
    two = open_secure_channel(other, StaticKeys.default(0x20), level=SecurityLevel(0x03))
    assert get_status(two, Scope.ISD)[0].state == "OP_READY"
    other.close()


def test_a_session_ends_with_a_new_selection(channel: CardChannel) -> None:
    session = scp03(channel)
    select_aid(channel, ISD_AID)
    with pytest.raises(CardError, match="6982"):
        get_status(session, Scope.ISD)
