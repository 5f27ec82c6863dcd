"""ISO/IEC 7816-4 file system: the model (DFs, EFs, access conditions) kept in the store.

A :class:`FileSystem` is a reusable component: the card's MF applet owns one rooted at 3F00, and
applications such as the ID and social insurance applets can own one rooted at their ADF. Files are
persistent: each file's description lives under ``f/<path>`` and its content under ``d/<path>``,
where ``<path>`` is the FIDs from the root in hex (``f/3F00/2F00``). The APDU side lives in
:mod:`applets.runtime.fscmd`.

Structures (ISO 7816-4 §7.3.2): transparent, linear fixed, linear variable and cyclic EFs. Records
are kept as a tuple; in a cyclic EF the newest record is record 1 (§7.3.4).

Access conditions (a compact stand-in for the security attributes of §9.3): each EF has one for
read, update and append — ``ALWAYS``, ``NEVER``, ``PIN(n)`` (PIN n verified in this session) or
``KEY(n)`` (key n authenticated in this session; a placeholder for secure messaging applets).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from applets.runtime.pin import Pins
from applets.runtime.store import StoreView
from cardkit.tlv import build

__all__ = [
    "ALWAYS",
    "KEY",
    "NEVER",
    "PIN",
    "Access",
    "FileInfo",
    "FileSystem",
    "FsSession",
    "Path",
    "Structure",
]

Path = tuple[int, ...]  # FIDs from the root DF, the root included


@dataclass(frozen=True, slots=True)
class Access:
    """One access condition: ``always``, ``never``, ``pin`` (ref) or ``key`` (ref)."""

    kind: str
    ref: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("always", "never", "pin", "key"):
            raise ValueError(f"unknown access condition {self.kind!r}")

    def __str__(self) -> str:
        return self.kind if self.kind in ("always", "never") else f"{self.kind}:{self.ref}"

    @classmethod
    def parse(cls, text: str) -> Access:
        kind, _, ref = text.partition(":")
        return cls(kind, int(ref) if ref else 0)

    def allows(self, session: FsSession) -> bool:
        if self.kind == "always":
            return True
        if self.kind == "pin":
            return self.ref in session.verified
        if self.kind == "key":
            return self.ref in session.keys
        return False


ALWAYS = Access("always")
NEVER = Access("never")


def PIN(ref: int) -> Access:
    return Access("pin", ref)


def KEY(ref: int) -> Access:
    return Access("key", ref)


class Structure(str, Enum):
    """EF structures and their file descriptor bytes (ISO 7816-4 §7.4.5, table 12)."""

    TRANSPARENT = "transparent"
    LINEAR_FIXED = "linear_fixed"
    LINEAR_VARIABLE = "linear_variable"
    CYCLIC = "cyclic"

    @property
    def descriptor(self) -> int:
        return {"transparent": 0x01, "linear_fixed": 0x02, "linear_variable": 0x04, "cyclic": 0x06}[self.value]

    @property
    def is_record(self) -> bool:
        return self is not Structure.TRANSPARENT


@dataclass(frozen=True, slots=True)
class FileInfo:
    """A file's description as stored (content excluded)."""

    path: Path
    is_df: bool
    structure: Structure | None = None
    size: int = 0  # transparent EFs: fixed size in bytes
    record_size: int = 0  # record EFs: (maximum) record length
    max_records: int = 0
    sfi: int | None = None
    name: bytes | None = None  # DF name
    read: Access = ALWAYS
    update: Access = NEVER
    append: Access = NEVER

    @property
    def fid(self) -> int:
        return self.path[-1]

    @property
    def parent(self) -> Path:
        return self.path[:-1]


@dataclass(slots=True)
class FsSession:
    """Transient file-system state of one channel (ISO 7816-4 §7.2.1 current DF / EF / record)."""

    current_df: Path
    current_ef: Path | None = None
    record: int = 0  # current record number in the current EF, 0 = none
    verified: set[int] = field(default_factory=set)
    keys: set[int] = field(default_factory=set)


def _key(path: Path) -> str:
    return "/".join(f"{fid:04X}" for fid in path)


class FileSystem:
    """The files under one root DF, stored in ``store``; issuing methods must run in a transaction."""

    def __init__(self, store: StoreView, root_fid: int = 0x3F00) -> None:
        self.store = store
        self.root: Path = (root_fid,)
        self.pins = Pins(store)

    # -- reading the model -----------------------------------------------------------------------
    def info(self, path: Path) -> FileInfo | None:
        meta = self.store.get(f"f/{_key(path)}")
        if meta is None:
            return None
        if meta["kind"] == "df":
            return FileInfo(path, True, name=meta.get("name"))
        return FileInfo(
            path, False, Structure(meta["structure"]), meta["size"], meta["record_size"], meta["max_records"],
            meta["sfi"], None, Access.parse(meta["read"]), Access.parse(meta["update"]), Access.parse(meta["append"]),
        )

    def children(self, df: Path) -> list[FileInfo]:
        prefix = f"f/{_key(df)}/"
        out = []
        for k in self.store.keys(prefix):
            rest = k[len(prefix):]
            if "/" not in rest:
                info = self.info(df + (int(rest, 16),))
                if info is not None:
                    out.append(info)
        return out

    def child(self, df: Path, fid: int) -> FileInfo | None:
        return self.info(df + (fid,))

    def by_sfi(self, df: Path, sfi: int) -> FileInfo | None:
        """The EF of the given short EF identifier in ``df`` (ISO 7816-4 §7.2.2)."""
        for info in self.children(df):
            if not info.is_df and info.sfi == sfi:
                return info
        return None

    def content(self, path: Path) -> bytes:
        value: bytes = self.store.get(f"d/{_key(path)}", b"")
        return value

    def records(self, path: Path) -> tuple[bytes, ...]:
        value: tuple[bytes, ...] = self.store.get(f"d/{_key(path)}", ())
        return value

    def set_content(self, path: Path, value: bytes | tuple[bytes, ...]) -> None:
        self.store.set(f"d/{_key(path)}", value)

    # -- issuing ---------------------------------------------------------------------------------
    def format(self, *, name: bytes | None = None) -> None:
        """Create the root DF if it does not exist yet."""
        if self.info(self.root) is None:
            self.store.set(f"f/{_key(self.root)}", {"kind": "df", "name": name})

    def create_df(self, parent: Sequence[int], fid: int, *, name: bytes | None = None) -> Path:
        path = self._new_path(parent, fid)
        self.store.set(f"f/{_key(path)}", {"kind": "df", "name": name})
        return path

    def create_ef(
        self,
        parent: Sequence[int],
        fid: int,
        structure: Structure | str = Structure.TRANSPARENT,
        *,
        size: int | None = None,
        record_size: int = 0,
        max_records: int = 0,
        sfi: int | None = None,
        read: Access = ALWAYS,
        update: Access = NEVER,
        append: Access | None = None,
        data: bytes = b"",
        records: Sequence[bytes] = (),
    ) -> Path:
        """Create an EF with initial content.

        Transparent EFs have a fixed ``size`` (default ``len(data)``; data is padded with 00).
        Record EFs hold up to ``max_records`` records of ``record_size`` bytes (linear variable:
        up to ``record_size``); ``records`` are the initial ones, record 1 first.
        ``append`` defaults to the ``update`` condition.
        """
        structure = Structure(structure)
        path = self._new_path(parent, fid)
        if sfi is not None and not 1 <= sfi <= 30:
            raise ValueError("SFI must be 1..30 (ISO 7816-4 §7.2.2)")
        if sfi is not None and self.by_sfi(tuple(parent), sfi) is not None:
            raise ValueError(f"SFI {sfi} is already used in DF {_key(tuple(parent))}")
        if structure is Structure.TRANSPARENT:
            size = len(data) if size is None else size
            if len(data) > size or size > 0x7FFF:
                raise ValueError("transparent EF: data longer than the file, or size above 32767")
            content: bytes | tuple[bytes, ...] = data.ljust(size, b"\x00")
            record_size = max_records = 0
        else:
            size = 0
            if not 1 <= record_size <= 255 or not 1 <= max_records <= 254:
                raise ValueError("record EF needs record_size 1..255 and max_records 1..254")
            if len(records) > max_records:
                raise ValueError("more initial records than max_records")
            for r in records:
                if structure is Structure.LINEAR_VARIABLE:
                    if not 1 <= len(r) <= record_size:
                        raise ValueError("linear variable record must be 1..record_size bytes")
                elif len(r) != record_size:
                    raise ValueError(f"fixed records must be exactly {record_size} bytes")
            content = tuple(bytes(r) for r in records)
        self.store.set(f"f/{_key(path)}", {
            "kind": "ef", "structure": structure.value, "size": size, "record_size": record_size,
            "max_records": max_records, "sfi": sfi, "read": str(read), "update": str(update),
            "append": str(append if append is not None else update),
        })
        self.set_content(path, content)
        return path

    def _new_path(self, parent: Sequence[int], fid: int) -> Path:
        parent = tuple(parent)
        pinfo = self.info(parent)
        if pinfo is None or not pinfo.is_df:
            raise ValueError(f"parent {_key(parent)} is not a DF of this file system")
        # ISO 7816-4 §7.2.1: 3F00 is the MF, FFFF is reserved, 3FFF means "path" in SELECT.
        if not 0 <= fid <= 0xFFFF or fid in (0x3F00, 0x3FFF, 0xFFFF) or fid in parent:
            raise ValueError(f"FID {fid:04X} is reserved or clashes with its path")
        if self.info(parent + (fid,)) is not None:
            raise ValueError(f"FID {fid:04X} already exists in DF {_key(parent)}")
        return parent + (fid,)

    # -- control parameters ----------------------------------------------------------------------
    def fcp(self, info: FileInfo) -> bytes:
        """FCP template ``62`` (ISO 7816-4 §7.4.2): 80/82/83/84/88/8A as they apply."""
        return build(0x62, self._control_parameters(info))

    def fci(self, info: FileInfo) -> bytes:
        """FCI template ``6F`` carrying the same control parameters (ISO 7816-4 §7.4.1)."""
        return build(0x6F, self._control_parameters(info))

    def _control_parameters(self, info: FileInfo) -> bytes:
        body = b""
        if info.is_df:
            body += build(0x82, b"\x38")  # DF
            body += build(0x83, info.fid.to_bytes(2, "big"))
            if info.name:
                body += build(0x84, info.name)
        else:
            assert info.structure is not None
            if info.structure is Structure.TRANSPARENT:
                body += build(0x80, info.size.to_bytes(2, "big"))
                body += build(0x82, bytes((info.structure.descriptor,)))
            else:
                used = sum(len(r) for r in self.records(info.path))
                body += build(0x80, used.to_bytes(2, "big"))
                # descriptor, data coding byte, max record size (2 bytes), number of records
                body += build(0x82, bytes((info.structure.descriptor, 0x21)) + info.record_size.to_bytes(2, "big")
                              + bytes((len(self.records(info.path)),)))
            body += build(0x83, info.fid.to_bytes(2, "big"))
            # 88 empty = no SFI (§7.4.3: absent would mean "SFI = FID b5-b1")
            body += build(0x88, bytes((info.sfi << 3,)) if info.sfi else b"")
        body += build(0x8A, b"\x05")  # life cycle: operational, activated (§7.4.10)
        return body

    def new_session(self) -> FsSession:
        return FsSession(current_df=self.root)

