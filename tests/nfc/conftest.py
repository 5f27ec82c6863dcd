"""Both NFC sides over nfcpy's UDP driver on loopback: a card server thread and an ``nfc:udp`` reader.

No ``__init__.py`` here on purpose: a package named ``nfc`` under tests/ would shadow nfcpy.
Each test gets its own free UDP port. Timeouts are generous (seconds): the only tight deadline is
nfcpy's 30 ms for the ATS, which the card answers from its pre-built ATS before doing anything else.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("nfc")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: for readers.cards (echo applet)

from applets.runtime import SimulatedCard  # noqa: E402
from cardkit.readers.nfc import NfcReader  # noqa: E402
from cardkit.readers.nfc_card import NfcCardServer  # noqa: E402
from pos_sim.demo_card import make_demo_card  # noqa: E402


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def port() -> int:
    return free_udp_port()


@pytest.fixture
def demo_card() -> SimulatedCard:
    return make_demo_card()


@pytest.fixture
def card_server(demo_card: SimulatedCard, port: int) -> Iterator[NfcCardServer]:
    server = NfcCardServer(demo_card, f"udp:127.0.0.1:{port}")
    server.start()
    yield server
    server.stop(timeout=5)
    assert not server._thread or not server._thread.is_alive()


def open_udp_reader(port: int) -> NfcReader:
    from cardkit.readers import open_reader

    opened = open_reader(f"nfc:udp:127.0.0.1:{port}")
    assert isinstance(opened, NfcReader)
    opened.poll = ("106A",)  # type B polls cost nfcpy's 1 s timeout each over UDP
    return opened


@pytest.fixture
def reader(card_server: NfcCardServer, port: int) -> Iterator[NfcReader]:
    opened = open_udp_reader(port)
    opened.wait_for_card(timeout=10)
    yield opened
    opened.close()
