"""PUT KEY, DELETE, INSTALL, STORE DATA and SET STATUS: data fields byte for byte, then each on the fake ISD."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from cardkit.apdu import CommandAPDU
from cardkit.cardaids import BANK_LOAD_FILE, BANK_MODULE, ISD_AID
from cardkit.errors import CardError
from cardkit.gp import (
    DEFAULT_KEY,
    CardLifeCycle,
    GpError,
    GpSession,
    Scope,
    SecurityLevel,
    StaticKeys,
    delete,
    delete_key,
    encode_dgis,
    get_status,
    install_data,
    install_for_install,
    install_for_personalization,
    open_secure_channel,
    put_key,
    put_key_data,
    set_status,
    split_blocks,
    store_data,
)
from cardkit.readers import CardChannel, VirtualReader

from .fakecard import FakeIsd, aes_kcv

H = bytes.fromhex
APP = H("A0000003330101")
NEW = StaticKeys(H("000102030405060708090A0B0C0D0E0F"), H("101112131415161718191A1B1C1D1E1F"),
                 H("202122232425262728292A2B2C2D2E2F"), kvn=0x31)


def session_on(card: FakeIsd, keys: StaticKeys | None = None,
               level: SecurityLevel = SecurityLevel.C_MAC | SecurityLevel.C_DEC) -> GpSession:
    channel = CardChannel(VirtualReader(card).connect())  # type: ignore[arg-type]
    return open_secure_channel(channel, keys or StaticKeys.default(0x30), level=level)


def aes_cbc(key: bytes, data: bytes) -> bytes:
    return Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor().update(data)


# ------------------------------------------------------------------------------------ PUT KEY
def test_scp02_put_key_block_globalplatformpro_vector() -> None:
    """source: GlobalPlatformPro TestPlaintextKeys.testKeyEncryption_SCP02: 40..4F under the session DEK
    of 40..4F with sequence counter 0000 is EFBEE6C6D99D7B70BDE9D7E927F020AF; KCV (3DES) 8BAF47."""
    card = FakeIsd(scp_version=2, key_sets={0x20: StaticKeys.default(0x20)}, sequence=0)
    session = session_on(card, StaticKeys.default(0x20))
    assert session.scp == 2 and session.sequence_counter == H("0000")
    block = H("8010") + H("EFBEE6C6D99D7B70BDE9D7E927F020AF") + H("03") + H("8BAF47")
    assert put_key_data(session, StaticKeys.default(0x21)) == H("21") + block * 3


def test_scp03_put_key_blocks_amendment_d_layout() -> None:
    """Amendment D §7.2: 88 11 10 <AES-CBC(K-DEK, key), ICV 0> 03 <AES(key, 01*16)[:3]> per key."""
    session = session_on(FakeIsd())
    data = put_key_data(session, NEW)
    want = H("31") + b"".join(H("881110") + aes_cbc(DEFAULT_KEY, k) + H("03") + aes_kcv(k)
                              for k in (NEW.enc, NEW.mac, NEW.dek))
    assert data == want


def test_put_key_adds_a_set_the_card_then_opens() -> None:
    card = FakeIsd()
    session = session_on(card)
    kcvs = put_key(session, NEW)
    assert kcvs == b"".join(aes_kcv(k) for k in (NEW.enc, NEW.mac, NEW.dek))
    sent = [c for c in card.plain if c.ins == 0xD8][0]
    assert (sent.p1, sent.p2) == (0x00, 0x81)
    assert sorted(card.key_sets) == [0x30, 0x31]
    assert session_on(card, NEW).kvn == 0x31


def test_put_key_replaces_and_aes256_pads_nothing() -> None:
    card = FakeIsd()
    big = StaticKeys.single(bytes(range(32)), kvn=0x32)
    put_key(session_on(card), big, replace_kvn=0x30)
    assert sorted(card.key_sets) == [0x32] and card.key_sets[0x32] == big
    sent = [c for c in card.plain if c.ins == 0xD8][0]
    assert sent.p1 == 0x30 and sent.data[1:4] == H("882120")


def test_put_key_aes192_is_padded_and_sized() -> None:
    card = FakeIsd()
    mid = StaticKeys.single(bytes(range(24)), kvn=0x33)
    put_key(session_on(card), mid)
    assert card.key_sets[0x33] == mid
    sent = [c for c in card.plain if c.ins == 0xD8][0]
    assert sent.data[1:4] == H("882118") and len(sent.data) == 1 + 3 * (3 + 32 + 4)


def test_kcv_mismatch_from_the_card_is_gp_error() -> None:
    card = FakeIsd(lie_about_kcv=True)
    with pytest.raises(GpError, match="KCVs 000000000000000000 are not ours"):
        put_key(session_on(card), NEW)


def test_put_key_rejects_bad_kvns_before_sending() -> None:
    card = FakeIsd()
    session = session_on(card)
    with pytest.raises(GpError, match="01..7F"):
        put_key(session, StaticKeys.default(0))
    with pytest.raises(GpError, match="replace"):
        put_key(session, NEW, replace_kvn=0)
    assert not [c for c in card.plain if c.ins == 0xD8]


def test_delete_key() -> None:
    card = FakeIsd(key_sets={0x30: StaticKeys.default(0x30), 0x31: NEW})
    session = session_on(card)
    delete_key(session, 0x31)
    sent = [c for c in card.plain if c.ins == 0xE4]
    assert sent[0].data == H("D20131") and sorted(card.key_sets) == [0x30]
    with pytest.raises(CardError, match="DELETE key set 31.*6A88"):
        delete_key(session, 0x31)


def test_delete_key_with_key_id_data_field() -> None:
    card = FakeIsd()
    session = session_on(card)
    with pytest.raises(CardError):  # the fake only deletes whole sets it has: 0x40 is not one
        delete_key(session, 0x40, key_id=2)
    assert [c for c in card.plain if c.ins == 0xE4][0].data == H("D00102D20140")


# ----------------------------------------------------------------------------------- content
def test_install_data_layout() -> None:
    """GP 2.3 Table 11-48: LV(load file) LV(module) LV(instance) LV(privileges) LV(C9 params) LV(token)."""
    data = install_data(BANK_LOAD_FILE, BANK_MODULE, APP, privileges=H("00"), parameters=H("0102"))
    assert data == (H("09") + BANK_LOAD_FILE + H("0A") + BANK_MODULE + H("07") + APP + H("0100")
                    + H("04C9020102") + H("00"))
    assert install_data(BANK_LOAD_FILE, BANK_MODULE, APP).endswith(H("0100") + H("02C900") + H("00"))
    with pytest.raises(GpError, match="privileges"):
        install_data(BANK_LOAD_FILE, BANK_MODULE, APP, privileges=H("0000"))
    with pytest.raises(GpError, match="5 to 16"):
        install_data(BANK_LOAD_FILE, BANK_MODULE, H("A000"))


def test_install_personalize_delete_on_the_fake() -> None:
    card = FakeIsd()
    session = session_on(card)
    install_for_install(session, BANK_LOAD_FILE, BANK_MODULE, APP)
    install_for_personalization(session, APP)
    perso = [c for c in card.plain if c.ins == 0xE6]
    assert [(c.p1, c.p2) for c in perso] == [(0x0C, 0x00), (0x20, 0x00)]
    assert perso[1].data == H("0000") + H("07") + APP + H("000000")
    assert [e.state for e in get_status(session, Scope.APPLICATIONS)] == ["SELECTABLE"]
    delete(session, APP, related=True)
    assert [c for c in card.plain if c.ins == 0xE4][-1] == CommandAPDU(0x80, 0xE4, 0x00, 0x80, H("4F07") + APP, 256)
    assert get_status(session, Scope.APPLICATIONS) == []


def test_set_status_lock_and_unlock() -> None:
    card = FakeIsd()
    session = session_on(card)
    install_for_install(session, BANK_LOAD_FILE, BANK_MODULE, APP)
    set_status(session, Scope.APPLICATIONS, 0x80, APP)
    assert [e.state for e in get_status(session, Scope.APPLICATIONS)] == ["LOCKED"]
    set_status(session, Scope.APPLICATIONS, 0x00, APP)
    assert [e.state for e in get_status(session, Scope.APPLICATIONS)] == ["SELECTABLE"]
    set_status(session, Scope.ISD, CardLifeCycle.CARD_LOCKED)
    assert [c for c in card.plain if c.ins == 0xF0][-1] == CommandAPDU(0x80, 0xF0, 0x80, 0x7F)
    assert get_status(session, Scope.ISD)[0].state == "CARD_LOCKED"
    with pytest.raises(GpError, match="needs its AID"):
        set_status(session, Scope.APPLICATIONS, 0x80)
    with pytest.raises(GpError, match="scope"):
        set_status(session, Scope.LOAD_FILES, 0x80, APP)


# -------------------------------------------------------------------------------- STORE DATA
def test_dgi_encoding_short_and_ff_forms() -> None:
    """EMV CPS: DGI, then a 1-byte length up to 254, or FF and two bytes from 255 on."""
    assert encode_dgis({0x0101: H("AABB")}) == H("010102AABB")
    assert encode_dgis([(0x8000, bytes(254))])[:3] == H("8000FE")
    assert encode_dgis([(0x8000, bytes(255))])[:5] == H("8000FF00FF")
    assert encode_dgis([(0x9102, bytes(300))])[:5] == H("9102FF012C")
    with pytest.raises(GpError):
        encode_dgis({0x10000: b""})


def test_split_blocks() -> None:
    assert split_blocks(bytes(range(10)), 4) == [bytes(range(4)), bytes(range(4, 8)), bytes(range(8, 10))]
    with pytest.raises(GpError):
        split_blocks(b"x", 0)


def test_store_data_spans_blocks_numbers_them_and_flags_the_last() -> None:
    card = FakeIsd()
    session = session_on(card)  # C-MAC + C-DEC: 239 plain bytes per block
    assert session.max_data == 239
    dgis = {0x0101: bytes(range(200)), 0x0202: bytes(300), 0x8010: H("11") * 16}
    n = store_data(session, dgis)
    stream = encode_dgis(dgis)
    assert n == len(card.stored) == -(-len(stream) // 239)
    assert b"".join(data for _, _, data in card.stored) == stream  # a DGI spans blocks, nothing lost
    assert [p2 for _, p2, _ in card.stored] == list(range(n))
    assert [p1 for p1, _, _ in card.stored] == [0x08] * (n - 1) + [0x88]
    assert all(len(d) == 239 for _, _, d in card.stored[:-1])


def test_store_data_encrypted_flag_and_block_size() -> None:
    card = FakeIsd()
    session = session_on(card, level=SecurityLevel.C_MAC)
    assert session.max_data == 247
    sealed = session.dek_encrypt(bytes(16))  # data preparation enciphers a sensitive DGI for the DEK
    assert store_data(session, [(0x8001, sealed)], encrypted=True, block_size=10) == 2
    assert [p1 for p1, _, _ in card.stored] == [0x68, 0xE8]
    with pytest.raises(GpError, match="does not fit"):
        store_data(session, [(0x0101, b"x")], block_size=248)


def test_more_than_256_blocks_is_refused_before_anything_is_sent() -> None:
    card = FakeIsd()
    session = session_on(card)
    sent_before = len(card.plain)
    with pytest.raises(GpError, match="more than 256"):
        store_data(session, [(0x0101 + i, bytes(250)) for i in range(250)])
    with pytest.raises(GpError, match="no DGIs"):
        store_data(session, {})
    assert len(card.plain) == sent_before


def test_exactly_256_blocks_go_through() -> None:
    card = FakeIsd()
    session = session_on(card, level=SecurityLevel.C_MAC)
    stream_len = 256 * 100
    value = bytes(stream_len - 5)  # DGI (2) + FF LL (3) + value = 256 full blocks of 100
    assert store_data(session, [(0x0101, value)], block_size=100) == 256
    assert card.stored[-1][:2] == (0x88, 0xFF)


# ------------------------------------------------------------------------- the channel itself
def test_scp02_c_dec_round_trip_on_the_fake() -> None:
    """SCP02 i=55 with C-MAC + C-DEC: the fake deciphers and checks every MAC (ICV encryption)."""
    card = FakeIsd(scp_version=2, key_sets={0x20: StaticKeys.default(0x20)}, sequence=7)
    session = session_on(card, StaticKeys.default(0x20))
    install_for_install(session, BANK_LOAD_FILE, BANK_MODULE, APP)
    assert store_data(session, {0x0101: bytes(range(250))}) == 2
    assert b"".join(d for _, _, d in card.stored) == encode_dgis({0x0101: bytes(range(250))})
    assert session.sequence_counter == H("0007")


def test_r_mac_r_enc_level_on_the_fake() -> None:
    card = FakeIsd(i=0x70)
    session = session_on(card, level=SecurityLevel(0x33))
    assert [e.state for e in get_status(session, Scope.ISD)] == ["SECURED"]
    assert "0x30" in repr(session) and "4041" not in repr(session)


def test_scp02_refuses_r_mac_and_long_keys() -> None:
    card = FakeIsd(scp_version=2, key_sets={0x20: StaticKeys.default(0x20)})
    with pytest.raises(GpError, match="R-MAC"):
        session_on(card, StaticKeys.default(0x20), level=SecurityLevel(0x11))
    card = FakeIsd(scp_version=2, key_sets={0x20: StaticKeys.default(0x20)})
    with pytest.raises(GpError, match="16-byte"):
        session_on(card, StaticKeys.single(bytes(32), 0x20))


def test_command_too_long_for_the_channel() -> None:
    session = session_on(FakeIsd())
    with pytest.raises(GpError, match="do not fit"):
        session.transmit(CommandAPDU(0x80, 0xE2, 0x00, 0x00, bytes(240)))
    assert session.transmit(CommandAPDU(0x80, 0xCA, 0x00, 0x42, le=256)).data == H("4203123456")


def test_select_of_a_missing_security_domain() -> None:
    channel = CardChannel(VirtualReader(FakeIsd()).connect())  # type: ignore[arg-type]
    with pytest.raises(CardError, match="SELECT A000000151000001: card answered 6A82"):
        open_secure_channel(channel, StaticKeys.default(), select=ISD_AID[:-1] + b"\x01")


@settings(max_examples=40, deadline=None)
@given(scp_version=st.sampled_from([2, 3]), level=st.sampled_from([0x01, 0x03]),
       blocks=st.lists(st.binary(min_size=0, max_size=239), min_size=1, max_size=6))
def test_any_data_length_survives_the_channel(scp_version: int, level: int, blocks: list[bytes]) -> None:
    """Whatever the length (0..239, block boundaries included), the fake card deciphers the data and
    verifies every chained MAC: the C-DEC counter and the MAC chain stay in step."""
    kvn = 0x30 if scp_version == 3 else 0x20
    card = FakeIsd(scp_version=scp_version, key_sets={kvn: StaticKeys.default(kvn)})
    session = session_on(card, StaticKeys.default(kvn), level=SecurityLevel(level))
    for i, data in enumerate(blocks):
        assert session.send(CommandAPDU(0x80, 0xE2, 0x08, i, data, le=256)) == b""
    assert [d for _, _, d in card.stored] == blocks
