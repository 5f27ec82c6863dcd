"""``cardkit host``: run the acquirer + issuer host over TCP, look at its accounts, ping it."""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli._app import cli, console

if TYPE_CHECKING:
    from pos_sim.host import HostServer


@cli.group("host")
def host_group() -> None:
    """The ISO 8583 acquirer + issuer host (docs/host.md)."""


@host_group.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8583, show_default=True,
              help="TCP port (0: any free port, printed on start).")
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=Path("host.sqlite"),
              show_default=True, help="SQLite ledger; a new one gets the demo accounts.")
def serve_cmd(port: int, bind: str, db_path: Path) -> None:
    """Serve until Ctrl-C or SIGTERM, then finish the requests in flight and close the ledger."""
    from pos_sim.host import Host, run_server

    fresh = not db_path.exists()
    with Host(db_path) as host:
        if fresh or not host.ledger.accounts():
            host.seed_demo_accounts()
            note = "new ledger with the demo accounts"
        else:
            note = f"{len(host.ledger.accounts())} account(s)"

        def ready(server: HostServer) -> None:
            click.echo(f"host listening on tcp://{server.bind}:{server.port} ({db_path}: {note}); "
                       "Ctrl-C or SIGTERM stops it")
            sys.stdout.flush()

        run_server(host, bind, port, on_ready=ready)
    click.echo("host stopped")


@host_group.command("accounts")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=Path("host.sqlite"), show_default=True)
def accounts_cmd(db_path: Path) -> None:
    """The ledger's accounts: balance, limits, PIN tries left (PANs masked)."""
    from rich.table import Table

    from cardkit.emv.outcome import mask_pan
    from pos_sim.host import Host

    with Host(db_path) as host:
        table = Table("PAN", "kind", "balance", "credit limit", "held", "available", "per txn", "expiry",
                      "PIN tries", "issuer")
        for a in host.ledger.accounts():
            table.add_row(mask_pan(a.pan), a.kind, _money(a.balance), _money(a.credit_limit), _money(a.held),
                          _money(a.available_funds), _money(a.txn_limit), a.expiry, str(a.pin_tries_left),
                          "up" if a.available else "unavailable")
    console.print(table)


@host_group.command("echo")
@click.option("--url", default="tcp://127.0.0.1:8583", show_default=True, help="The host, tcp://HOST:PORT.")
@click.option("--timeout", type=float, default=5.0, show_default=True)
def echo_cmd(url: str, timeout: float) -> None:
    """Send one 0800 echo test (70 = 301) and show the answer and round trip."""
    from pos_sim.host import TcpHostLink

    now = datetime.now()
    with TcpHostLink(url, timeout=timeout) as link:
        start = time.perf_counter()
        reply = link.exchange({"t": "0800", "7": now.strftime("%m%d%H%M%S"), "11": f"{now:%H%M%S}",
                               "41": "CARDKIT0", "70": "301"})
        elapsed = (time.perf_counter() - start) * 1e3
    click.echo(f"{reply['t']!s} response code {reply.get('39')!s} in {elapsed:.2f} ms")


def _money(minor: int) -> str:
    return f"{minor // 100:,}.{minor % 100:02d}" if minor >= 0 else f"-{_money(-minor)}"
