"""The in-process reader and reader names: open_reader, persistence to the image, errors."""

from __future__ import annotations

import stat
import sys
import threading
from pathlib import Path

import pytest

from applets.runtime import load_card, save_card
from cardkit.errors import (
    CardImageError,
    CardTornError,
    NoCardError,
    ReaderNotFoundError,
    TransportError,
)
from cardkit.readers import CardChannel, VirtualReader, open_reader

from .cards import (
    EF_CONTENT,
    SELECT_EF,
    SELECT_MF,
    make_card,
    read_binary,
    update_binary,
)


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "card.json"
    save_card(make_card(), path)
    return path


def test_open_virtual_reader_and_persist_changes(image: Path):
    reader = open_reader(f"virtual:{image}")
    assert reader.backend == "virtual" and reader.has_card() and reader.info().has_card
    before = image.read_bytes()
    with reader.connect() as conn:
        channel = CardChannel(conn)
        channel.transmit_ok(SELECT_EF)
        channel.transmit_ok(read_binary(0, 4))
        assert image.read_bytes() == before  # reads change nothing, nothing is written
        channel.transmit_ok(update_binary(0, b"new!"))
        assert image.read_bytes() != before  # saved right after the committed write
    assert stat.S_IMODE(image.stat().st_mode) == 0o600
    with VirtualReader(load_card(image)).connect() as conn:
        channel = CardChannel(conn)
        channel.transmit_ok(SELECT_EF)
        assert channel.transmit_ok(read_binary(0, 6)).data == b"new!" + EF_CONTENT[4:6]


def test_reader_name_errors(tmp_path: Path):
    expected = "use one of pcsc:<index or part of the reader name>, virtual:<card image path>"
    with pytest.raises(ReaderNotFoundError, match=expected):
        open_reader("nfc2:usb")
    with pytest.raises(ReaderNotFoundError, match="unknown reader 'Virtual PCD 00 00'"):
        open_reader("Virtual PCD 00 00")
    with pytest.raises(ReaderNotFoundError, match="names nothing after the colon"):
        open_reader("virtual:")
    with pytest.raises(CardImageError):
        open_reader(f"virtual:{tmp_path / 'missing.json'}")


def test_importing_readers_does_not_import_applets():
    code = "import sys, cardkit.readers; sys.exit(any(m.startswith('applets') for m in sys.modules))"
    import subprocess

    assert subprocess.run([sys.executable, "-c", code], check=False, timeout=60).returncode == 0


def test_tear_is_reported_and_rolled_back(image: Path):
    card = load_card(image)
    reader = VirtualReader(card, image_path=image)
    conn = reader.connect()
    channel = CardChannel(conn)
    channel.transmit_ok(SELECT_EF)
    card.arm_tear(1)
    with pytest.raises(CardTornError, match="went mute"):
        channel.transmit(update_binary(0, b"torn"))
    conn.reconnect(reset=True)
    channel.transmit_ok(SELECT_EF)
    assert channel.transmit_ok(read_binary(0, 4)).data == EF_CONTENT[:4]


def test_insert_remove_and_waits():
    reader = VirtualReader(None)
    assert not reader.has_card() and reader.atr() is None
    with pytest.raises(NoCardError):
        reader.connect()
    with pytest.raises(NoCardError):
        reader.wait_for_card(timeout=0.01)
    card = make_card()
    threading.Timer(0.05, reader.insert, args=(card,)).start()
    reader.wait_for_card(timeout=5)
    conn = reader.connect()
    assert conn.atr == card.atr
    threading.Timer(0.05, reader.remove).start()
    reader.wait_for_removal(timeout=5)
    with pytest.raises(NoCardError, match="removed"):
        conn.transmit(SELECT_MF.to_bytes())
    conn.close()
    with pytest.raises(TransportError, match="closed"):
        conn.transmit(SELECT_MF.to_bytes())


def test_protocol_names():
    reader = VirtualReader(make_card())
    assert reader.connect("T=0").protocol == "T0" and reader.connect("any").protocol == "T1"
    with pytest.raises(TransportError, match="unknown protocol"):
        reader.connect("T=2")
