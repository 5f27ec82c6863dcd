"""ISO/IEC 9797-1 MAC algorithms 1 and 3 and CMAC, as single-use ``update/finalize/verify`` contexts.

- :class:`CbcMac` — MAC algorithm 1 (plain CBC-MAC, IV 0) over any :class:`BlockCipher`
  (DES as PBOC purse MACs use, 3DES, SM4 for PBOC's SM4 variants, AES).
- :class:`RetailMac` — MAC algorithm 3 for 8-byte blocks: single-DES CBC with K1, the last block
  through 3DES K1-K2-K1 (the EMV Book 2 A1.2.1 and ICAO 9303-11 §9.8.6 "retail MAC").
- :class:`Cmac` — CMAC (NIST SP 800-38B) with AES or SM4, from ``cryptography``.

The padding method is chosen by the caller here (0 = none, data must fill whole blocks; 1; 2);
recipes in :mod:`cardkit.crypto` choose it for you. ``finalize`` returns the whole last block;
``verify`` accepts a truncated tag (4 bytes up to the block) and compares in constant time.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import cmac as _cmac
from cryptography.hazmat.primitives.ciphers import algorithms as _algorithms

from cardkit.crypto.hazmat._base import AlreadyFinalized, InvalidMac, check_key_length, constant_time_equal
from cardkit.crypto.hazmat.ciphers import DES, BlockCipher, TripleDES
from cardkit.crypto.hazmat.padding import pad_method_1, pad_method_2
from cardkit.errors import CryptoError

__all__ = ("CbcMac", "Cmac", "RetailMac", "RetailMacKey", "cbc_mac", "cmac", "retail_mac")

MIN_TAG = 4


def _pad(buf: bytes, padding: int, bs: int, total: int) -> bytes:
    if padding == 2:
        return pad_method_2(buf, bs)
    if padding == 1:
        return pad_method_1(buf, bs)
    if padding == 0:
        if total == 0 or len(buf) % bs:
            raise CryptoError(f"unpadded MAC input must be a non-empty multiple of {bs} bytes, got {total}")
        return bytes(buf)
    raise CryptoError(f"unknown ISO 9797-1 padding method {padding!r} (use 0, 1 or 2)")


def _check_tag(tag: bytes, bs: int) -> None:
    if not MIN_TAG <= len(tag) <= bs:
        raise CryptoError(f"MAC to verify must be {MIN_TAG}..{bs} bytes, got {len(tag)}")


class _ChainedMac:
    """CBC-MAC skeleton: whole blocks go through ``_step`` as they arrive, the last through ``_last``."""

    __slots__ = ("_buf", "_bs", "_done", "_padding", "_state", "_total")

    def __init__(self, block_size: int, padding: int) -> None:
        if padding not in (0, 1, 2):
            raise CryptoError(f"unknown ISO 9797-1 padding method {padding!r} (use 0, 1 or 2)")
        self._bs = block_size
        self._padding = padding
        self._buf = bytearray()
        self._state = 0
        self._total = 0
        self._done = False

    def _step(self, state: int, block: bytes) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    def _last(self, state: int, block: bytes) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    def update(self, data: bytes) -> None:
        """Feed more message bytes."""
        if self._done:
            raise AlreadyFinalized("MAC context already finalized")
        self._buf += data
        self._total += len(data)
        bs = self._bs
        if len(self._buf) > bs:
            keep = len(self._buf) - ((len(self._buf) - 1) // bs) * bs  # 1..bs bytes stay buffered
            end = len(self._buf) - keep
            state = self._state
            buf = bytes(self._buf)
            for i in range(0, end, bs):
                state = self._step(state, buf[i : i + bs])
            self._state = state
            del self._buf[:end]

    def finalize(self) -> bytes:
        """Pad, finish and return the full MAC block (truncate as the scheme says)."""
        if self._done:
            raise AlreadyFinalized("MAC context already finalized")
        self._done = True
        bs = self._bs
        data = _pad(bytes(self._buf), self._padding, bs, self._total)
        self._buf.clear()
        state = self._state
        for i in range(0, len(data) - bs, bs):
            state = self._step(state, data[i : i + bs])
        return self._last(state, data[-bs:]).to_bytes(bs, "big")

    def verify(self, tag: bytes) -> None:
        """Finish and compare with ``tag`` (its length decides the truncation); :class:`InvalidMac` if unequal."""
        _check_tag(tag, self._bs)
        if not constant_time_equal(self.finalize()[: len(tag)], bytes(tag)):
            raise InvalidMac("MAC does not verify")


class CbcMac(_ChainedMac):
    """ISO 9797-1 MAC algorithm 1: CBC-MAC with IV 0 over ``cipher``."""

    __slots__ = ("_cipher",)

    def __init__(self, cipher: BlockCipher, *, padding: int) -> None:
        super().__init__(cipher.block_size, padding)
        self._cipher = cipher

    def _step(self, state: int, block: bytes) -> int:
        return self._cipher.chain(state, block)

    _last = _step


class RetailMacKey:
    """The two cipher objects a retail MAC needs (DES K1 for the chain, 3DES K1K2K1 for the end).

    Build once and pass to :class:`RetailMac` when one key MACs many messages.
    """

    __slots__ = ("des", "tdes")

    def __init__(self, key: bytes) -> None:
        check_key_length(key, (16,), "retail MAC")
        self.des = DES(bytes(key[:8]))
        self.tdes = TripleDES(bytes(key))

    def __repr__(self) -> str:
        return f"<RetailMacKey {self.tdes.key_size}-byte key>"


class RetailMac(_ChainedMac):
    """ISO 9797-1 MAC algorithm 3 (8-byte blocks): DES-CBC with K1, last block 3DES (D K2, E K1)."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes | RetailMacKey, *, padding: int) -> None:
        super().__init__(8, padding)
        self._key = key if isinstance(key, RetailMacKey) else RetailMacKey(key)

    def _step(self, state: int, block: bytes) -> int:
        return self._key.des.chain(state, block)

    def _last(self, state: int, block: bytes) -> int:
        # E_K1(D_K2(E_K1(x))) is one 3DES-EDE encryption under K1K2K1.
        return self._key.tdes.chain(state, block)


class Cmac:
    """CMAC (NIST SP 800-38B) with AES (16/24/32-byte key) or SM4 (``sm4=True``); 16-byte tag."""

    __slots__ = ("_ctx", "_done")

    def __init__(self, key: bytes, *, sm4: bool = False) -> None:
        if sm4:
            check_key_length(key, (16,), "SM4-CMAC")
            alg: _algorithms.AES | _algorithms.SM4 = _algorithms.SM4(bytes(key))
        else:
            check_key_length(key, (16, 24, 32), "AES-CMAC")
            alg = _algorithms.AES(bytes(key))
        self._ctx = _cmac.CMAC(alg)
        self._done = False

    def update(self, data: bytes) -> None:
        """Feed more message bytes."""
        if self._done:
            raise AlreadyFinalized("MAC context already finalized")
        self._ctx.update(bytes(data))

    def finalize(self) -> bytes:
        """Return the 16-byte CMAC."""
        if self._done:
            raise AlreadyFinalized("MAC context already finalized")
        self._done = True
        return self._ctx.finalize()

    def verify(self, tag: bytes) -> None:
        """Compare with a (possibly truncated, 4..16-byte) tag in constant time."""
        _check_tag(tag, 16)
        if not constant_time_equal(self.finalize()[: len(tag)], bytes(tag)):
            raise InvalidMac("MAC does not verify")


def cbc_mac(cipher: BlockCipher, data: bytes, *, padding: int) -> bytes:
    """One-shot :class:`CbcMac` (the full last block)."""
    return cipher.cbc_last_block(_pad(data, padding, cipher.block_size, len(data)))


def retail_mac(key: bytes | RetailMacKey, data: bytes, *, padding: int) -> bytes:
    """One-shot :class:`RetailMac` (8 bytes)."""
    k = key if isinstance(key, RetailMacKey) else RetailMacKey(key)
    padded = _pad(data, padding, 8, len(data))
    h = k.des.cbc_last_block(padded[:-8]) if len(padded) > 8 else bytes(8)
    # E_K1(D_K2(E_K1(x XOR h))) is one 3DES-EDE CBC step under K1K2K1 with IV h.
    return k.tdes.encrypt_cbc(padded[-8:], h)


def cmac(key: bytes, data: bytes, *, sm4: bool = False) -> bytes:
    """One-shot :class:`Cmac` (16 bytes)."""
    m = Cmac(key, sm4=sm4)
    m.update(data)
    return m.finalize()
