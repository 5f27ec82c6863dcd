"""Application selection (EMV 4.4 Book 1 §12; EMV contactless Book B §3 for the PPSE).

Building the candidate list: the PSE directory (``1PAY.SYS.DDF01`` and its records) when the card
has one, else the terminal's AID list tried one by one (with SELECT next occurrence for partial
matches); over contactless, the PPSE (``2PAY.SYS.DDF01``) FCI. Then ordering by Application
Priority Indicator (87), an optional cardholder choice, and the final SELECT whose FCI (PDOL,
label ...) the rest of the kernel reads. Blocked applications (6283) are left out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cardkit import tlv
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.emv.config import TerminalConfig
from cardkit.errors import CardError, TlvError
from cardkit.readers.channel import CardChannel

__all__ = [
    "PPSE",
    "PSE",
    "Candidate",
    "ChooseApplication",
    "SelectedApplication",
    "build_candidates",
    "candidates_from_aid_list",
    "candidates_from_ppse",
    "candidates_from_pse",
    "final_select",
    "order_candidates",
    "select_command",
]

log = logging.getLogger(__name__)

PSE = b"1PAY.SYS.DDF01"
PPSE = b"2PAY.SYS.DDF01"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One application the card and the terminal both support.

    Attributes:
        aid: the card's AID (4F in a directory, DF name 84 from a SELECT).
        label: 50 (or the preferred name 9F12 when the code table is supported; we use 50).
        priority: the low nibble of 87 (1 highest), ``None`` when absent or zero.
        confirmation_required: 87 b8: the cardholder must confirm before it is used.
        order: position in discovery order; breaks priority ties (Book 1 §12.4).
    """

    aid: bytes
    label: str = ""
    priority: int | None = None
    confirmation_required: bool = False
    order: int = 0

    @classmethod
    def from_entry(cls, aid: bytes, objs: Sequence[tlv.Tlv], order: int) -> Candidate:
        label_tlv = tlv.find(objs, 0x50)
        api = tlv.find(objs, 0x87)
        priority = api.value[0] & 0x0F if api is not None and api.value else 0
        return cls(
            aid=aid,
            label=_text(label_tlv.value) if label_tlv is not None else "",
            priority=priority or None,
            confirmation_required=bool(api is not None and api.value and api.value[0] & 0x80),
            order=order,
        )


@dataclass(frozen=True, slots=True)
class SelectedApplication:
    """The final SELECT: the FCI data of the chosen application, flattened by tag."""

    candidate: Candidate
    fci: bytes
    data: dict[bytes, bytes]

    @property
    def pdol(self) -> bytes:
        return self.data.get(b"\x9f\x38", b"")

    @property
    def df_name(self) -> bytes:
        return self.data.get(b"\x84", self.candidate.aid)


#: ``choose(candidates) -> candidate or None``: the cardholder's pick from the ordered list;
#: ``None`` cancels the transaction.
ChooseApplication = Callable[[Sequence[Candidate]], Candidate | None]


def _text(raw: bytes) -> str:
    return raw.decode("ascii", "replace").strip()


def select_command(aid: bytes, *, next_occurrence: bool = False) -> CommandAPDU:
    """SELECT by DF name (Book 1 §11.3): P1 04, P2 00 first / 02 next occurrence, Le 00."""
    return CommandAPDU(0x00, 0xA4, 0x04, 0x02 if next_occurrence else 0x00, aid, le=256)


def _fci(resp: ResponseAPDU) -> list[tlv.Tlv]:
    try:
        objs = tlv.decode(resp.data)
    except TlvError:
        return []
    return objs if objs and objs[0].tag == b"\x6f" else []


def _card_blocked(resp: ResponseAPDU) -> None:
    if resp.sw == SW.FUNCTION_NOT_SUPPORTED:  # Book 1 §12.3.2: 6A81 to SELECT = card blocked
        raise CardError(resp.sw, "SELECT: the card is blocked or does not support SELECT")


# --------------------------------------------------------------------------------- PSE (contact)


def candidates_from_pse(channel: CardChannel, config: TerminalConfig) -> list[Candidate] | None:
    """Book 1 §12.3.2: the candidates listed in the PSE directory, or ``None`` if the terminal must
    fall back to its list of AIDs (no PSE, PSE blocked, or a malformed directory).

    Raises:
        CardError: 6A81 (card blocked).
    """
    resp = channel.transmit(select_command(PSE))
    _card_blocked(resp)
    if resp.sw != SW.OK:
        log.info("PSE not usable (SW %04X); using the list of AIDs", resp.sw)
        return None
    sfi_tlv = tlv.find(_fci(resp), [0x6F, 0xA5, 0x88])
    if sfi_tlv is None or len(sfi_tlv.value) != 1 or not 1 <= sfi_tlv.value[0] <= 10:
        log.info("PSE FCI has no directory SFI (88); using the list of AIDs")
        return None
    sfi = sfi_tlv.value[0]
    out: list[Candidate] = []
    for record in range(1, 256):
        rr = channel.transmit(CommandAPDU(0x00, 0xB2, record, (sfi << 3) | 4, le=256))
        if rr.sw == SW.RECORD_NOT_FOUND:
            break
        if rr.sw != SW.OK:
            log.info("PSE directory record %d: SW %04X; using the list of AIDs", record, rr.sw)
            return None
        try:
            objs = tlv.decode(rr.data)
        except TlvError:
            return None
        if len(objs) != 1 or objs[0].tag != b"\x70":
            return None
        for entry in objs[0].children:
            if entry.tag != b"\x61":
                continue
            aid_tlv = tlv.find(entry.children, 0x4F)
            if aid_tlv is None:  # a DDF entry (9D) or malformed: not an application
                continue
            if any(s.matches(aid_tlv.value) for s in config.aids):
                out.append(Candidate.from_entry(aid_tlv.value, entry.children, len(out)))
    return out


# ------------------------------------------------------------------------------ list of AIDs


def candidates_from_aid_list(channel: CardChannel, config: TerminalConfig) -> list[Candidate]:
    """Book 1 §12.3.3: SELECT each terminal AID; for partial matches keep asking for the next
    occurrence. Applications answering 6283 (blocked) are not candidates.

    Raises:
        CardError: 6A81 (card blocked).
    """
    out: list[Candidate] = []
    seen: set[bytes] = set()
    for supported in config.aids:
        next_occurrence = False
        for _ in range(32):  # a card lists a handful of applications per AID prefix at most
            resp = channel.transmit(select_command(supported.aid, next_occurrence=next_occurrence))
            _card_blocked(resp)
            if resp.sw not in (SW.OK, SW.SELECTED_FILE_INVALIDATED):
                break
            objs = _fci(resp)
            name = tlv.find(objs, [0x6F, 0x84])
            df_name = name.value if name is not None else b""
            if df_name in seen:  # a card that ignores "next occurrence" would loop forever
                break
            if resp.sw == SW.OK and df_name and supported.matches(df_name):
                a5 = tlv.find(objs, [0x6F, 0xA5])
                out.append(Candidate.from_entry(df_name, a5.children if a5 else (), len(out)))
            elif resp.sw == SW.SELECTED_FILE_INVALIDATED:
                log.info("application %s is blocked (6283): not a candidate", df_name.hex().upper())
            seen.add(df_name)
            if not supported.partial_match or df_name == supported.aid:
                break
            next_occurrence = True
    return out


# ------------------------------------------------------------------------- PPSE (contactless)


def candidates_from_ppse(channel: CardChannel, config: TerminalConfig) -> list[Candidate] | None:
    """EMV contactless Book B §3.3: the directory entries in the PPSE FCI (BF0C / 61); ``None``
    when the card has no usable PPSE."""
    resp = channel.transmit(select_command(PPSE))
    if resp.sw != SW.OK:
        log.info("PPSE not usable (SW %04X)", resp.sw)
        return None
    directory = tlv.find(_fci(resp), [0x6F, 0xA5, 0xBF0C])
    if directory is None:
        return None
    out: list[Candidate] = []
    for entry in directory.children:
        if entry.tag != b"\x61":
            continue
        aid_tlv = tlv.find(entry.children, 0x4F)
        if aid_tlv is not None and any(s.matches(aid_tlv.value) for s in config.aids):
            out.append(Candidate.from_entry(aid_tlv.value, entry.children, len(out)))
    return out


def build_candidates(channel: CardChannel, config: TerminalConfig, *, contactless: bool = False) -> list[Candidate]:
    """The candidate list, ordered (PPSE for contactless; PSE, else the AID list, for contact)."""
    if contactless:
        return order_candidates(candidates_from_ppse(channel, config) or [])
    found = candidates_from_pse(channel, config) if config.use_pse else None
    if not found:  # no PSE, or a PSE listing nothing we support: Book 1 §12.3.2 step 5
        found = candidates_from_aid_list(channel, config)
    return order_candidates(found)


def order_candidates(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Book 1 §12.4: by priority (1 first), applications without a priority last, ties in
    discovery order."""
    return sorted(candidates, key=lambda c: (c.priority is None, c.priority or 0, c.order))


def final_select(channel: CardChannel, candidate: Candidate) -> SelectedApplication | None:
    """SELECT the chosen application (Book 1 §12.4). ``None`` when the card refuses it (blocked
    6283, or any status but 9000, or an FCI that is not a 6F template): the caller removes it
    from the list and chooses again.

    Raises:
        CardError: 6A81 (card blocked).
    """
    resp = channel.transmit(select_command(candidate.aid))
    _card_blocked(resp)
    objs = _fci(resp)
    if resp.sw != SW.OK or not objs:
        log.info("final SELECT of %s: SW %04X; removed from the list", candidate.aid.hex().upper(), resp.sw)
        return None
    data = tlv.flatten(objs)
    name = data.get(b"\x84", b"")
    if name and not (name == candidate.aid or name.startswith(candidate.aid) or candidate.aid.startswith(name)):
        log.info("final SELECT returned DF name %s for %s; removed", name.hex().upper(), candidate.aid.hex().upper())
        return None
    return SelectedApplication(candidate, resp.data, data)
