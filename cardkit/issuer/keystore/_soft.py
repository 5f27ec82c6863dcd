"""Keys held in this process's memory: the in-memory keystore, and the base of the file keystore.

The key values live only inside the key objects (a ``cryptography`` cipher or private key);
:meth:`close` drops them. The raw RSA operation uses CRT with blinding (a random r^e factor
hides the exponent's timing) and the public-operation check of :class:`RsaKeyBase`.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Mapping

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from cardkit.crypto.hazmat import AES, BlockCipher, TripleDES, adjust_parity
from cardkit.issuer.keystore._base import EcKey, Keystore, KeystoreError, KeystoreRef, RsaKey, SecretKey
from cardkit.issuer.keystore._keys import EcKeyBase, RsaKeyBase, SecretKeyBase

__all__ = ["MemoryKeystore", "SoftKeystore", "key_plaintext"]

Meta = Mapping[str, str | int]


class _SoftSecretKey(SecretKeyBase):
    __slots__ = ("_cipher", "_lock")

    def __init__(self, store: Keystore, name: str, algorithm: str, value: bytes) -> None:
        super().__init__(store, name, algorithm, len(value))
        self._cipher: BlockCipher | None = TripleDES(value) if algorithm == "3des" else AES(value)
        self._lock = threading.Lock()  # hazmat ciphers share a live context: one caller at a time

    def _ecb(self, data: bytes) -> bytes:
        with self._lock:
            if self._cipher is None:
                raise KeystoreError(f"key {self._name!r} was forgotten when its keystore closed")
            return self._cipher.encrypt_ecb(data)

    def _forget(self) -> None:
        self._cipher = None


class _SoftRsaKey(RsaKeyBase):
    __slots__ = ("_numbers",)

    def __init__(self, store: Keystore, name: str, key: rsa.RSAPrivateKey) -> None:
        super().__init__(store, name, key.public_key())
        self._numbers: rsa.RSAPrivateNumbers | None = key.private_numbers()

    def _raw(self, m: int) -> int:
        priv = self._numbers
        if priv is None:
            raise KeystoreError(f"RSA key {self._name!r} was forgotten when its keystore closed")
        pub = priv.public_numbers
        r = secrets.randbelow(pub.n - 3) + 2
        blinded = m * pow(r, pub.e, pub.n) % pub.n
        m1 = pow(blinded, priv.dmp1, priv.p)
        m2 = pow(blinded, priv.dmq1, priv.q)
        s = m2 + (priv.iqmp * (m1 - m2) % priv.p) * priv.q
        return s * pow(r, -1, pub.n) % pub.n

    def _forget(self) -> None:
        self._numbers = None


class _SoftEcKey(EcKeyBase):
    __slots__ = ("_key",)

    def __init__(self, store: Keystore, name: str, key: ec.EllipticCurvePrivateKey) -> None:
        super().__init__(store, name, key.public_key())
        self._key: ec.EllipticCurvePrivateKey | None = key

    def _sign_digest(self, digest: bytes) -> bytes:
        if self._key is None:
            raise KeystoreError(f"EC key {self._name!r} was forgotten when its keystore closed")
        return self._key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))

    def _forget(self) -> None:
        self._key = None


_Soft = _SoftSecretKey | _SoftRsaKey | _SoftEcKey


def key_plaintext(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    """PKCS#8 DER of a private key: what the file keystore encrypts."""
    pkcs8 = serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.DER, pkcs8, serialization.NoEncryption())


class SoftKeystore(Keystore):
    """Keys as objects in this process. Subclasses persist each new key in :meth:`_persist`
    before it becomes visible, so a failed write adds nothing."""

    def __init__(self) -> None:
        super().__init__()
        self._keys: dict[str, _Soft] = {}

    def _persist(self, meta: Meta, plaintext: bytes) -> None:
        """Make a new key durable (nothing to do in memory)."""

    def _commit(self, key: _Soft, meta: Meta, plaintext: bytes) -> None:
        self._persist(meta, plaintext)
        self._keys[key.name] = key

    def _add_loaded(self, meta: Meta, plaintext: bytes) -> None:
        """Rebuild a key object from its stored form (file keystore)."""
        name, kind = str(meta["name"]), meta["kind"]
        if kind == "secret":
            self._keys[name] = _SoftSecretKey(self, name, str(meta["algorithm"]), plaintext)
        elif kind == "rsa":
            rkey = serialization.load_der_private_key(plaintext, None)
            if not isinstance(rkey, rsa.RSAPrivateKey):
                raise KeystoreError(f"entry {name!r} does not hold an RSA key")
            self._keys[name] = _SoftRsaKey(self, name, rkey)
        else:
            ekey = serialization.load_der_private_key(plaintext, None)
            if not isinstance(ekey, ec.EllipticCurvePrivateKey) or not isinstance(ekey.curve, ec.SECP256R1):
                raise KeystoreError(f"entry {name!r} does not hold a P-256 key")
            self._keys[name] = _SoftEcKey(self, name, ekey)

    def _close(self) -> None:
        for key in self._keys.values():
            key._forget()
        self._keys.clear()

    def _names(self) -> list[str]:
        return list(self._keys)

    def _kind(self, name: str) -> str | None:
        key = self._keys.get(name)
        return key.kind if key is not None else None

    def _secret(self, name: str) -> SecretKey:
        key = self._keys[name]
        assert isinstance(key, _SoftSecretKey)
        return key

    def _rsa(self, name: str) -> RsaKey:
        key = self._keys[name]
        assert isinstance(key, _SoftRsaKey)
        return key

    def _ec(self, name: str) -> EcKey:
        key = self._keys[name]
        assert isinstance(key, _SoftEcKey)
        return key

    def _generate_secret(self, name: str, algorithm: str, length: int) -> SecretKey:
        value = os.urandom(length)
        return self._import_secret(name, algorithm, adjust_parity(value) if algorithm == "3des" else value)

    def _import_secret(self, name: str, algorithm: str, value: bytes) -> SecretKey:
        key = _SoftSecretKey(self, name, algorithm, value)
        meta: Meta = {
            "name": name,
            "kind": "secret",
            "algorithm": algorithm,
            "length": len(value),
            "kcv": key.kcv.hex(),
        }
        self._commit(key, meta, value)
        return key

    def _generate_rsa(self, name: str, bits: int, public_exponent: int) -> RsaKey:
        return self._import_rsa(name, rsa.generate_private_key(public_exponent=public_exponent, key_size=bits))

    def _import_rsa(self, name: str, key: rsa.RSAPrivateKey) -> RsaKey:
        obj = _SoftRsaKey(self, name, key)
        e = key.public_key().public_numbers().e
        meta: Meta = {"name": name, "kind": "rsa", "bits": key.key_size, "public_exponent": e}
        self._commit(obj, meta, key_plaintext(key))
        return obj

    def _generate_ec(self, name: str) -> EcKey:
        return self._import_ec(name, ec.generate_private_key(ec.SECP256R1()))

    def _import_ec(self, name: str, key: ec.EllipticCurvePrivateKey) -> EcKey:
        obj = _SoftEcKey(self, name, key)
        self._commit(obj, {"name": name, "kind": "ec", "curve": "P-256"}, key_plaintext(key))
        return obj


class MemoryKeystore(SoftKeystore):
    """Keys in this process only, gone at :meth:`close`: the demo keys and tests.

    Its :meth:`ref` cannot be reopened (another process has no access to this memory); give
    worker processes a file or PKCS#11 keystore instead.
    """

    backend = "memory"

    @property
    def where(self) -> str:
        return "memory keystore"

    def ref(self) -> KeystoreRef:
        return KeystoreRef("memory")
