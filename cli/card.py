"""``cardkit card``: create and inspect card images."""

from __future__ import annotations

from pathlib import Path

import click

from cardkit.errors import CardkitError
from cli._app import cli, console
from cli._keys import issuer_option, social_sam

CARD_INFO_TERMINAL = bytes.fromhex("000000000001")  # the terminal id card info's SAM reads with


# ------------------------------------------------------------------------------------------- card
@cli.group("card")
def card_group() -> None:
    """Create and inspect card images."""


@card_group.command("new")
@click.option("--blank", "blank_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a blank card image (the runtime, MF, EF.DIR and EF.ICCID) here.")
@click.option("--demo", "demo_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a personalized demo card (published TEST keys, PIN 123456) here.")
@click.option("--force", is_flag=True, help="Overwrite an existing image.")
def card_new(blank_out: Path | None, demo_out: Path | None, force: bool) -> None:
    """Make a new card image: --blank OUT or --demo OUT."""
    from applets.runtime import new_blank_card, save_card

    if (blank_out is None) == (demo_out is None):
        raise click.UsageError("give exactly one of --blank OUT and --demo OUT")
    out = blank_out or demo_out
    assert out is not None
    if out.exists() and not force:
        raise CardkitError(f"{out} already exists: choose another path or pass --force")
    if blank_out is not None:
        card = new_blank_card()
        save_card(card, out, force=force)
        console.print(f"blank card written to {out} (ATR {card.atr.hex(' ').upper()})")
        return
    from pos_sim.demo_card import (
        DEMO_BIRTH,
        DEMO_DOCUMENT_NUMBER,
        DEMO_EXPIRY,
        DEMO_HOLDER,
        DEMO_PIN,
        DEMO_SOCIAL_CARD_NUMBER,
        DEMO_TRANSIT_SERIAL,
        demo_accounts,
        make_demo_card,
    )

    card = make_demo_card()
    save_card(card, out, force=force)
    debit, credit = demo_accounts()
    console.print(f"demo card written to {out} (ATR {card.atr.hex(' ').upper()})")
    console.print(f"  holder {DEMO_HOLDER}, expiry {debit.expiry:%m/%y}, PIN {DEMO_PIN}")
    console.print("  made from the published demo keys: never for real use")
    console.print(f"  PBOC DEBIT  A000000333010101  {debit.pan[:6]}…{debit.pan[-4:]}, electronic cash 500.00 CNY")
    console.print(f"  PBOC CREDIT A000000333010102  {credit.pan[:6]}…{credit.pan[-4:]}")
    console.print(f"  TRANSIT     A000000632010105  purse {DEMO_TRANSIT_SERIAL[:6]}…{DEMO_TRANSIT_SERIAL[-4:]}, "
                  "50.00 CNY")
    console.print(f"  ID          A0000002471001    document {DEMO_DOCUMENT_NUMBER}, born {DEMO_BIRTH}, "
                  f"expires {DEMO_EXPIRY} (the MRZ data that opens it)")
    console.print(f"  SOCIAL      D156000005010100  card {DEMO_SOCIAL_CARD_NUMBER[:4]}…{DEMO_SOCIAL_CARD_NUMBER[-4:]}, "
                  "medical account 800.00 CNY")


@card_group.command("info")
@click.option("--reader", "-r", "reader_name", required=True, help="pcsc:<index|name part> or virtual:<image>.")
@click.option("--doc-number", help="Opens the ID application (with --birth and --expiry, YYMMDD).")
@click.option("--birth", help="Date of birth YYMMDD (ID application).")
@click.option("--expiry", help="Document expiry YYMMDD (ID application).")
@click.option("--trust", "trust_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSCA certificate (PEM) for the ID's passive authentication.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@issuer_option
def card_info(reader_name: str, doc_number: str | None, birth: str | None, expiry: str | None,
              trust_path: Path | None, as_json: bool, issuer_dir: Path | None) -> None:
    """Every application on the card, one panel each: absent, blocked or locked ones say so."""
    import json

    from cardkit.citizen import CitizenCard, Mrz
    from cardkit.readers import CardChannel, open_reader

    given = [v is not None for v in (doc_number, birth, expiry)]
    if any(given) and not all(given):
        raise click.UsageError("the ID application needs all of --doc-number, --birth and --expiry")
    mrz = Mrz(doc_number, birth, expiry) if doc_number and birth and expiry else None
    trust: tuple[object, ...] = ()
    if trust_path is not None:
        from cryptography import x509

        try:
            trust = tuple(x509.load_pem_x509_certificates(trust_path.read_bytes()))
        except ValueError:
            raise CardkitError(f"{trust_path}: not a PEM certificate") from None
    with social_sam(issuer_dir, CARD_INFO_TERMINAL) as sam, open_reader(reader_name).connect() as conn:
        report = CitizenCard(CardChannel(conn), mrz=mrz, social_sam=sam, trust=trust).read()
    if as_json:
        click.echo(json.dumps({
            "directory": [{"aid": aid.hex().upper(), "label": label} for aid, label in report.directory],
            "applications": [{"kind": a.kind, "name": a.name, "aid": a.aid.hex().upper(), "status": a.status.value,
                              "fields": dict(a.fields), "reason": a.reason} for a in report.applications],
        }, indent=2, ensure_ascii=False))
        return
    from rich.markup import escape
    from rich.panel import Panel

    colours = {"ok": "green", "absent": "dim", "blocked": "red", "locked": "yellow", "error": "red"}
    for app in report.applications:
        lines = [f"{escape(k)}: {escape(v)}" for k, v in app.fields.items()]
        if app.reason:
            lines.append(f"[italic]{escape(app.reason)}[/]")
        colour = colours[app.status.value]
        title = f"[bold]{escape(app.name)}[/] {app.aid.hex().upper()} [{colour}]{app.status.value}[/]"
        console.print(Panel("\n".join(lines) or "-", expand=False, title=title))
