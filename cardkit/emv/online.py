"""Online processing, issuer authentication and issuer scripts (EMV 4.4 Book 3 §10.9-§10.10,
§6.5.4; Book 4 §6.3.8, §12.2; Book 2 Annex A1 for the ARPC, Book 3 Annex E for script results).

The kernel hands the host an :class:`OnlineRequest` through a callback and gets an
:class:`OnlineResponse` back. The callback returning ``None`` or raising
:class:`cardkit.errors.HostError` / :class:`cardkit.errors.TransportError` means "unable to go
online": the terminal then completes with the default action codes (ARC Y3 or Z3).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cardkit import tlv
from cardkit.apdu import CommandAPDU
from cardkit.crypto.pin import PinBlock
from cardkit.emv.context import Transaction
from cardkit.emv.tvr import Tsi, Tvr
from cardkit.errors import ApduError, TlvError
from cardkit.readers.channel import CardChannel

__all__ = [
    "APPROVAL_CODES",
    "OnlineCallback",
    "OnlineRequest",
    "OnlineResponse",
    "ScriptPhase",
    "external_authenticate",
    "parse_scripts",
    "run_scripts",
]

log = logging.getLogger(__name__)

#: Authorisation response codes (8A) that approve; ISO 8583 "00" approved, "10" partial,
#: "11" VIP; the terminal-generated "Y1"/"Y3" are offline approvals.
APPROVAL_CODES = frozenset({"00", "10", "11", "Y1", "Y3"})


@dataclass(frozen=True, slots=True)
class OnlineRequest:
    """What goes to the acquirer/issuer host (ISO 8583 authorisation request).

    Attributes:
        icc_data: BER-TLV for field 55 (the cryptogram, TVR, amounts ...).
        data: every data element by tag (int), as in :class:`TransactionOutcome`.
        pin_block: the format 0 online PIN block when an online PIN was entered; its bytes are
            hidden from repr and come out only through ``PinBlock.reveal()``.
        pan: the PAN digits; track2: the 57 value (for field 35).
    """

    amount: int
    other_amount: int
    transaction_type: int
    currency_code: int
    pan: str
    track2: bytes
    pan_sequence: bytes
    icc_data: bytes
    data: Mapping[int, bytes]
    pin_block: PinBlock | None = field(default=None, repr=False)
    contactless: bool = False


@dataclass(frozen=True, slots=True)
class OnlineResponse:
    """The host's answer.

    Attributes:
        response_code: the authorisation response code (ARC, 8A), two characters, e.g. ``"00"``.
        arpc: the issuer authentication data (91): ARPC ‖ ARC for ARPC method 1.
        scripts: issuer script templates (71 and/or 72), concatenated BER-TLV.
        auth_code: the authorisation code (89), up to 6 characters.
    """

    response_code: str
    arpc: bytes | None = None
    scripts: bytes = b""
    auth_code: str = ""

    def __post_init__(self) -> None:
        if len(self.response_code) != 2 or not self.response_code.isascii():
            raise ValueError("the response code is two ASCII characters")

    @property
    def approved(self) -> bool:
        return self.response_code in APPROVAL_CODES


#: ``online(request) -> response``; ``None`` (or HostError/TransportError) = unable to go online.
OnlineCallback = Callable[[OnlineRequest], OnlineResponse | None]


def external_authenticate(channel: CardChannel, txn: Transaction, arpc: bytes) -> bool:
    """EXTERNAL AUTHENTICATE with the issuer authentication data (Book 3 §6.5.4, §10.9).

    Sets TSI 'issuer authentication performed', and TVR 'issuer authentication failed' unless
    the card answers 9000. Returns whether it succeeded.
    """
    txn.tsi |= Tsi.ISSUER_AUTHENTICATION_PERFORMED
    resp = channel.transmit(CommandAPDU(0x00, 0x82, 0x00, 0x00, arpc))
    if resp.ok:
        return True
    txn.tvr |= Tvr.ISSUER_AUTHENTICATION_FAILED
    log.info("issuer authentication failed (SW %04X)", resp.sw)
    return False


class ScriptPhase(enum.Enum):
    BEFORE_FINAL_GAC = 0x71
    AFTER_FINAL_GAC = 0x72


@dataclass(frozen=True, slots=True)
class IssuerScript:
    """One script template: its identifier (9F18, may be empty) and its commands (86)."""

    phase: ScriptPhase
    script_id: bytes
    commands: tuple[bytes, ...]


def parse_scripts(raw: bytes) -> list[IssuerScript]:
    """Split the host's script data into 71/72 templates (Book 3 §10.10). Anything that is not
    BER-TLV, or other tags, is ignored with a log line: a bad script must not end the sale."""
    try:
        objs = tlv.decode(raw)
    except TlvError as exc:
        log.info("issuer script data is not BER-TLV (%s); ignored", exc)
        return []
    out: list[IssuerScript] = []
    for obj in objs:
        if obj.tag not in (b"\x71", b"\x72"):
            continue
        sid = tlv.find(obj.children, 0x9F18)
        commands = tuple(c.value for c in obj.children if c.tag == b"\x86")
        out.append(IssuerScript(ScriptPhase(obj.tag[0]), sid.value if sid else b"", commands))
    return out


def _result(status: int, sequence: int, script_id: bytes) -> bytes:
    """Issuer Script Results, 5 bytes (Book 3 Annex E): result (high nibble) ‖ sequence number of
    the failed command (low nibble, F = 15 or later) ‖ script identifier (4 bytes, zeros if absent)."""
    return bytes(((status << 4) | min(sequence, 15),)) + script_id[:4].rjust(4, b"\x00")


def run_scripts(channel: CardChannel, txn: Transaction, scripts: list[IssuerScript], phase: ScriptPhase) -> None:
    """Deliver the scripts of ``phase`` (Book 3 §10.10): each command in order; SW1 90/62/63 goes
    on, anything else stops that script and sets TVR 'script processing failed' for the phase.
    Appends the script results (9F5B) and sets TSI 'script processing performed'."""
    for script in (s for s in scripts if s.phase is phase):
        txn.tsi |= Tsi.SCRIPT_PROCESSING_PERFORMED
        failed_at = 0
        for number, raw in enumerate(script.commands, start=1):
            try:
                command = CommandAPDU.parse(raw)
            except ApduError:
                failed_at = number
                break
            resp = channel.transmit(command, sensitive=True)
            if resp.sw1 not in (0x90, 0x62, 0x63):
                log.info("issuer script command %d answered %04X", number, resp.sw)
                failed_at = number
                break
        if failed_at:
            txn.tvr |= (Tvr.SCRIPT_FAILED_BEFORE_FINAL_GAC if phase is ScriptPhase.BEFORE_FINAL_GAC
                        else Tvr.SCRIPT_FAILED_AFTER_FINAL_GAC)
            txn.script_results += _result(0x1, failed_at, script.script_id)
        else:
            txn.script_results += _result(0x2, 0, script.script_id)
