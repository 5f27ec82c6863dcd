"""The GlobalPlatform registry as this card keeps it, and its GET STATUS encoding.

Persistent (in the card manager's store view): ``reg/<AID>`` = ``{"lf": load file AID, "module":
module AID, "priv": privileges(3), "lc": life cycle, "cm": installed by the card manager}``. An
application put on the card at issuance, outside the card manager (``install_bank`` and friends), has
no entry until SET STATUS gives it one; it is reported as SELECTABLE (PERSONALIZED when it says it
is personalized), privileges 00 00 00, no load file.

GET STATUS answers use the tag-coded format of GP 2.3 Table 11-36: ``E3 { 4F AID, 9F70 life cycle,
C5 privileges, C4 load file, CE version, 84 module AID.., CC associated security domain }``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from applets.card_manager._codes import LOCKED_BIT
from applets.card_manager._loadfiles import LoadFile
from cardkit.tlv import build

__all__ = [
    "ISD_PRIVILEGES",
    "LOAD_FILE_LOADED",
    "LOAD_FILE_VERSION",
    "RegistryEntry",
    "encode_entry",
    "parse_tag_list",
]

#: Security Domain, Card Lock, Card Terminate, CVM Management | Authorized Management (GP 2.3 Table 6-1)
ISD_PRIVILEGES = bytes.fromhex("9A4000")
#: Executable load file life cycle LOADED (GP 2.3 Table 11-4)
LOAD_FILE_LOADED = 0x01
LOAD_FILE_VERSION = b"\x01\x00"


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """One application as the registry sees it."""

    aid: bytes
    life_cycle: int
    privileges: bytes = bytes(3)
    load_file: bytes | None = None
    module: bytes | None = None
    by_card_manager: bool = False

    @property
    def locked(self) -> bool:
        return bool(self.life_cycle & LOCKED_BIT)

    def to_store(self) -> dict[str, Any]:
        return {"lf": self.load_file, "module": self.module, "priv": self.privileges, "lc": self.life_cycle,
                "cm": self.by_card_manager}

    @classmethod
    def from_store(cls, aid: bytes, value: Mapping[str, Any]) -> RegistryEntry:
        return cls(aid, int(value["lc"]), bytes(value["priv"]), value.get("lf"), value.get("module"),
                   bool(value.get("cm", False)))


def parse_tag_list(raw: bytes) -> frozenset[bytes]:
    """The tags of a ``5C`` tag list (BER tag bytes back to back); ``ValueError`` if truncated."""
    tags, pos = set(), 0
    while pos < len(raw):
        start = pos
        if raw[pos] & 0x1F == 0x1F:
            pos += 1
            while pos < len(raw) and raw[pos] & 0x80:
                pos += 1
            if pos >= len(raw):
                raise ValueError("truncated tag in the tag list")
        pos += 1
        tags.add(raw[start:pos])
    return frozenset(tags)


def _pick(objects: Iterable[tuple[bytes, bytes]], wanted: frozenset[bytes] | None) -> bytes:
    return build(0xE3, b"".join(build(tag, value) for tag, value in objects if wanted is None or tag in wanted))


def encode_entry(aid: bytes, life_cycle: int, privileges: bytes | None, *, sd_aid: bytes | None = None,
                 load_file: bytes | None = None, version: bytes | None = None, modules: Iterable[bytes] = (),
                 wanted: frozenset[bytes] | None = None) -> bytes:
    """One ``E3`` registry data template; ``wanted`` (a 5C tag list) keeps only those tags."""
    objects: list[tuple[bytes, bytes]] = [(b"\x4f", aid), (b"\x9f\x70", bytes((life_cycle,)))]
    if privileges is not None:
        objects.append((b"\xc5", privileges))
    if load_file is not None:
        objects.append((b"\xc4", load_file))
    if version is not None:
        objects.append((b"\xce", version))
    objects += [(b"\x84", m) for m in modules]
    if sd_aid is not None:
        objects.append((b"\xcc", sd_aid))
    return _pick(objects, wanted)


def encode_load_file(lf: LoadFile, sd_aid: bytes, *, with_modules: bool,
                     wanted: frozenset[bytes] | None = None) -> bytes:
    """An executable load file entry (GET STATUS P1 20 or 10)."""
    return encode_entry(lf.aid, LOAD_FILE_LOADED, None, sd_aid=sd_aid, version=LOAD_FILE_VERSION,
                        modules=(lf.module,) if with_modules else (), wanted=wanted)
