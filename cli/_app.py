"""The click group every command module registers on, the consoles, and argument helpers."""

from __future__ import annotations

import logging
import sys

import click
from rich.console import Console

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


def parse_hex(value: str, what: str) -> bytes:
    cleaned = value.replace(" ", "").replace(":", "")
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        raise click.BadParameter(f"{what} {value!r} is not hexadecimal") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@click.version_option(package_name="cardkit")
@click.pass_context
def cli(ctx: click.Context, debug: bool, verbose: bool) -> None:
    """cardkit: the unified citizen card toolkit (APDUs, simulated cards, PC/SC readers)."""
    ctx.obj = {"debug": debug}
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
