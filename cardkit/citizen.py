"""CitizenCard: one object for the whole unified citizen card.

It discovers what the card carries — EF.DIR (SFI 30 of the MF: ``61 { 4F AID, 50 label }``), then a
SELECT of every application cardkit knows, so a card without EF.DIR is found too — and reads each
application with its own client: the bank applications (``cardkit.emv.reading``; PAN masked), the
transit purse (``cardkit.purse``), the ID application (``cardkit.eid``: only with the MRZ data that
opens it) and the social insurance application (``cardkit.social``: public card data, the rest
with a terminal SAM and the PIN). An application that is absent, blocked or locked is reported as
such, never as a crash: each panel carries its status and the reason.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cardkit import tlv
from cardkit.apdu import SW, CommandAPDU
from cardkit.errors import CardkitError, TlvError, TransportError
from cardkit.readers.channel import CardChannel

__all__ = ["KNOWN_APPLICATIONS", "AppStatus", "ApplicationReport", "CitizenCard", "CitizenReport", "Mrz"]

log = logging.getLogger(__name__)

EF_DIR_SFI = 30
MF = bytes.fromhex("3F00")

#: The applications cardkit reads, by AID: (kind, name).
KNOWN_APPLICATIONS: Mapping[bytes, tuple[str, str]] = {
    bytes.fromhex("A000000151000000"): ("card", "card manager (GlobalPlatform)"),
    bytes.fromhex("A000000333010101"): ("bank", "bank debit (PBOC)"),
    bytes.fromhex("A000000333010102"): ("bank", "bank credit (PBOC)"),
    bytes.fromhex("A000000632010105"): ("transit", "transit purse"),
    bytes.fromhex("A0000002471001"): ("eid", "identity (ICAO 9303)"),
    bytes.fromhex("D156000005010100"): ("social", "social insurance"),
}


class AppStatus(enum.Enum):
    OK = "ok"
    ABSENT = "absent"
    BLOCKED = "blocked"
    LOCKED = "locked"  # present, but this reading lacks what opens it (MRZ data, a SAM, the PIN)
    ERROR = "error"


@dataclass(frozen=True)
class ApplicationReport:
    """One panel: what the application is, its status, and what was read (display strings)."""

    kind: str
    name: str
    aid: bytes
    status: AppStatus
    fields: Mapping[str, str] = field(default_factory=dict)
    reason: str = ""


@dataclass(frozen=True)
class CitizenReport:
    """The whole card: its directory and one report per known application."""

    directory: tuple[tuple[bytes, str], ...]
    applications: tuple[ApplicationReport, ...]

    def by_kind(self, kind: str) -> list[ApplicationReport]:
        return [a for a in self.applications if a.kind == kind]


@dataclass(frozen=True)
class Mrz:
    """What opens the ID application (Basic Access Control): document number, YYMMDD dates."""

    document_number: str
    birth: str
    expiry: str


Reader = Callable[["CitizenCard", bytes, str], ApplicationReport]


class CitizenCard:
    """Read every application of one card through one channel.

    Args:
        channel: the card, in any reader.
        mrz: opens the ID application; without it the ID is reported LOCKED.
        social_sam: the terminal SAM (``cardkit.social.SocialSam``) that opens the protected social
            insurance records; without it only the public card data is read.
        trust: CSCA certificates for the ID's passive authentication chain.
    """

    def __init__(self, channel: CardChannel, *, mrz: Mrz | None = None, social_sam: Any = None,
                 trust: tuple[Any, ...] = ()) -> None:
        self.channel = channel
        self.mrz = mrz
        self.social_sam = social_sam
        self.trust = trust

    # ------------------------------------------------------------------------------ discovery
    def directory(self) -> list[tuple[bytes, str]]:
        """EF.DIR's entries (AID, label); empty when the card has no MF or no EF.DIR."""
        out: list[tuple[bytes, str]] = []
        if not self.channel.transmit(CommandAPDU(0x00, 0xA4, 0x00, 0x00, MF, le=256)).ok:
            return out
        for number in range(1, 64):
            resp = self.channel.transmit(CommandAPDU(0x00, 0xB2, number, (EF_DIR_SFI << 3) | 4, le=256))
            if resp.sw != SW.OK:
                break
            try:
                for entry in tlv.decode(resp.data):
                    aid, label = tlv.find(entry.children, 0x4F), tlv.find(entry.children, 0x50)
                    if entry.tag == b"\x61" and aid is not None:
                        out.append((aid.value, label.value.decode("ascii", "replace") if label else ""))
            except TlvError:
                log.info("EF.DIR record %d is not BER-TLV; skipped", number)
        return out

    def read(self) -> CitizenReport:
        """Every known application, present or not, in a fixed order; and the directory."""
        directory = self.directory()
        reports = []
        for aid, (kind, name) in KNOWN_APPLICATIONS.items():
            try:
                reports.append(_READERS[kind](self, aid, name))
            except TransportError:
                raise
            except CardkitError as exc:  # one application's failure is its panel, not the card's
                log.info("%s: %s", name, exc)
                reports.append(ApplicationReport(kind, name, aid, AppStatus.ERROR, reason=str(exc)))
        return CitizenReport(tuple(directory), tuple(reports))

    def _select(self, aid: bytes) -> AppStatus:
        resp = self.channel.transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x00, aid, le=256))
        if resp.sw == SW.OK:
            return AppStatus.OK
        if resp.sw in (SW.SELECTED_FILE_INVALIDATED, SW.FUNCTION_NOT_SUPPORTED):
            return AppStatus.BLOCKED
        return AppStatus.ABSENT


def _money(fen: int) -> str:
    return f"{Decimal(fen).scaleb(-2):.2f} CNY"


def _bank(card: CitizenCard, aid: bytes, name: str) -> ApplicationReport:
    status = card._select(aid)
    if status is not AppStatus.OK:
        return ApplicationReport("bank", name, aid, status, reason="SELECT refused" if status is AppStatus.BLOCKED
                                 else "not on this card")
    from cardkit.emv import Kernel, SupportedAid, TerminalConfig
    from cardkit.emv.masking import masked_value
    from cardkit.emv.reading import read_card

    config = TerminalConfig(aids=(SupportedAid(aid, partial_match=False),), use_pse=False)
    apps = read_card(Kernel(card.channel, config)).applications
    if not apps:
        return ApplicationReport("bank", name, aid, AppStatus.BLOCKED, reason="the application refuses selection")
    app = apps[0]
    if app.error:
        return ApplicationReport("bank", name, aid, AppStatus.ERROR, reason=app.error)
    fields = {"label": app.label, "PAN": masked_value(0x5A, app.data.get(0x5A, b""))}
    expiry = app.data.get(0x5F24)
    if expiry:
        fields["expiry"] = f"20{expiry.hex()[:2]}-{expiry.hex()[2:4]}"
    if 0x9F79 in app.counters:
        fields["electronic cash"] = _money(int(app.counters[0x9F79].hex()))
    if 0x9F17 in app.counters:
        fields["PIN tries left"] = str(app.counters[0x9F17][0])
    return ApplicationReport("bank", name, aid, AppStatus.OK, fields)


def _transit(card: CitizenCard, aid: bytes, name: str) -> ApplicationReport:
    status = card._select(aid)
    if status is not AppStatus.OK:
        return ApplicationReport("transit", name, aid, status, reason="not on this card")
    from cardkit.emv.outcome import mask_pan
    from cardkit.purse import PurseClient

    info = PurseClient(card.channel, aid=aid).select()
    return ApplicationReport("transit", name, aid, AppStatus.OK, {
        "serial": mask_pan(info.serial), "balance": _money(info.balance),
        "valid": f"{info.start:%Y-%m-%d} to {info.expiry:%Y-%m-%d}"})


def _social(card: CitizenCard, aid: bytes, name: str) -> ApplicationReport:
    status = card._select(aid)
    if status is not AppStatus.OK:
        return ApplicationReport("social", name, aid, status, reason="not on this card")
    from cardkit.social import SocialClient, SocialError

    client = SocialClient(card.channel, aid=aid)
    info = client.select()
    fields = {"card number": info.card_number[:4] + "*" * 8 + info.card_number[-4:], "region": info.region,
              "valid": f"{info.issued:%Y-%m-%d} to {info.expiry:%Y-%m-%d}", "version": info.version}
    if card.social_sam is None:
        return ApplicationReport("social", name, aid, AppStatus.LOCKED, fields,
                                 reason="holder, insurance and balance need the terminal's SAM")
    try:
        client.authenticate_terminal(card.social_sam)
        record = client.read()
    except SocialError as exc:
        return ApplicationReport("social", name, aid, AppStatus.LOCKED, fields, reason=str(exc))
    fields["holder"] = f"{record.holder.name} ({record.holder.latin_name})"
    fields["born"] = f"{record.holder.birth_date:%Y-%m-%d}"
    for status_ in record.insurance:
        since = f" since {status_.since:%Y-%m-%d}" if status_.since else ""
        fields[status_.scheme.name.lower().replace("_", " ")] = status_.state.name.lower().replace("_", " ") + since
    fields["medical account"] = _money(record.balance)
    return ApplicationReport("social", name, aid, AppStatus.OK, fields)


def _eid(card: CitizenCard, aid: bytes, name: str) -> ApplicationReport:
    status = card._select(aid)
    if status is not AppStatus.OK:
        return ApplicationReport("eid", name, aid, status, reason="not on this card")
    if card.mrz is None:
        return ApplicationReport("eid", name, aid, AppStatus.LOCKED,
                                 reason="opens with the MRZ data: document number, birth date, expiry")
    from cardkit.eid import AccessDenied, mask_citizen_id, read_id

    try:
        identity, verdict = read_id(card.channel, card.mrz.document_number, card.mrz.birth, card.mrz.expiry,
                                    trust=card.trust, photo=False)
    except AccessDenied as exc:
        return ApplicationReport("eid", name, aid, AppStatus.LOCKED, reason=str(exc))
    mrz = identity.mrz
    fields = {
        "name": f"{identity.full_name} ({mrz.surname}, {mrz.given_names})".strip(),
        "citizen ID": mask_citizen_id(identity.citizen_id), "document": mrz.document_number,
        "nationality": mrz.nationality, "born": f"{mrz.birth_date:%Y-%m-%d}", "sex": mrz.sex,
        "expires": f"{mrz.expiry_date:%Y-%m-%d}",
        "chip": "genuine" if verdict.genuine else f"NOT genuine ({verdict.active_reason})",
        "data": "unaltered" if verdict.unaltered else f"ALTERED ({verdict.passive_reason})",
        "issuer": ("trusted" if verdict.trusted else f"NOT trusted ({verdict.chain_reason})")
        if verdict.chain_ok is not None else "not checked (no trusted CSCA given)",
    }
    ok = verdict.genuine and verdict.unaltered and verdict.chain_ok is not False
    return ApplicationReport("eid", name, aid, AppStatus.OK if ok else AppStatus.ERROR, fields,
                             reason="" if ok else "the ID does not verify")


def _card_manager(card: CitizenCard, aid: bytes, name: str) -> ApplicationReport:
    """What the card manager tells anyone, without keys: the chip (CPLC) and its key sets.

    A card still holding the GlobalPlatform default key sets (KVN 20 / 30) is a blank card.
    """
    status = card._select(aid)
    if status is not AppStatus.OK:
        return ApplicationReport("card", name, aid, status, reason="not on this card")
    from cardkit.gp import get_cplc, get_key_information

    fields: dict[str, str] = {}
    try:
        cplc = get_cplc(card.channel)
        fields["IC"] = f"fabricator {cplc.ic_fabricator.hex().upper()}, type {cplc.ic_type.hex().upper()}, " \
                       f"serial {cplc.ic_serial_number.hex().upper()}"
    except CardkitError as exc:
        fields["IC"] = f"no CPLC ({exc})"
    keys = get_key_information(card.channel)
    sets = sorted({(k.kvn, k.type_name) for k in keys})
    fields["key sets"] = ", ".join(f"KVN {kvn:02X} {kind}" for kvn, kind in sets) or "none"
    blank = any(kvn in (0x20, 0x30) for kvn, _ in sets)
    fields["state"] = "blank: GlobalPlatform default test keys" if blank else "issued: the card's own keys"
    return ApplicationReport("card", name, aid, AppStatus.OK, fields)


_READERS: dict[str, Reader] = {"card": _card_manager, "bank": _bank, "transit": _transit, "eid": _eid,
                               "social": _social}
