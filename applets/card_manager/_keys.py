"""Key sets of the issuer security domain: values, KCVs, the key information template, PUT KEY blocks.

A key set is one key version number (KVN) holding key 1 (ENC), 2 (MAC) and 3 (DEK), all of one type:
``88`` AES (SCP03, GP 2.3 Amendment D) or ``80`` DES (2-key 3DES, SCP02, GP 2.3 Annex E).
KCVs: AES — first 3 bytes of AES(key, 01*16) (Amendment D §7.2); DES — first 3 bytes of
3DES(key, 00*8) (GP 2.3 §11.8.2.3). Store form: ``ks/<KVN>`` = ``{"type": 0x88, "1": .., "2": .., "3": ..}``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from applets.card_manager._codes import Refusal
from cardkit.apdu import SW
from cardkit.crypto.hazmat import AES, constant_time_equal, kcv
from cardkit.tlv import build

__all__ = [
    "DEFAULT_KEY",
    "KEY_DEK",
    "KEY_ENC",
    "KEY_MAC",
    "KeySet",
    "KeyType",
    "NewKey",
    "default_key_sets",
    "key_check_value",
    "key_information",
    "parse_put_key",
]

KEY_ENC, KEY_MAC, KEY_DEK = 1, 2, 3
_KEY_IDS = (KEY_ENC, KEY_MAC, KEY_DEK)
#: The well-known GlobalPlatform test key 40 41 .. 4F (every blank card's ENC, MAC and DEK).
DEFAULT_KEY = bytes(range(0x40, 0x50))
_AES_KCV_BLOCK = b"\x01" * 16


class KeyType(enum.IntEnum):
    """GP 2.3 Table 11-16 key type coding (the two this card holds)."""

    DES = 0x80  # 2-key triple DES in CBC/ECB, SCP02
    AES = 0x88  # SCP03


_LENGTHS = {KeyType.DES: (16,), KeyType.AES: (16, 24, 32)}


def key_check_value(key_type: int, key: bytes) -> bytes:
    """The 3-byte KCV GlobalPlatform uses for a key of this type."""
    if key_type == KeyType.AES:
        return AES(key).encrypt_ecb(_AES_KCV_BLOCK)[:3]
    return kcv(key, 3)


@dataclass(frozen=True, slots=True)
class KeySet:
    """One key version: ENC, MAC and DEK of one type (``None`` where a key was deleted).

    ``repr`` shows the KVN, the type and KCVs — never a key.
    """

    kvn: int
    key_type: int
    enc: bytes | None = field(default=None, repr=False)
    mac: bytes | None = field(default=None, repr=False)
    dek: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not 0x01 <= self.kvn <= 0x7F:
            raise ValueError(f"a key version number is 01..7F, got {self.kvn:#04x}")
        if self.key_type not in _LENGTHS:
            raise ValueError(f"key type {self.key_type:#04x} is not AES (88) or DES (80)")
        for key in (self.enc, self.mac, self.dek):
            if key is not None and len(key) not in _LENGTHS[KeyType(self.key_type)]:
                raise ValueError(f"a {KeyType(self.key_type).name} key of {len(key)} bytes is not supported")

    def __repr__(self) -> str:
        kcvs = " ".join(f"{i}:{key_check_value(self.key_type, k).hex().upper()}" for i, k in self.keys().items())
        return f"KeySet(kvn={self.kvn:#04x}, type={KeyType(self.key_type).name}, kcv=[{kcvs}])"

    @property
    def scp(self) -> int:
        """The secure channel protocol this set opens: 3 for AES, 2 for DES."""
        return 3 if self.key_type == KeyType.AES else 2

    @property
    def complete(self) -> bool:
        return None not in (self.enc, self.mac, self.dek)

    def keys(self) -> dict[int, bytes]:
        """Key id → value, for the keys present."""
        return {i: k for i, k in zip(_KEY_IDS, (self.enc, self.mac, self.dek), strict=True) if k is not None}

    def key(self, key_id: int) -> bytes:
        value = self.keys().get(key_id)
        if value is None:
            raise KeyError(key_id)
        return value

    def with_keys(self, kvn: int, keys: Mapping[int, bytes]) -> KeySet:
        """A copy under ``kvn`` with the given keys replaced."""
        merged = {**self.keys(), **keys}
        return KeySet(kvn, self.key_type, merged.get(KEY_ENC), merged.get(KEY_MAC), merged.get(KEY_DEK))

    def without(self, key_id: int) -> KeySet:
        keys = self.keys()
        keys.pop(key_id, None)
        return KeySet(self.kvn, self.key_type, keys.get(KEY_ENC), keys.get(KEY_MAC), keys.get(KEY_DEK))

    def has_default_keys(self) -> bool:
        """Whether any key is still the well-known 40..4F test key."""
        return any(constant_time_equal(k, DEFAULT_KEY) for k in self.keys().values())

    # -- persistent form ---------------------------------------------------------------------------
    def to_store(self) -> dict[str, Any]:
        return {"type": self.key_type, **{str(i): k for i, k in self.keys().items()}}

    @classmethod
    def from_store(cls, kvn: int, value: Mapping[str, Any]) -> KeySet:
        return cls(kvn, int(value["type"]), value.get("1"), value.get("2"), value.get("3"))


def default_key_sets() -> tuple[KeySet, KeySet]:
    """A blank card's two sets: KVN 30 AES (SCP03, i=70) and KVN 20 DES (SCP02, i=55), all 40..4F."""
    k = DEFAULT_KEY
    return KeySet(0x30, KeyType.AES, k, k, k), KeySet(0x20, KeyType.DES, k, k, k)


def key_information(sets: list[KeySet]) -> bytes:
    """GET DATA 00E0: ``E0 { C0 04 key-id KVN type length }`` per key (GP 2.3 §11.3.3.1, basic format)."""
    body = b"".join(
        build(0xC0, bytes((key_id, ks.kvn, ks.key_type, len(value))))
        for ks in sorted(sets, key=lambda s: s.kvn)
        for key_id, value in ks.keys().items()
    )
    return build(0xE0, body)


@dataclass(frozen=True, slots=True)
class NewKey:
    """One key of a PUT KEY command, decrypted and checked against its KCV."""

    key_id: int
    key_type: int
    value: bytes = field(repr=False)

    @property
    def kcv(self) -> bytes:
        return key_check_value(self.key_type, self.value)


def _key_value(component: bytes, decrypt: Callable[[bytes], bytes], block: int) -> bytes:
    """Decrypt one key component block (GP 2.3 Tables 11-70/11-71, Amendment D §7.2).

    A multiple of the DEK block is the enciphered key itself; one byte more is the clear key length
    followed by the enciphered, right-padded key (``88 11 10 <16 bytes>`` for an AES-128 key).
    """
    n = len(component)
    if n and n % block == 0:
        return decrypt(component)
    if n > 1 and (n - 1) % block == 0:
        length, plain = component[0], decrypt(component[1:])
        if 0 < length <= len(plain) and len(plain) - length < block:
            return plain[:length]
    raise Refusal(SW.WRONG_DATA, "malformed key component block")


def parse_put_key(data: bytes, first_id: int, multiple: bool, decrypt: Callable[[bytes], bytes],
                  block: int) -> tuple[int, list[NewKey]]:
    """The new KVN and the keys of a PUT KEY data field (GP 2.3 §11.8.2.3, Table 11-68).

    ``data`` = new KVN || (type, length, key component, KCV length, KCV)* — one key unless
    ``multiple`` (P2 b8). Every key must decrypt to a valid length and match its KCV.

    Raises:
        Refusal: 6A80 for anything malformed, an unknown type, a wrong length or a wrong KCV.
    """
    if not data:
        raise Refusal(SW.WRONG_DATA, "PUT KEY without data")
    kvn, pos, keys = data[0], 1, []
    key_id = first_id
    while pos < len(data):
        if pos + 2 > len(data):
            raise Refusal(SW.WRONG_DATA, "truncated key block")
        key_type, length = data[pos], data[pos + 1]
        component = data[pos + 2 : pos + 2 + length]
        pos += 2 + length
        if len(component) != length or pos >= len(data):
            raise Refusal(SW.WRONG_DATA, "truncated key block")
        kcv_len = data[pos]
        given = data[pos + 1 : pos + 1 + kcv_len]
        pos += 1 + kcv_len
        if len(given) != kcv_len or kcv_len not in (0, 3):
            raise Refusal(SW.WRONG_DATA, "key check value must be 3 bytes")
        if key_type not in _LENGTHS:
            raise Refusal(SW.WRONG_DATA, f"key type {key_type:02X} not supported")
        value = _key_value(component, decrypt, block)
        if len(value) not in _LENGTHS[KeyType(key_type)]:
            raise Refusal(SW.WRONG_DATA, "key length not supported")
        new = NewKey(key_id, key_type, value)
        if kcv_len and not constant_time_equal(new.kcv, given):
            raise Refusal(SW.WRONG_DATA, f"key {key_id}: wrong key check value")
        keys.append(new)
        key_id += 1
    if not keys or (not multiple and len(keys) != 1) or key_id - 1 > KEY_DEK:
        raise Refusal(SW.WRONG_DATA, "wrong number of keys for P2")
    if len({k.key_type for k in keys}) != 1:
        raise Refusal(SW.WRONG_DATA, "the keys of one set must be of one type")
    return kvn, keys
