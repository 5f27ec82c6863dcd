"""Key objects shared by every backend, and the ``ec.EllipticCurvePrivateKey`` adapter.

A backend supplies one primitive per kind (ECB blocks, the raw RSA integer operation, an ECDSA
signature over a SHA-256 digest); the checks, the check values, ``repr`` and the refusals to be
pickled or to reveal anything live here once, so the three backends behave the same.
"""

from __future__ import annotations

import hashlib
from abc import abstractmethod
from typing import TYPE_CHECKING, Any, NoReturn

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from cardkit.issuer.keystore._base import BLOCK_SIZES, KeystoreError, check_blocks, check_rsa_block

if TYPE_CHECKING:
    from cardkit.issuer.keystore._base import Keystore

__all__ = ["EcKeyAdapter", "EcKeyBase", "KeyBase", "RsaKeyBase", "SecretKeyBase"]

_KCV_BLOCK = {"3des": bytes(8), "aes": b"\x01" * 16}  # GlobalPlatform Card Spec: AES KCV over 16 x 01


class KeyBase:
    """A named key of one store: refuses to work once the store is closed, never pickles."""

    __slots__ = ("_name", "_store")
    kind: str = ""

    def __init__(self, store: Keystore, name: str) -> None:
        self._store = store
        self._name = name

    @property
    def name(self) -> str:
        """The key's name in its store."""
        return self._name

    def _check(self) -> None:
        self._store.check_usable()

    def __reduce__(self) -> NoReturn:
        raise KeystoreError(
            f"key {self._name!r} cannot be pickled or copied: pass keystore.ref() and the key name, and reopen"
        )

    def _describe(self) -> str:
        return f"{self._name!r}"

    def __repr__(self) -> str:
        label = {"secret": "SecretKey", "rsa": "RsaKey", "ec": "EcKey"}.get(self.kind, "Key")
        return f"<{label} {self._describe()} ({self._store.backend})>"


class SecretKeyBase(KeyBase):
    """A 3DES or AES key: ECB over whole blocks and a check value (the :class:`SecretKey` protocol)."""

    __slots__ = ("_algorithm", "_length", "_kcv")
    kind = "secret"

    def __init__(self, store: Keystore, name: str, algorithm: str, length: int) -> None:
        super().__init__(store, name)
        self._algorithm = algorithm
        self._length = length
        self._kcv: bytes | None = None

    @property
    def algorithm(self) -> str:
        """``"3des"`` or ``"aes"``."""
        return self._algorithm

    @property
    def length(self) -> int:
        """Key length in bytes."""
        return self._length

    @property
    def block_size(self) -> int:
        """8 for 3DES, 16 for AES."""
        return BLOCK_SIZES[self._algorithm]

    def encrypt_ecb(self, data: bytes) -> bytes:
        """ECB-encrypt whole blocks; KeystoreError for any other length."""
        self._check()
        return self._ecb(check_blocks(data, self._algorithm, self._name))

    @property
    def kcv(self) -> bytes:
        """3-byte key check value: 3DES E(00*8), AES E(01*16)."""
        if self._kcv is None:
            self._kcv = self.encrypt_ecb(_KCV_BLOCK[self._algorithm])[:3]
        return self._kcv

    @abstractmethod
    def _ecb(self, data: bytes) -> bytes: ...

    def _describe(self) -> str:
        try:
            kcv = self.kcv.hex().upper()
        except KeystoreError:  # closed, or in another process: repr never fails
            kcv = "?"
        return f"{self._name!r} {self._algorithm}-{self._length * 8} KCV {kcv}"


class RsaKeyBase(KeyBase):
    """An RSA key: public half and raw private operation (the :class:`RsaKey` protocol)."""

    __slots__ = ("_public",)
    kind = "rsa"

    def __init__(self, store: Keystore, name: str, public: rsa.RSAPublicKey) -> None:
        super().__init__(store, name)
        self._public = public

    def public_key(self) -> rsa.RSAPublicKey:
        """The public key (modulus and exponent are public)."""
        return self._public

    def raw_private(self, block: bytes) -> bytes:
        """``block^d mod n`` (EMV Book 2 Annex A2.1.2 signing), checked by the public operation."""
        self._check()
        numbers = self._public.public_numbers()
        m = check_rsa_block(block, numbers.n, self._name)
        s = self._raw(m)
        if pow(s, numbers.e, numbers.n) != m:  # a faulty CRT result would leak a factor
            raise KeystoreError(f"RSA key {self._name!r}: the private operation gave a wrong result")
        return s.to_bytes(len(block), "big")

    @abstractmethod
    def _raw(self, m: int) -> int: ...

    def _describe(self) -> str:
        e = self._public.public_numbers().e
        return f"{self._name!r} RSA-{self._public.key_size} e={e}"


class EcKeyBase(KeyBase):
    """A P-256 key: ECDSA-SHA256 signatures (the :class:`EcKey` protocol)."""

    __slots__ = ("_public",)
    kind = "ec"

    def __init__(self, store: Keystore, name: str, public: ec.EllipticCurvePublicKey) -> None:
        super().__init__(store, name)
        self._public = public

    def public_key(self) -> ec.EllipticCurvePublicKey:
        """The public key."""
        return self._public

    def sign(self, data: bytes) -> bytes:
        """DER-encoded ECDSA signature over SHA-256(data)."""
        return self.sign_digest(hashlib.sha256(bytes(data)).digest())

    def sign_digest(self, digest: bytes) -> bytes:
        """DER-encoded ECDSA signature over a SHA-256 digest computed by the caller."""
        self._check()
        if len(digest) != 32:
            raise KeystoreError(f"EC key {self._name!r}: a SHA-256 digest is 32 bytes, not {len(digest)}")
        return self._sign_digest(bytes(digest))

    def private_key_adapter(self) -> ec.EllipticCurvePrivateKey:
        """This key as an ``ec.EllipticCurvePrivateKey`` for ``x509.CertificateBuilder.sign`` and
        code calling ``key.sign(data, ec.ECDSA(hashes.SHA256()))``."""
        self._check()
        return EcKeyAdapter(self)

    @abstractmethod
    def _sign_digest(self, digest: bytes) -> bytes: ...

    def _describe(self) -> str:
        return f"{self._name!r} P-256"


class EcKeyAdapter(ec.EllipticCurvePrivateKey):
    """A keystore EC key dressed as a ``cryptography`` private key.

    ``sign(data, ec.ECDSA(hashes.SHA256()))`` hashes on the host and signs the digest in the
    backend (``Prehashed(SHA256())`` is accepted too); other hashes are refused because every
    backend signs exactly SHA-256 digests. Everything that would reveal or use the private key
    otherwise (``private_numbers``, ``private_bytes``, ``exchange``, pickling) raises
    KeystoreError. Copies are the same object: the adapter holds nothing but its key.
    """

    __slots__ = ("_key",)

    def __init__(self, key: EcKeyBase) -> None:
        self._key = key

    def sign(
        self, data: bytes | bytearray | memoryview, signature_algorithm: ec.EllipticCurveSignatureAlgorithm
    ) -> bytes:
        if not isinstance(signature_algorithm, ec.ECDSA):
            raise KeystoreError(f"EC key {self._key.name!r} makes ECDSA signatures only")
        if signature_algorithm.deterministic_signing:
            raise KeystoreError(f"EC key {self._key.name!r}: deterministic ECDSA (RFC 6979) is not offered")
        algorithm = signature_algorithm.algorithm
        if isinstance(algorithm, Prehashed):
            if not isinstance(algorithm._algorithm, hashes.SHA256):
                raise KeystoreError(f"EC key {self._key.name!r} signs SHA-256 digests only")
            return self._key.sign_digest(bytes(data))
        if not isinstance(algorithm, hashes.SHA256):
            raise KeystoreError(f"EC key {self._key.name!r} signs with SHA-256 only, not {algorithm.name}")
        return self._key.sign(bytes(data))

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._key.public_key()

    @property
    def curve(self) -> ec.EllipticCurve:
        return ec.SECP256R1()

    @property
    def key_size(self) -> int:
        return 256

    def exchange(self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey) -> bytes:
        raise KeystoreError(f"EC key {self._key.name!r} signs only; it does no key agreement")

    def private_numbers(self) -> ec.EllipticCurvePrivateNumbers:
        raise KeystoreError(f"EC key {self._key.name!r} stays in its keystore: its private value is not available")

    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,
        encryption_algorithm: serialization.KeySerializationEncryption,
    ) -> bytes:
        raise KeystoreError(f"EC key {self._key.name!r} stays in its keystore: it cannot be serialized")

    def __copy__(self) -> EcKeyAdapter:
        return self

    def __deepcopy__(self, memo: dict[Any, Any]) -> EcKeyAdapter:
        return self

    def __reduce__(self) -> NoReturn:
        raise KeystoreError(f"EC key {self._key.name!r} cannot be pickled: reopen its keystore from keystore.ref()")

    def __repr__(self) -> str:
        return f"<EcKeyAdapter {self._key.name!r} P-256 ({self._key._store.backend})>"
