"""Issuers for the issuance tests: file keystores (one per test module; key generation is slow) and
a PKCS#11 one on a SoftHSM2 token, so every scenario runs against both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cardkit.issuer.issuer import Issuer, init_issuer
from tests.keystore.softhsm import SoftHsmToken

SECRET = "correct horse battery staple"
ZHANG = Path(__file__).resolve().parents[2] / "docs" / "examples" / "holder-zhang-san.yaml"


@pytest.fixture(scope="session")
def file_issuer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("issuer") / "issuer"
    init_issuer(root, secret=SECRET).close()
    return root


@pytest.fixture(scope="session")
def pkcs11_issuer_dir(tmp_path_factory: pytest.TempPathFactory, softhsm_tokens: dict[str, SoftHsmToken]) -> Path:
    token = softhsm_tokens["cardkit-issuer"]
    root = tmp_path_factory.mktemp("hsm-issuer") / "issuer"
    init_issuer(root, secret=token.pin, pkcs11_module=token.module, token_label=token.label).close()
    return root


@pytest.fixture(scope="session", params=["file", "pkcs11"])
def issuer_dir(request: pytest.FixtureRequest) -> tuple[Path, str]:
    """(directory, secret) of an issuer on each keystore backend."""
    if request.param == "file":
        return request.getfixturevalue("file_issuer_dir"), SECRET
    from tests.keystore.softhsm import TOKEN_PIN

    return request.getfixturevalue("pkcs11_issuer_dir"), TOKEN_PIN


@pytest.fixture
def issuer(issuer_dir: tuple[Path, str]) -> Iterator[Issuer]:
    with Issuer.open(*issuer_dir) as opened:
        yield opened
