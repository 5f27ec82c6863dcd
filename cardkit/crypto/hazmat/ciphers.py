"""Raw block ciphers for card work: DES, 2-key/3-key 3DES, AES, SM4 in ECB and CBC, no padding.

The caller pads (see :mod:`cardkit.crypto.hazmat.padding`). Building an OpenSSL cipher context
(``Cipher(...).encryptor()``) costs far more than a block operation (STYLE §12), so each object
builds its algorithm once (2-key 3DES expanded to 24 bytes once) and creates contexts lazily: the
first ECB call keeps an ECB context alive for every later call (a key used many times, such as
an issuer master key, then costs one ``update`` per call), while a one-off CBC or CBC-MAC on a
fresh key uses a single CBC context and one ``update`` for all blocks. DES and 3DES go through
``cryptography.hazmat.decrepit`` with 24-byte keys (K1K2K1 for 2-key, K1K1K1 for single DES),
which avoids the deprecated path and its warnings.

Objects are not thread-safe (the live contexts are shared); use one per thread. :func:`cached`
keeps a small per-thread cache for long-lived keys (issuer master keys, purse master keys).
"""

from __future__ import annotations

import threading
from typing import ClassVar, TypeVar

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES as _TripleDESAlg
from cryptography.hazmat.primitives.ciphers import Cipher, CipherAlgorithm, CipherContext, modes
from cryptography.hazmat.primitives.ciphers.algorithms import AES as _AESAlg
from cryptography.hazmat.primitives.ciphers.algorithms import SM4 as _SM4Alg

from cardkit.crypto.hazmat._base import check_key_length
from cardkit.errors import CryptoError

__all__ = ("AES", "DES", "SM4", "BlockCipher", "TripleDES", "cached", "clear_cache")


class BlockCipher:
    """One key bound to one block cipher; ECB and CBC over whole blocks (no padding)."""

    name: ClassVar[str] = ""
    block_size: ClassVar[int] = 8
    key_sizes: ClassVar[tuple[int, ...]] = ()

    __slots__ = ("_alg", "_enc", "_dec", "key_size")

    def __init__(self, key: bytes) -> None:
        check_key_length(key, self.key_sizes, self.name)
        self.key_size = len(key)
        self._alg = self._algorithm(bytes(key))
        self._enc: CipherContext | None = None
        self._dec: CipherContext | None = None

    def _algorithm(self, key: bytes) -> CipherAlgorithm:  # pragma: no cover - overridden
        raise NotImplementedError

    def __repr__(self) -> str:  # never the key
        return f"<{type(self).__name__} {self.key_size}-byte key>"

    def _check(self, data: bytes, what: str) -> None:
        if len(data) % self.block_size:
            raise CryptoError(
                f"{self.name} {what}: {len(data)} bytes is not a multiple of the {self.block_size}-byte block"
                " (pad first)"
            )

    def _check_iv(self, iv: bytes | None) -> bytes:
        if iv is None:
            return bytes(self.block_size)
        if len(iv) != self.block_size:
            raise CryptoError(f"{self.name} IV must be {self.block_size} bytes, got {len(iv)}")
        return bytes(iv)

    def _ecb(self) -> CipherContext:
        if self._enc is None:
            self._enc = Cipher(self._alg, modes.ECB()).encryptor()
        return self._enc

    def encrypt_ecb(self, data: bytes) -> bytes:
        """Encrypt whole blocks in ECB mode."""
        self._check(data, "ECB encrypt")
        return self._ecb().update(data)

    def decrypt_ecb(self, data: bytes) -> bytes:
        """Decrypt whole blocks in ECB mode."""
        self._check(data, "ECB decrypt")
        if self._dec is None:
            self._dec = Cipher(self._alg, modes.ECB()).decryptor()
        return self._dec.update(data)

    def encrypt_cbc(self, data: bytes, iv: bytes | None = None) -> bytes:
        """Encrypt whole blocks in CBC mode; ``iv`` defaults to zeros (as EMV, PBOC and ICAO use)."""
        self._check(data, "CBC encrypt")
        iv_ = self._check_iv(iv)
        if self._enc is not None and len(data) <= 4 * self.block_size:  # short: chain on the live ECB context
            return self._cbc_short(data, iv_)
        return Cipher(self._alg, modes.CBC(iv_)).encryptor().update(data)

    def cbc_last_block(self, data: bytes, iv: bytes | None = None) -> bytes:
        """Last block of the CBC encryption of ``data`` (the CBC-MAC state), IV zeros by default."""
        return self.encrypt_cbc(data, iv)[-self.block_size :]

    def decrypt_cbc(self, data: bytes, iv: bytes | None = None) -> bytes:
        """Decrypt whole blocks in CBC mode; ``iv`` defaults to zeros."""
        self._check(data, "CBC decrypt")
        iv_ = self._check_iv(iv)
        return Cipher(self._alg, modes.CBC(iv_)).decryptor().update(data)

    def _cbc_short(self, data: bytes, iv: bytes) -> bytes:
        bs = self.block_size
        enc = self._ecb().update
        out = bytearray()
        h = int.from_bytes(iv, "big")
        for i in range(0, len(data), bs):
            c = enc((h ^ int.from_bytes(data[i : i + bs], "big")).to_bytes(bs, "big"))
            out += c
            h = int.from_bytes(c, "big")
        return bytes(out)

    def chain(self, state: int, block: bytes) -> int:
        """One CBC step on an integer chaining value: ``E(state XOR block)`` (for the MAC loops)."""
        bs = self.block_size
        return int.from_bytes(self._ecb().update((state ^ int.from_bytes(block, "big")).to_bytes(bs, "big")), "big")


class DES(BlockCipher):
    """Single DES (8-byte key), run as 3DES K1K1K1 on the non-deprecated path."""

    name = "DES"
    key_sizes = (8,)
    __slots__ = ()

    def _algorithm(self, key: bytes) -> CipherAlgorithm:
        return _TripleDESAlg(key * 3)


class TripleDES(BlockCipher):
    """3DES EDE with a 16-byte (K1K2, expanded once to K1K2K1) or 24-byte key."""

    name = "3DES"
    key_sizes = (16, 24)
    __slots__ = ()

    def _algorithm(self, key: bytes) -> CipherAlgorithm:
        return _TripleDESAlg(key + key[:8] if len(key) == 16 else key)


class AES(BlockCipher):
    """AES-128/192/256."""

    name = "AES"
    block_size = 16
    key_sizes = (16, 24, 32)
    __slots__ = ()

    def _algorithm(self, key: bytes) -> CipherAlgorithm:
        return _AESAlg(key)


class SM4(BlockCipher):
    """SM4 (GB/T 32907), 16-byte key and block, as PBOC 3.0 allows in place of 3DES."""

    name = "SM4"
    block_size = 16
    key_sizes = (16,)
    __slots__ = ()

    def _algorithm(self, key: bytes) -> CipherAlgorithm:
        return _SM4Alg(key)


C = TypeVar("C", bound=BlockCipher)

_CACHE_SIZE = 32
_local = threading.local()


def cached(cls: type[C], key: bytes) -> C:
    """A cipher object for ``key`` from a small per-thread cache (for keys reused across calls).

    Use it for long-lived keys (issuer master keys, purse master keys, static GP keys); per-card
    and per-transaction keys should be built directly so they do not evict the long-lived ones.
    """
    cache: dict[tuple[type[BlockCipher], bytes], BlockCipher] | None = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    k = (cls, bytes(key))
    obj = cache.get(k)
    if obj is None:
        obj = cls(key)
        if len(cache) >= _CACHE_SIZE:
            del cache[next(iter(cache))]
        cache[k] = obj
    return obj  # type: ignore[return-value]


def clear_cache() -> None:
    """Drop this thread's cached cipher objects (and the key references they hold)."""
    cache = getattr(_local, "cache", None)
    if cache is not None:
        cache.clear()
