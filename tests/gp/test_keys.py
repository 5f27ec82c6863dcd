"""StaticKeys, KCVs and EMV CPS diversification."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from cardkit.crypto.hazmat.keys import has_odd_parity, kcv
from cardkit.gp import DEFAULT_KEY, GpError, StaticKeys, diversify_emv, key_check_value

H = bytes.fromhex
KDD = H("00010203040506070809")  # the diversification data of GlobalPlatformPro's TestPlaintextKeys


def test_emv_3des_diversification_globalplatformpro_vector() -> None:
    """source: martinpaljak/GlobalPlatformPro library/src/test/java/pro/javacard/gp/test/TestPlaintextKeys.java,
    testDiversification_EMV_SCP02: master 40..4F, KDD 00..09 -> KCVs C33013, 6F4CA6, BB8179."""
    keys = diversify_emv(DEFAULT_KEY, KDD, algorithm="3des")
    assert [kcv(k).hex().upper() for k in (keys.enc, keys.mac, keys.dek)] == ["C33013", "6F4CA6", "BB8179"]
    assert all(has_odd_parity(k) for k in (keys.enc, keys.mac, keys.dek))


def test_emv_aes_diversification_matches_raw_aes() -> None:
    """No public AES vector found (GlobalPlatformPro feeds its "emv" template to the SCP03 KDF for
    AES cards instead): checked against AES-ECB done directly with `cryptography`."""
    master = H("4B4D434B4D434B4D0000000000000021")
    keys = diversify_emv(master, KDD, kvn=0x30)
    aes = Cipher(algorithms.AES(master), modes.ECB()).encryptor()
    for i, key in enumerate((keys.enc, keys.mac, keys.dek), 1):
        assert key == aes.update(KDD[4:] + bytes((0xF0, i)) + KDD[4:] + bytes((0x0F, i)))
    assert keys.kvn == 0x30


class HeldKey:
    """A master key held by a keystore: it only encrypts, and counts its uses."""

    def __init__(self, key: bytes) -> None:
        self._cipher = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
        self.calls = 0

    def encrypt_ecb(self, data: bytes) -> bytes:
        self.calls += 1
        return self._cipher.update(data)


def test_a_held_master_key_gives_the_same_keys() -> None:
    master = H("000102030405060708090A0B0C0D0E0F")
    held = HeldKey(master)
    assert diversify_emv(held, KDD) == diversify_emv(master, KDD)
    assert held.calls == 3


@pytest.mark.parametrize("call", [
    lambda: diversify_emv(DEFAULT_KEY, KDD[:9]),
    lambda: diversify_emv(DEFAULT_KEY, KDD, algorithm="sm4"),
    lambda: diversify_emv(type("Short", (), {"encrypt_ecb": lambda self, d: d[:8]})(), KDD),
    lambda: StaticKeys(bytes(15), bytes(15), bytes(15)),
    lambda: StaticKeys(bytes(16), bytes(32), bytes(16)),
    lambda: StaticKeys.default(kvn=256),
])
def test_bad_key_material_is_gp_error(call: object) -> None:
    with pytest.raises(GpError):
        call()  # type: ignore[operator]


def test_kcvs_globalplatformpro_vectors() -> None:
    """TestPlaintextKeys: the AES KCV of 40..4F (its static SCP03 DEK) is 504A77; the 3DES KCV of
    40..4F (its static SCP01 DEK) is 8BAF47."""
    assert key_check_value(DEFAULT_KEY, 3) == H("504A77")
    assert key_check_value(DEFAULT_KEY, 2) == H("8BAF47")
    assert StaticKeys.default().kcvs(3) == (H("504A77"),) * 3


def test_repr_shows_kcvs_never_keys() -> None:
    keys = StaticKeys.single(H("000102030405060708090A0B0C0D0E0F"), kvn=0x30)
    text = repr(keys)
    assert "000102" not in text and "0001020304" not in text.lower()
    assert "kvn=0x30" in text and "KCV" in text
    assert StaticKeys.default().is_default and not keys.is_default
