"""What every keystore is: the key protocols issuer code programs against, the reference that
reopens a store in another process, and the checks every backend shares.

Issuer code does exactly three things with a key, so that is all a key object offers: ECB
encryption of whole blocks under a secret key (every diversification cardkit uses), the raw RSA
private operation on one modulus-length block (EMV offline data authentication) and an
ECDSA-SHA256 signature (CMS SOD, X.509). Nothing on these objects returns key material.
"""

from __future__ import annotations

import os
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeVar, runtime_checkable

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from cardkit.errors import CryptoError

if TYPE_CHECKING:
    from typing import Self

__all__ = ["EcKey", "Keystore", "KeystoreError", "KeystoreRef", "RsaKey", "SecretKey"]


class KeystoreError(CryptoError):
    """A keystore or one of its keys cannot do what was asked (unknown or duplicate name, wrong
    passphrase or PIN, damaged file, refused token call). Never carries key material or PINs."""


# ----------------------------------------------------------------------------------------------
# The key protocols


@runtime_checkable
class SecretKey(Protocol):
    """A secret block-cipher key held by a keystore: ``"3des"`` (16-byte 2-key) or ``"aes"``."""

    @property
    def name(self) -> str: ...

    @property
    def algorithm(self) -> str: ...

    @property
    def length(self) -> int: ...

    def encrypt_ecb(self, data: bytes) -> bytes:
        """ECB-encrypt whole blocks (8 bytes for 3DES, 16 for AES); other lengths raise KeystoreError."""
        ...

    @property
    def kcv(self) -> bytes:
        """3-byte check value: 3DES E(00*8), AES E(01*16) (GlobalPlatform's AES KCV)."""
        ...


@runtime_checkable
class RsaKey(Protocol):
    """An RSA private key held by a keystore: its public half and the raw private operation."""

    @property
    def name(self) -> str: ...

    def public_key(self) -> rsa.RSAPublicKey: ...

    def raw_private(self, block: bytes) -> bytes:
        """``block^d mod n`` for a block of exactly the modulus length whose value is below n."""
        ...


@runtime_checkable
class EcKey(Protocol):
    """A P-256 private key held by a keystore: ECDSA-SHA256 signatures only."""

    @property
    def name(self) -> str: ...

    def public_key(self) -> ec.EllipticCurvePublicKey: ...

    def sign(self, data: bytes) -> bytes:
        """DER-encoded ECDSA signature over SHA-256(data)."""
        ...

    def private_key_adapter(self) -> ec.EllipticCurvePrivateKey:
        """An ``ec.EllipticCurvePrivateKey`` that signs through this key (for ``x509`` builders)."""
        ...


# ----------------------------------------------------------------------------------------------
# Reopening a store elsewhere

BACKENDS = ("memory", "file", "pkcs11")


@dataclass(frozen=True, slots=True)
class KeystoreRef:
    """Where a keystore lives, without any secret: pickle it to a worker process (or write it in
    a batch file) and reopen the store there with :func:`open_keystore` and the passphrase/PIN."""

    backend: str
    path: str | None = None
    module: str | None = None
    token_label: str | None = None

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise KeystoreError(f"unknown keystore backend {self.backend!r}: use one of {', '.join(BACKENDS)}")
        if self.backend == "file" and not self.path:
            raise KeystoreError("a file keystore reference needs its path")
        if self.backend == "pkcs11" and not (self.module and self.token_label):
            raise KeystoreError("a PKCS#11 keystore reference needs the module path and the token label")


# ----------------------------------------------------------------------------------------------
# Shared checks

_NAME = re.compile(r"[a-z0-9._-]{1,64}")
SECRET_LENGTHS = {"3des": (16,), "aes": (16, 24, 32)}
BLOCK_SIZES = {"3des": 8, "aes": 16}
RSA_EXPONENTS = (3, 65537)
RSA_BITS = (1024, 4096)


def check_name(name: str) -> str:
    """Key names are what a file entry and a token label are keyed by: ``[a-z0-9._-]``, 1-64 long."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise KeystoreError(f"bad key name {name!r}: use 1-64 characters from a-z 0-9 . _ -")
    return name


def check_secret_spec(algorithm: str, length: int) -> tuple[str, int]:
    """Normalised (algorithm, length) or KeystoreError naming what is accepted."""
    alg = algorithm.lower() if isinstance(algorithm, str) else algorithm
    if alg not in SECRET_LENGTHS:
        raise KeystoreError(f"unknown secret key algorithm {algorithm!r}: use '3des' or 'aes'")
    if length not in SECRET_LENGTHS[alg]:
        allowed = " or ".join(str(n) for n in SECRET_LENGTHS[alg])
        raise KeystoreError(f"{alg} keys are {allowed} bytes, not {length}")
    return alg, length


def check_rsa_spec(bits: int, public_exponent: int) -> None:
    """EMV RSA keys: 1024-4096 bits in whole bytes, exponent 3 or 65537 (EMV Book 2 §5.1)."""
    low, high = RSA_BITS
    if not isinstance(bits, int) or bits % 8 or not low <= bits <= high:
        raise KeystoreError(f"RSA key length must be a multiple of 8 from {low} to {high} bits, not {bits}")
    if public_exponent not in RSA_EXPONENTS:
        raise KeystoreError(f"RSA public exponent must be 3 or 65537, not {public_exponent}")


def check_rsa_key(key: rsa.RSAPrivateKey) -> None:
    """An RSA key fit for import (any whole-byte-or-not size in range, exponent 3 or 65537)."""
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeystoreError(f"import_rsa needs an rsa.RSAPrivateKey, not {type(key).__name__}")
    low, high = RSA_BITS
    if not low <= key.key_size <= high:
        raise KeystoreError(f"RSA key of {key.key_size} bits is outside {low}..{high}")
    e = key.public_key().public_numbers().e
    if e not in RSA_EXPONENTS:
        raise KeystoreError(f"RSA public exponent must be 3 or 65537, not {e}")


def check_ec_key(key: ec.EllipticCurvePrivateKey) -> None:
    """Only P-256 keys are held (the ICAO document signer and CSCA of this card)."""
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise KeystoreError(f"import_ec needs an ec.EllipticCurvePrivateKey, not {type(key).__name__}")
    if not isinstance(key.curve, ec.SECP256R1):
        raise KeystoreError(f"only P-256 (secp256r1) keys are supported, not {key.curve.name}")


def check_blocks(data: bytes, algorithm: str, name: str) -> bytes:
    """``data`` as bytes, or KeystoreError when it is not whole blocks."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise KeystoreError(f"key {name!r}: encrypt_ecb needs bytes, not {type(data).__name__}")
    data = bytes(data)
    size = BLOCK_SIZES[algorithm]
    if not data or len(data) % size:
        raise KeystoreError(
            f"key {name!r} ({algorithm}): {len(data)} bytes is not a whole number of {size}-byte blocks (pad first)"
        )
    return data


def check_rsa_block(block: bytes, n: int, name: str) -> int:
    """The block as an integer when it is exactly the modulus length and below the modulus."""
    n_len = (n.bit_length() + 7) // 8
    if not isinstance(block, bytes | bytearray | memoryview):
        raise KeystoreError(f"RSA key {name!r}: raw_private needs bytes, not {type(block).__name__}")
    if len(block) != n_len:
        raise KeystoreError(f"RSA key {name!r}: block of {len(block)} bytes for a {n_len}-byte modulus")
    m = int.from_bytes(block, "big")
    if m >= n:
        raise KeystoreError(f"RSA key {name!r}: block is not less than the modulus")
    return m


def article(kind: str) -> str:
    """'a secret key', 'an RSA key', 'an EC key' for messages."""
    return {"secret": "a secret key", "rsa": "an RSA key", "ec": "an EC key"}.get(kind, f"a {kind} key")


# ----------------------------------------------------------------------------------------------
# The keystore

_K = TypeVar("_K")


class Keystore(ABC):
    """A named set of issuer keys that never hands out key material.

    Every backend shares this behaviour: names are ``[a-z0-9._-]``; a name that exists is never
    overwritten (KeystoreError); looking up an unknown name or the wrong kind is a KeystoreError
    naming both; after :meth:`close` every key object of the store refuses to work. Keystores
    are context managers. ``repr`` of a store or a key shows names and check values only.
    """

    backend: ClassVar[str]
    _fork_bound: ClassVar[bool] = False  # True: key objects stop working in a forked child

    def __init__(self) -> None:
        self._closed = False
        self._pid = os.getpid()
        self._mutate = threading.RLock()

    # --- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the session / forget the decrypted keys; idempotent."""
        if not self._closed:
            self._closed = True
            self._close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def check_usable(self) -> None:
        """KeystoreError when the store is closed, or (PKCS#11) was opened in another process."""
        if self._closed:
            raise KeystoreError(f"{self.where} is closed")
        if self._fork_bound and os.getpid() != self._pid:
            raise KeystoreError(
                f"{self.where} was opened in process {self._pid}, not this one ({os.getpid()}): each worker "
                "process opens its own keystore from keystore.ref()"
            )

    def __reduce__(self) -> str | tuple[object, ...]:
        raise KeystoreError("a keystore cannot be pickled: pass keystore.ref() and reopen it with open_keystore()")

    def __repr__(self) -> str:
        if self._closed:
            return f"<{type(self).__name__} {self.where} (closed)>"
        try:
            self.check_usable()
            names = ", ".join(sorted(self._names())) or "no keys"
        except KeystoreError:  # another process's store, or the token failed: repr never raises
            names = "?"
        return f"<{type(self).__name__} {self.where}: {names}>"

    # --- lookup ------------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Every key name in the store, sorted."""
        self.check_usable()
        return sorted(self._names())

    def kind(self, name: str) -> str:
        """``"secret"``, ``"rsa"`` or ``"ec"``; KeystoreError for an unknown name."""
        self.check_usable()
        kind = self._kind(check_name(name))
        if kind is None:
            raise KeystoreError(f"no key named {name!r} in {self.where}")
        return kind

    def secret(self, name: str) -> SecretKey:
        """The secret key called ``name``."""
        return self._typed(name, "secret", self._secret)

    def rsa(self, name: str) -> RsaKey:
        """The RSA key called ``name``."""
        return self._typed(name, "rsa", self._rsa)

    def ec(self, name: str) -> EcKey:
        """The P-256 key called ``name``."""
        return self._typed(name, "ec", self._ec)

    def _typed(self, name: str, want: str, get: Callable[[str], _K]) -> _K:
        self.check_usable()
        kind = self._kind(check_name(name))
        if kind is None:
            raise KeystoreError(f"no {want} key named {name!r} in {self.where}")
        if kind != want:
            raise KeystoreError(f"{name!r} in {self.where} is {article(kind)}, not {article(want)}")
        return get(name)

    # --- creation ----------------------------------------------------------------------------

    def generate_secret(self, name: str, algorithm: str, length: int = 16) -> SecretKey:
        """Generate a random secret key inside the store (3DES with odd parity)."""
        alg, length = check_secret_spec(algorithm, length)
        with self._mutate:
            self._check_new(name)
            return self._generate_secret(name, alg, length)

    def import_secret(self, name: str, algorithm: str, value: bytes) -> SecretKey:
        """Store a known secret value (demo and test keys, migration from another store).

        The value is kept as given (3DES parity is not adjusted: DES ignores the parity bits,
        and some PBOC master keys are published without odd parity).
        """
        if not isinstance(value, bytes | bytearray):
            raise KeystoreError(f"import_secret needs the key value as bytes, not {type(value).__name__}")
        alg, _ = check_secret_spec(algorithm, len(value))
        with self._mutate:
            self._check_new(name)
            return self._import_secret(name, alg, bytes(value))

    def generate_rsa(self, name: str, bits: int, public_exponent: int = 65537) -> RsaKey:
        """Generate an RSA key pair inside the store."""
        check_rsa_spec(bits, public_exponent)
        with self._mutate:
            self._check_new(name)
            return self._generate_rsa(name, bits, public_exponent)

    def import_rsa(self, name: str, key: RSAPrivateKey) -> RsaKey:
        """Store an existing RSA private key."""
        check_rsa_key(key)
        with self._mutate:
            self._check_new(name)
            return self._import_rsa(name, key)

    def generate_ec(self, name: str) -> EcKey:
        """Generate a P-256 key pair inside the store."""
        with self._mutate:
            self._check_new(name)
            return self._generate_ec(name)

    def import_ec(self, name: str, key: EllipticCurvePrivateKey) -> EcKey:
        """Store an existing P-256 private key."""
        check_ec_key(key)
        with self._mutate:
            self._check_new(name)
            return self._import_ec(name, key)

    def _check_new(self, name: str) -> None:
        self.check_usable()
        kind = self._kind(check_name(name))
        if kind is not None:
            raise KeystoreError(
                f"{self.where} already holds {article(kind)} named {name!r}; keys are never overwritten"
            )

    # --- what a backend provides -------------------------------------------------------------

    @property
    @abstractmethod
    def where(self) -> str:
        """The store in words for messages: 'keystore /path/keys.json', "token 'x'"."""

    @abstractmethod
    def ref(self) -> KeystoreRef:
        """How to reopen this store elsewhere (holds no secret)."""

    @abstractmethod
    def _close(self) -> None: ...

    @abstractmethod
    def _names(self) -> list[str]: ...

    @abstractmethod
    def _kind(self, name: str) -> str | None: ...

    @abstractmethod
    def _secret(self, name: str) -> SecretKey: ...

    @abstractmethod
    def _rsa(self, name: str) -> RsaKey: ...

    @abstractmethod
    def _ec(self, name: str) -> EcKey: ...

    @abstractmethod
    def _generate_secret(self, name: str, algorithm: str, length: int) -> SecretKey: ...

    @abstractmethod
    def _import_secret(self, name: str, algorithm: str, value: bytes) -> SecretKey: ...

    @abstractmethod
    def _generate_rsa(self, name: str, bits: int, public_exponent: int) -> RsaKey: ...

    @abstractmethod
    def _import_rsa(self, name: str, key: RSAPrivateKey) -> RsaKey: ...

    @abstractmethod
    def _generate_ec(self, name: str) -> EcKey: ...

    @abstractmethod
    def _import_ec(self, name: str, key: EllipticCurvePrivateKey) -> EcKey: ...
