"""Fixtures: a fake ID card per test (one test PKI per run), a channel and a reader on it."""

from __future__ import annotations

import pytest

from cardkit.eid import EidReader
from cardkit.readers import CardChannel, VirtualReader

from . import lds_builder as b
from .fakecard import FakeEidCard, make_documents


@pytest.fixture(scope="session")
def pki() -> b.Pki:
    return b.make_pki()


@pytest.fixture
def card(pki: b.Pki) -> FakeEidCard:
    return FakeEidCard(make_documents(pki=pki))


@pytest.fixture
def channel(card: FakeEidCard) -> CardChannel:
    return CardChannel(VirtualReader(card).connect())  # type: ignore[arg-type]


@pytest.fixture
def reader(channel: CardChannel) -> EidReader:
    return EidReader(channel)
