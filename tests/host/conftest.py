"""Fixtures: a demo host on a fixed clock, a terminal, and demo cards that make real ARQCs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pos_sim.host import Host, InProcessHostLink

from .kit import Card, Terminal, new_host


@pytest.fixture
def host() -> Iterator[Host]:
    with new_host() as h:
        yield h


@pytest.fixture
def link(host: Host) -> InProcessHostLink:
    return InProcessHostLink(host)


@pytest.fixture
def terminal() -> Terminal:
    return Terminal()


@pytest.fixture(scope="module")
def debit_card() -> Card:
    return Card()


@pytest.fixture(scope="module")
def credit_card() -> Card:
    return Card(credit=True)
