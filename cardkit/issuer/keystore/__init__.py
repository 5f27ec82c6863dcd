"""The issuer keystore: issuer keys created once and used without ever leaving their protection.

Three backends behind one :class:`Keystore` API: :class:`MemoryKeystore` (demo keys, tests),
:class:`FileKeystore` (one passphrase-protected JSON file, AES-256-GCM under scrypt) and
:class:`Pkcs11Keystore` (an HSM through PKCS#11; SoftHSM2 in tests). Issuer code asks a store for
a :class:`SecretKey` (ECB blocks: every diversification), an :class:`RsaKey` (the raw EMV
private operation) or an :class:`EcKey` (ECDSA-SHA256, and an ``ec.EllipticCurvePrivateKey``
adapter for X.509 builders). A :class:`KeystoreRef` reopens the same store in a worker process
with :func:`open_keystore`. See docs/keystore.md.
"""

from __future__ import annotations

from cardkit.issuer.keystore._base import EcKey, Keystore, KeystoreError, KeystoreRef, RsaKey, SecretKey
from cardkit.issuer.keystore._file import FileKeystore
from cardkit.issuer.keystore._keys import EcKeyAdapter
from cardkit.issuer.keystore._pkcs11 import Pkcs11Keystore, default_pkcs11_module
from cardkit.issuer.keystore._soft import MemoryKeystore

__all__ = [
    "EcKey",
    "EcKeyAdapter",
    "FileKeystore",
    "Keystore",
    "KeystoreError",
    "KeystoreRef",
    "MemoryKeystore",
    "Pkcs11Keystore",
    "RsaKey",
    "SecretKey",
    "default_pkcs11_module",
    "open_keystore",
]


def open_keystore(ref: KeystoreRef, secret: str | None) -> Keystore:
    """Reopen the store ``ref`` names: ``secret`` is the passphrase (file) or the user PIN (pkcs11).

    Raises:
        KeystoreError: a memory reference (that store lives in one process only), a missing
            secret, or whatever opening the backend raises.
    """
    if not isinstance(ref, KeystoreRef):
        raise KeystoreError(f"open_keystore needs a KeystoreRef, not {type(ref).__name__}")
    if ref.backend == "memory":
        raise KeystoreError(
            "a memory keystore lives in one process and cannot be reopened; use a file or PKCS#11 keystore"
        )
    if not secret:
        what = "passphrase" if ref.backend == "file" else "user PIN"
        raise KeystoreError(f"opening the {ref.backend} keystore needs its {what}")
    if ref.backend == "file":
        assert ref.path is not None
        return FileKeystore.open(ref.path, secret)
    assert ref.module is not None and ref.token_label is not None
    return Pkcs11Keystore.open(ref.module, ref.token_label, secret)
