"""The card image file: one JSON document per card, checksummed, written atomically with mode 0600.

Format ``cardkit-card-image`` version 1::

    {
      "format": "cardkit-card-image",
      "version": 1,
      "sha256": "<hex SHA-256 of the canonical JSON of 'card'>",
      "card": {
        "uid": "<7 bytes hex>",
        "default_aid": "<hex>" | null,
        "historical_bytes": "<hex>",
        "applets": [{"type": "fs", "module": "applets.runtime.mf", "config": {...}}, ...],
        "store": {"generation": 12, "data": {"<key>": <value>, ...}}
      }
    }

Canonical JSON = ``json.dumps(card, sort_keys=True, separators=(",", ":"), ensure_ascii=True)``.
Store values are JSON with bytes written as ``{"$hex": "..."}`` (:mod:`applets.runtime.store`).
The checksum detects damage, not tampering: the image holds keys and is protected by its mode.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

from applets.runtime.applet import Applet, applet_type
from applets.runtime.card import SimulatedCard
from applets.runtime.store import Store, decode_value, encode_value
from cardkit.errors import CardImageError

__all__ = ["IMAGE_FORMAT", "IMAGE_VERSION", "load_card", "save_card"]

IMAGE_FORMAT = "cardkit-card-image"
IMAGE_VERSION = 1
_MAX_IMAGE_BYTES = 64 * 1024 * 1024  # a card holds kilobytes; anything this big is not an image


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _card_document(card: SimulatedCard) -> dict[str, Any]:
    if card.store.in_transaction:
        raise CardImageError("cannot save a card in the middle of a transaction")
    applets = [{"type": a.type_name, "module": type(a).__module__, "config": a.to_config()} for a in card.applets]
    for applet in card.applets:
        if not applet.type_name:
            raise CardImageError(f"applet {type(applet).__name__} has no @register_applet name; it cannot be saved")
    body: dict[str, Any] = {
        "uid": card.contactless.uid.hex().upper(),
        "default_aid": card.default_aid.hex().upper() if card.default_aid is not None else None,
        "historical_bytes": card.historical_bytes.hex().upper(),
        "applets": applets,
        "store": {
            "generation": card.store.generation,
            "data": {k: encode_value(v) for k, v in sorted(card.store.committed().items())},
        },
    }
    return {
        "format": IMAGE_FORMAT,
        "version": IMAGE_VERSION,
        "sha256": hashlib.sha256(_canonical(body)).hexdigest(),
        "card": body,
    }


def _read_document(path: Path) -> dict[str, Any]:
    """Read and verify an image file; every failure is one ``CardImageError`` line naming the file."""
    def fail(what: str) -> CardImageError:
        return CardImageError(f"card image {path}: {what}")

    try:
        with open(path, "rb") as f:
            raw = f.read(_MAX_IMAGE_BYTES + 1)
    except FileNotFoundError:
        raise fail("no such file") from None
    except OSError as exc:
        raise fail(f"cannot read it ({exc.strerror or exc})") from None
    if len(raw) > _MAX_IMAGE_BYTES:
        raise fail("larger than any card image; not an image")
    if not raw.strip():
        raise fail("the file is empty")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise fail(f"not valid JSON, truncated or corrupt ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != IMAGE_FORMAT:
        raise fail(f"not a cardkit card image (no \"format\": \"{IMAGE_FORMAT}\")")
    version = doc.get("version")
    if version != IMAGE_VERSION or isinstance(version, bool):
        raise fail(f"format version {version!r} is not supported; this cardkit reads version {IMAGE_VERSION}")
    body = doc.get("card")
    if not isinstance(body, dict) or not isinstance(doc.get("sha256"), str):
        raise fail("the 'card' body or its 'sha256' checksum is missing")
    if not secrets.compare_digest(hashlib.sha256(_canonical(body)).hexdigest(), doc["sha256"].lower()):
        raise fail("checksum mismatch: the file was changed or damaged after it was saved")
    return doc


def load_card(path: str | os.PathLike[str]) -> SimulatedCard:
    """Rebuild a card from its image file (the card is returned powered off).

    Raises:
        CardImageError: missing, unreadable, truncated, corrupt, wrong format or version, checksum
            mismatch, or content this cardkit cannot rebuild. Loading never writes to the file.
    """
    path = Path(path)
    body = _read_document(path)["card"]
    try:
        store_doc = body["store"]
        data = {k: decode_value(v) for k, v in store_doc["data"].items()}
        store = Store(data, generation=int(store_doc["generation"]))
        default = body["default_aid"]
        card = SimulatedCard(
            default_aid=bytes.fromhex(default) if default is not None else None,
            uid=bytes.fromhex(body["uid"]),
            store=store,
            historical_bytes=bytes.fromhex(body["historical_bytes"]),
        )
        for entry in body["applets"]:
            card.attach(_applet_class(entry["type"], entry.get("module", "")).from_config(entry["config"]))
    except CardImageError as exc:
        raise CardImageError(f"card image {path}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CardImageError(f"card image {path}: malformed content ({type(exc).__name__}: {exc})") from None
    return card


def _applet_class(name: str, module: str) -> type[Applet]:
    try:
        return applet_type(name)
    except KeyError:
        pass
    # Only cardkit's own applet packages are imported on an image's say-so.
    if module == "applets" or module.startswith("applets."):
        try:
            importlib.import_module(module)
            return applet_type(name)
        except (ImportError, KeyError):
            pass
    raise CardImageError(f"unknown applet type {name!r} (module {module!r} does not provide it)")


def save_card(card: SimulatedCard, path: str | os.PathLike[str], *, force: bool = False) -> None:
    """Write the card's image atomically: temp file (0600) in the same folder, fsync, rename, fsync folder.

    Only committed state is saved. An existing file that is not a valid image is left alone unless
    ``force`` — it may be the only copy of a damaged card worth recovering by hand.

    Raises:
        CardImageError: the target exists and is not a valid image (without ``force``), a
            transaction is open, or the write failed.
    """
    path = Path(path)
    data = json.dumps(_card_document(card), indent=1, sort_keys=True, ensure_ascii=True).encode("ascii") + b"\n"
    if not force and path.exists():
        try:
            load_card(path)  # the whole load, so an image of a newer cardkit is not lost either
        except CardImageError as exc:
            reason = str(exc).removeprefix(f"card image {path}: ")
            raise CardImageError(f"refusing to overwrite {path}: it is not a loadable card image ({reason}); "
                                 f"move it away first") from None
    folder = path.parent if str(path.parent) else Path(".")
    tmp = folder / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        # O_EXCL + 0600 at creation: the key-holding content is never world-readable, not even briefly.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)  # a default ACL on the folder can widen the mode; make it exact
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CardImageError(f"card image {path}: cannot write it ({exc.strerror or exc})") from None
    try:
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)  # make the rename itself durable
        finally:
            os.close(dfd)
    except OSError:
        pass  # some filesystems refuse fsync on directories; the data itself is synced
