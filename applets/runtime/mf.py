"""The file-system applet: an ISO 7816-4 DF tree behind an AID. The card's MF is one of these.

Applications that are mostly files (ID, social insurance) can subclass it and add their own
instructions in :meth:`FileSystemApplet.process_other`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from applets.runtime.applet import Applet, CommandContext, register_applet, status
from applets.runtime.fs import FileSystem, FsSession
from applets.runtime.fscmd import process_file_command
from applets.runtime.store import StoreView
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU

__all__ = ["MF_AID", "FileSystemApplet"]

# "F" first nibble = proprietary, unregistered AID (ISO 7816-5 §5.2); then "cardkitMF" in ASCII.
MF_AID = bytes.fromhex("F0") + b"cardkitMF"


@register_applet("fs")
class FileSystemApplet(Applet):
    """A DF tree rooted at ``root_fid`` (3F00: the MF), answering the file and PIN commands."""

    handles_file_select = True

    def __init__(self, aid: bytes = MF_AID, *, label: str | None = None, root_fid: int = 0x3F00) -> None:
        super().__init__(aid, label=label if label is not None else "MF")
        self.root_fid = root_fid
        self._fs: FileSystem | None = None

    @property
    def is_master_file(self) -> bool:
        return self.root_fid == 0x3F00

    @property
    def fs(self) -> FileSystem:
        if self._fs is None:
            self._fs = FileSystem(self.store, self.root_fid)
        return self._fs

    def bind(self, store: StoreView) -> None:
        super().bind(store)
        self._fs = FileSystem(store, self.root_fid)

    def install(self) -> None:
        self.fs.format(name=self.aid)

    def new_session(self) -> FsSession:
        return self.fs.new_session()

    def select(self, ctx: CommandContext) -> ResponseAPDU:
        root = self.fs.info(self.fs.root)
        if root is None:
            return status(SW.FILE_NOT_FOUND)
        return status(SW.OK, self.fs.fci(root))

    def process(self, cmd: CommandAPDU, ctx: CommandContext) -> ResponseAPDU:
        if cmd.cla & 0x80:  # the file commands are interindustry only (ISO 7816-4 §5.4.1)
            return self.process_other(cmd, ctx)
        if ctx.secure_messaging:
            return status(SW.SECURE_MESSAGING_NOT_SUPPORTED)
        answer = process_file_command(self.fs, cmd, ctx.session)
        return answer if answer is not None else self.process_other(cmd, ctx)

    def process_other(self, cmd: CommandAPDU, ctx: CommandContext) -> ResponseAPDU:
        """Instructions beyond the file system; subclasses extend this."""
        return status(SW.INS_NOT_SUPPORTED)

    def to_config(self) -> dict[str, Any]:
        return {**super().to_config(), "root_fid": self.root_fid}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FileSystemApplet:
        root_fid = int(config.get("root_fid", 0x3F00))
        return cls(bytes.fromhex(config["aid"]), label=config.get("label"), root_fid=root_fid)
