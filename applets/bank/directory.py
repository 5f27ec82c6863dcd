"""PSE (``1PAY.SYS.DDF01``) and PPSE (``2PAY.SYS.DDF01``): the directories terminals select first.

EMV Book 1 §12.2 (PSE with its directory record file, SFI 1) and Book B / qPBOC (PPSE, the list in
the FCI). Both list the card's bank applications from their configuration (AID, label, priority),
which the card image keeps; neither has persistent state of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from applets.bank.state import CARD_BLOCKED_KEY
from applets.runtime import Applet, CommandContext, fci, register_applet, status
from cardkit import tlv
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU

__all__ = ["PPSE_NAME", "PSE_NAME", "DirectoryEntry", "PpseApplet", "PseApplet"]

PSE_NAME = b"1PAY.SYS.DDF01"
PPSE_NAME = b"2PAY.SYS.DDF01"
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


class _Directory(Applet):
    """What PSE and PPSE share: the entries, their config, the card-block check."""

    default_name: bytes = b""

    def __init__(self, aid: bytes | None = None, *, label: str | None = None,
                 entries: Iterable[DirectoryEntry] = ()) -> None:
        super().__init__(aid if aid is not None else self.default_name, label=label)
        self.entries: tuple[DirectoryEntry, ...] = tuple(entries)

    def _card_blocked(self) -> bool:
        return bool(self.store.store.get(CARD_BLOCKED_KEY, False))

    def select(self, ctx: CommandContext) -> ResponseAPDU:
        if self._card_blocked():
            return status(SW.FUNCTION_NOT_SUPPORTED)
        return status(SW.OK, fci(self.aid, self._proprietary()))

    def _proprietary(self) -> bytes:
        raise NotImplementedError

    def to_config(self) -> dict[str, Any]:
        return {**super().to_config(), "entries": [e.to_json() for e in self.entries]}

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
