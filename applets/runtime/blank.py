"""A blank unified citizen card: the runtime, the MF with EF.DIR and EF.ICCID, and whatever applets exist.

MF layout (ISO 7816-4 §8.2.1):

* ``2F00`` EF.DIR, linear variable, SFI 30: one record per application, ``61 { 4F AID, 50 label }``.
* ``2FE2`` EF.ICCID, transparent, SFI 2: the card serial as 10 bytes of nibble-swapped BCD padded
  with F (the ETSI TS 102 221 §13.2 layout), e.g. serial ``8901`` → ``98 10 FF ..``.

Both are readable by anyone and written only at issuance (through this module, not by APDUs).

A blank card also carries the GlobalPlatform card manager (issuer security domain, AID
``A000000151000000``) unless asked not to: it is not listed in EF.DIR, and the MF stays the
default-selected application (docs/card-manager.md).
"""

from __future__ import annotations

import importlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from applets.runtime.applet import Applet, applet_type
from applets.runtime.atr import derive_uid
from applets.runtime.card import SimulatedCard
from applets.runtime.fs import ALWAYS, NEVER, Structure
from applets.runtime.mf import MF_AID, FileSystemApplet
from cardkit.errors import ProfileError
from cardkit.tlv import build

__all__ = ["EF_DIR", "EF_ICCID", "decode_iccid", "encode_iccid", "fixed_dgi", "install_personalized",
           "list_application", "listed_applications", "new_blank_card", "unlist_application"]

EF_DIR = 0x2F00
EF_ICCID = 0x2FE2


def encode_iccid(serial: str) -> bytes:
    """Up to 20 digits → 10 bytes, nibble-swapped BCD padded with F (ETSI TS 102 221 §13.2)."""
    if not serial.isdigit() or len(serial) > 20:
        raise ValueError("the card serial must be 1..20 decimal digits")
    digits = serial.ljust(20, "F")
    return bytes.fromhex("".join(digits[i + 1] + digits[i] for i in range(0, 20, 2)))


def decode_iccid(raw: bytes) -> str:
    nibbles = raw.hex().upper()
    return "".join(nibbles[i + 1] + nibbles[i] for i in range(0, len(nibbles), 2)).rstrip("F")


def _mf(card: SimulatedCard) -> FileSystemApplet:
    for a in card.applets:
        if isinstance(a, FileSystemApplet) and a.is_master_file:
            return a
    raise ValueError("this card has no MF applet")


def _record_aid(record: bytes) -> bytes | None:
    """The 4F of one EF.DIR record ``61 { 4F aid, ... }`` (records are written only by this module)."""
    if len(record) >= 4 and record[0] == 0x61 and record[2] == 0x4F and 3 + record[3] <= len(record):
        return record[4 : 4 + record[3]]
    return None


def listed_applications(card: SimulatedCard) -> tuple[bytes, ...]:
    """The AIDs EF.DIR lists, in record order."""
    mf = _mf(card)
    path = mf.fs.root + (EF_DIR,)
    return tuple(aid for aid in map(_record_aid, mf.fs.records(path)) if aid is not None)


def list_application(card: SimulatedCard, aid: bytes, label: str) -> None:
    """Append ``61 { 4F aid, 50 label }`` to EF.DIR (issuance: bypasses access conditions).

    An AID already listed keeps its record (re-personalizing an application does not list it twice).
    """
    mf = _mf(card)
    path = mf.fs.root + (EF_DIR,)
    records = mf.fs.records(path)
    if any(_record_aid(r) == aid for r in records):
        return
    record = build(0x61, build(0x4F, aid) + build(0x50, label.encode("ascii")))
    with card.store.transaction():
        mf.fs.set_content(path, records + (record,))


def unlist_application(card: SimulatedCard, aid: bytes) -> None:
    """Remove the EF.DIR record of ``aid`` (an application deleted by the card manager); none: no change."""
    mf = _mf(card)
    path = mf.fs.root + (EF_DIR,)
    records = mf.fs.records(path)
    kept = tuple(r for r in records if _record_aid(r) != aid)
    if kept != records:
        with card.store.transaction():
            mf.fs.set_content(path, kept)


A = TypeVar("A", bound=Applet)


def fixed_dgi(dgis: Mapping[int, bytes], dgi: int, length: int, what: str) -> bytes:
    """The value of one personalization DGI that must be there with exactly ``length`` bytes.

    Raises:
        ProfileError: missing or of another length (naming the DGI and ``what`` it holds).
    """
    value = dgis.get(dgi)
    if value is None:
        raise ProfileError(f"DGI {dgi:04X} ({what}) is missing")
    if len(value) != length:
        raise ProfileError(f"DGI {dgi:04X} ({what}) must be {length} bytes, got {len(value)}")
    return bytes(value)


def install_personalized(card: SimulatedCard, applet: A, personalization: Mapping[int, bytes],
                         validate: Callable[[Mapping[int, bytes]], object]) -> A:
    """Put a personalizable application on a card: validate its DGI map first (so a bad one leaves
    the card as it was), register it, personalize it, and list it in EF.DIR when the card has an MF.

    Raises:
        ProfileError: from ``validate``, naming the bad DGI; nothing was installed.
        ValueError: an application with this AID is already on the card.
    """
    if any(a.aid == applet.aid for a in card.applets):
        raise ValueError(f"an application with AID {applet.aid.hex().upper()} is already on the card")
    validate(personalization)
    card.register(applet)
    applet.personalize(personalization)  # type: ignore[attr-defined]
    if any(getattr(a, "is_master_file", False) for a in card.applets):
        list_application(card, applet.aid, applet.label)
    return applet


def new_blank_card(
    *,
    serial: str | None = None,
    uid: bytes | None = None,
    applets: Sequence[Applet] = (),
    default_aid: bytes | None = None,
    card_manager: bool = True,
) -> SimulatedCard:
    """Make a blank card (powered off): MF applet (default-selected) with EF.DIR and EF.ICCID, and
    the GlobalPlatform card manager.

    Args:
        serial: card serial / ICCID digits; 16 random digits if omitted (issuance, not an applet,
            so the host's randomness is fine here).
        uid: ISO 14443 UID; derived from the serial if omitted.
        applets: further applets to register after the MF; each is listed in EF.DIR.
        default_aid: applet selected at power-on; the MF if omitted.
        card_manager: register the card manager (life cycle OP_READY, the default test key sets,
            CPLC from the serial) right after the MF; it is not listed in EF.DIR.
    """
    if serial is None:
        serial = "".join(secrets.choice("0123456789") for _ in range(16))
    iccid = encode_iccid(serial)
    mf = FileSystemApplet(MF_AID)
    card = SimulatedCard(
        applets=[mf],
        default_aid=default_aid if default_aid is not None else MF_AID,
        uid=uid if uid is not None else derive_uid(serial.encode("ascii")),
    )
    root = mf.fs.root
    with card.store.transaction():
        mf.fs.create_ef(root, EF_DIR, Structure.LINEAR_VARIABLE, record_size=0x7F, max_records=16, sfi=30,
                        read=ALWAYS, update=NEVER)
        mf.fs.create_ef(root, EF_ICCID, Structure.TRANSPARENT, data=iccid, sfi=2, read=ALWAYS, update=NEVER)
    if card_manager:
        card.register(_blank_card_manager(serial, iccid))
    for applet in applets:
        card.register(applet)
        list_application(card, applet.aid, applet.label)
    return card


def _blank_card_manager(serial: str, iccid: bytes) -> Applet:
    """The card manager of a blank card. Looked up by its registered type name, imported on first
    use: the runtime sits below ``applets.card_manager`` and may not import it at module level."""
    importlib.import_module("applets.card_manager")
    factory = applet_type("card-manager")
    return factory.for_blank_card(serial, cin=iccid)  # type: ignore[attr-defined, no-any-return]
