"""The ISO/IEC 7816-4 file commands over a :class:`FileSystem`.

SELECT by FID and path (§11.2.2; by DF name is the runtime's job), READ / UPDATE BINARY (§11.3.3,
§11.3.5), READ / UPDATE / APPEND RECORD (§11.4.3, §11.4.5, §11.4.7), plus the PIN commands from
:mod:`applets.runtime.pin`. Each handler checks, in order: structure of the command (6700 / 6A86),
the file (6986 / 6A82 / 6981), the access condition (6982), then addresses (6B00 / 6A83).
"""

from __future__ import annotations

from applets.runtime.applet import status
from applets.runtime.fs import FileInfo, FileSystem, FsSession, Path, Structure
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU

__all__ = ["INS_SELECT", "process_file_command", "select_file"]

INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_UPDATE_BINARY = 0xD6
INS_READ_RECORD = 0xB2
INS_UPDATE_RECORD = 0xDC
INS_APPEND_RECORD = 0xE2

_WILDCARD_LE = (256, 65536)  # Le = 00 / 0000: "as many as there are, up to the maximum" (§5.1)


def process_file_command(fs: FileSystem, cmd: CommandAPDU, session: FsSession) -> ResponseAPDU | None:
    """Run one file or PIN command; ``None`` if ``cmd.ins`` is not one of them."""
    match cmd.ins:
        case 0xA4:
            return select_file(fs, cmd, session)
        case 0xB0:
            return _read_binary(fs, cmd, session)
        case 0xD6:
            return _update_binary(fs, cmd, session)
        case 0xB2:
            return _read_record(fs, cmd, session)
        case 0xDC:
            return _update_record(fs, cmd, session)
        case 0xE2:
            return _append_record(fs, cmd, session)
    return fs.pins.process(cmd, session.verified)


# -- SELECT ------------------------------------------------------------------------------------------
def select_file(fs: FileSystem, cmd: CommandAPDU, session: FsSession) -> ResponseAPDU:
    """SELECT with P1 00/01/02/03/08/09 (ISO 7816-4 §11.2.2, table 63); P2 b4-b3 picks the answer."""
    if cmd.p2 & 0xF3:  # only "first or only occurrence" makes sense for FIDs
        return status(SW.INCORRECT_P1P2)
    data = cmd.data
    if cmd.p1 in (0x00, 0x01, 0x02) and data and len(data) != 2:
        return status(SW.WRONG_LENGTH)
    if cmd.p1 in (0x08, 0x09) and (not data or len(data) % 2):
        return status(SW.WRONG_LENGTH)
    fids = [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]
    cur = session.current_df
    target: FileInfo | None
    match cmd.p1:
        case 0x00:
            target = _select_any(fs, cur, fids[0] if fids else fs.root[0])
        case 0x01:
            target = fs.child(cur, fids[0]) if fids else None
            target = target if target and target.is_df else None
        case 0x02:
            target = fs.child(cur, fids[0]) if fids else None
            target = target if target and not target.is_df else None
        case 0x03:
            if data:
                return status(SW.WRONG_LENGTH)
            target = fs.info(cur[:-1]) if len(cur) > 1 else None
        case 0x08:
            if fids[0] == fs.root[0]:  # tolerate a path that repeats the MF
                fids = fids[1:]
            target = _walk(fs, fs.root, fids)
        case 0x09:
            target = _walk(fs, cur, fids)
        case _:
            return status(SW.INCORRECT_P1P2)
    if target is None:
        return status(SW.FILE_NOT_FOUND)
    if target.is_df:
        session.current_df, session.current_ef = target.path, None
    else:
        session.current_df, session.current_ef = target.parent, target.path
    session.record = 0
    return status(SW.OK, _answer(fs, target, cmd.p2 & 0x0C))


def _answer(fs: FileSystem, info: FileInfo, form: int) -> bytes:
    if form == 0x00:
        return fs.fci(info)
    if form == 0x04:
        return fs.fcp(info)
    if form == 0x08:  # FMD template 64: we have no management data beyond the DF name
        return bytes((0x64, 0x00))
    return b""


def _select_any(fs: FileSystem, cur: Path, fid: int) -> FileInfo | None:
    """P1 00 search order (§11.2.2): the root, the current DF itself, its children, its parent, siblings."""
    if fid == fs.root[0]:
        return fs.info(fs.root)
    if fid == cur[-1]:
        return fs.info(cur)
    found = fs.child(cur, fid)
    if found is None and len(cur) > 1:
        parent = cur[:-1]
        found = fs.info(parent) if parent[-1] == fid else fs.child(parent, fid)
    return found


def _walk(fs: FileSystem, start: Path, fids: list[int]) -> FileInfo | None:
    info = fs.info(start)
    for fid in fids:
        if info is None or not info.is_df:
            return None
        info = fs.child(info.path, fid)
    return info


# -- EF addressing -------------------------------------------------------------------------------------
def _ef(fs: FileSystem, session: FsSession, sfi: int) -> FileInfo | ResponseAPDU:
    """The EF a command works on: by SFI (which then becomes current, §7.2.2) or the current EF."""
    if sfi:
        info = fs.by_sfi(session.current_df, sfi)
        if info is None:
            return status(SW.FILE_NOT_FOUND)
        if session.current_ef != info.path:
            session.current_ef, session.record = info.path, 0
        return info
    if session.current_ef is None:
        return status(SW.COMMAND_NOT_ALLOWED_NO_EF)
    info = fs.info(session.current_ef)
    return info if info is not None else status(SW.COMMAND_NOT_ALLOWED_NO_EF)


def _binary_target(
    fs: FileSystem, cmd: CommandAPDU, session: FsSession, right: str
) -> tuple[FileInfo, int, bytes] | ResponseAPDU:
    """The transparent EF, offset and content a READ/UPDATE BINARY may use, or the SW refusing it.

    P1 b8 = 1: SFI in b5-b1 and an 8-bit offset in P2; else a 15-bit offset in P1-P2 (§11.3.3).
    ``right`` names the access condition to check: ``"read"`` or ``"update"``.
    """
    if cmd.p1 & 0x80:
        if cmd.p1 & 0x60 or not cmd.p1 & 0x1F:
            return status(SW.INCORRECT_P1P2)
        found = _ef(fs, session, cmd.p1 & 0x1F)
        offset = cmd.p2
    else:
        found = _ef(fs, session, 0)
        offset = (cmd.p1 << 8) | cmd.p2
    if isinstance(found, ResponseAPDU):
        return found
    if found.structure is not Structure.TRANSPARENT:
        return status(SW.INCOMPATIBLE_FILE_STRUCTURE)
    if not getattr(found, right).allows(session):
        return status(SW.SECURITY_STATUS_NOT_SATISFIED)
    content = fs.content(found.path)
    if offset > len(content):
        return status(SW.WRONG_P1P2)
    return found, offset, content


def _read_binary(fs: FileSystem, cmd: CommandAPDU, session: FsSession) -> ResponseAPDU:
    if cmd.data or cmd.le is None:
        return status(SW.WRONG_LENGTH)
    found = _binary_target(fs, cmd, session, "read")
    if isinstance(found, ResponseAPDU):
        return found
    _, offset, content = found
    chunk = content[offset:offset + cmd.le]
    if len(chunk) < cmd.le and cmd.le not in _WILDCARD_LE:
        return status(SW.END_OF_FILE, chunk)
    if not chunk:
        return status(SW.END_OF_FILE)
    return status(SW.OK, chunk)


def _update_binary(fs: FileSystem, cmd: CommandAPDU, session: FsSession) -> ResponseAPDU:
    if not cmd.data or cmd.le is not None:
        return status(SW.WRONG_LENGTH)
    found = _binary_target(fs, cmd, session, "update")
    if isinstance(found, ResponseAPDU):
        return found
    info, offset, content = found
    if offset + len(cmd.data) > len(content):
        return status(SW.NOT_ENOUGH_MEMORY)
    with fs.store.transaction():
        fs.set_content(info.path, content[:offset] + cmd.data + content[offset + len(cmd.data):])
    return status(SW.OK)


# -- records -------------------------------------------------------------------------------------------
def _record_target(fs: FileSystem, cmd: CommandAPDU, session: FsSession) -> FileInfo | ResponseAPDU:
    """P2 b8-b4 = SFI (0 = current EF, 31 = RFU), as in READ/UPDATE/APPEND RECORD (§11.4.2)."""
    sfi = cmd.p2 >> 3
    if sfi == 31:
        return status(SW.INCORRECT_P1P2)
    found = _ef(fs, session, sfi)
    if isinstance(found, ResponseAPDU):
        return found
    if found.structure is None or not found.structure.is_record:
        return status(SW.INCOMPATIBLE_FILE_STRUCTURE)
    return found


def _record_number(cmd: CommandAPDU, session: FsSession) -> int | ResponseAPDU:
    """P2 b3-b1 = 100: the record number is P1, 00 meaning the current record (§11.4.2, table 72)."""
    if cmd.p2 & 0x07 != 0x04:
        return status(SW.INCORRECT_P1P2)
    number = cmd.p1 or session.record
    return number if number else status(SW.RECORD_NOT_FOUND)


def _existing_record(
    fs: FileSystem, cmd: CommandAPDU, session: FsSession, right: str
) -> tuple[FileInfo, int, tuple[bytes, ...]] | ResponseAPDU:
    """The record EF, record number and records a READ/UPDATE RECORD may use, or the SW refusing it.

    ``right`` names the access condition to check: ``"read"`` or ``"update"``.
    """
    info = _record_target(fs, cmd, session)
    if isinstance(info, ResponseAPDU):
        return info
    number = _record_number(cmd, session)
    if isinstance(number, ResponseAPDU):
        return number
    if not getattr(info, right).allows(session):
        return status(SW.SECURITY_STATUS_NOT_SATISFIED)
    records = fs.records(info.path)
    if number > len(records):
        return status(SW.RECORD_NOT_FOUND)
    return info, number, records


def _read_record(fs: FileSystem, cmd: CommandAPDU, session: FsSession) -> ResponseAPDU:
    if cmd.data:
        return status(SW.WRONG_LENGTH)
    found = _existing_record(fs, cmd, session, "read")
    if isinstance(found, ResponseAPDU):
        return found
    _, number, records = found
    session.record = number
    record = records[number - 1]
    le = cmd.le
    if le is None or le in _WILDCARD_LE or le == len(record):
        return status(SW.OK, record)
    if le < len(record):
        return status(0x6C00 | len(record))  # wrong Le: the exact length to ask for (§5.6)
    return status(SW.END_OF_FILE, record)


def _check_record_length(info: FileInfo, data: bytes) -> bool:
    if info.structure is Structure.LINEAR_VARIABLE:
        return 1 <= len(data) <= info.record_size
    return len(data) == info.record_size


def _update_record(fs: FileSystem, cmd: CommandAPDU, session: FsSession) -> ResponseAPDU:
    if not cmd.data or cmd.le is not None:
        return status(SW.WRONG_LENGTH)
    found = _existing_record(fs, cmd, session, "update")
    if isinstance(found, ResponseAPDU):
        return found
    info, number, records = found
    if not _check_record_length(info, cmd.data):
        return status(SW.WRONG_LENGTH)
    with fs.store.transaction():
        fs.set_content(info.path, records[: number - 1] + (cmd.data,) + records[number:])
    session.record = number
    return status(SW.OK)


def _append_record(fs: FileSystem, cmd: CommandAPDU, session: FsSession) -> ResponseAPDU:
    if not cmd.data or cmd.le is not None:
        return status(SW.WRONG_LENGTH)
    if cmd.p1 != 0x00 or cmd.p2 & 0x07:
        return status(SW.INCORRECT_P1P2)
    info = _record_target(fs, cmd, session)
    if isinstance(info, ResponseAPDU):
        return info
    if not info.append.allows(session):
        return status(SW.SECURITY_STATUS_NOT_SATISFIED)
    if not _check_record_length(info, cmd.data):
        return status(SW.WRONG_LENGTH)
    records = fs.records(info.path)
    if info.structure is Structure.CYCLIC:
        # §7.3.4: the new record becomes record 1; the oldest falls off a full file
        records = ((cmd.data,) + records)[: info.max_records]
        number = 1
    else:
        if len(records) >= info.max_records:
            return status(SW.NOT_ENOUGH_MEMORY)
        records = records + (cmd.data,)
        number = len(records)
    with fs.store.transaction():
        fs.set_content(info.path, records)
    session.record = number
    return status(SW.OK)
