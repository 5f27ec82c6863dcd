"""Card content and key management through an open secure channel (GP Card Spec 2.3 §11.5-11.11).

PUT KEY, DELETE (keys and content), INSTALL [for install] / [for personalization], STORE DATA in
DGI format, SET STATUS. Each builds its data field with a pure function (tested byte for byte)
and sends it with :meth:`GpSession.send`, which raises ``CardError`` on any SW but 9000.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from cardkit import tlv
from cardkit.apdu import CommandAPDU
from cardkit.gp._errors import GpError
from cardkit.gp._keys import StaticKeys, key_check_value
from cardkit.gp._registry import Scope
from cardkit.gp._session import GpSession

__all__ = [
    "delete",
    "delete_key",
    "encode_dgis",
    "install_data",
    "install_for_install",
    "install_for_personalization",
    "put_key",
    "put_key_data",
    "set_status",
    "split_blocks",
    "store_data",
]

log = logging.getLogger(__name__)

CLA_GP = 0x80
INS_DELETE = 0xE4
INS_INSTALL = 0xE6
INS_PUT_KEY = 0xD8
INS_SET_STATUS = 0xF0
INS_STORE_DATA = 0xE2

KEY_TYPE_DES = 0x80
KEY_TYPE_AES = 0x88
_KEY_ID_MULTIPLE = 0x81  # PUT KEY P2: first key id 01, b8 = several keys in one command (GP 2.3 Table 11-62)

P1_INSTALL_FOR_INSTALL = 0x04
P1_MAKE_SELECTABLE = 0x08
P1_INSTALL_FOR_PERSONALIZATION = 0x20

P1_LAST_BLOCK = 0x80
P1_ENCRYPTED = 0x60  # b7-b6 = 11: encrypted under the DEK (GP 2.3 Table 11-89)
P1_DGI = 0x08  # b5-b4 = 01: DGI format
MAX_BLOCKS = 256


def _check_aid(aid: bytes, what: str) -> bytes:
    if not 5 <= len(aid) <= 16:
        raise GpError(f"{what} must be 5 to 16 bytes (ISO 7816-5), got {len(aid)}")
    return bytes(aid)


def _lv(value: bytes) -> bytes:
    if len(value) > 0xFF:
        raise GpError(f"a length-prefixed INSTALL field of {len(value)} bytes is longer than 255")
    return bytes((len(value),)) + value


# ------------------------------------------------------------------------------------ PUT KEY
def _key_block(session: GpSession, key: bytes) -> bytes:
    """One key data field (GP 2.3 Table 11-68; Amendment D §7.2 for AES)."""
    kcv = key_check_value(key, session.scp)
    if session.scp == 3:
        padded = key + bytes(-len(key) % 16)  # AES-192: the key length byte says where the key ends
        body = bytes((len(key),)) + session.dek_encrypt(padded)
        return bytes((KEY_TYPE_AES,)) + tlv.encode_length(len(body)) + body + bytes((len(kcv),)) + kcv
    if len(key) != 16:
        raise GpError(f"SCP02 key sets are 16-byte 2-key 3DES, not {len(key)} bytes")
    cipher = session.dek_encrypt(key)
    return bytes((KEY_TYPE_DES, len(cipher))) + cipher + bytes((len(kcv),)) + kcv


def put_key_data(session: GpSession, keys: StaticKeys) -> bytes:
    """The PUT KEY data field: new KVN, then ENC, MAC and DEK, each encrypted for the card's DEK."""
    if not 0x01 <= keys.kvn <= 0x7F:
        raise GpError(f"a new key set needs a KVN in 01..7F, got {keys.kvn:02X}")
    return bytes((keys.kvn,)) + b"".join(_key_block(session, k) for k in (keys.enc, keys.mac, keys.dek))


def put_key(session: GpSession, keys: StaticKeys, *, replace_kvn: int | None = None) -> bytes:
    """PUT KEY ``80 D8 P1 81``: write a key set (ENC, MAC, DEK) with ``keys.kvn``.

    Args:
        session: the open secure channel (SCP03 encrypts under its static K-DEK, SCP02 under the
            session DEK).
        keys: the new set; AES of any length under SCP03, 16-byte 3DES under SCP02.
        replace_kvn: the KVN of the set to replace (P1), or ``None`` to add a set (P1 00).

    Returns:
        The card's three KCVs (9 bytes), already checked against ours.

    Raises:
        CardError: the card refused the command.
        GpError: bad KVNs, a key the protocol cannot carry, or the card's answer does not confirm
            our KCVs (the card may hold the keys anyway: check with GET DATA 00E0 before relying on
            either set).
    """
    if replace_kvn is not None and not 0x01 <= replace_kvn <= 0xFF:
        raise GpError(f"the KVN to replace must be 01..FF, got {replace_kvn:02X}")
    data = put_key_data(session, keys)
    p1 = 0x00 if replace_kvn is None else replace_kvn
    answer = session.send(CommandAPDU(CLA_GP, INS_PUT_KEY, p1, _KEY_ID_MULTIPLE, data, le=256), sensitive=True)
    ours = b"".join(keys.kcvs(session.scp))
    if len(answer) != 10 or answer[0] != keys.kvn:
        raise GpError(f"PUT KEY: the card accepted the command but answered {len(answer)} bytes instead of "
                      f"KVN {keys.kvn:02X} and three KCVs")
    if answer[1:] != ours:
        raise GpError(f"PUT KEY: the card's KCVs {answer[1:].hex().upper()} are not ours {ours.hex().upper()}")
    how = "added" if replace_kvn is None else f"replaced {replace_kvn:02X}"
    log.info("key set KVN %02X written (%s)", keys.kvn, how)
    return answer[1:]


def delete_key(session: GpSession, kvn: int, key_id: int | None = None) -> None:
    """DELETE ``80 E4 00 00`` of a key set (D2 KVN) or one key of it (D0 key id, D2 KVN), GP 2.3 Table 11-24.

    Raises:
        CardError: no such key (6A88) or refused.
    """
    if not 0 <= kvn <= 0xFF or (key_id is not None and not 0 <= key_id <= 0x7F):
        raise GpError("DELETE key: KVN must be a byte and the key id 00..7F")
    data = (b"" if key_id is None else tlv.build(0xD0, bytes((key_id,)))) + tlv.build(0xD2, bytes((kvn,)))
    session.send(CommandAPDU(CLA_GP, INS_DELETE, 0x00, 0x00, data, le=256), context=f"DELETE key set {kvn:02X}")


# ------------------------------------------------------------------------------------ content
def delete(session: GpSession, aid: bytes, *, related: bool = False) -> None:
    """DELETE ``80 E4 00 P2`` of a load file or application (4F AID); ``related`` (P2 80) also
    deletes a load file's applications."""
    data = tlv.build(0x4F, _check_aid(aid, "AID"))
    session.send(CommandAPDU(CLA_GP, INS_DELETE, 0x00, 0x80 if related else 0x00, data, le=256),
                 context=f"DELETE {bytes(aid).hex().upper()}")


def install_data(load_file: bytes, module: bytes, instance: bytes, *, privileges: bytes = b"\x00",
                 parameters: bytes = b"") -> bytes:
    """INSTALL [for install] data (GP 2.3 Table 11-48): LV load file, module, instance, privileges,
    install parameters (``C9`` + application parameters, ``C9 00`` when there are none), token (none)."""
    if len(privileges) not in (1, 3):
        raise GpError(f"privileges are 1 or 3 bytes, got {len(privileges)}")
    install_parameters = tlv.build(0xC9, bytes(parameters))
    return (_lv(_check_aid(load_file, "load file AID")) + _lv(_check_aid(module, "module AID"))
            + _lv(_check_aid(instance, "instance AID")) + _lv(bytes(privileges)) + _lv(install_parameters)
            + _lv(b""))


def install_for_install(session: GpSession, load_file: bytes, module: bytes, instance: bytes, *,
                        privileges: bytes = b"\x00", parameters: bytes = b"", make_selectable: bool = True) -> None:
    """INSTALL [for install (and make selectable)] ``80 E6 0C 00`` (or ``04 00``): create an application.

    Raises:
        CardError: the card refused (6A80 bad data, 6A84 no memory, 6985 already installed...).
    """
    data = install_data(load_file, module, instance, privileges=privileges, parameters=parameters)
    p1 = P1_INSTALL_FOR_INSTALL | (P1_MAKE_SELECTABLE if make_selectable else 0)
    session.send(CommandAPDU(CLA_GP, INS_INSTALL, p1, 0x00, data, le=256),
                 context=f"INSTALL [for install] {bytes(instance).hex().upper()}")


def install_for_personalization(session: GpSession, instance: bytes) -> None:
    """INSTALL [for personalization] ``80 E6 20 00``: the STORE DATA that follow go to ``instance``
    (GP 2.3 Table 11-47: 00 00 LV(AID) 00 00 00)."""
    data = b"\x00\x00" + _lv(_check_aid(instance, "application AID")) + b"\x00\x00\x00"
    session.send(CommandAPDU(CLA_GP, INS_INSTALL, P1_INSTALL_FOR_PERSONALIZATION, 0x00, data, le=256),
                 context=f"INSTALL [for personalization] {bytes(instance).hex().upper()}")


# --------------------------------------------------------------------------------- STORE DATA
def encode_dgis(dgis: Mapping[int, bytes] | Iterable[tuple[int, bytes]]) -> bytes:
    """DGIs as one byte stream (EMV CPS §A.4): DGI (2 bytes), length (1 byte up to 254, else FF + 2 bytes), data."""
    items = dgis.items() if isinstance(dgis, Mapping) else dgis
    out = bytearray()
    for dgi, value in items:
        if not 0 <= dgi <= 0xFFFF:
            raise GpError(f"DGI {dgi:#x} is not two bytes")
        n = len(value)
        if n > 0xFFFF:
            raise GpError(f"DGI {dgi:04X} holds {n} bytes, more than 65535")
        out += dgi.to_bytes(2, "big") + (bytes((n,)) if n < 0xFF else b"\xff" + n.to_bytes(2, "big")) + value
    return bytes(out)


def split_blocks(stream: bytes, block_size: int) -> list[bytes]:
    """The stream in STORE DATA blocks of ``block_size`` bytes (a DGI may span blocks)."""
    if block_size < 1:
        raise GpError(f"STORE DATA block size must be positive, got {block_size}")
    return [stream[i : i + block_size] for i in range(0, len(stream), block_size)]


def store_data(session: GpSession, dgis: Mapping[int, bytes] | Iterable[tuple[int, bytes]], *,
               encrypted: bool = False, block_size: int | None = None) -> int:
    """STORE DATA ``80 E2 P1 P2`` of DGIs to the application named by INSTALL [for personalization].

    P1: DGI format (08), encrypted (60) when ``encrypted`` — the values are then already
    enciphered by data preparation (see :meth:`GpSession.dek_encrypt`); with C-DEC the whole data
    field is enciphered by the channel as well — and 80 on the last block. P2 numbers the blocks
    00..FF. Every block fills one short APDU after the channel's MAC and padding unless
    ``block_size`` asks for less.

    Returns:
        The number of STORE DATA commands sent.

    Raises:
        GpError: nothing to store, a block size that does not fit, or more than 256 blocks
            (checked before anything is sent).
        CardError: the card refused a block (the blocks before it are stored).
    """
    stream = encode_dgis(dgis)
    if not stream:
        raise GpError("STORE DATA: no DGIs to store")
    limit = session.max_data
    size = limit if block_size is None else block_size
    if size > limit:
        raise GpError(f"STORE DATA block size {size} does not fit one APDU at this security level (max {limit})")
    blocks = split_blocks(stream, size)
    if len(blocks) > MAX_BLOCKS:
        raise GpError(f"STORE DATA: {len(stream)} bytes need {len(blocks)} blocks of {size}, more than {MAX_BLOCKS}")
    base = P1_DGI | (P1_ENCRYPTED if encrypted else 0)
    for number, block in enumerate(blocks):
        p1 = base | (P1_LAST_BLOCK if number == len(blocks) - 1 else 0)
        session.send(CommandAPDU(CLA_GP, INS_STORE_DATA, p1, number, block, le=256), sensitive=encrypted,
                     context=f"STORE DATA block {number}")
    return len(blocks)


# --------------------------------------------------------------------------------- SET STATUS
def set_status(session: GpSession, scope: Scope | int, state: int, aid: bytes | None = None) -> None:
    """SET STATUS ``80 F0 P1 P2 [AID]`` (GP 2.3 §11.10): P1 the scope (80 the card, 40 an application
    or SD, 60 an SD and its applications), P2 the new state.

    For the card: ``CardLifeCycle`` values (7F locks, 0F unlocks, FF terminates for good). For an
    application: 80 locks (b8 set, the lower bits kept by the card), 00 unlocks.

    Raises:
        CardError: the transition is not allowed (6985) or the AID is unknown (6A88).
    """
    if not 0 <= state <= 0xFF:
        raise GpError(f"life cycle state {state!r} is not a byte")
    p1 = int(scope)
    if p1 not in (0x80, 0x40, 0x60):
        raise GpError(f"SET STATUS scope {p1:02X}: use 80 (card), 40 (application or SD) "
                      "or 60 (SD and its applications)")
    if p1 != 0x80 and aid is None:
        raise GpError("SET STATUS of an application needs its AID")
    data = b"" if aid is None else _check_aid(aid, "AID")
    session.send(CommandAPDU(CLA_GP, INS_SET_STATUS, p1, state, data),
                 context=f"SET STATUS {p1:02X} {state:02X}")
