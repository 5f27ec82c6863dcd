"""``cardkit social``: the social insurance application — what the card says, and a clinic's payment."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli._app import cli, console
from cli._keys import issuer_option, social_sam
from cli.emv import EXIT_NOT_APPROVED, parse_amount

if TYPE_CHECKING:
    from cardkit.social import SocialClient, SocialRecord

DEMO_CLINIC_TERMINAL = bytes.fromhex("110105000001")  # the demo clinic's terminal id


@cli.group("social")
def social_group() -> None:
    """The social insurance application: card, holder, insurance, medical account, payments."""


_reader = click.option("--reader", "-r", "reader_name", required=True, help="pcsc:<index|name> or virtual:<image>.")
_json = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
_pin = click.option("--pin", help="The holder's 6-digit PIN (asked for when needed and not given).")


def _money(fen: int) -> str:
    return f"{Decimal(fen).scaleb(-2):.2f}"


def _client(conn: Any) -> SocialClient:
    from cardkit.readers import CardChannel
    from cardkit.social import SocialClient

    return SocialClient(CardChannel(conn))


def _verify(client: SocialClient, pin: str) -> None:
    """VERIFY, with the one-line messages the issue asks for (the PIN is never echoed)."""
    from pos_sim.clinic import pin_refusal

    refused = pin_refusal(client, pin)
    if refused is not None:
        raise click.ClickException(refused)


def _record_json(record: SocialRecord) -> dict[str, Any]:
    from cardkit.purse.records import mask_id_number

    c, h = record.card, record.holder
    return {
        "card": {"number": c.card_number, "region": c.region, "version": c.version, "issued": c.issued.isoformat(),
                 "expiry": c.expiry.isoformat()},
        "holder": {"name": h.name, "latin_name": h.latin_name, "sex": h.sex, "ethnicity": h.ethnicity,
                   "birth_date": h.birth_date.isoformat(), "id_number": mask_id_number(h.id_number)},
        "insurance": {s.scheme.name.lower(): {"state": s.state.name.lower(),
                                              "since": s.since.isoformat() if s.since else None}
                      for s in record.insurance},
        "medical_balance": _money(record.balance),
    }


@social_group.command("info")
@_reader
@_pin
@_json
@issuer_option
def info_cmd(reader_name: str, pin: str | None, as_json: bool, issuer_dir: Path | None) -> None:
    """Card information, holder, insurance statuses and the medical balance (the SAM authenticates)."""
    from cardkit.readers import open_reader

    with social_sam(issuer_dir, DEMO_CLINIC_TERMINAL) as sam, open_reader(reader_name).connect() as conn:
        client = _client(conn)
        client.select()
        client.authenticate_terminal(sam)
        record = client.read()
        if pin is not None:
            _verify(client, pin)
    data = _record_json(record)
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    c, h = data["card"], data["holder"]
    console.print(f"social insurance card {c['number']} (region {c['region']}, version {c['version']}), "
                  f"valid {c['issued']} to {c['expiry']}")
    console.print(f"holder {h['name']} ({h['latin_name']}), born {h['birth_date']}, ID {h['id_number']}")
    for scheme, status in data["insurance"].items():
        since = f" since {status['since']}" if status["since"] else ""
        console.print(f"  {scheme.replace('_', ' '):<13} {status['state'].replace('_', ' ')}{since}")
    console.print(f"medical account: [bold]{data['medical_balance']} CNY[/]")


@social_group.command("pay")
@click.argument("amount", callback=lambda _c, _p, v: parse_amount(v))
@_reader
@_pin
@click.option("--journal", "journal_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The journal file (default: pos-journal.sqlite).")
@_json
@issuer_option
def pay_cmd(amount: Decimal, reader_name: str, pin: str | None, journal_path: Path | None, as_json: bool,
            issuer_dir: Path | None) -> None:
    """A clinic's medical payment of AMOUNT from the medical account (PIN, then MAC1 / TAC with the SAM)."""
    from cardkit.readers import open_reader
    from pos_sim.clinic import pay_medical
    from pos_sim.journal import Journal

    fen = int(amount.scaleb(2))
    when = datetime.now().replace(microsecond=0)
    with Journal(journal_path or Path("pos-journal.sqlite")) as journal, \
            social_sam(issuer_dir, DEMO_CLINIC_TERMINAL) as sam, open_reader(reader_name).connect() as conn:
        entered = pin if pin is not None else click.prompt("PIN", hide_input=True)
        payment = pay_medical(_client(conn), fen, entered, sam, journal, when)
    if as_json:
        click.echo(json.dumps({"approved": payment.approved, "reason": payment.reason, "amount": _money(fen),
                               "balance": _money(payment.result.balance_after) if payment.result else None,
                               "trace": payment.entry.stan if payment.entry else None,
                               "tac": payment.result.tac.hex().upper() if payment.result else None,
                               "counter": payment.result.counter if payment.result else None}, indent=2))
    else:
        click.echo(payment.slip())
    if not payment.approved:
        click.echo(f"payment refused: {payment.reason}", err=True)
        raise click.exceptions.Exit(EXIT_NOT_APPROVED)
