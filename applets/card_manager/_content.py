"""Content management of the card manager: GET STATUS, SET STATUS, INSTALL, DELETE, STORE DATA.

Every handler gets the card manager, the unwrapped command and the selection's session, and answers
or raises :class:`Refusal`. Each change lands in one store transaction; where another component
changes its own state too (an application's ``personalize``, EF.DIR) the whole step runs in
:meth:`Store.atomic`, and in-memory objects are put back if it does not commit.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from applets.card_manager._codes import (
    LOCKED_BIT,
    MORE_DATA,
    AppLifeCycle,
    CardLifeCycle,
    Refusal,
    card_transition_allowed,
)
from applets.card_manager._dgi import parse_dgi_stream
from applets.card_manager._loadfiles import LOAD_FILES, load_file, module_of
from applets.card_manager._registry import (
    ISD_PRIVILEGES,
    RegistryEntry,
    encode_entry,
    encode_load_file,
    parse_tag_list,
)
from applets.card_manager._scp import SL_C_DEC
from applets.runtime import Applet, list_application, status, unlist_application
from cardkit import tlv
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.errors import ProfileError, TlvError

if TYPE_CHECKING:
    from applets.card_manager._applet import CardManager, Session

__all__ = ["INS_DELETE", "INS_GET_STATUS", "INS_INSTALL", "INS_SET_STATUS", "INS_STORE_DATA",
           "delete", "get_status", "install", "set_status", "store_data"]

log = logging.getLogger(__name__)

INS_DELETE = 0xE4
INS_GET_STATUS = 0xF2
INS_INSTALL = 0xE6
INS_SET_STATUS = 0xF0
INS_STORE_DATA = 0xE2

_STATUS_ROOM = 224  # GET STATUS data per answer: room left for R-ENC padding and R-MAC in 256 bytes
_MAX_PERSO_BUFFER = 32 * 1024  # STORE DATA bytes buffered for one application
_OK_DATA = b"\x00"  # INSTALL and DELETE answer one byte 00 (GP 2.3 §11.5.3.1, §11.2.3.1)


def _tlv(data: bytes) -> list[tlv.Tlv]:
    try:
        return tlv.decode(data)
    except TlvError:
        raise Refusal(SW.WRONG_DATA, "malformed BER-TLV in the command data") from None


def _has_mf(cm: CardManager) -> bool:
    return any(getattr(a, "is_master_file", False) for a in cm.card.applets)


def _applet(cm: CardManager, aid: bytes) -> Applet | None:
    return next((a for a in cm.card.applets if a.aid == aid), None)


# --- GET STATUS ----------------------------------------------------------------------------------


def _status_entries(cm: CardManager, p1: int, wanted: frozenset[bytes] | None) -> list[tuple[bytes, bytes]]:
    """(AID, E3 template) of every registry entry in the scope of P1 (GP 2.3 Table 11-33)."""
    if p1 == 0x80:
        return [(cm.aid, encode_entry(cm.aid, cm.life_cycle, ISD_PRIVILEGES, wanted=wanted))]
    if p1 == 0x40:
        return [(e.aid, encode_entry(e.aid, e.life_cycle, e.privileges, sd_aid=cm.aid, load_file=e.load_file,
                                     wanted=wanted)) for e in cm.registry()]
    return [(lf.aid, encode_load_file(lf, cm.aid, with_modules=p1 == 0x10, wanted=wanted))
            for lf in LOAD_FILES.values()]


def get_status(cm: CardManager, cmd: CommandAPDU, s: Session) -> ResponseAPDU:
    """``80 F2 P1 P2 4F..`` — P1 80 ISD, 40 applications, 20 load files, 10 load files and modules;
    P2 02 tag-coded answer, b1 for the next occurrence after 6310."""
    if cmd.p1 not in (0x80, 0x40, 0x20, 0x10) or cmd.p2 & ~0x03 or not cmd.p2 & 0x02:
        raise Refusal(SW.INCORRECT_P1P2, "GET STATUS P1/P2 (only the tag-coded P2 02/03 format)")
    criteria = wanted = None
    for obj in _tlv(cmd.data):
        if obj.tag == b"\x4f" and criteria is None:
            criteria = obj.value
        elif obj.tag == b"\x5c" and wanted is None:
            try:
                wanted = parse_tag_list(obj.value)
            except ValueError:
                raise Refusal(SW.WRONG_DATA, "malformed tag list") from None
        else:
            raise Refusal(SW.WRONG_DATA, f"unexpected search criterion {obj.tag.hex().upper()}")
    if criteria is None:
        raise Refusal(SW.WRONG_DATA, "GET STATUS needs the search criterion 4F")
    key = bytes((cmd.p1,)) + criteria + b"|" + b"".join(sorted(wanted or ()))
    start = 0
    if cmd.p2 & 0x01:
        more = s.status_more
        if more is None or more[:2] != (cmd.p1, key):
            raise Refusal(SW.INCORRECT_P1P2, "no GET STATUS to continue")
        start = more[2]
    s.status_more = None
    found = [e for aid, e in _status_entries(cm, cmd.p1, wanted) if aid.startswith(criteria)]
    if not found:
        raise Refusal(SW.REFERENCED_DATA_NOT_FOUND, "no registry entry matches")
    out, i = b"", start
    while i < len(found) and len(out) + len(found[i]) <= _STATUS_ROOM:
        out += found[i]
        i += 1
    if i < len(found):
        s.status_more = (cmd.p1, key, i)
        return status(MORE_DATA, out)
    return status(SW.OK, out)


# --- SET STATUS ----------------------------------------------------------------------------------


def _target_aid(data: bytes) -> bytes:
    """SET STATUS names the application by its AID; accept it bare (GP 2.3) or as ``4F L AID``."""
    if len(data) >= 2 and data[0] == 0x4F and data[1] == len(data) - 2:
        return data[2:]
    return data


def set_status(cm: CardManager, cmd: CommandAPDU, s: Session) -> ResponseAPDU:
    """``80 F0 80 state`` moves the card (GP 2.3 §5.1.2); ``80 F0 40 P2 AID`` locks (P2 b8 = 1) or
    unlocks (b8 = 0) an application."""
    if cmd.p1 == 0x80:
        if cmd.data and _target_aid(cmd.data) != cm.aid:
            raise Refusal(SW.REFERENCED_DATA_NOT_FOUND, "SET STATUS P1 80 is for this security domain")
        if cmd.p2 not in set(CardLifeCycle):
            raise Refusal(SW.INCORRECT_P1P2, f"{cmd.p2:02X} is not a card life cycle state")
        if not card_transition_allowed(cm.life_cycle, cmd.p2):
            raise Refusal(SW.CONDITIONS_NOT_SATISFIED, f"no transition {cm.life_cycle:02X} -> {cmd.p2:02X}")
        if cmd.p2 == CardLifeCycle.SECURED and any(ks.has_default_keys() for ks in cm.key_sets()):
            raise Refusal(SW.CONDITIONS_NOT_SATISFIED, "a key set still holds the default test keys")
        with cm.store.transaction():
            cm.store.set("lc", cmd.p2)
        log.info("card manager: card life cycle %s", CardLifeCycle(cmd.p2).name)
        return status(SW.OK)
    if cmd.p1 != 0x40:
        raise Refusal(SW.INCORRECT_P1P2, "SET STATUS P1 is 80 (card) or 40 (application)")
    aid = _target_aid(cmd.data)
    if aid == cm.aid:
        raise Refusal(SW.CONDITIONS_NOT_SATISFIED, "the security domain's state is set with P1 80")
    applet = _applet(cm, aid)
    if applet is None:
        raise Refusal(SW.REFERENCED_DATA_NOT_FOUND, "no such application")
    entry = cm.entry(applet)
    lc = entry.life_cycle | LOCKED_BIT if cmd.p2 & 0x80 else entry.life_cycle & ~LOCKED_BIT
    with cm.store.transaction():
        cm.save_entry(RegistryEntry(aid, lc, entry.privileges, entry.load_file, entry.module, entry.by_card_manager))
    return status(SW.OK)


# --- INSTALL -------------------------------------------------------------------------------------


def _fields(data: bytes, count: int) -> list[bytes]:
    """``count`` length-prefixed fields filling ``data`` exactly (GP 2.3 Tables 11-47 .. 11-51)."""
    out, pos = [], 0
    for _ in range(count):
        if pos >= len(data):
            raise Refusal(SW.WRONG_DATA, "INSTALL data truncated")
        n = data[pos]
        value = data[pos + 1 : pos + 1 + n]
        if len(value) != n:
            raise Refusal(SW.WRONG_DATA, "INSTALL data truncated")
        out.append(bytes(value))
        pos += 1 + n
    if pos != len(data):
        raise Refusal(SW.WRONG_DATA, "INSTALL data too long")
    return out


def _install_parameters(raw: bytes) -> bytes:
    """The value of C9 (application specific parameters); system parameters (EF ..) are ignored."""
    params = b""
    for obj in _tlv(raw):
        if obj.tag == b"\xc9":
            params = obj.value
    return params


def install(cm: CardManager, cmd: CommandAPDU, s: Session) -> ResponseAPDU:
    """INSTALL (GP 2.3 §11.5): P1 0C [for install and make selectable], 04 [for install],
    08 [for make selectable], 20 [for personalization]; answer ``00``."""
    if cmd.p2:
        raise Refusal(SW.INCORRECT_P1P2, "INSTALL P2 must be 00")
    if cmd.p1 == 0x20:
        return _for_personalization(cm, cmd, s)
    if cmd.p1 == 0x08:
        return _make_selectable(cm, cmd)
    if cmd.p1 not in (0x0C, 0x04):
        raise Refusal(SW.INCORRECT_P1P2, f"INSTALL P1 {cmd.p1:02X} not supported")
    lf_aid, module_aid, aid, privileges, parameters, token = _fields(cmd.data, 6)
    lf = module_of(lf_aid, module_aid)
    if lf is None:
        raise Refusal(SW.REFERENCED_DATA_NOT_FOUND, "unknown load file or module")
    if _applet(cm, aid) is not None or aid == cm.aid:
        raise Refusal(SW.CONDITIONS_NOT_SATISFIED, "an application with this AID is already on the card")
    if len(privileges) not in (1, 3) or privileges[0] & 0x80:
        raise Refusal(SW.WRONG_DATA, "privileges: 1 or 3 bytes, no security domain privilege")
    if token:
        raise Refusal(SW.WRONG_DATA, "install tokens (delegated management) are not supported")
    try:
        applet = lf.factory(aid, _install_parameters(parameters))
    except (ProfileError, ValueError) as exc:
        raise Refusal(SW.WRONG_DATA, f"cannot create the instance: {exc}") from None
    life_cycle = AppLifeCycle.SELECTABLE if cmd.p1 & 0x08 else AppLifeCycle.INSTALLED
    entry = RegistryEntry(aid, life_cycle, privileges.ljust(3, b"\x00"), lf.aid, lf.module, by_card_manager=True)
    card = cm.card
    card.attach(applet)
    try:
        with card.store.transaction():
            applet.install()
            cm.save_entry(entry)
    except BaseException:
        card.detach(aid)  # the transaction did not land: neither does the instance
        raise
    log.info("card manager: installed %s from load file %s", aid.hex().upper(), lf.name)
    return status(SW.OK, _OK_DATA)


def _make_selectable(cm: CardManager, cmd: CommandAPDU) -> ResponseAPDU:
    _, _, aid, privileges, _, _ = _fields(cmd.data, 6)
    entry = cm.stored_entry(aid)
    if entry is None or not entry.by_card_manager:
        raise Refusal(SW.REFERENCED_DATA_NOT_FOUND, "no application installed with this AID")
    if entry.life_cycle != AppLifeCycle.INSTALLED:
        raise Refusal(SW.CONDITIONS_NOT_SATISFIED, "the application is already selectable")
    with cm.store.transaction():
        cm.save_entry(RegistryEntry(aid, AppLifeCycle.SELECTABLE, entry.privileges, entry.load_file, entry.module,
                                    True))
    return status(SW.OK, _OK_DATA)


def _for_personalization(cm: CardManager, cmd: CommandAPDU, s: Session) -> ResponseAPDU:
    """``80 E6 20 00`` ``00 00 L AID 00 00 00``: the following STORE DATA go to this application."""
    data = cmd.data
    if len(data) < 3 or data[0] or data[1] or len(data) < 3 + data[2]:
        raise Refusal(SW.WRONG_DATA, "INSTALL [for personalization] data is 00 00 L AID 00 00 00")
    aid, rest = data[3 : 3 + data[2]], data[3 + data[2] :]
    if rest not in (b"", b"\x00\x00\x00"):
        raise Refusal(SW.WRONG_DATA, "INSTALL [for personalization] data is 00 00 L AID 00 00 00")
    entry = cm.stored_entry(aid)
    if entry is None or not entry.by_card_manager or _applet(cm, aid) is None:
        raise Refusal(SW.REFERENCED_DATA_NOT_FOUND, "no application installed by this card manager")
    if entry.locked:
        raise Refusal(SW.CONDITIONS_NOT_SATISFIED, "the application is locked")
    with cm.store.transaction():
        cm.store.set("perso", {"aid": aid, "next": 0, "buf": b""})
    s.perso_target = aid
    return status(SW.OK, _OK_DATA)


# --- DELETE --------------------------------------------------------------------------------------


def delete(cm: CardManager, cmd: CommandAPDU, s: Session) -> ResponseAPDU:
    """``80 E4 00 P2`` with ``4F AID`` (an application; P2 80: and its related objects, of which an
    application has none) or ``D2 KVN [D0 key id]`` (a key set, or one of its keys); answer ``00``."""
    if cmd.p1 or cmd.p2 not in (0x00, 0x80):
        raise Refusal(SW.INCORRECT_P1P2, "DELETE P1 00, P2 00 or 80")
    objs = {obj.tag: obj.value for obj in _tlv(cmd.data)}
    if b"\x4f" in objs and len(objs) == 1:
        return _delete_application(cm, objs[b"\x4f"], s)
    if b"\xd2" in objs and set(objs) <= {b"\xd0", b"\xd2"}:
        return _delete_key(cm, objs[b"\xd2"], objs.get(b"\xd0"), s)
    raise Refusal(SW.WRONG_DATA, "DELETE names an application (4F) or a key (D2 [D0])")


def _delete_application(cm: CardManager, aid: bytes, s: Session) -> ResponseAPDU:
    if aid == cm.aid or aid in LOAD_FILES:
        raise Refusal(SW.CONDITIONS_NOT_SATISFIED, "the security domain and load files in ROM stay")
    applet = _applet(cm, aid)
    if applet is None:
        raise Refusal(SW.REFERENCED_DATA_NOT_FOUND, "no such application")
    if getattr(applet, "is_master_file", False):
        raise Refusal(SW.CONDITIONS_NOT_SATISFIED, "the MF stays")
    card = cm.card
    perso = cm.store.get("perso")
    with card.store.atomic():
        for key in applet.store.keys():
            applet.store.delete(key)
        cm.store.delete(f"reg/{aid.hex().upper()}")
        if perso is not None and perso.get("aid") == aid:
            cm.store.delete("perso")
        if _has_mf(cm):
            unlist_application(card, aid)
    card.detach(aid)  # after the commit: a tear leaves the application where it was
    if s.perso_target == aid:
        s.perso_target = None
    log.info("card manager: deleted application %s", aid.hex().upper())
    return status(SW.OK, _OK_DATA)


def _delete_key(cm: CardManager, kvn_raw: bytes, key_id_raw: bytes | None, s: Session) -> ResponseAPDU:
    if len(kvn_raw) != 1 or (key_id_raw is not None and len(key_id_raw) != 1):
        raise Refusal(SW.WRONG_DATA, "D2 and D0 are one byte")
    kvn = kvn_raw[0]
    ks = cm.key_set(kvn)
    if ks is None or (key_id_raw is not None and key_id_raw[0] not in ks.keys()):
        raise Refusal(SW.REFERENCED_DATA_NOT_FOUND, "no such key")
    if s.channel is not None and s.channel.kvn == kvn:
        raise Refusal(SW.CONDITIONS_NOT_SATISFIED, "the key set of this session cannot be deleted")
    remaining = ks.without(key_id_raw[0]) if key_id_raw is not None else None
    usable = [k for k in cm.key_sets() if k.kvn != kvn and k.complete]
    if not usable and (remaining is None or not remaining.complete):
        raise Refusal(SW.CONDITIONS_NOT_SATISFIED, "the last usable key set cannot be deleted")
    order = [k for k in (cm.store.get("kvns") or ()) if k != kvn or (remaining is not None and remaining.keys())]
    with cm.store.transaction():
        if remaining is not None and remaining.keys():
            cm.store.set(f"ks/{kvn:02X}", remaining.to_store())
        else:
            cm.store.delete(f"ks/{kvn:02X}")
        cm.store.set("kvns", order)
    return status(SW.OK, _OK_DATA)


# --- STORE DATA ----------------------------------------------------------------------------------


def store_data(cm: CardManager, cmd: CommandAPDU, s: Session) -> ResponseAPDU:
    """``80 E2 P1 block`` (GP 2.3 §11.11): P1 b8 last block, b7-b6 encryption (11: the data is
    sensitive and must come under C-DECRYPTION), b5-b4 structure (01 DGI, 10 BER-TLV)."""
    last, encryption, structure = bool(cmd.p1 & 0x80), (cmd.p1 >> 5) & 0x03, (cmd.p1 >> 3) & 0x03
    if encryption == 0b10 or structure == 0b11:
        raise Refusal(SW.INCORRECT_P1P2, "STORE DATA P1: RFU coding")
    if encryption == 0b11 and (s.channel is None or not s.channel.level & SL_C_DEC):
        raise Refusal(SW.SECURITY_STATUS_NOT_SATISFIED, "encrypted STORE DATA needs C-DECRYPTION")
    target = s.perso_target if s.perso_target is not None else cm.aid
    if structure != (0b01 if target != cm.aid else 0b10) and structure != 0b00:
        raise Refusal(SW.INCORRECT_P1P2, "DGI format for applications, BER-TLV for the security domain")
    perso = cm.store.get("perso")
    if perso is None or perso.get("aid") != target:
        if target != cm.aid:
            raise Refusal(SW.CONDITIONS_NOT_SATISFIED, "the personalization was interrupted; INSTALL again")
        perso = {"aid": target, "next": 0, "buf": b""}
    if cmd.p2 != perso["next"]:
        raise Refusal(SW.INCORRECT_P1P2, f"block {cmd.p2:02X} out of sequence (expected {perso['next']:02X})")
    buffered = perso["buf"] + cmd.data
    if len(buffered) > _MAX_PERSO_BUFFER:
        raise Refusal(SW.NOT_ENOUGH_MEMORY, "personalization data too large")
    if not last:
        with cm.store.transaction():
            cm.store.set("perso", {"aid": target, "next": cmd.p2 + 1, "buf": buffered})
        return status(SW.OK)
    if target == cm.aid:
        return _personalize_domain(cm, buffered)
    return _personalize_application(cm, target, buffered, s)


def _drop_buffer(cm: CardManager) -> None:
    if cm.store.get("perso") is not None:
        with cm.store.transaction():
            cm.store.delete("perso")


def _personalize_domain(cm: CardManager, data: bytes) -> ResponseAPDU:
    """The security domain's own data, BER-TLV: 42 IIN and 45 CIN (GP 2.3 §11.11.2.1)."""
    try:
        objs = tlv.decode(data)
    except TlvError:
        _drop_buffer(cm)
        raise Refusal(SW.WRONG_DATA, "malformed BER-TLV") from None
    values: dict[str, bytes] = {}
    for obj in objs:
        name = {b"\x42": "iin", b"\x45": "cin"}.get(obj.tag)
        if name is None:
            _drop_buffer(cm)
            raise Refusal(SW.REFERENCED_DATA_NOT_FOUND, f"data object {obj.tag.hex().upper()} not known here")
        values[name] = obj.value
    with cm.store.transaction():
        for name, value in values.items():
            cm.store.set(name, value)
        if cm.store.get("perso") is not None:
            cm.store.delete("perso")
    return status(SW.OK)


def _personalize_application(cm: CardManager, aid: bytes, data: bytes, s: Session) -> ResponseAPDU:
    """Last block: parse the DGIs, validate them with the load file's check, then personalize,
    mark PERSONALIZED and list in EF.DIR in one atomic step; a bad map leaves the application as it was."""
    card = cm.card
    applet, entry = _applet(cm, aid), cm.stored_entry(aid)
    lf = load_file(entry.load_file) if entry is not None and entry.load_file is not None else None
    if applet is None or entry is None or lf is None:
        _drop_buffer(cm)
        raise Refusal(SW.REFERENCED_DATA_NOT_FOUND, "the application is gone")
    try:
        dgis = parse_dgi_stream(data)
        lf.validate(dgis)
    except (ValueError, ProfileError) as exc:
        _drop_buffer(cm)
        s.perso_target = None
        log.info("card manager: personalization of %s refused: %s", aid.hex().upper(), exc)
        raise Refusal(SW.WRONG_DATA, str(exc)) from None
    config: dict[str, Any] = applet.to_config()
    try:
        with card.store.atomic():
            applet.personalize(dgis)  # type: ignore[attr-defined]
            cm.save_entry(RegistryEntry(aid, AppLifeCycle.PERSONALIZED, entry.privileges, entry.load_file,
                                        entry.module, True))
            if lf.list_in_dir and _has_mf(cm):
                list_application(card, aid, applet.label)
            cm.store.delete("perso")
    except BaseException as exc:
        card.replace(type(applet).from_config(config))  # in-memory configuration (label ..) back as it was
        if not isinstance(exc, (ProfileError, ValueError)):
            raise
        _drop_buffer(cm)
        s.perso_target = None
        raise Refusal(SW.WRONG_DATA, str(exc)) from None
    s.perso_target = None
    log.info("card manager: personalized %s", aid.hex().upper())
    return status(SW.OK)
