"""ISO-DEP over the UDP link: chaining both ways, WTX for a slow card, DESELECT, a card that leaves."""

from __future__ import annotations

import threading
import time

import pytest
from conftest import open_udp_reader
from readers.cards import ECHO_AID, SELECT_ECHO, make_card

from applets.runtime import SimulatedCard
from cardkit.errors import NoCardError, ReaderNotFoundError, TransportError
from cardkit.readers import CardChannel
from cardkit.readers.nfc import NfcReader, parse_nfc_name
from cardkit.readers.nfc_card import NfcCardServer

SLOW_INS = 0x14


class SlowCard:
    """The echo card, with INS 14 taking ``delay`` seconds (an RSA signature on a real card)."""

    def __init__(self, card: SimulatedCard, delay: float) -> None:
        self._card = card
        self.delay = delay
        self.started = threading.Event()

    def __getattr__(self, name: str) -> object:
        return getattr(self._card, name)

    def transmit(self, capdu: bytes) -> bytes:
        if capdu[1] == SLOW_INS:
            self.started.set()
            time.sleep(self.delay)
            return b"\x51\x90\x00"
        return self._card.transmit(capdu)


@pytest.fixture
def slow_card() -> SlowCard:
    return SlowCard(make_card(echo=True), delay=0.4)


@pytest.fixture
def demo_card(slow_card: SlowCard) -> SlowCard:  # what conftest's card_server serves here
    return slow_card


def test_a_response_longer_than_one_frame_is_chained(reader: NfcReader) -> None:
    with reader.connect() as conn:
        channel = CardChannel(conn)
        channel.transmit_ok(SELECT_ECHO)
        rapdu = conn.transmit(bytes.fromhex("00120100") + b"\x00")  # 256 bytes + SW: two blocks
    assert rapdu == bytes(range(256)) + b"\x90\x00"


def test_a_command_longer_than_one_frame_is_chained(reader: NfcReader) -> None:
    data = bytes(range(255))
    with reader.connect() as conn:
        CardChannel(conn).transmit_ok(SELECT_ECHO)
        rapdu = conn.transmit(bytes((0x00, 0x10, 0x00, 0x00, 255)) + data + b"\x00")  # 261 bytes
    assert rapdu == data + b"\x90\x00"


def test_a_slow_card_asks_for_more_time(reader: NfcReader, card_server: NfcCardServer) -> None:
    with reader.connect() as conn:
        start = time.perf_counter()
        assert conn.transmit(bytes((0x80, SLOW_INS, 0, 0))) == b"\x51\x90\x00"
        assert time.perf_counter() - start >= 0.4
        assert conn.transmit(SELECT_ECHO.to_bytes())[-2:] == b"\x90\x00"  # and the link goes on
    assert card_server.wtx_requests >= 1


def test_deselect_power_cycles_the_card(reader: NfcReader, card_server: NfcCardServer,
                                        slow_card: SlowCard) -> None:
    with reader.connect() as conn:
        CardChannel(conn).transmit_ok(SELECT_ECHO)
        assert slow_card.selected() is not None and slow_card.selected().aid == ECHO_AID  # type: ignore[union-attr]
    with reader.connect() as conn:  # close sent S(DESELECT); a new poll and RATS
        assert conn.transmit(bytes.fromhex("00120010"))[-2:] == b"\x6D\x00"  # echo no longer selected
    assert card_server.activations == 2


def test_the_card_leaving_between_commands(reader: NfcReader, card_server: NfcCardServer) -> None:
    with reader.connect() as conn:
        CardChannel(conn).transmit_ok(SELECT_ECHO)
        card_server.stop(timeout=5)
        with pytest.raises(TransportError, match="left the field"):
            conn.transmit(SELECT_ECHO.to_bytes())
        with pytest.raises(NoCardError):
            conn.transmit(SELECT_ECHO.to_bytes())


def test_the_card_leaving_during_a_command(reader: NfcReader, card_server: NfcCardServer,
                                           slow_card: SlowCard) -> None:
    slow_card.delay = 1.5
    threading.Thread(target=lambda: (slow_card.started.wait(10), card_server.stop(timeout=0)), daemon=True).start()
    with reader.connect() as conn, pytest.raises(TransportError, match="left the field"):
        conn.transmit(bytes((0x80, SLOW_INS, 0, 0)))


def test_no_card_within_the_timeout(port: int) -> None:
    reader = open_udp_reader(port)
    try:
        with pytest.raises(NoCardError, match="no card in the field"):
            reader.wait_for_card(timeout=0.2)
        assert not reader.has_card() and reader.atr() is None
        with pytest.raises(NoCardError):
            reader.connect()
    finally:
        reader.close()


def test_presence_and_removal(reader: NfcReader, card_server: NfcCardServer) -> None:
    with reader.connect() as conn:
        assert reader.has_card()
        card_server.stop(timeout=5)
        assert not reader.has_card()
        assert conn.closed is False
    reader.wait_for_removal(timeout=10)


@pytest.mark.parametrize(("name", "nfcpy"), [
    ("nfc:usb", "usb"), ("nfc:usb:054c:06c3", "usb:054c:06c3"), ("nfc:tty:USB0", "tty:USB0"),
    ("nfc:tty:USB0:pn532", "tty:USB0:pn532"), ("nfc:udp:127.0.0.1:54321", "udp:127.0.0.1:54321"),
    ("udp:localhost:1", "udp:localhost:1"),
])
def test_reader_names(name: str, nfcpy: str) -> None:
    assert parse_nfc_name(name).nfcpy == nfcpy


@pytest.mark.parametrize("name", ["nfc:", "nfc:usb:54c", "nfc:udp:127.0.0.1", "nfc:udp:h:99999", "nfc:pcsc:0"])
def test_bad_reader_names_say_what_to_use(name: str) -> None:
    with pytest.raises(ReaderNotFoundError, match="nfc:udp:HOST:PORT"):
        parse_nfc_name(name)


def test_missing_nfcpy_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from cardkit.readers.nfc import import_nfc

    monkeypatch.setitem(sys.modules, "nfc", None)
    with pytest.raises(TransportError, match=r"pip install 'cardkit\[nfc\]'"):
        import_nfc()
