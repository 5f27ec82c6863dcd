"""Fixtures: one keystore of each backend (memory, file, PKCS#11 on a SoftHSM2 token).

``backend`` is parametrised over the three, so every behaviour test in test_keystore.py runs
against each. The SoftHSM2 token is made once per session in a private directory
(tests/keystore/softhsm.py) and emptied after each test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cardkit.issuer.keystore import FileKeystore, Keystore, MemoryKeystore, Pkcs11Keystore
from tests.keystore.softhsm import SoftHsmToken, wipe_token

PASSPHRASE = "correct horse battery staple"


@pytest.fixture(scope="session")
def softhsm_token(softhsm_tokens: dict[str, SoftHsmToken]) -> SoftHsmToken:
    """This directory's token, in the session's one SoftHSM2 directory (tests/conftest.py)."""
    return softhsm_tokens["cardkit-test"]


@dataclass
class Backend:
    """One store under test: ``store`` is open; ``reopen()`` opens another object on it."""

    name: str
    secret: str | None
    opener: Callable[[], Keystore]
    opened: list[Keystore] = field(default_factory=list)
    store: Keystore = field(init=False)

    def __post_init__(self) -> None:
        self.store = self.reopen()

    def reopen(self) -> Keystore:
        ks = self.opener()
        self.opened.append(ks)
        return ks

    def close_all(self) -> None:
        for ks in self.opened:
            ks.close()


def _memory() -> Callable[[], Keystore]:
    store = MemoryKeystore()
    used = False

    def opener() -> Keystore:
        nonlocal used
        if used:
            pytest.skip("a memory keystore cannot be reopened")
        used = True
        return store

    return opener


@pytest.fixture(params=["memory", "file", "pkcs11"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "memory":
        b = Backend("memory", None, _memory())
    elif request.param == "file":
        path = tmp_path / "keys.json"
        FileKeystore.create(path, PASSPHRASE).close()
        b = Backend("file", PASSPHRASE, lambda: FileKeystore.open(path, PASSPHRASE))
    else:
        token: SoftHsmToken = request.getfixturevalue("softhsm_token")
        b = Backend("pkcs11", token.pin, lambda: Pkcs11Keystore.open(token.module, token.label, token.pin))
    yield b
    b.close_all()
    if request.param == "pkcs11":
        wipe_token(request.getfixturevalue("softhsm_token"))


@pytest.fixture
def ks(backend: Backend) -> Keystore:
    return backend.store
