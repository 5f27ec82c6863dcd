"""``cardkit social``: the social insurance application — what the card says, and a clinic's payment."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli._app import cli, console
from cli.emv import EXIT_NOT_APPROVED, parse_amount

if TYPE_CHECKING:
    from cardkit.social import SocialClient, SocialRecord, SocialSam

DEMO_CLINIC_TERMINAL = bytes.fromhex("110105000001")  # the demo clinic's terminal id


@cli.group("social")
def social_group() -> None:
    """The social insurance application: card, holder, insurance, medical account, payments."""


_reader = click.option("--reader", "-r", "reader_name", required=True, help="pcsc:<index|name> or virtual:<image>.")
_json = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
_pin = click.option("--pin", help="The holder's 6-digit PIN (asked for when needed and not given).")


def _money(fen: int) -> str:
    return f"{Decimal(fen).scaleb(-2):.2f}"


def _sam() -> SocialSam:
    from cardkit.issuer.demo_keys import DEMO_SOCIAL_MAK, DEMO_SOCIAL_MPK, DEMO_SOCIAL_MTK
    from cardkit.social import SocialSam

    return SocialSam(DEMO_SOCIAL_MAK, DEMO_SOCIAL_MPK, DEMO_SOCIAL_MTK, DEMO_CLINIC_TERMINAL)


def _client(conn: Any) -> SocialClient:
    from cardkit.readers import CardChannel
    from cardkit.social import SocialClient

    return SocialClient(CardChannel(conn))


def _verify(client: SocialClient, pin: str) -> None:
    """VERIFY, with the one-line messages the issue asks for (the PIN is never echoed)."""
    from cardkit.social import PinBlocked, WrongPin

    try:
        client.verify_pin(pin)
    except WrongPin as exc:
        raise click.ClickException(f"wrong PIN: {exc.tries_left} {'try' if exc.tries_left == 1 else 'tries'} left"
                                   ) from None
    except PinBlocked:
        raise click.ClickException("the PIN is blocked: the issuer must unblock it") from None


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
def info_cmd(reader_name: str, pin: str | None, as_json: bool) -> None:
    """Card information, holder, insurance statuses and the medical balance (the demo SAM authenticates)."""
    from cardkit.readers import open_reader

    with open_reader(reader_name).connect() as conn:
        client = _client(conn)
        client.select()
        client.authenticate_terminal(_sam())
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


def _slip(card_number: str, amount: int, balance: int, stan: str, when: datetime, tac: bytes) -> str:
    from cardkit.emv.outcome import mask_pan
    from pos_sim.receipt.model import KIND_LABELS

    lines = ["DEMO CLINIC", KIND_LABELS["medical"], f"CARD   {mask_pan(card_number)}",
             f"AMOUNT CNY {_money(amount)}", f"BAL    CNY {_money(balance)}", f"TRACE  {stan}",
             f"TIME   {when:%Y-%m-%d %H:%M:%S}", f"TAC    {tac.hex().upper()}"]
    return "\n".join(lines)


@social_group.command("pay")
@click.argument("amount", callback=lambda _c, _p, v: parse_amount(v))
@_reader
@_pin
@click.option("--journal", "journal_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The journal file (default: pos-journal.sqlite).")
@_json
def pay_cmd(amount: Decimal, reader_name: str, pin: str | None, journal_path: Path | None, as_json: bool) -> None:
    """A clinic's medical payment of AMOUNT from the medical account (PIN, then MAC1 / TAC with the demo SAM)."""
    from cardkit.emv.outcome import mask_pan
    from cardkit.readers import open_reader
    from cardkit.social import SOCIAL_AID, InsufficientBalance, MacInvalid
    from pos_sim.journal import Journal

    fen = int(amount.scaleb(2))
    when = datetime.now().replace(microsecond=0)
    with Journal(journal_path or Path("pos-journal.sqlite")) as journal, open_reader(reader_name).connect() as conn:
        client = _client(conn)
        card = client.select()
        try:
            _verify(client, pin if pin is not None else click.prompt("PIN", hide_input=True))
        except click.ClickException as exc:  # a refused PIN refuses the payment: exit 3 like a decline
            click.echo(f"payment refused: {exc.message}", err=True)
            raise click.exceptions.Exit(EXIT_NOT_APPROVED) from None
        entry = journal.begin(kind="medical", amount=fen, stan=journal.next_stan(), request={},
                              pan_masked=mask_pan(card.card_number), scheme="Social", aid=SOCIAL_AID.hex().upper(),
                              label="SOCIAL")
        try:
            result = client.pay(fen, _sam(), when)
        except (InsufficientBalance, MacInvalid) as exc:
            reason = "insufficient medical balance" if isinstance(exc, InsufficientBalance) else "MAC refused"
            journal.decline(entry.id, response=None, response_code="51" if isinstance(exc, InsufficientBalance)
                            else "A0", outcome=None, reason=reason)
            click.echo(f"payment refused: {reason}", err=True)
            raise click.exceptions.Exit(EXIT_NOT_APPROVED) from None
        entry = journal.approve(entry.id, response={}, auth_code="", response_code="00", rrn=None, outcome={
            "balance": result.balance_after, "counter": result.counter, "terminal_txn_no": result.terminal_txn_no,
            "tac": result.tac.hex().upper(), "mac2": result.mac2.hex().upper()})
        slip = _slip(card.card_number, fen, result.balance_after, entry.stan, when, result.tac)
        journal.mark_printed(entry.id)
    if as_json:
        click.echo(json.dumps({"approved": True, "amount": _money(fen), "balance": _money(result.balance_after),
                               "trace": entry.stan, "tac": result.tac.hex().upper(), "counter": result.counter},
                              indent=2))
        return
    click.echo(slip)
