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

# What `emv pay` exits with when the transaction ran but was not approved (usage errors are 2).
EXIT_NOT_APPROVED = 3


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
@click.option("--reader", "-r", "reader_name", required=True, help="pcsc:<index|name part> or virtual:<image>.")
@click.option("--pin", help="The PIN to enter when the card asks (default: a hidden prompt).")
@click.option("--contactless", is_flag=True, help="Run the single-tap contactless (qPBOC) path.")
@click.option("--capk", "capk_files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="More CA public keys (a CapkStore JSON file); the demo CAPK is always loaded.")
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

