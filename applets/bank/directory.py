"""PSE (``1PAY.SYS.DDF01``) and PPSE (``2PAY.SYS.DDF01``): the directories terminals select first.

EMV Book 1 §12.2 (PSE with its directory record file, SFI 1) and Book B / qPBOC (PPSE, the list in
the FCI). Both list the card's bank applications (AID, label, priority) from one of two places:

* their configuration, which the card image keeps (:func:`applets.bank.install_bank` fills it);
* their personalization: :meth:`PseApplet.personalize` with DGI 9102 — the directory entries
  ``61 { 4F AID, 50 label, [87 priority] }`` concatenated, where EMV CPS puts the PSE/PPSE FCI data
  (the card manager's STORE DATA does this). Personalized entries live in the store and win.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from applets.bank.state import CARD_BLOCKED_KEY
from applets.runtime import Applet, CommandContext, fci, register_applet, status
from cardkit import tlv
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.errors import ProfileError, TlvError

__all__ = ["DGI_DIRECTORY", "PPSE_NAME", "PSE_NAME", "DirectoryEntry", "PpseApplet", "PseApplet",
           "parse_directory_dgis"]

PSE_NAME = b"1PAY.SYS.DDF01"
PPSE_NAME = b"2PAY.SYS.DDF01"
DGI_DIRECTORY = 0x9102  # EMV CPS: the FCI proprietary data of the PSE/PPSE
_ENTRIES_KEY = "entries"
_DIRECTORY_SFI = 1
_INS_READ_RECORD = 0xB2
_LANGUAGES = b"zhen"


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """One application in a directory: ``61 { 4F AID, 50 label, [87 priority] }``."""

    aid: bytes
    label: str
    priority: int | None = None

    def __post_init__(self) -> None:
        if not 5 <= len(self.aid) <= 16:
            raise ValueError("an AID is 5-16 bytes")
        if not 1 <= len(self.label.encode("latin-1")) <= 16:
            raise ValueError("an application label is 1-16 characters")
        if self.priority is not None and not 0 <= self.priority <= 0xFF:
            raise ValueError("application priority indicator is one byte")

    def template(self) -> bytes:
        body = tlv.build(0x4F, self.aid) + tlv.build(0x50, self.label.encode("latin-1"))
        if self.priority is not None:
            body += tlv.build(0x87, bytes((self.priority,)))
        return tlv.build(0x61, body)

    def to_json(self) -> dict[str, Any]:
        return {"aid": self.aid.hex().upper(), "label": self.label, "priority": self.priority}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> DirectoryEntry:
        priority = obj.get("priority")
        return cls(bytes.fromhex(obj["aid"]), str(obj["label"]), int(priority) if priority is not None else None)


def _entry(obj: tlv.Tlv, n: int) -> DirectoryEntry:
    if obj.tag != b"\x61":
        raise ProfileError(f"DGI 9102 entry {n}: tag {obj.tag.hex().upper()} is not an application template 61")
    fields: dict[bytes, bytes] = {}
    for child in obj.children:
        if child.tag not in (b"\x4f", b"\x50", b"\x87") or child.tag in fields:
            raise ProfileError(f"DGI 9102 entry {n}: unexpected or repeated tag {child.tag.hex().upper()}")
        fields[child.tag] = child.value
    if b"\x4f" not in fields or b"\x50" not in fields:
        raise ProfileError(f"DGI 9102 entry {n}: an entry needs 4F (AID) and 50 (label)")
    priority = fields.get(b"\x87")
    if priority is not None and len(priority) != 1:
        raise ProfileError(f"DGI 9102 entry {n}: 87 (priority) is one byte")
    try:
        return DirectoryEntry(fields[b"\x4f"], fields[b"\x50"].decode("latin-1"),
                              priority[0] if priority is not None else None)
    except ValueError as exc:
        raise ProfileError(f"DGI 9102 entry {n}: {exc}") from None


def parse_directory_dgis(dgis: Mapping[int, bytes]) -> tuple[DirectoryEntry, ...]:
    """The entries of a PSE/PPSE personalization: exactly DGI 9102, the ``61`` templates concatenated.

    Raises:
        ProfileError: a missing or extra DGI, malformed BER-TLV, or an entry without AID or label.
    """
    extra = sorted(set(dgis) - {DGI_DIRECTORY})
    if extra:
        raise ProfileError(f"DGI {extra[0]:04X} is not part of a PSE/PPSE personalization (only 9102)")
    value = dgis.get(DGI_DIRECTORY)
    if not value:
        raise ProfileError("DGI 9102 (directory entries) is missing or empty")
    try:
        objs = tlv.decode(value)
    except TlvError as exc:
        raise ProfileError(f"DGI 9102: {exc}") from None
    entries = tuple(_entry(obj, n) for n, obj in enumerate(objs, 1))
    if not entries:
        raise ProfileError("DGI 9102 holds no directory entry")
    return entries


class _Directory(Applet):
    """What PSE and PPSE share: the entries, their config, the card-block check."""

    default_name: bytes = b""

    def __init__(self, aid: bytes | None = None, *, label: str | None = None,
                 entries: Iterable[DirectoryEntry] = ()) -> None:
        super().__init__(aid if aid is not None else self.default_name, label=label)
        self._entries: tuple[DirectoryEntry, ...] = tuple(entries)

    @property
    def entries(self) -> tuple[DirectoryEntry, ...]:
        """The personalized entries (from the store) if any, else the configured ones."""
        stored = self.store.get(_ENTRIES_KEY) if self._store is not None else None
        if stored is None:
            return self._entries
        return tuple(DirectoryEntry.from_json(e) for e in stored)

    @entries.setter
    def entries(self, entries: Iterable[DirectoryEntry]) -> None:
        new = tuple(entries)
        if self._store is not None and self.store.get(_ENTRIES_KEY) is not None:
            with self.store.transaction():
                self.store.set(_ENTRIES_KEY, [e.to_json() for e in new])
        else:
            self._entries = new

    @property
    def personalized(self) -> bool:
        return self._store is not None and self.store.get(_ENTRIES_KEY) is not None

    def personalize(self, dgis: Mapping[int, bytes]) -> None:
        """Validate DGI 9102 and store its entries (they replace the configured ones).

        Raises:
            ProfileError: naming what is wrong with DGI 9102; nothing was stored.
        """
        entries = parse_directory_dgis(dgis)
        with self.store.transaction():
            self.store.set(_ENTRIES_KEY, [e.to_json() for e in entries])

    def _card_blocked(self) -> bool:
        return bool(self.store.store.get(CARD_BLOCKED_KEY, False))

    def select(self, ctx: CommandContext) -> ResponseAPDU:
        if self._card_blocked():
            return status(SW.FUNCTION_NOT_SUPPORTED)
        return status(SW.OK, fci(self.aid, self._proprietary()))

    def _proprietary(self) -> bytes:
        raise NotImplementedError

    def to_config(self) -> dict[str, Any]:
        return {**super().to_config(), "entries": [e.to_json() for e in self._entries]}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Applet:
        entries: Sequence[Mapping[str, Any]] = config.get("entries", ())
        return cls(bytes.fromhex(config["aid"]), label=config.get("label"),
                   entries=[DirectoryEntry.from_json(e) for e in entries])


@register_applet("pse")
class PseApplet(_Directory):
    """Contact directory: FCI ``A5 { 88 01, 5F2D }`` and the directory record, SFI 1 record 1."""

    default_name = PSE_NAME

    def _proprietary(self) -> bytes:
        return tlv.build(0x88, bytes((_DIRECTORY_SFI,))) + tlv.build(0x5F2D, _LANGUAGES)

    def process(self, cmd: CommandAPDU, ctx: CommandContext) -> ResponseAPDU:
        if cmd.ins != _INS_READ_RECORD:
            return status(SW.INS_NOT_SUPPORTED)
        if ctx.proprietary or ctx.secure_messaging:
            return status(SW.CLA_NOT_SUPPORTED)
        if self._card_blocked():
            return status(SW.FUNCTION_NOT_SUPPORTED)
        if cmd.data:
            return status(SW.WRONG_LENGTH)
        if cmd.p2 & 0x07 != 0x04 or cmd.p1 == 0 or cmd.p2 >> 3 == 0:
            return status(SW.INCORRECT_P1P2)
        if cmd.p2 >> 3 != _DIRECTORY_SFI:
            return status(SW.FILE_NOT_FOUND)
        if cmd.p1 != 1 or not self.entries:
            return status(SW.RECORD_NOT_FOUND)
        return status(SW.OK, tlv.build(0x70, b"".join(e.template() for e in self.entries)))


@register_applet("ppse")
class PpseApplet(_Directory):
    """Contactless directory: every entry inside the FCI's ``BF0C``; no other command."""

    default_name = PPSE_NAME

    def _proprietary(self) -> bytes:
        return tlv.build(0xBF0C, b"".join(e.template() for e in self.entries))

    def process(self, cmd: CommandAPDU, ctx: CommandContext) -> ResponseAPDU:
        if self._card_blocked():
            return status(SW.FUNCTION_NOT_SUPPORTED)
        return status(SW.INS_NOT_SUPPORTED)
