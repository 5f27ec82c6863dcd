"""``cardkit demo``: the main job on a virtual card, with no hardware and no server to set up.

Until the POS simulator lands this is the foundation walk: make a card image, serve it to pcscd
through vsmartcard's vpcd, talk to it through PC/SC exactly as to a card in a reader, let an
independent PC/SC program (opensc-tool) see it too, and show the APDU trace (text and pcap).
When the PC/SC stack is missing it says so and runs the same APDUs on the in-process reader.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

from rich.console import Console
from rich.panel import Panel

from applets.runtime import new_blank_card, save_card
from cardkit.apdu import CommandAPDU
from cardkit.errors import TransportError
from cardkit.readers import CardChannel, Reader
from cardkit.readers.pcscd import Pcscd, vpcd_is_installed
from cardkit.readers.trace import TSHARK_HINT, PcapTracer, TextTracer

__all__ = ["DEMO_APDUS", "run_foundation_demo"]

VPCD_READER = "Virtual PCD 00 00"

# (what it shows, the command). EF.DIR is FID 2F00 / SFI 30 (ISO 7816-4 §8.2.1.1).
DEMO_APDUS: list[tuple[str, CommandAPDU]] = [
    ("select the master file", CommandAPDU(0x00, 0xA4, 0x00, 0x00, bytes.fromhex("3F00"), le=256)),
    ("EF.DIR by SFI 30: the applications the card lists (none yet on a blank card)",
     CommandAPDU(0x00, 0xB2, 0x01, (30 << 3) | 4, le=256)),
    ("select EF 2FE2 (card serial)", CommandAPDU(0x00, 0xA4, 0x02, 0x0C, bytes.fromhex("2FE2"))),
    ("read it", CommandAPDU(0x00, 0xB0, 0x00, 0x00, le=256)),
    ("an application the card does not carry",
     CommandAPDU(0x00, 0xA4, 0x04, 0x00, bytes.fromhex("A000000333010101"), le=256)),
    ("an instruction the card does not know", CommandAPDU(0x00, 0x7E, 0x00, 0x00)),
]


def run_foundation_demo(out: Path, console: Console) -> None:
    out.mkdir(parents=True, exist_ok=True)
    image, pcap = out / "demo.card", out / "demo.pcap"
    card = new_blank_card()
    save_card(card, image)
    console.print(Panel.fit(f"card image [bold]{image}[/] (mode 0600)\nATR {card.atr.hex(' ').upper()}",
                            title="1. a new blank citizen card"))
    if not vpcd_is_installed():
        console.print("[yellow]pcscd + vsmartcard-vpcd are not installed ('make test' installs them); "
                      "running the same APDUs on the in-process reader instead[/]")
        from cardkit.readers import open_reader

        _talk(open_reader(f"virtual:{image}"), pcap, console, protocol=None)
        return
    from cardkit.readers.pcsc import PcscReader
    from cardkit.readers.vpcd import VpcdServer

    with Pcscd() as daemon:
        origin = "started for this demo" if daemon.started_by_us else "already running"
        server = VpcdServer(card, port=35963, image_path=image)
        thread = threading.Thread(target=server.serve_forever, name="vpcd-card", daemon=True)
        thread.start()
        try:
            reader = PcscReader(VPCD_READER)
            reader.wait_for_card(timeout=10)
            console.print(Panel.fit(f"pcscd {origin}; the card is in reader [bold]{VPCD_READER}[/]",
                                    title="2. served through pcscd + vpcd"))
            _independent_look(console)
            _talk(reader, pcap, console, protocol="T1")
        finally:
            server.stop()
            thread.join(timeout=5)
    console.print(Panel.fit(f"pcap trace: [bold]{pcap}[/]\nopen it: {TSHARK_HINT.format(pcap=pcap)}\n"
                            f"serve the card yourself: cardkit emulate {image}", title="done"))


def _independent_look(console: Console) -> None:
    """Show that a PC/SC program that is not ours sees the same card."""
    tool = shutil.which("opensc-tool")
    if tool is None:
        return
    try:
        run = subprocess.run([tool, "--reader", "0", "--atr"], check=False, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TransportError(f"opensc-tool failed: {exc}") from exc
    console.print(Panel.fit(f"$ opensc-tool --reader 0 --atr\n{run.stdout.strip() or run.stderr.strip()}",
                            title="3. an independent PC/SC program sees it"))


def _talk(reader: Reader, pcap: Path, console: Console, protocol: str | None) -> None:
    console.rule("4. APDU trace through the reader")
    text = TextTracer(console.print)
    capture = PcapTracer(pcap)
    try:
        with reader.connect(protocol) as conn:
            channel = CardChannel(conn, trace=[text, capture])
            for title, cmd in DEMO_APDUS:
                console.print(f"[bold cyan]# {title}[/]")
                channel.transmit(cmd)
    finally:
        capture.close()
        text.close()
