"""Read a bank card without paying: every application, its records, its counters, its log, ODA.

What ``cardkit emv read`` shows and what a bench tester wants from an unknown card. Each
application the terminal supports is selected and initiated (GPO with a zero amount, which
increments the card's ATC as any transaction start does), its AFL records are read and kept as
received, offline data authentication is run as far as it goes without a GENERATE AC (SDA and
DDA complete; for CDA the certificate chain is recovered and checked; for fDDA the GPO's
signature is verified), and the card's counters (GET DATA) and transaction log (Book 3 Annex D,
9F4D / 9F4F) are read. Nothing is written to the card but its ATC.

A refusal part way (a blocked application, a bad AFL ...) ends that application's reading with
its ``error`` set; the other applications are still read.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from cardkit import tlv
from cardkit.apdu import SW, CommandAPDU
from cardkit.crypto.oda import OdaMethod, OdaReason
from cardkit.emv import selection
from cardkit.emv.contactless import authenticate_fdda, prepare_ttq
from cardkit.emv.context import Transaction
from cardkit.emv.kernel import Kernel
from cardkit.emv.outcome import CardDataError, TransactionEnded
from cardkit.emv.risk import get_data
from cardkit.errors import CardError, TlvError

__all__ = ["COUNTER_TAGS", "ApplicationReading", "CardReading", "LogRecord", "read_card"]

log = logging.getLogger(__name__)

#: GET DATA objects read for every application: ATC, last online ATC, PIN try counter, the
#: electronic-cash balance and its limits (PBOC), log entry and log format.
COUNTER_TAGS = (0x9F36, 0x9F13, 0x9F17, 0x9F79, 0x9F77, 0x9F78, 0x9F6D, 0x9F4D, 0x9F4F)


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One transaction log record, split by the log format DOL (9F4F) into tag → value."""

    number: int
    values: Mapping[int, bytes]


@dataclass(frozen=True, slots=True)
class ApplicationReading:
    """What was learned of one application.

    Attributes:
        aid, label, priority: from the directory entry (or the SELECT of the AID list).
        fci: the SELECT response as received.
        gpo: the GPO response template as received (empty when GPO did not succeed).
        records: every AFL record as ``(sfi, number, bytes)``, in AFL order.
        data: every data object learned (FCI, GPO, records), by int tag.
        counters: the GET DATA objects the card answered, by int tag.
        log: the transaction log, newest first.
        oda_method / oda_ok / oda_failure / oda_note: the ODA result and what it means.
        error: why reading stopped early, or ``None``.
    """

    aid: bytes
    label: str
    priority: int | None
    fci: bytes = b""
    gpo: bytes = b""
    records: tuple[tuple[int, int, bytes], ...] = ()
    data: Mapping[int, bytes] = field(default_factory=dict)
    counters: Mapping[int, bytes] = field(default_factory=dict)
    log: tuple[LogRecord, ...] = ()
    oda_method: OdaMethod | None = None
    oda_ok: bool | None = None
    oda_failure: OdaReason | None = None
    oda_note: str = ""
    error: str | None = None


@dataclass(frozen=True, slots=True)
class CardReading:
    """Every application of one card, in the terminal's candidate order."""

    contactless: bool
    applications: tuple[ApplicationReading, ...]


def read_card(kernel: Kernel, *, contactless: bool = False) -> CardReading:
    """Read every application of the card that the kernel's terminal supports.

    Args:
        kernel: a kernel on the card's channel; its config gives the AID list and CAPKs, its
            clock and rng the date and the unpredictable number.
        contactless: build the candidates from the PPSE and take the qPBOC GPO (fDDA).

    Raises:
        CardError: the card is blocked (6A81 to SELECT).
        TransportError: the reader or the card went away.
    """
    candidates = selection.build_candidates(kernel.channel, kernel.config, contactless=contactless)
    return CardReading(contactless, tuple(_read_application(kernel, c, contactless) for c in candidates))


def _read_application(kernel: Kernel, candidate: selection.Candidate, contactless: bool) -> ApplicationReading:
    txn = kernel.start(0, contactless=contactless)
    txn.candidates, txn.candidates_built = [candidate], True
    fields: dict[str, object] = {}
    try:
        if contactless:
            txn.terminal[b"\x9f\x66"] = prepare_ttq(0, kernel.config)
        chosen = kernel.select_application(txn)
        fields["fci"] = chosen.fci
        gpo = kernel.initiate(txn, chosen.pdol)
        if gpo is None:
            raise CardError(SW.CONDITIONS_NOT_SATISFIED, "GET PROCESSING OPTIONS: conditions of use not satisfied")
        fields["gpo"] = tlv.build(0x80, gpo.aip + gpo.afl) if gpo.format == 1 else tlv.build(0x77, tlv.encode(
            [tlv.Tlv(tag, value) for tag, value in gpo.data.items()]))
        try:
            kernel.read_records(txn)
        finally:
            fields["records"] = tuple(txn.all_records)
        fields.update(_oda(kernel, txn, contactless))
    except (TransactionEnded, CardError, CardDataError) as exc:
        log.info("reading %s stopped: %s", candidate.aid.hex().upper(), exc)
        fields["error"] = str(exc)
    counters = _counters(kernel, txn.application is not None)
    log_records = _log(kernel, txn.card, counters) if txn.application is not None else ()
    return ApplicationReading(
        aid=txn.aid or candidate.aid, label=candidate.label, priority=candidate.priority,
        data={int.from_bytes(t, "big"): v for t, v in txn.card.items()}, counters=counters, log=log_records,
        **fields,  # type: ignore[arg-type]
    )


def _oda(kernel: Kernel, txn: Transaction, contactless: bool) -> dict[str, object]:
    if contactless:
        if b"\x9f\x4b" not in txn.card:
            return {"oda_method": None, "oda_note": "no fDDA signature in the GPO (the card asked to go online)"}
        ok = authenticate_fdda(kernel, txn)
        note = "fDDA signature verified" if ok else "fDDA failed"
        return {"oda_method": txn.oda_method, "oda_ok": ok if txn.oda_method else None,
                "oda_failure": txn.oda_failure, "oda_note": note if txn.oda_method else "no common ODA method"}
    method = kernel.authenticate(txn)
    if method is None:
        return {"oda_method": None, "oda_note": "no common ODA method (AIP and terminal capabilities)"}
    ok = txn.oda_failure is None
    notes = {
        OdaMethod.SDA: "signed static application data verified",
        OdaMethod.DDA: "INTERNAL AUTHENTICATE signature verified",
        OdaMethod.CDA: "issuer and ICC certificates verified; the CDA signature comes with GENERATE AC",
    }
    note = notes.get(method, "") if ok else f"{method.value} failed"
    return {"oda_method": method, "oda_ok": ok, "oda_failure": txn.oda_failure, "oda_note": note}


def _counters(kernel: Kernel, selected: bool) -> dict[int, bytes]:
    if not selected:
        return {}
    out: dict[int, bytes] = {}
    for tag in COUNTER_TAGS:
        value = get_data(kernel.channel, tag)
        if value is not None:
            out[tag] = value
    return out


def _log(kernel: Kernel, card: Mapping[bytes, bytes], counters: Mapping[int, bytes]) -> tuple[LogRecord, ...]:
    """Book 3 Annex D: READ RECORD of the log SFI (9F4D) split by the log format (9F4F)."""
    entry = counters.get(0x9F4D) or card.get(b"\x9f\x4d")
    log_format = counters.get(0x9F4F) or card.get(b"\x9f\x4f")
    if not entry or len(entry) != 2 or not log_format or not 1 <= entry[0] <= 30:
        return ()
    try:
        dol = tlv.parse_dol(log_format)
    except TlvError:
        return ()
    out: list[LogRecord] = []
    for number in range(1, entry[1] + 1):
        resp = kernel.channel.transmit(CommandAPDU(0x00, 0xB2, number, (entry[0] << 3) | 4, le=256))
        if resp.sw != SW.OK:
            break
        values: dict[int, bytes] = {}
        pos = 0
        for tag, length in dol:
            values[int.from_bytes(tag, "big")] = resp.data[pos:pos + length]
            pos += length
        out.append(LogRecord(number, values))
    return tuple(out)

