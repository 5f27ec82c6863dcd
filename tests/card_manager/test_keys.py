"""PUT KEY and DELETE key: new key sets under SCP03 and SCP02, KCV checks, what may not be deleted."""

from __future__ import annotations

import pytest

from applets.card_manager import DEFAULT_KEY, CardManager, KeyType, key_check_value
from applets.runtime import SimulatedCard

from .kit import ISD, H, HostError, apdu, blank_card, open_scp02, open_scp03, put_key_data, select, send

NEW = [bytes(range(0x10 * i, 0x10 * i + 16)) for i in (1, 2, 3)]  # ENC, MAC, DEK of the new set


@pytest.fixture
def card() -> SimulatedCard:
    c = blank_card()
    assert select(c, ISD) == 0x9000
    return c


def cm(card: SimulatedCard) -> CardManager:
    manager = card.applet(ISD)
    assert isinstance(manager, CardManager)
    return manager


def test_kcv_known_answers() -> None:
    # GlobalPlatformPro's own output for its default key 404142..4F: "(KCV: 8BAF47)" for the
    # 3DES key (PUT KEY debug log for SCP02) and "(KCV: 504A77)" for the AES key.
    assert key_check_value(KeyType.DES, DEFAULT_KEY) == H("8BAF47")
    assert key_check_value(KeyType.AES, DEFAULT_KEY) == H("504A77")


def test_put_key_scp03_adds_a_set_that_opens_sessions(card: SimulatedCard) -> None:
    host = open_scp03(card, level=0x03)
    data = put_key_data(host, 0x31, [(KeyType.AES, k) for k in NEW])
    assert data[1:4] == H("881110")  # Amendment D §7.2 block: type, length 17, clear key length 16
    rsp, sw = host.send(apdu(0x80, 0xD8, 0x00, 0x81, data, le=0))
    assert sw == 0x9000
    assert rsp == b"\x31" + b"".join(key_check_value(KeyType.AES, k) for k in NEW)
    assert [ks.kvn for ks in cm(card).key_sets()] == [0x30, 0x20, 0x31]
    select(card, ISD)
    with pytest.raises(HostError):
        open_scp03(card, kvn=0x31)  # the default keys do not open it
    select(card, ISD)
    host = open_scp03(card, kvn=0x31, enc=NEW[0], mac=NEW[1], dek=NEW[2], level=0x33)
    assert host.send("80F28002024F0000")[1] == 0x9000


def test_put_key_scp02_replaces_its_own_set(card: SimulatedCard) -> None:
    host = open_scp02(card, level=0x03)
    data = put_key_data(host, 0x21, [(KeyType.DES, k) for k in NEW])
    assert data[1:3] == H("8010")  # 3DES-ECB under the session DEK, no length byte
    rsp, sw = host.send(apdu(0x80, 0xD8, 0x20, 0x81, data, le=0))
    assert sw == 0x9000 and rsp == b"\x21" + b"".join(key_check_value(KeyType.DES, k) for k in NEW)
    assert [ks.kvn for ks in cm(card).key_sets()] == [0x30, 0x21]  # replaced in place, renumbered
    assert host.send("80F28002024F0000")[1] == 0x9000  # the open session keeps its session keys
    select(card, ISD)
    host = open_scp02(card, kvn=0x21, enc=NEW[0], mac=NEW[1], dek=NEW[2])
    assert host.send("80F28002024F0000")[1] == 0x9000


def test_put_key_one_key_of_a_set(card: SimulatedCard) -> None:
    host = open_scp03(card)
    component = host.encrypt_key(NEW[2])
    data = b"\x30\x88" + bytes((len(component),)) + component + b"\x03" + key_check_value(KeyType.AES, NEW[2])
    rsp, sw = host.send(apdu(0x80, 0xD8, 0x30, 0x03, data, le=0))
    assert sw == 0x9000 and rsp == b"\x30" + key_check_value(KeyType.AES, NEW[2])
    ks = cm(card).key_set(0x30)
    assert ks is not None and ks.dek == NEW[2] and ks.enc == DEFAULT_KEY
    assert "1011" not in repr(ks) and "4041" not in repr(ks)


def test_pysim_style_block_without_length_byte_is_accepted(card: SimulatedCard) -> None:
    """pySim sends a 16-byte AES key as the bare ciphertext (GP 2.3 Table 11-71): 88 10 <16>."""
    host = open_scp03(card)
    blocks = b"".join(b"\x88\x10" + host.encrypt_key(k)[1:] + b"\x03" + key_check_value(KeyType.AES, k) for k in NEW)
    assert host.send(apdu(0x80, 0xD8, 0x00, 0x81, b"\x32" + blocks, le=0))[1] == 0x9000


def test_wrong_kcv_is_6a80_and_stores_nothing(card: SimulatedCard) -> None:
    host = open_scp03(card)
    data = bytearray(put_key_data(host, 0x31, [(KeyType.AES, k) for k in NEW]))
    data[-1] ^= 0xFF  # the DEK's KCV
    before = card.store.committed()
    assert host.send(apdu(0x80, 0xD8, 0x00, 0x81, bytes(data), le=0))[1] == 0x6A80
    assert card.store.committed() == before


@pytest.mark.parametrize("mutate", ["truncated", "type", "kvn_taken", "two_keys_new_set", "bad_length"])
def test_malformed_put_key(card: SimulatedCard, mutate: str) -> None:
    host = open_scp03(card)
    data = put_key_data(host, 0x31, [(KeyType.AES, k) for k in NEW])
    p1, p2 = 0x00, 0x81
    if mutate == "truncated":
        data = data[:-2]
    elif mutate == "type":
        data = data[:1] + b"\x81" + data[2:]
    elif mutate == "kvn_taken":
        data = b"\x20" + data[1:]
    elif mutate == "two_keys_new_set":
        data = data[: 1 + 2 * 22]
    elif mutate == "bad_length":
        data = data[:2] + b"\x12" + data[3:]
    before = card.store.committed()
    assert host.send(apdu(0x80, 0xD8, p1, p2, data, le=0))[1] == 0x6A80
    assert card.store.committed() == before


def test_put_key_needs_cmac_and_a_known_set(card: SimulatedCard) -> None:
    host = open_scp03(card)
    data = put_key_data(host, 0x31, [(KeyType.AES, k) for k in NEW])
    assert host.send(apdu(0x80, 0xD8, 0x45, 0x81, data, le=0))[1] == 0x6A88
    assert host.send(apdu(0x80, 0xD8, 0x00, 0x84, data, le=0))[1] == 0x6A86


def test_delete_key_set(card: SimulatedCard) -> None:
    host = open_scp03(card)
    assert host.send(apdu(0x80, 0xE4, 0x00, 0x00, H("D20130"), le=0))[1] == 0x6985  # the set in use
    assert host.send(apdu(0x80, 0xE4, 0x00, 0x00, H("D20177"), le=0))[1] == 0x6A88
    assert host.send(apdu(0x80, 0xE4, 0x00, 0x00, H("D20120"), le=0)) == (b"\x00", 0x9000)
    assert [ks.kvn for ks in cm(card).key_sets()] == [0x30]
    select(card, ISD)
    assert send(card, apdu(0x80, 0x50, 0x20, 0x00, bytes(8), le=0))[1] == 0x6A88
    host = open_scp03(card)
    data = put_key_data(host, 0x31, [(KeyType.AES, k) for k in NEW])
    assert host.send(apdu(0x80, 0xD8, 0x00, 0x81, data, le=0))[1] == 0x9000
    # from a session on 31, the last other set may go, but then 31 is the last usable one
    select(card, ISD)
    host = open_scp03(card, kvn=0x31, enc=NEW[0], mac=NEW[1], dek=NEW[2])
    assert host.send(apdu(0x80, 0xE4, 0x00, 0x00, H("D20130"), le=0))[1] == 0x9000
    select(card, ISD)
    host = open_scp03(card, enc=NEW[0], mac=NEW[1], dek=NEW[2])  # KVN 00 is now 31
    assert host.send(apdu(0x80, 0xE4, 0x00, 0x00, H("D20131D00101"), le=0))[1] == 0x6985


def test_delete_one_key_leaves_an_incomplete_set(card: SimulatedCard) -> None:
    host = open_scp03(card)
    assert host.send(apdu(0x80, 0xE4, 0x00, 0x00, H("D20120D00103"), le=0))[1] == 0x9000
    ks = cm(card).key_set(0x20)
    assert ks is not None and not ks.complete and ks.dek is None
    select(card, ISD)
    assert send(card, apdu(0x80, 0x50, 0x20, 0x00, bytes(8), le=0))[1] == 0x6A88


def test_scp02_put_aes_set(card: SimulatedCard) -> None:
    """A DES session may load AES keys: 16 bytes are two 3DES blocks, no length byte needed."""
    host = open_scp02(card)
    data = put_key_data(host, 0x31, [(KeyType.AES, k) for k in NEW])
    assert host.send(apdu(0x80, 0xD8, 0x00, 0x81, data, le=0))[1] == 0x9000
    select(card, ISD)
    open_scp03(card, kvn=0x31, enc=NEW[0], mac=NEW[1], dek=NEW[2])
