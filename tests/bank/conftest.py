"""Fixtures: one TEST PKI per session (RSA generation is the slow part), fresh cards per test."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from applets.runtime import SimulatedCard

from .kit import Issuer, Pki, make_card, make_dgis, make_pki


@pytest.fixture(scope="session")
def pki() -> Pki:
    return make_pki()


@pytest.fixture(scope="session")
def dgis(pki: Pki) -> dict[int, bytes]:
    return make_dgis(pki)


@pytest.fixture
def card(dgis: dict[int, bytes]) -> SimulatedCard:
    return make_card(dgis)


@pytest.fixture
def card_with(pki: Pki) -> Callable[..., SimulatedCard]:
    """A card personalized with ``make_dgis(pki, **overrides)``."""
    return lambda **overrides: make_card(make_dgis(pki, **overrides))


@pytest.fixture(scope="session")
def issuer() -> Issuer:
    return Issuer()
