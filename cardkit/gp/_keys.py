"""Static secure channel keys (K-ENC, K-MAC, K-DEK of one key version) and EMV CPS diversification.

A GlobalPlatform security domain holds key sets numbered by a key version number (KVN): SCP03 sets
are AES (GP Card Spec 2.3 Amendment D), SCP02 sets 2-key 3DES (Annex E). Development cards ship
with the well-known test keys 40 41 .. 4F; :meth:`StaticKeys.default` builds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cardkit.crypto.hazmat.ciphers import AES, TripleDES
from cardkit.crypto.hazmat.keys import SupportsEncryptEcb, adjust_parity
from cardkit.crypto.hazmat.keys import kcv as _des_kcv
from cardkit.gp._errors import GpError

__all__ = ["DEFAULT_KEY", "StaticKeys", "SupportsEncryptEcb", "diversify_emv", "key_check_value"]

#: The GlobalPlatform test key printed in every development kit: 40 41 42 .. 4F.
DEFAULT_KEY = bytes(range(0x40, 0x50))

_AES_KCV_BLOCK = b"\x01" * 16  # Amendment D §7.2: KCV of an AES key = AES(key, 01 * 16), first 3 bytes


def key_check_value(key: bytes, scp: int) -> bytes:
    """The 3-byte KCV PUT KEY carries: SCP03 ``AES(key, 01*16)[:3]``, SCP02 ``3DES(key, 00*8)[:3]``."""
    if scp == 3:
        return AES(key).encrypt_ecb(_AES_KCV_BLOCK)[:3]
    if scp == 2:
        return _des_kcv(key, 3)
    raise GpError(f"no KCV rule for SCP{scp:02d}")


def _check_key(key: bytes, what: str) -> bytes:
    if not isinstance(key, bytes | bytearray):
        raise GpError(f"{what} must be bytes")
    if len(key) not in (16, 24, 32):
        raise GpError(f"{what} must be 16, 24 or 32 bytes, got {len(key)}")
    return bytes(key)


@dataclass(frozen=True, slots=True)
class StaticKeys:
    """One key set of a security domain: K-ENC, K-MAC, K-DEK and its key version number.

    Values are 16 bytes for SCP02 (2-key 3DES) and 16, 24 or 32 bytes for SCP03 (AES); which
    protocol is used is the card's choice, read from INITIALIZE UPDATE. ``kvn`` 0 lets the card
    pick its default set. ``repr`` shows only key check values, never the keys.

    Raises:
        GpError: a key of another length, keys of different lengths, a KVN outside 0..255.
    """

    enc: bytes = field(repr=False)
    mac: bytes = field(repr=False)
    dek: bytes = field(repr=False)
    kvn: int = 0

    def __post_init__(self) -> None:
        for name in ("enc", "mac", "dek"):
            object.__setattr__(self, name, _check_key(getattr(self, name), f"K-{name.upper()}"))
        if len({len(self.enc), len(self.mac), len(self.dek)}) != 1:
            raise GpError("K-ENC, K-MAC and K-DEK of one key set must have the same length")
        if not isinstance(self.kvn, int) or not 0 <= self.kvn <= 0xFF:
            raise GpError(f"key version number {self.kvn!r} is not a byte")

    @classmethod
    def default(cls, kvn: int = 0) -> StaticKeys:
        """The published test keys 40..4F for ENC, MAC and DEK (never for a card in the field)."""
        return cls(DEFAULT_KEY, DEFAULT_KEY, DEFAULT_KEY, kvn)

    @classmethod
    def single(cls, key: bytes, kvn: int = 0) -> StaticKeys:
        """One value for all three keys, as development cards and GlobalPlatformPro's ``--key`` use."""
        return cls(key, key, key, kvn)

    @property
    def is_default(self) -> bool:
        """Whether all three keys are the published test key (callers warn about it)."""
        return self.enc == self.mac == self.dek == DEFAULT_KEY

    def kcvs(self, scp: int) -> tuple[bytes, bytes, bytes]:
        """KCVs of ENC, MAC and DEK as the card computes them for ``scp`` (2 or 3)."""
        return (key_check_value(self.enc, scp), key_check_value(self.mac, scp), key_check_value(self.dek, scp))

    def __repr__(self) -> str:
        scps = (3, 2) if len(self.enc) == 16 else (3,)
        parts = []
        for scp in scps:
            enc, mac, dek = (k.hex().upper() for k in self.kcvs(scp))
            parts.append(f"SCP0{scp} KCV enc={enc} mac={mac} dek={dek}")
        return f"StaticKeys(kvn=0x{self.kvn:02X}, {len(self.enc)}-byte, {'; '.join(parts)})"


def diversify_emv(master: bytes | SupportsEncryptEcb, diversification_data: bytes, *,
                  algorithm: str = "aes", kvn: int = 0) -> StaticKeys:
    """Card keys from an issuer master key, EMV CPS style (GlobalPlatformPro's "emv" template).

    KEYDATA = bytes 4..9 of the 10-byte key diversification data (the first field of the INITIALIZE
    UPDATE response, also GET DATA 00CF on many cards); key i (1 ENC, 2 MAC, 3 DEK) =
    ECB(master, KEYDATA || F0 0i || KEYDATA || 0F 0i), 16 bytes, odd parity for "3des".

    Args:
        master: the master key bytes (AES 16/24/32 bytes, or 16/24-byte 3DES), or an object whose
            ``encrypt_ecb`` runs the master key where it lives.
        diversification_data: the 10 bytes the card returned.
        algorithm: ``"aes"`` (one AES block) or ``"3des"`` (two 3DES blocks).
        kvn: the key version number to give the result.

    Raises:
        GpError: wrong data length, unknown algorithm, or a master that did not return 16 bytes.
    """
    if len(diversification_data) != 10:
        raise GpError(f"key diversification data must be 10 bytes, got {len(diversification_data)}")
    algo = algorithm.lower()
    if algo not in ("aes", "3des"):
        raise GpError(f"unknown diversification algorithm {algorithm!r}: use 'aes' or '3des'")
    if isinstance(master, bytes | bytearray):
        cipher: SupportsEncryptEcb = AES(bytes(master)) if algo == "aes" else TripleDES(bytes(master))
    else:
        cipher = master
    keydata = bytes(diversification_data[4:10])
    keys = []
    for i in (1, 2, 3):
        out = bytes(cipher.encrypt_ecb(keydata + bytes((0xF0, i)) + keydata + bytes((0x0F, i))))
        if len(out) != 16:
            raise GpError(f"the master key returned {len(out)} bytes for a 16-byte diversification block")
        keys.append(adjust_parity(out) if algo == "3des" else out)
    return StaticKeys(keys[0], keys[1], keys[2], kvn)
