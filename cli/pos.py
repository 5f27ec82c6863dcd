"""``cardkit pos``: the POS terminal — sale, refund, void, pre-authorization, completion, balance,
electronic-cash top-up, the journal and settlement — against the embedded host or a TCP host."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli._app import console, errors
from cli.emv import EXIT_NOT_APPROVED, _pin_entry, parse_amount

if TYPE_CHECKING:
    from pos_sim.config import PosConfig
    from pos_sim.host import Host, HostLink
    from pos_sim.journal import JournalEntry
    from pos_sim.terminal import PosResult, Terminal

from cli._app import cli


@cli.group("pos")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Merchant/terminal configuration (TOML, docs/pos.md); default: the demo merchant.")
@click.option("--journal", "journal_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The journal file (default: the configuration's, pos-journal.sqlite).")
@click.option("--host", "host_url", help="tcp://HOST:PORT of `cardkit host serve`; default: the embedded host.")
@click.pass_context
def pos_group(ctx: click.Context, config_path: Path | None, journal_path: Path | None, host_url: str | None) -> None:
    """The POS terminal: payments against the acquirer/issuer host, with a journal and receipts."""
    ctx.ensure_object(dict)
    ctx.obj.update(config_path=config_path, journal_path=journal_path, host_url=host_url)


def _config(ctx: click.Context) -> PosConfig:
    from dataclasses import replace

    from pos_sim.config import PosConfig

    path = ctx.obj.get("config_path")
    config = PosConfig.load(path) if path else PosConfig.demo()
    if ctx.obj.get("journal_path"):
        config = replace(config, journal=ctx.obj["journal_path"])
    if ctx.obj.get("host_url"):
        config = replace(config, host=ctx.obj["host_url"])
    return config


def host_link(config: PosConfig) -> tuple[HostLink, Host | None]:
    """The configuration's host: a TCP link, or the embedded host with its ledger beside the
    journal (so a void finds the sale it voids) knowing the demo cards' accounts (docs/host.md)."""
    from pos_sim.host import Host, open_host_link

    if config.host != "embedded":
        return open_host_link(config.host), None
    host = Host(config.journal.with_name(config.journal.stem + "-host.sqlite"))
    host.seed_demo_accounts()
    return open_host_link(None, host), host


@contextmanager
def _terminal(ctx: click.Context, pin: str | None = None) -> Iterator[Terminal]:
    """The terminal with its journal and host link; at start it reverses what a crash left in
    flight and reprints receipts that never printed (docs/pos.md)."""
    from pos_sim.journal import Journal
    from pos_sim.terminal import Terminal

    config = _config(ctx)
    link, host = host_link(config)
    with Journal(config.journal) as journal:
        terminal = Terminal(config, journal, link, pin_entry=_pin_entry(pin) if pin is not None or
                            sys.stdin.isatty() else None)
        try:
            for entry in terminal.recover():
                errors.print(f"[yellow]reprint of trace {entry.stan} ({entry.kind}, {entry.status.value}), "
                             "which never printed:[/]")
                _print_receipt(terminal, entry, None, 32, reprint=True)
            yield terminal
        finally:
            close = getattr(link, "close", None)
            if close is not None:
                close()
            if host is not None:
                host.close()


def _print_receipt(terminal: Terminal, entry: JournalEntry, out: Path | None, width: int, *,
                   reprint: bool = False, to_stderr: bool = True) -> None:
    """Render the customer copy (and the merchant copy into a file), then mark it printed."""
    from pos_sim.receipt import Copy, ReceiptError, render_escpos, render_png, render_text

    try:
        customer = terminal.receipt(entry, Copy.CUSTOMER, reprint=reprint)
        merchant = terminal.receipt(entry, Copy.MERCHANT, reprint=reprint)
    except ReceiptError as exc:  # e.g. no application on the card: nothing to print but the reason
        errors.print(f"no receipt: {exc}")
        terminal.journal.mark_printed(entry.id)
        return
    if out is None:
        (errors if to_stderr else console).print(render_text(customer, width=width), markup=False, highlight=False)
    else:
        suffix = out.suffix.lower()
        if suffix == ".png":
            out.write_bytes(render_png(customer, width=width))
        elif suffix in (".bin", ".escpos", ".prn"):
            out.write_bytes(render_escpos(merchant, width=width) + render_escpos(customer, width=width))
        else:
            out.write_text(render_text(merchant, width=width) + "\n\n" + render_text(customer, width=width) + "\n",
                           encoding="utf-8")
    terminal.journal.mark_printed(entry.id)


def _money(minor: int) -> str:
    return f"{Decimal(minor).scaleb(-2):.2f}"


def _result_json(result: PosResult) -> dict[str, Any]:
    from cli.emv import outcome_json

    entry = result.entry
    out: dict[str, Any] = {
        "approved": result.approved, "reason": result.reason, "reversed": result.reversed,
        "kind": entry.kind, "status": entry.status.value, "trace": entry.stan, "batch": entry.batch,
        "rrn": entry.rrn, "auth_code": entry.auth_code, "response_code": entry.response_code,
        "amount": _money(entry.amount), "currency": entry.currency, "pan": entry.pan_masked,
        "balance": f"{result.balance:.2f}" if result.balance is not None else None,
    }
    if result.outcome is not None:
        out["emv"] = outcome_json(result.outcome, Decimal(entry.amount).scaleb(-2))
    return out


def _finish(terminal: Terminal, result: PosResult, receipt: Path | None, width: int, as_json: bool) -> None:
    from rich.markup import escape

    _print_receipt(terminal, result.entry, receipt, width, to_stderr=as_json)
    if as_json:
        click.echo(json.dumps(_result_json(result), indent=2, ensure_ascii=False))
    else:
        colour = "green" if result.approved else "red"
        verdict = "APPROVED" if result.approved else "DECLINED"
        line = f"[{colour}]{verdict}[/] {escape(result.reason)} (trace {result.entry.stan})"
        if receipt is not None:
            line += f"; receipt in {receipt}"
        console.print(line)
    if not result.approved:
        raise click.exceptions.Exit(EXIT_NOT_APPROVED)


def _reader_channel(reader_name: str) -> Any:
    from cardkit.readers import open_reader

    return open_reader(reader_name).connect()


_width = click.option("--width", type=click.Choice(["32", "42", "48"]), default="32", show_default=True,
                      help="Receipt width in columns (CJK characters count double).")
_receipt = click.option("--receipt", "receipt_path", type=click.Path(dir_okay=False, path_type=Path),
                        help="Write both copies here: .txt text, .png picture, .bin ESC/POS bytes.")
_json = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (receipt to stderr).")
_reader = click.option("--reader", "-r", "reader_name", required=True, help="pcsc:<index|name> or virtual:<image>.")
_pin = click.option("--pin", help="The PIN to enter when asked (default: a hidden prompt).")
_amount = click.argument("amount", callback=lambda _c, _p, v: parse_amount(v))


def _card_command(name: str, doc: str, method: str, *, with_amount: bool = True, contactless: bool = True) -> None:
    """Register ``pos NAME [AMOUNT] --reader R ...``: the card-present operations share one shape."""

    def run(ctx: click.Context, reader_name: str, pin: str | None, receipt_path: Path | None, width: str,
            as_json: bool, amount: Decimal | None = None, contactless: bool = False) -> None:
        from cardkit.readers import CardChannel

        with _terminal(ctx, pin) as terminal, _reader_channel(reader_name) as conn:
            operation = getattr(terminal, method)
            args = (amount,) if with_amount else ()
            kwargs = {"contactless": contactless} if contactless else {}
            result = operation(CardChannel(conn), *args, **kwargs)
            _finish(terminal, result, receipt_path, int(width), as_json)

    run.__doc__ = doc
    command = click.pass_context(run)
    for option in (_json, _width, _receipt, _pin, _reader):
        command = option(command)
    if contactless:
        command = click.option("--contactless", is_flag=True, help="Tap: the qPBOC single-tap path.")(command)
    if with_amount:
        command = _amount(command)
    pos_group.command(name)(command)


_card_command("sale", "A purchase of AMOUNT (e.g. 12.50 CNY). Exit 0 approved, 3 declined.", "sale")
_card_command("preauth", "A pre-authorization of AMOUNT: held on the account until `pos complete`.", "preauth")
_card_command("balance", "A balance inquiry: the account's available balance on the receipt.", "balance",
              with_amount=False)
_card_command("load", "Electronic-cash top-up of AMOUNT from the account onto the card.", "ec_load",
              contactless=False)


@pos_group.command("refund")
@_amount
@_reader
@click.option("--trace", help="The trace number (STAN) of the sale being refunded.")
@_pin
@_receipt
@_width
@_json
@click.pass_context
def refund_cmd(ctx: click.Context, amount: Decimal, reader_name: str, trace: str | None, pin: str | None,
               receipt_path: Path | None, width: str, as_json: bool) -> None:
    """Refund AMOUNT to the card in the reader (of the sale --trace, when given)."""
    from cardkit.readers import CardChannel

    with _terminal(ctx, pin) as terminal, _reader_channel(reader_name) as conn:
        result = terminal.refund(CardChannel(conn), amount, original_stan=trace)
        _finish(terminal, result, receipt_path, int(width), as_json)


@pos_group.command("void")
@click.argument("trace")
@_reader
@_receipt
@_width
@_json
@click.pass_context
def void_cmd(ctx: click.Context, trace: str, reader_name: str, receipt_path: Path | None, width: str,
             as_json: bool) -> None:
    """Void the approved sale with trace number TRACE (current batch), with the card it was paid with."""
    from cardkit.readers import CardChannel

    with _terminal(ctx) as terminal, _reader_channel(reader_name) as conn:
        _finish(terminal, terminal.void(CardChannel(conn), trace), receipt_path, int(width), as_json)


@pos_group.command("complete")
@click.argument("trace")
@_amount
@_reader
@_receipt
@_width
@_json
@click.pass_context
def complete_cmd(ctx: click.Context, trace: str, amount: Decimal, reader_name: str, receipt_path: Path | None,
                 width: str, as_json: bool) -> None:
    """Complete the pre-authorization TRACE for AMOUNT (at most the amount held), with its card."""
    from cardkit.readers import CardChannel

    with _terminal(ctx) as terminal, _reader_channel(reader_name) as conn:
        _finish(terminal, terminal.complete(CardChannel(conn), trace, amount), receipt_path, int(width), as_json)


@pos_group.command("journal")
@click.option("--batch", type=int, help="Show this batch (default: the current one).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="Export the batch as CSV.")
@_json
@click.pass_context
def journal_cmd(ctx: click.Context, batch: int | None, csv_path: Path | None, as_json: bool) -> None:
    """The journal: every transaction of a batch with its status, and the batch totals.

    Like every `pos` command it starts the terminal first, which reverses what a crash left in
    flight and reprints receipts that never printed."""
    with _terminal(ctx) as terminal:
        journal = terminal.journal
        entries = journal.entries(batch)
        totals = journal.totals(batch)
        if csv_path is not None:
            rows = journal.export_csv(csv_path, batch)
            console.print(f"{rows} rows written to {csv_path}")
            return
    if as_json:
        click.echo(json.dumps({"batch": batch if batch is not None else (entries[0].batch if entries else None),
                               "entries": [_entry_json(e) for e in entries],
                               "totals": _totals_json(totals)}, indent=2, ensure_ascii=False))
        return
    _render_journal(entries, totals)


def _entry_json(entry: JournalEntry) -> dict[str, Any]:
    return {"id": entry.id, "trace": entry.stan, "kind": entry.kind, "status": entry.status.value,
            "amount": _money(entry.amount), "pan": entry.pan_masked, "rrn": entry.rrn,
            "auth_code": entry.auth_code, "response_code": entry.response_code, "time": entry.created.isoformat(),
            "reversal_reason": entry.reversal_reason, "printed": entry.receipt_printed}


def _totals_json(totals: Any) -> dict[str, Any]:
    debit, credit = totals.debit, totals.credit
    return {"debits": {"count": debit.count, "amount": f"{debit.decimal():.2f}"},
            "credits": {"count": credit.count, "amount": f"{credit.decimal():.2f}"},
            "net": f"{totals.decimal(totals.net):.2f}"}


def _render_journal(entries: list[JournalEntry], totals: Any) -> None:
    from rich.table import Table

    table = Table(title="journal", show_lines=False)
    for col in ("trace", "time", "kind", "amount", "card", "status", "code", "auth"):
        table.add_column(col, justify="right" if col == "amount" else "left")
    for e in entries:
        colour = {"approved": "green", "declined": "red", "reversed": "yellow", "voided": "yellow"}.get(
            e.status.value, "magenta")
        table.add_row(e.stan, e.created.strftime("%H:%M:%S"), e.kind, _money(e.amount),
                      e.pan_masked, f"[{colour}]{e.status.value}[/]", e.response_code or "", e.auth_code or "")
    console.print(table)
    t = _totals_json(totals)
    console.print(f"debits {t['debits']['count']} / {t['debits']['amount']} CNY   "
                  f"credits {t['credits']['count']} / {t['credits']['amount']} CNY   net {t['net']} CNY")


@pos_group.command("settle")
@_json
@click.pass_context
def settle_cmd(ctx: click.Context, as_json: bool) -> None:
    """Close the batch and settle it with the host (0500): in balance, or out of balance (95)."""
    with _terminal(ctx) as terminal:
        batch = terminal.journal.current_batch()
        balanced, totals, code = terminal.settle()
    if as_json:
        click.echo(json.dumps({"batch": batch, "in_balance": balanced, "response_code": code,
                               "debits": totals.debits, "debits_amount": _money(totals.debits_amount),
                               "credits": totals.credits, "credits_amount": _money(totals.credits_amount)}, indent=2))
    else:
        verdict = "[green]in balance[/]" if balanced else f"[red]out of balance ({code})[/]"
        console.print(f"batch {batch} settled, {verdict}: {totals.debits} debits {_money(totals.debits_amount)}, "
                      f"{totals.credits} credits {_money(totals.credits_amount)} CNY")
    if not balanced:
        raise click.exceptions.Exit(EXIT_NOT_APPROVED)
