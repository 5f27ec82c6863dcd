"""``cardkit emv``: read a bank card and run EMV payments (contact or contactless) on any reader."""

from __future__ import annotations

import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli._app import cli, console

if TYPE_CHECKING:
    from cardkit.emv import TerminalConfig, TransactionOutcome
    from cardkit.emv.reading import ApplicationReading, CardReading

# What `emv pay` exits with when the transaction ran but was not approved (usage errors are 2).
EXIT_NOT_APPROVED = 3
_READER_HELP = "pcsc:<index|name part> or virtual:<image>."
_CAPK_HELP = "More CA public keys (a CapkStore JSON file); the demo CAPK is always loaded."


@cli.group("emv")
def emv_group() -> None:
    """EMV / PBOC bank applications: read them, pay with them."""


def parse_amount(text: str) -> Decimal:
    """``"12.50"`` → Decimal("12.50"): positive, at most two decimals (CNY has exponent 2)."""
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise click.BadParameter(f"{text!r} is not an amount like 12.50") from None
    if not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise click.BadParameter(f"{text!r}: give a positive amount with at most two decimals")
    return amount


def terminal_config(capk_files: tuple[Path, ...]) -> TerminalConfig:
    """The default terminal with the demo CAPK plus any CAPK lists given (JSON, CapkStore.save)."""
    from cardkit.crypto.oda import CapkStore
    from cardkit.emv import TerminalConfig
    from cardkit.issuer.demo_keys import demo_capk

    store = CapkStore()
    store.add(demo_capk())
    for path in capk_files:
        for capk in CapkStore.load(path):
            store.add(capk)
    return TerminalConfig(capk=store)


def _pin_entry(pin: str | None) -> Any:
    """PIN pad: the --pin value, else a hidden prompt on a terminal, else bypass (None).

    A given --pin is offered once: when the card says it was wrong, the pad bypasses instead of
    repeating it (repeating a wrong PIN would only block the card).
    """
    from cardkit.emv import PinRequest

    def enter(request: PinRequest) -> str | None:
        if pin is not None:
            return None if request.retry else pin
        if not sys.stdin.isatty():
            return None
        prompt = f"{request.kind.value} PIN" + (" (wrong, try again)" if request.retry else "")
        return str(click.prompt(prompt, hide_input=True, default="", show_default=False)) or None

    return enter


def outcome_json(outcome: TransactionOutcome, amount: Decimal) -> dict[str, Any]:
    from cardkit.emv.masking import masked_data

    return {
        "outcome": outcome.kind.value,
        "approved": outcome.approved,
        "reason": outcome.reason,
        "amount": f"{amount:.2f}",
        "currency": "156",
        "contactless": outcome.contactless,
        "aid": outcome.aid.hex().upper(),
        "label": outcome.label,
        "pan": outcome.masked_pan(),
        "response_code": outcome.response_code,
        "oda": outcome.oda_method.name if outcome.oda_method else None,
        "oda_failure": outcome.oda_failure.name if outcome.oda_failure else None,
        "tvr": {"hex": outcome.tvr.to_bytes().hex().upper(), "bits": outcome.tvr.names()},
        "tsi": {"hex": outcome.tsi.to_bytes().hex().upper(), "bits": outcome.tsi.names()},
        "cvm_results": outcome.cvm_results.to_bytes().hex().upper(),
        "signature_required": outcome.signature_required,
        "data": masked_data(outcome.data),
    }


def render_outcome(outcome: TransactionOutcome, amount: Decimal) -> None:
    from rich.panel import Panel
    from rich.table import Table

    from cardkit.tags import name_of

    good = outcome.approved
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("amount", f"{amount:.2f} CNY"),
        ("card", f"{outcome.label} {outcome.aid.hex().upper()}  {outcome.masked_pan()}"),
        ("reason", outcome.reason),
        ("ODA", outcome.oda_method.name if outcome.oda_method else "not performed"),
        ("TVR", f"{outcome.tvr.to_bytes().hex().upper()}  {', '.join(outcome.tvr.names()) or '-'}"),
        ("TSI", f"{outcome.tsi.to_bytes().hex().upper()}  {', '.join(outcome.tsi.names()) or '-'}"),
        ("CVM", "signature required" if outcome.signature_required else outcome.cvm_results.to_bytes().hex().upper()),
    ]
    if outcome.response_code:
        rows.append(("response code", outcome.response_code))
    for tag in (0x9F26, 0x9F27, 0x9F36, 0x9F10):
        raw = outcome.get(tag)
        if raw is not None:
            rows.append((name_of(tag) or f"{tag:X}", raw.hex().upper()))
    for key, text in rows:
        table.add_row(key, text)
    title = outcome.kind.value.replace("-", " ").upper()
    console.print(Panel(table, title=f"[{'green' if good else 'red'}]{title}[/]", expand=False))


@emv_group.command("pay")
@click.argument("amount", callback=lambda _c, _p, v: parse_amount(v))
@click.option("--reader", "-r", "reader_name", required=True, help=_READER_HELP)
@click.option("--pin", help="The PIN to enter when the card asks (default: a hidden prompt).")
@click.option("--contactless", is_flag=True, help="Run the single-tap contactless (qPBOC) path.")
@click.option("--capk", "capk_files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help=_CAPK_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome and every data element as JSON.")
def pay_cmd(amount: Decimal, reader_name: str, pin: str | None, contactless: bool, capk_files: tuple[Path, ...],
            as_json: bool) -> None:
    """Run one purchase of AMOUNT (e.g. 12.50 CNY) against the in-process issuer stand-in.

    Exits 0 when approved and 3 when the transaction ran but was not approved.
    """
    from cardkit.emv import Kernel
    from cardkit.issuer.demo_keys import demo_issuer
    from cardkit.readers import CardChannel, open_reader
    from pos_sim.issuer_standin import IssuerStandIn

    if pin is not None and not (pin.isdigit() and 4 <= len(pin) <= 12):
        raise click.BadParameter("a PIN is 4 to 12 digits", param_hint="--pin")
    config = terminal_config(capk_files)
    reader = open_reader(reader_name)
    with reader.connect() as conn:
        issuer = IssuerStandIn(demo_issuer())
        kernel = Kernel(CardChannel(conn), config, pin_entry=_pin_entry(pin), online=issuer.online)
        outcome = kernel.run(amount, contactless=contactless)
    if as_json:
        click.echo(json.dumps(outcome_json(outcome, amount), indent=2))
    else:
        render_outcome(outcome, amount)
    if not outcome.approved:
        raise click.exceptions.Exit(EXIT_NOT_APPROVED)



# ------------------------------------------------------------------------------------- emv read
# GET DATA objects shown as numbers (counters) or amounts (n12, minor units), not as hex.
_COUNTERS = {0x9F36: "ATC", 0x9F13: "last online ATC", 0x9F17: "PIN tries left"}
_AMOUNTS = {0x9F79: "electronic cash balance", 0x9F77: "EC balance limit", 0x9F78: "EC single transaction limit",
            0x9F6D: "EC reset threshold"}


def _number(tag: int, value: bytes) -> str:
    if tag in _AMOUNTS:
        digits = value.hex()
        return f"{Decimal(int(digits) if digits.isdigit() else 0).scaleb(-2):.2f} CNY" if digits.isdigit() else digits
    return str(int.from_bytes(value, "big"))


def reading_json(reading: CardReading) -> dict[str, Any]:
    """The reading with every PAN-carrying element masked (5A, 57, 56, 9F6B ...)."""
    from cardkit import tlv
    from cardkit.emv.masking import masked_data

    def record(sfi: int, number: int, raw: bytes) -> dict[str, Any]:
        out: dict[str, Any] = {"sfi": sfi, "record": number}
        try:
            out["data"] = masked_data({int.from_bytes(t, "big"): v for t, v in tlv.flatten(raw).items()})
        except Exception:  # proprietary (SFI > 10) or not BER-TLV: shown as received
            out["hex"] = raw.hex().upper()
        return out

    apps = []
    for app in reading.applications:
        apps.append({
            "aid": app.aid.hex().upper(), "label": app.label, "priority": app.priority,
            "error": app.error,
            "aip": app.data.get(0x82, b"").hex().upper() or None, "afl": app.data.get(0x94, b"").hex().upper() or None,
            "oda": {"method": app.oda_method.name if app.oda_method else None, "ok": app.oda_ok,
                    "failure": app.oda_failure.name if app.oda_failure else None, "note": app.oda_note},
            "counters": {f"{t:X}": _number(t, v) if t in _COUNTERS or t in _AMOUNTS else v.hex().upper()
                         for t, v in app.counters.items()},
            "records": [record(*r) for r in app.records],
            "log": [{"record": r.number, "data": masked_data(r.values)} for r in app.log],
            "data": masked_data(app.data),
        })
    return {"contactless": reading.contactless, "applications": apps}


def render_reading(reading: CardReading) -> None:
    from rich.markup import escape
    from rich.panel import Panel

    if not reading.applications:
        console.print("[yellow]no application on this card that the terminal supports[/]")
    for app in reading.applications:
        title = f"[bold]{escape(app.label or '?')}[/] {app.aid.hex().upper()}"
        console.print(Panel("\n".join(_application_lines(app)), expand=False, title=title))


def _application_lines(app: ApplicationReading) -> list[str]:
    from rich.markup import escape

    from cardkit import tlv
    from cardkit.emv.masking import PAN_TAGS, masked_value
    from cardkit.errors import TlvError
    from cardkit.tags import name_of

    def show(tag: bytes, value: bytes) -> str | None:
        number = int.from_bytes(tag, "big")
        return masked_value(number, value) if number in PAN_TAGS else None

    lines = [f"priority {app.priority or '-'}"]
    if app.error:
        lines.append(f"[red]reading stopped: {escape(app.error)}[/]")
    if 0x82 in app.data:
        lines.append(f"AIP {app.data[0x82].hex().upper()}  AFL {app.data.get(0x94, b'').hex().upper()}")
    if app.oda_method or app.oda_note:
        verdict = "[green]ok[/]" if app.oda_ok else "[red]failed[/]" if app.oda_ok is False else "-"
        method = app.oda_method.name if app.oda_method else "ODA"
        failure = f" ({app.oda_failure.value})" if app.oda_failure else ""
        lines.append(f"{method} {verdict}: {app.oda_note}{failure}")
    for tag, value in app.counters.items():
        if tag in _COUNTERS or tag in _AMOUNTS:
            lines.append(f"{_COUNTERS.get(tag) or _AMOUNTS[tag]} ({tag:X}): {_number(tag, value)}")
    for sfi, number, raw in app.records:
        lines.append(f"[bold cyan]SFI {sfi} record {number}[/]")
        try:
            lines.extend("  " + escape(line) for line in tlv.format_tlv(raw, context="emv", show=show))
        except TlvError:
            lines.append("  " + raw.hex().upper())
    if app.log:
        lines.append(f"[bold cyan]transaction log ({len(app.log)} records, newest first)[/]")
        for entry in app.log:
            parts = [f"{name_of(t) or f'{t:X}'}={v.hex().upper()}" for t, v in entry.values.items() if any(v)]
            lines.append(escape(f"  {entry.number}: " + ", ".join(parts)))
    return lines


@emv_group.command("read")
@click.option("--reader", "-r", "reader_name", required=True, help=_READER_HELP)
@click.option("--contactless", is_flag=True, help="Select through the PPSE and take the qPBOC GPO (fDDA).")
@click.option("--capk", "capk_files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help=_CAPK_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the reading as JSON (PANs masked).")
def read_cmd(reader_name: str, contactless: bool, capk_files: tuple[Path, ...], as_json: bool) -> None:
    """Read every bank application: records decoded with tag names, counters, log, ODA result.

    GPO is sent with a zero amount, so the card's ATC goes up by one per application; nothing
    else is written to the card.
    """
    from cardkit.emv import Kernel
    from cardkit.emv.reading import read_card
    from cardkit.readers import CardChannel, open_reader

    config = terminal_config(capk_files)
    with open_reader(reader_name).connect() as conn:
        reading = read_card(Kernel(CardChannel(conn), config), contactless=contactless)
    if as_json:
        click.echo(json.dumps(reading_json(reading), indent=2))
    else:
        render_reading(reading)
