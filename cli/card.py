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
@click.option("--blank", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Write a blank card image (the runtime and the applications that exist) here.")
@click.option("--force", is_flag=True, help="Overwrite an existing image.")
def card_new(out: Path, force: bool) -> None:
    """Make a new card image."""
    from applets.runtime import new_blank_card, save_card

    if out.exists() and not force:
        raise CardkitError(f"{out} already exists: choose another path or pass --force")
    card = new_blank_card()
    save_card(card, out, force=force)
    console.print(f"blank card written to {out} (ATR {card.atr.hex(' ').upper()})")
