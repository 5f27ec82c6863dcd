"""The GlobalPlatform registry: GET STATUS, life cycle states and privileges (GP Card Spec 2.3 §11.4).

GET STATUS lists one part of the registry per call (P1: the ISD, applications and security
domains, executable load files, load files with their modules). cardkit asks for the tag format
(P2 = 02: one E3 template per entry) and follows 6310 "more data" with P2 b1 set; a card that does
not know the tag format (6A86, GP 2.1.1 and older) is asked again in the legacy byte format.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cardkit import tlv
from cardkit.apdu import SW, CommandAPDU
from cardkit.cardaids import AppLifeCycle, CardLifeCycle
from cardkit.errors import CardError, TlvError
from cardkit.gp._errors import GpError
from cardkit.gp._session import GpSession

__all__ = [
    "PRIVILEGES",
    "AppLifeCycle",
    "CardLifeCycle",
    "RegistryEntry",
    "Scope",
    "get_status",
    "life_cycle_name",
    "parse_status",
    "privilege_names",
]

INS_GET_STATUS = 0xF2
_MORE_DATA = 0x6310
_MAX_ROUNDS = 256  # GET STATUS "next occurrence" rounds before the card is called broken


class Scope(enum.IntEnum):
    """GET STATUS / SET STATUS P1: which part of the registry (GP 2.3 Table 11-33)."""

    ISD = 0x80
    APPLICATIONS = 0x40
    LOAD_FILES = 0x20
    LOAD_FILES_AND_MODULES = 0x10


#: Privilege bits, byte by byte (GP 2.3 §6.6.1 Table 6-1 and §11.1.2 Table 11-9).
PRIVILEGES: tuple[tuple[int, int, str], ...] = (
    (0, 0x80, "Security Domain"), (0, 0x40, "DAP Verification"), (0, 0x20, "Delegated Management"),
    (0, 0x10, "Card Lock"), (0, 0x08, "Card Terminate"), (0, 0x04, "Card Reset"), (0, 0x02, "CVM Management"),
    (0, 0x01, "Mandated DAP Verification"),
    (1, 0x80, "Trusted Path"), (1, 0x40, "Authorized Management"), (1, 0x20, "Token Verification"),
    (1, 0x10, "Global Delete"), (1, 0x08, "Global Lock"), (1, 0x04, "Global Registry"),
    (1, 0x02, "Final Application"), (1, 0x01, "Global Service"),
    (2, 0x80, "Receipt Generation"), (2, 0x40, "Ciphered Load File Data Block"),
    (2, 0x20, "Contactless Activation"), (2, 0x10, "Contactless Self-Activation"),
)


def privilege_names(privileges: bytes) -> list[str]:
    """The names of the privileges set in a 1- or 3-byte privileges field, in table order."""
    return [name for byte, bit, name in PRIVILEGES if byte < len(privileges) and privileges[byte] & bit]


def life_cycle_name(scope: Scope, state: int) -> str:
    """The name of a life cycle byte as the registry part it came from means it."""
    if scope == Scope.ISD:
        try:
            return CardLifeCycle(state).name
        except ValueError:
            return f"UNKNOWN ({state:02X})"
    if scope in (Scope.LOAD_FILES, Scope.LOAD_FILES_AND_MODULES):
        return "LOADED" if state == 0x01 else f"UNKNOWN ({state:02X})"
    if state & 0x80:
        return "LOCKED"
    if state in (AppLifeCycle.INSTALLED, AppLifeCycle.SELECTABLE, AppLifeCycle.PERSONALIZED):
        return AppLifeCycle(state).name
    if state & 0x07 == 0x07:
        return f"SELECTABLE (application state {state:02X})"
    return f"UNKNOWN ({state:02X})"


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """One GET STATUS entry (GP 2.3 Table 11-36).

    ``modules`` are the executable modules of a load file (84, scope LOAD_FILES_AND_MODULES);
    ``security_domain`` the associated SD (CC); ``load_file`` an application's load file (C4);
    ``version`` a load file's version (CE); ``scope`` the registry part it was listed from.
    """

    aid: bytes
    life_cycle: int
    privileges: bytes
    modules: tuple[bytes, ...] = ()
    security_domain: bytes | None = None
    load_file: bytes | None = None
    version: bytes | None = None
    scope: Scope = Scope.APPLICATIONS

    @property
    def state(self) -> str:
        """The life cycle's name: "SECURED", "SELECTABLE", "PERSONALIZED", "LOCKED", "LOADED"..."""
        return life_cycle_name(self.scope, self.life_cycle)

    @property
    def privilege_names(self) -> list[str]:
        return privilege_names(self.privileges)

    def __str__(self) -> str:
        return f"{self.aid.hex().upper()} {self.state}"


def _entry(template: tlv.Tlv, scope: Scope) -> RegistryEntry:
    fields: dict[bytes, bytes] = {}
    modules: list[bytes] = []
    for child in template.children:
        if child.tag == b"\x84":
            modules.append(child.value)
        else:
            fields.setdefault(child.tag, child.value)
    aid = fields.get(b"\x4f")
    state = fields.get(b"\x9f\x70")
    if aid is None or not state:
        raise GpError("GET STATUS entry without an AID (4F) or a life cycle (9F70)")
    return RegistryEntry(aid=aid, life_cycle=state[0], privileges=fields.get(b"\xc5", b""), modules=tuple(modules),
                         security_domain=fields.get(b"\xcc"), load_file=fields.get(b"\xc4"),
                         version=fields.get(b"\xce"), scope=scope)


def parse_status(data: bytes, scope: Scope) -> list[RegistryEntry]:
    """Entries of a tag-format GET STATUS response (a run of E3 templates).

    Raises:
        GpError: not BER-TLV, an object other than E3, or an entry without AID or state.
    """
    try:
        objects = tlv.decode(data)
        return [_entry(o, scope) if o.tag == b"\xe3" else _not_e3(o) for o in objects]
    except TlvError as exc:
        raise GpError(f"GET STATUS response is not a registry listing: {exc}") from None


def _not_e3(obj: tlv.Tlv) -> RegistryEntry:
    raise GpError(f"GET STATUS response holds tag {obj.tag.hex().upper()} where E3 entries belong")


def parse_status_legacy(data: bytes, scope: Scope) -> list[RegistryEntry]:
    """Entries of a GP 2.1.1-format (P2 = 00) response: length, AID, state, privileges [, modules].

    Raises:
        GpError: the bytes run out inside an entry.
    """
    out: list[RegistryEntry] = []
    pos, n = 0, len(data)

    def take(k: int) -> bytes:
        nonlocal pos
        if pos + k > n:
            raise GpError("GET STATUS (legacy format) response is truncated")
        chunk = data[pos : pos + k]
        pos += k
        return chunk

    while pos < n:
        aid = take(take(1)[0])
        state, privileges = take(1)[0], take(1)
        modules: list[bytes] = []
        if scope == Scope.LOAD_FILES_AND_MODULES:
            for _ in range(take(1)[0]):
                modules.append(take(take(1)[0]))
        out.append(RegistryEntry(aid=aid, life_cycle=state, privileges=privileges, modules=tuple(modules),
                                 scope=scope))
    return out


def get_status(session: GpSession, scope: Scope, *, aid: bytes = b"") -> list[RegistryEntry]:
    """GET STATUS of one registry part (``80 F2 P1 02``, search qualifier ``4F`` + ``aid`` prefix).

    An empty part (6A88) is an empty list. 6310 asks for the next occurrence (P2 03) until 9000.

    Raises:
        CardError: the card refused (e.g. 6982 without a secure channel it accepts).
        GpError: the response is malformed, or the card keeps saying 6310 without data.
    """
    scope = Scope(scope)
    query = tlv.build(0x4F, bytes(aid))
    p2 = 0x02
    collected = bytearray()
    for _ in range(_MAX_ROUNDS):
        resp = session.transmit(CommandAPDU(0x80, INS_GET_STATUS, int(scope), p2, query, le=256))
        if resp.sw == SW.REFERENCED_DATA_NOT_FOUND and not collected:
            return []
        if resp.sw == SW.INCORRECT_P1P2 and p2 == 0x02:
            p2 = 0x00  # no tag format on this card: ask in the GP 2.1.1 layout
            continue
        if resp.sw not in (SW.OK, _MORE_DATA):
            raise CardError(resp.sw, f"GET STATUS {scope.name}")
        collected += resp.data
        if resp.sw == SW.OK:
            raw = bytes(collected)
            return parse_status(raw, scope) if p2 & 0x02 else parse_status_legacy(raw, scope)
        if not resp.data:
            raise GpError("GET STATUS: the card answered 6310 (more data) without any data")
        p2 |= 0x01
    raise GpError(f"GET STATUS: still 6310 after {_MAX_ROUNDS} rounds")
