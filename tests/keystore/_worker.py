"""What a worker process does with a pickled KeystoreRef (run under multiprocessing spawn/fork)."""

from __future__ import annotations

import pickle

from cardkit.issuer.keystore import KeystoreError, KeystoreRef, open_keystore


def use_reopened(pickled_ref: bytes, secret: str, block: bytes, rsa_block: bytes, message: bytes) -> dict[str, bytes]:
    """Reopen the store from its pickled reference and use one key of each kind."""
    ref = pickle.loads(pickled_ref)
    assert isinstance(ref, KeystoreRef)
    with open_keystore(ref, secret) as ks:
        return {
            "names": ",".join(ks.names()).encode(),
            "ecb": ks.secret("imk").encrypt_ecb(block),
            "kcv": ks.secret("imk").kcv,
            "raw": ks.rsa("issuer").raw_private(rsa_block),
            "sig": ks.ec("ds").sign(message),
        }


def open_with(pickled_ref: bytes, secret: str) -> str:
    """Open and report the error text (or 'ok')."""
    try:
        open_keystore(pickle.loads(pickled_ref), secret).close()
    except KeystoreError as exc:
        return str(exc)
    return "ok"
