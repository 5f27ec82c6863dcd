"""Card image: round trip, atomic 0600 writes, and clear errors for damaged files."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from applets.runtime import (
    IMAGE_FORMAT,
    IMAGE_VERSION,
    MF_AID,
    SimulatedCard,
    load_card,
    new_blank_card,
    save_card,
)
from applets.runtime.store import TransactionError
from cardkit.apdu import SW
from cardkit.errors import CardImageError

from .conftest import build_fs_card
from .helpers import send, sw
from .toy import COUNTER_AID, CounterApplet

SCRIPT = [
    "00 A4 0000 02 3F00 00",
    "00 B0 8100 00",
    "00 B2 01 F4 00",
    "00 20 0001",
    "00 B2 01 1C 00",
    "00 A4 0400 08 F0000000C0FFEE01 00",
    "80 14 0000 00",
]


def _card() -> SimulatedCard:
    card = build_fs_card()
    card.register(CounterApplet(step=3))
    return card


def _run(card: SimulatedCard) -> list[tuple[bytes, int]]:
    card.power_on()
    return [send(card, a) for a in SCRIPT]


def test_round_trip_identical_behaviour(tmp_path: Path) -> None:
    card = _card()
    assert sw(card, "00 20 0001 04 39393939") == 0x63C2  # some state worth keeping
    assert sw(card, "00 A4 0400 08 F0000000C0FFEE01") == SW.OK
    assert sw(card, "80 10 0000") == SW.OK
    path = tmp_path / "card.json"
    save_card(card, path)
    loaded = load_card(path)
    assert not loaded.powered
    assert loaded.atr == card.atr and loaded.contactless == card.contactless
    assert loaded.store.committed() == card.store.committed()
    assert loaded.store.generation == card.store.generation
    assert [type(a) for a in loaded.applets] == [type(a) for a in card.applets]
    assert loaded.applet(COUNTER_AID).step == 3  # type: ignore[attr-defined]
    assert _run(loaded) == _run(card)
    # save again after changes, load again
    assert sw(loaded, "80 10 0000") == SW.OK
    save_card(loaded, path)
    again = load_card(path)
    assert again.applet(COUNTER_AID).values() == (6, 6, 6, 6)  # type: ignore[attr-defined]


def test_image_is_0600_and_versioned(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    old = os.umask(0)  # even with a permissive umask
    try:
        save_card(new_blank_card(serial="1"), path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = json.loads(path.read_text())
    assert doc["format"] == IMAGE_FORMAT and doc["version"] == IMAGE_VERSION == 1
    assert len(doc["sha256"]) == 64
    assert sorted(os.listdir(tmp_path)) == ["c.json"]  # no temp file left behind


def test_temp_file_is_never_world_readable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        seen.append(stat.S_IMODE(os.stat(src).st_mode))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    save_card(new_blank_card(serial="1"), tmp_path / "c.json")
    assert seen == [0o600]


def _damage(tmp_path: Path, how: str) -> Path:
    path = tmp_path / "c.json"
    save_card(new_blank_card(serial="1"), path)
    raw = path.read_bytes()
    doc = json.loads(raw)
    if how == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "garbage":
        path.write_bytes(b"\x00\xff" * 50)
    elif how == "not-image":
        path.write_text(json.dumps({"hello": 1}))
    elif how == "version":
        doc["version"] = 99
        path.write_text(json.dumps(doc))
    elif how == "checksum":
        doc["card"]["uid"] = "00" * 7
        path.write_text(json.dumps(doc))
    elif how == "unknown-applet":
        doc["card"]["applets"][0]["type"] = "no-such-applet"
        doc["card"]["applets"][0]["module"] = "os"
        body = doc["card"]
        import hashlib

        doc["sha256"] = hashlib.sha256(
            json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()).hexdigest()
        path.write_text(json.dumps(doc))
    elif how == "bad-content":
        doc["card"]["uid"] = "zz"
        import hashlib

        doc["sha256"] = hashlib.sha256(
            json.dumps(doc["card"], sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()).hexdigest()
        path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("how, words", [
    ("truncated", "not valid JSON"),
    ("empty", "empty"),
    ("garbage", "not valid JSON"),
    ("not-image", "not a cardkit card image"),
    ("version", "version 99 is not supported"),
    ("checksum", "checksum mismatch"),
    ("unknown-applet", "unknown applet type 'no-such-applet'"),
    ("bad-content", "malformed content"),
])
def test_damaged_images_raise_and_stay_untouched(tmp_path: Path, how: str, words: str) -> None:
    path = _damage(tmp_path, how)
    before = path.read_bytes()
    with pytest.raises(CardImageError) as err:
        load_card(path)
    msg = str(err.value)
    assert str(path) in msg and words in msg and "\n" not in msg
    with pytest.raises(CardImageError, match="refusing to overwrite"):
        save_card(new_blank_card(serial="2"), path)
    assert path.read_bytes() == before
    save_card(new_blank_card(serial="2"), path, force=True)  # the caller insists
    load_card(path)


def test_missing_image(tmp_path: Path) -> None:
    with pytest.raises(CardImageError, match="no such file"):
        load_card(tmp_path / "nope.json")
    with pytest.raises(CardImageError, match="cannot read"):
        load_card(tmp_path)


def test_save_refuses_mid_transaction(tmp_path: Path) -> None:
    card = new_blank_card(serial="1")
    card.store.begin()
    with pytest.raises(CardImageError):
        save_card(card, tmp_path / "c.json")
    card.store.abort()


def test_unwritable_folder(tmp_path: Path) -> None:
    with pytest.raises(CardImageError, match="cannot write"):
        save_card(new_blank_card(serial="1"), tmp_path / "missing-dir" / "c.json")


def test_loaded_card_can_keep_working_and_registering(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    save_card(new_blank_card(serial="1"), path)
    card = load_card(path)
    card.power_on()
    assert card.selected() is card.applet(MF_AID)
    with pytest.raises(TransactionError):
        card.applet(MF_AID).store.set("x", 1)
