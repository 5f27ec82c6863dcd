"""Commands that move bytes: readers, apdu, emulate, demo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from cli._app import cli, console, errors, parse_hex


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

    commands = [CommandAPDU.parse(parse_hex(a, "APDU")) for a in apdus]
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


# ---------------------------------------------------------------------------------------- emulate
@cli.command("emulate")
@click.argument("image", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--port", default=35963, show_default=True, help="vpcd port (35963 = 'Virtual PCD 00 00').")
@click.option("--host", default="127.0.0.1", show_default=True, help="Where pcscd's vpcd listens.")
@click.option("--t0", is_flag=True, help="Behave as a T=0-only card (61xx + GET RESPONSE, 6Cxx), as many EMV cards do.")
@click.option("--nfc", "nfc_path", metavar="udp:HOST:PORT",
              help="Serve as an ISO 14443-4 type A card through nfcpy instead (reader: nfc:udp:HOST:PORT).")
def emulate_cmd(image: Path, port: int, host: str, t0: bool, nfc_path: str | None) -> None:
    """Serve a card image to pcscd through vsmartcard's vpcd (or over NFC) until Ctrl-C; state persists to the image."""
    from applets.runtime import load_card
    from cardkit.readers import T0Card
    from cardkit.readers.vpcd import serve

    card = load_card(image)
    if nfc_path is not None:
        from cardkit.readers.nfc_card import serve as serve_nfc

        errors.print(f"serving {image} as a contactless card on {nfc_path}; Ctrl-C to stop")
        serve_nfc(card, nfc_path, image_path=image)
        errors.print("card removed; state saved")
        return
    errors.print(f"serving {image} on vpcd {host}:{port}{' as a T=0 card' if t0 else ''}; Ctrl-C to stop")
    serve(T0Card(card) if t0 else card, host=host, port=port, image_path=image)
    errors.print("card removed; state saved")


# ------------------------------------------------------------------------------------------- demo
@cli.command("demo")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-out"), show_default=True,
              help="Folder for the demo card image, its journal, receipt and pcap trace.")
def demo_cmd(out: Path) -> None:
    """Make the demo card, pay with it at the POS (tap, then PIN), print the receipt, show the journal."""
    from pos_sim.demo import run_demo

    run_demo(out, console)
