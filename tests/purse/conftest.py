"""Fixtures: a fake transit card per test, a client on it, the PSAM and the host of the fake's test keys."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from cardkit.purse import LoadInit, Psam, PurseClient, PurseInfo
from cardkit.purse import issuer as host
from cardkit.readers import CardChannel, VirtualReader

from .fakecard import MLK, MPK, MTK, TERMINAL, FakeTransitCard

WHEN = datetime(2023, 3, 8, 11, 22, 33)


@pytest.fixture
def card() -> FakeTransitCard:
    return FakeTransitCard()


@pytest.fixture
def channel(card: FakeTransitCard) -> CardChannel:
    return CardChannel(VirtualReader(card).connect())  # type: ignore[arg-type]


@pytest.fixture
def client(channel: CardChannel) -> PurseClient:
    return PurseClient(channel)


@pytest.fixture
def psam() -> Psam:
    return Psam(MPK, MTK, terminal_id=TERMINAL)


Authorize = Callable[[PurseInfo, LoadInit, datetime], bytes]


@pytest.fixture
def authorize() -> Authorize:
    """The host: checks MAC1 with the test MLK and answers MAC2."""
    return lambda info, init, when: host.load_mac2(MLK, info, init, when)
