"""VpcdServer against a peer that speaks vpcd's framing (what libifdvpcd does inside pcscd).

The peer is a real TCP listener: these tests cover framing, stop, reconnect, persistence and tears
in milliseconds; test_pcsc_e2e.py covers the same server behind the real pcscd.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from applets.runtime import load_card, save_card
from cardkit.readers import CardChannel, VirtualReader
from cardkit.readers.vpcd import VpcdServer

from .cards import EF_CONTENT, SELECT_EF, make_card, read_binary, update_binary


class VpcdPeer:
    """pcscd's side of the vpcd socket."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(10)
        self.port = self.listener.getsockname()[1]
        self.conn: socket.socket | None = None

    def accept(self) -> None:
        self.conn, _ = self.listener.accept()
        self.conn.settimeout(10)

    def send(self, body: bytes) -> None:
        assert self.conn is not None
        self.conn.sendall(len(body).to_bytes(2, "big") + body)

    def recv(self) -> bytes:
        assert self.conn is not None
        head = self._exact(2)
        return self._exact(int.from_bytes(head, "big"))

    def _exact(self, n: int) -> bytes:
        assert self.conn is not None
        buf = b""
        while len(buf) < n:
            chunk = self.conn.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("card closed the connection")
            buf += chunk
        return buf

    def apdu(self, capdu: bytes) -> bytes:
        self.send(capdu)
        return self.recv()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.listener.close()


@pytest.fixture
def peer() -> Iterator[VpcdPeer]:
    p = VpcdPeer()
    yield p
    p.close()


def test_framing_control_messages_and_apdus(peer: VpcdPeer):
    card = make_card()
    server = VpcdServer(card, port=peer.port)
    server.start()
    try:
        peer.accept()
        peer.send(b"\x04")
        assert peer.recv() == card.atr
        peer.send(b"\x01")  # power on: no answer
        assert peer.apdu(SELECT_EF.to_bytes()) == b"\x90\x00"
        assert peer.apdu(read_binary(0, 4).to_bytes()) == EF_CONTENT[:4] + b"\x90\x00"
        peer.send(b"\x02")  # warm reset: no answer, the EF is no longer selected
        assert peer.apdu(read_binary(0, 4).to_bytes())[-2:] != b"\x90\x00"
        peer.send(b"\x00")
        peer.send(b"\x04")  # pcscd polls the ATR even with the card off
        assert peer.recv() == card.atr
        assert server.connected.is_set() and server.apdus == 3
    finally:
        t0 = time.monotonic()
        server.stop()
        assert time.monotonic() - t0 < 2
    assert not card.powered and not server.connected.is_set()


def test_response_goes_out_in_one_segment(peer: VpcdPeer):
    server = VpcdServer(make_card(), port=peer.port)
    server.start()
    try:
        peer.accept()
        peer.send(b"\x01")
        peer.send(SELECT_EF.to_bytes())
        time.sleep(0.05)
        assert peer.conn is not None
        assert peer.conn.recv(100) == b"\x00\x02\x90\x00"  # length and body together
    finally:
        server.stop()


def test_reconnects_when_pcscd_drops_the_connection(peer: VpcdPeer):
    server = VpcdServer(make_card(), port=peer.port, retry_delay=0.01)
    server.start()
    try:
        peer.accept()
        assert peer.conn is not None
        peer.conn.close()  # pcscd restarted
        peer.accept()
        peer.send(b"\x01")
        assert peer.apdu(SELECT_EF.to_bytes()) == b"\x90\x00"
        assert server.connections == 2
    finally:
        server.stop()


def test_waits_for_vpcd_to_appear():
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nobody listens now: the server must keep retrying
    server = VpcdServer(make_card(), port=port, retry_delay=0.01, max_retry_delay=0.05)
    server.start()
    try:
        time.sleep(0.1)
        assert not server.connected.is_set()
        with socket.create_server(("127.0.0.1", port)) as listener:
            listener.settimeout(10)
            conn, _ = listener.accept()
            conn.close()
    finally:
        server.stop()
    assert server.stopped


def test_state_persists_after_each_change(peer: VpcdPeer, tmp_path: Path):
    image = tmp_path / "card.json"
    save_card(make_card(), image)
    server = VpcdServer(load_card(image), port=peer.port, image_path=image)
    server.start()
    try:
        peer.accept()
        peer.send(b"\x01")
        assert peer.apdu(SELECT_EF.to_bytes()) == b"\x90\x00"
        before = image.read_bytes()
        assert peer.apdu(update_binary(0, b"saved").to_bytes()) == b"\x90\x00"
        assert image.read_bytes() != before  # saved before the answer left
    finally:
        server.stop()
    with VirtualReader(load_card(image)).connect() as conn:
        channel = CardChannel(conn)
        channel.transmit_ok(SELECT_EF)
        assert channel.transmit_ok(read_binary(0, 5)).data == b"saved"


def test_torn_card_goes_mute_powers_off_and_comes_back(peer: VpcdPeer, caplog: pytest.LogCaptureFixture):
    card = make_card()
    server = VpcdServer(card, port=peer.port, retry_delay=0.01)
    server.start()
    try:
        peer.accept()
        peer.send(b"\x01")
        assert peer.apdu(SELECT_EF.to_bytes()) == b"\x90\x00"
        card.arm_tear(1)
        peer.send(update_binary(0, b"torn").to_bytes())
        with pytest.raises(ConnectionError):
            peer.recv()  # no answer: the card is mute and leaves the reader
        peer.accept()  # ... and is inserted again
        peer.send(b"\x01")
        assert peer.apdu(SELECT_EF.to_bytes()) == b"\x90\x00"
        assert peer.apdu(read_binary(0, 4).to_bytes()) == EF_CONTENT[:4] + b"\x90\x00"  # rolled back
    finally:
        server.stop()
    assert "went mute" in caplog.text


def test_quickack_is_on_by_default_on_linux():
    server = VpcdServer(make_card())
    assert server.quickack is hasattr(socket, "TCP_QUICKACK")
    assert VpcdServer(make_card(), quickack=False).quickack is False
