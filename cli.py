"""The ``cardkit`` command: parses arguments, calls the packages, renders output with rich.

No protocol logic lives here. Every user error raised by the library is a ``CardkitError``; ``main``
turns it into one line on stderr and a non-zero exit (the traceback only with ``--debug``).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from cardkit.errors import CardkitError

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

EXIT_USER_ERROR = 1
EXIT_INTERRUPTED = 130


def _parse_hex(value: str, what: str) -> bytes:
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


# ---------------------------------------------------------------------------------------- readers
@cli.command("readers")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def readers_cmd(as_json: bool) -> None:
    """List PC/SC readers and the cards in them."""
    from rich.table import Table

    from cardkit.readers import list_readers

    found = list_readers()
    if as_json:
        click.echo(json.dumps([_reader_json(r) for r in found], indent=2))
        return
    if not found:
        console.print("no readers (is pcscd running with a reader or vsmartcard's vpcd?)")
        return
    table = Table("#", "reader", "backend", "card", "ATR")
    for i, r in enumerate(found):
        table.add_row(str(i), r.name, r.backend, "yes" if r.has_card else "-", r.atr.hex(" ").upper() if r.atr else "")
    console.print(table)


def _reader_json(r: Any) -> dict[str, Any]:
    return {"name": r.name, "backend": r.backend, "has_card": r.has_card, "atr": r.atr.hex().upper() if r.atr else None}


# ------------------------------------------------------------------------------------------- apdu
@cli.command("apdu")
@click.option("--reader", "-r", "reader_name", required=True, help="pcsc:<index|name part> or virtual:<image>.")
@click.option("--trace", "pcap", type=click.Path(dir_okay=False, path_type=Path), help="Also write a pcap trace.")
@click.option("--protocol", type=click.Choice(["T0", "T1", "any"]), default="any", show_default=True)
@click.argument("apdus", nargs=-1, required=True)
def apdu_cmd(reader_name: str, pcap: Path | None, protocol: str, apdus: tuple[str, ...]) -> None:
    """Send APDUs (hex) and show each response with its decoded TLV and status word meaning."""
    from cardkit.apdu import CommandAPDU
    from cardkit.readers import CardChannel, open_reader
    from cardkit.readers.trace import TSHARK_HINT, PcapTracer, TextTracer

    commands = [CommandAPDU.parse(_parse_hex(a, "APDU")) for a in apdus]
    reader = open_reader(reader_name)
    tracers: list[Any] = [TextTracer(console.print)]
    if pcap is not None:
        tracers.append(PcapTracer(pcap))
    try:
        with reader.connect(None if protocol == "any" else protocol) as conn:
            channel = CardChannel(conn, trace=tracers)
            for cmd in commands:
                channel.transmit(cmd)
    finally:
        for t in tracers:
            t.close()
    if pcap is not None:
        console.print(f"[dim]trace written to {pcap}: {TSHARK_HINT.format(pcap=pcap)}[/]", soft_wrap=True)


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


# ---------------------------------------------------------------------------------------- emulate
@cli.command("emulate")
@click.argument("image", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--port", default=35963, show_default=True, help="vpcd port (35963 = 'Virtual PCD 00 00').")
@click.option("--host", default="127.0.0.1", show_default=True, help="Where pcscd's vpcd listens.")
@click.option("--t0", is_flag=True, help="Behave as a T=0-only card (61xx + GET RESPONSE, 6Cxx), as many EMV cards do.")
def emulate_cmd(image: Path, port: int, host: str, t0: bool) -> None:
    """Serve a card image to pcscd through vsmartcard's vpcd until Ctrl-C; state persists to the image."""
    from applets.runtime import load_card
    from cardkit.readers import T0Card
    from cardkit.readers.vpcd import serve

    card = load_card(image)
    errors.print(f"serving {image} on vpcd {host}:{port}{' as a T=0 card' if t0 else ''}; Ctrl-C to stop")
    serve(T0Card(card) if t0 else card, host=host, port=port, image_path=image)
    errors.print("card removed; state saved")


# ------------------------------------------------------------------------------------------- demo
@cli.command("demo")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-out"), show_default=True,
              help="Folder for the demo card image and its pcap trace.")
def demo_cmd(out: Path) -> None:
    """Make a card image, serve it to pcscd, talk to it through PC/SC and show the trace."""
    from pos_sim.demo import run_foundation_demo

    run_foundation_demo(out, console)


# ------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    """Entry point: one clear line per user error, traceback only with --debug."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        cli.main(args=args, prog_name="cardkit", standalone_mode=False)
    except click.exceptions.Abort:
        errors.print("aborted")
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except CardkitError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)  # click, not rich: one line, never wrapped
        return EXIT_USER_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
