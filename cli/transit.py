"""``cardkit transit``: the transit purse — balance, top-up through the host, a tap at a gate, the log."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli._app import cli, console
from cli._keys import issuer_option, purse_keys
from cli.emv import EXIT_NOT_APPROVED, parse_amount

if TYPE_CHECKING:
    from cardkit.purse import PurseInfo


@cli.group("transit")
def transit_group() -> None:
    """The transit electronic purse: balance, top-up, gate taps, the card's log."""


_reader = click.option("--reader", "-r", "reader_name", required=True, help="pcsc:<index|name> or virtual:<image>.")
_json = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
_journal = click.option("--journal", "journal_path", type=click.Path(dir_okay=False, path_type=Path),
                        help="The journal file (default: pos-journal.sqlite; the gate's: gate-journal.sqlite).")


def _money(fen: int) -> str:
    return f"{Decimal(fen).scaleb(-2):.2f}"


def _info_json(info: PurseInfo) -> dict[str, Any]:
    from cardkit.emv.outcome import mask_pan

    return {"serial": mask_pan(info.serial), "balance": _money(info.balance), "start": info.start.isoformat(),
            "expiry": info.expiry.isoformat(), "holder": info.holder_name}


def _client(conn: Any) -> Any:
    from cardkit.purse import PurseClient
    from cardkit.readers import CardChannel

    return PurseClient(CardChannel(conn))


@transit_group.command("balance")
@_reader
@_json
def balance_cmd(reader_name: str, as_json: bool) -> None:
    """The purse's balance and validity."""
    from cardkit.readers import open_reader

    with open_reader(reader_name).connect() as conn:
        info = _client(conn).select()
    if as_json:
        click.echo(json.dumps(_info_json(info), indent=2, ensure_ascii=False))
        return
    console.print(f"transit purse {_info_json(info)['serial']}: [bold]{_money(info.balance)} CNY[/], "
                  f"valid {info.start:%Y-%m-%d} to {info.expiry:%Y-%m-%d}")


@transit_group.command("load")
@click.argument("amount", callback=lambda _c, _p, v: parse_amount(v))
@_reader
@click.option("--host", "host_url", help="tcp://HOST:PORT of `cardkit host serve`; default: the embedded host.")
@_journal
@_json
def load_cmd(amount: Decimal, reader_name: str, host_url: str | None, journal_path: Path | None,
             as_json: bool) -> None:
    """Top up the purse by AMOUNT, authorized online by the host (MAC1 checked, MAC2 back)."""
    from dataclasses import replace

    from cardkit.readers import open_reader
    from cli.pos import host_link
    from pos_sim.config import PosConfig
    from pos_sim.journal import Journal
    from pos_sim.transit import top_up

    config = PosConfig.demo(journal=journal_path) if journal_path else PosConfig.demo()
    if host_url:
        config = replace(config, host=host_url)
    link, host = host_link(config)
    try:
        with Journal(config.journal) as journal, open_reader(reader_name).connect() as conn:
            result = top_up(_client(conn), int(amount.scaleb(2)), config=config, journal=journal, host=link)
    finally:
        if host is not None:
            host.close()
    balance = result.purse.balance_after if result.purse else result.info.balance
    if as_json:
        click.echo(json.dumps({"approved": result.approved, "reason": result.reason, "reversed": result.reversed,
                               "amount": f"{amount:.2f}", "balance": _money(balance), "trace": result.entry.stan,
                               "tac": result.purse.tac.hex().upper() if result.purse else None}, indent=2))
    else:
        colour = "green" if result.approved else "red"
        console.print(f"[{colour}]{'LOADED' if result.approved else 'NOT LOADED'}[/] {amount:.2f} CNY: "
                      f"{result.reason}; balance {_money(balance)} CNY (trace {result.entry.stan})")
    if not result.approved:
        raise click.exceptions.Exit(EXIT_NOT_APPROVED)


@transit_group.command("tap")
@_reader
@click.option("--station", "-s", required=True, help="The station of this gate (a name from the fare rules).")
@click.option("--line", "-l", type=int, help="The line, when the station name is on several.")
@click.option("--rules", "rules_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Fare rules (TOML, docs/transit.md); default: the demo metro.")
@_journal
@_json
@issuer_option
def tap_cmd(reader_name: str, station: str, line: int | None, rules_path: Path | None, journal_path: Path | None,
            as_json: bool, issuer_dir: Path | None) -> None:
    """One tap at a gate: in, out (the fare from the entry), or the flat fare."""
    from cardkit.readers import CardChannel, open_reader
    from pos_sim.journal import Journal
    from pos_sim.transit import FareRules, Validator, demo_gate_psam, demo_rules

    rules = FareRules.load(rules_path) if rules_path else demo_rules()
    candidates = [s for s in rules.stations if s.name.lower() == station.lower() and line in (None, s.line)]
    here = candidates[0] if candidates else rules.station(station)
    with Journal(journal_path or Path("gate-journal.sqlite")) as journal, purse_keys(issuer_dir) as keys:
        psam = demo_gate_psam(here, journal, keys=keys)
        with open_reader(reader_name).connect() as conn:
            tap = Validator(rules, psam, here, journal=journal).tap(CardChannel(conn))
    if as_json:
        click.echo(json.dumps({"action": tap.action.value, "gate_open": tap.gate_open, "fare": _money(tap.fare),
                               "discount": _money(tap.discount), "balance": _money(tap.balance),
                               "station": here.name, "line": here.line, "display": tap.display,
                               "reason": tap.reason, "tac": tap.purse.tac.hex().upper() if tap.purse else None},
                              indent=2, ensure_ascii=False))
    else:
        console.print(f"[{'green' if tap.gate_open else 'red'}]{'▶ GATE OPEN' if tap.gate_open else '■ GATE SHUT'}[/]"
                      f"  {tap.display}", markup=True, highlight=False)
    if not tap.gate_open:
        raise click.exceptions.Exit(EXIT_NOT_APPROVED)


@transit_group.command("log")
@_reader
@_json
def log_cmd(reader_name: str, as_json: bool) -> None:
    """The card's own transaction log (newest first)."""
    from cardkit.readers import open_reader

    with open_reader(reader_name).connect() as conn:
        client = _client(conn)
        client.select()
        entries = client.log()
    rows = [{"counter": e.counter, "type": f"{int(e.type):02X}", "amount": _money(e.amount),
             "terminal": e.terminal_id.hex().upper(), "time": e.when.isoformat() if e.when else None}
            for e in entries]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table(title="transit log (newest first)")
    for col in ("No.", "type", "amount", "terminal", "time"):
        table.add_column(col, justify="right" if col == "amount" else "left")
    names = {"02": "load", "06": "purchase", "09": "ride (CAPP)"}
    for r in rows:
        table.add_row(str(r["counter"]), names.get(r["type"], r["type"]), r["amount"], r["terminal"], r["time"] or "")
    console.print(table)
