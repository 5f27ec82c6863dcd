"""``cardkit card``: create and inspect card images."""

from __future__ import annotations

from pathlib import Path

import click

from cardkit.errors import CardkitError
from cli._app import cli, console


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
    from pos_sim.demo_card import DEMO_HOLDER, DEMO_PIN, DEMO_TRANSIT_SERIAL, demo_accounts, make_demo_card

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
