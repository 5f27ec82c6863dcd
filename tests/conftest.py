"""Fixtures more than one test directory needs.

SoftHSM2 reads its configuration once per process (at C_Initialize), so every PKCS#11 test of a
run shares one token directory: :func:`softhsm_tokens` makes it, with one token per user, before
any test opens the library.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.keystore.softhsm import SoftHsmToken, make_token

#: the keystore tests' token, and the issuance tests' token
TOKEN_LABELS = ("cardkit-test", "cardkit-issuer")


@pytest.fixture(scope="session")
def softhsm_tokens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, SoftHsmToken]]:
    base = tmp_path_factory.mktemp("softhsm")
    tokens = {label: make_token(base, label=label) for label in TOKEN_LABELS}
    mp = pytest.MonkeyPatch()
    for key, value in tokens[TOKEN_LABELS[0]].env.items():
        mp.setenv(key, value)  # for this process and every child (multiprocessing spawn)
    yield tokens
    mp.undo()
