"""``cardkit demo``: the main job on a virtual card, with no hardware and no server to set up.

The walk: make the demo citizen card (published TEST keys), put it in a reader — pcscd's through
vsmartcard's vpcd when the PC/SC stack is installed, so real PC/SC programs (opensc-tool) see it
too; the in-process reader otherwise — tap it at the POS for a contactless sale paid from the
card's electronic cash, insert it for a contact sale with PIN that goes online to the embedded
acquirer/issuer host (ISO 8583, real ARQC check and ARPC), print the customer receipt, show the
journal, ride the metro with the card's transit purse (tap in, tap out: a compound purchase with
MAC1/MAC2/TAC), read and verify its ID application (BAC, secure messaging, passive and active
authentication), and pay a clinic from its social insurance medical account. The APDUs land in a
pcap trace Wireshark dissects.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from applets.runtime import save_card
from cardkit.errors import TransportError
from cardkit.readers import CardChannel, Reader
from cardkit.readers.pcscd import Pcscd, vpcd_is_installed
from cardkit.readers.trace import TSHARK_HINT, PcapTracer
from pos_sim.config import PosConfig
from pos_sim.demo_card import DEMO_HOLDER, DEMO_PIN, make_demo_card
from pos_sim.host import Host, InProcessHostLink
from pos_sim.journal import Journal
from pos_sim.receipt import Copy, ReceiptError, render_png, render_text
from pos_sim.terminal import PosResult, Terminal

__all__ = ["VPCD_READER", "run_demo"]

VPCD_READER = "Virtual PCD 00 00"
TAP_AMOUNT = Decimal("25.00")  # under the contactless floor limit: electronic cash, offline
SALE_AMOUNT = Decimal("128.50")  # contact, PIN, online to the host
MEDICAL_AMOUNT = 3_650  # fen: a clinic visit from the medical account


def run_demo(out: Path, console: Console) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for db in ("journal", "host", "gate-journal"):  # every run starts a fresh batch
        for suffix in ("", "-wal", "-shm"):
            (out / f"{db}.sqlite{suffix}").unlink(missing_ok=True)
    image, pcap = out / "demo.card", out / "demo.pcap"
    card = make_demo_card()
    save_card(card, image, force=True)
    console.print(Panel.fit(
        f"card image [bold]{image}[/] (mode 0600), holder {DEMO_HOLDER}, PIN {DEMO_PIN}\n"
        f"ATR {card.atr.hex(' ').upper()}\n"
        "bank debit + credit applications, electronic cash 500.00 CNY — made from the published TEST keys",
        title="1. a new demo citizen card"))
    with _reader(card, image, console) as reader:
        _pos_walk(reader, out, pcap, console)
    console.print(Panel.fit(f"pcap trace: [bold]{pcap}[/]\nopen it: {TSHARK_HINT.format(pcap=pcap)}\n"
                            f"the journal: cardkit pos --journal {out / 'journal.sqlite'} journal\n"
                            f"serve the card yourself: cardkit emulate {image}", title="done"))


@contextmanager
def _reader(card: object, image: Path, console: Console) -> Iterator[Reader]:
    """pcscd + vpcd when installed (the card really is in a PC/SC reader), else in process."""
    if not vpcd_is_installed():
        console.print("[yellow]pcscd + vsmartcard-vpcd are not installed ('make test' installs them); "
                      "the card goes in the in-process reader instead[/]")
        from cardkit.readers import open_reader

        yield open_reader(f"virtual:{image}")
        return
    from cardkit.readers.pcsc import PcscReader
    from cardkit.readers.vpcd import VpcdServer

    with Pcscd() as daemon:
        origin = "started for this demo" if daemon.started_by_us else "already running"
        server = VpcdServer(card, port=35963, image_path=image)  # type: ignore[arg-type]
        thread = threading.Thread(target=server.serve_forever, name="vpcd-card", daemon=True)
        thread.start()
        try:
            reader = PcscReader(VPCD_READER)
            reader.wait_for_card(timeout=10)
            console.print(Panel.fit(f"pcscd {origin}; the card is in reader [bold]{VPCD_READER}[/]",
                                    title="2. in a PC/SC reader (pcscd + vpcd)"))
            _independent_look(console)
            yield reader
        finally:
            server.stop()
            thread.join(timeout=5)


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
                            title="an independent PC/SC program sees it"))


def _pos_walk(reader: Reader, out: Path, pcap: Path, console: Console) -> None:
    config = PosConfig.demo(journal=out / "journal.sqlite")
    capture = PcapTracer(pcap)
    with Host(out / "host.sqlite") as host, Journal(config.journal) as journal:
        host.seed_demo_accounts()
        terminal = Terminal(config, journal, InProcessHostLink(host), pin_entry=lambda _request: DEMO_PIN)
        try:
            with reader.connect("T1" if reader.name == VPCD_READER else None) as conn:
                channel = CardChannel(conn, trace=[capture])
                tap = _step(console, "3. tap: a contactless sale", lambda: terminal.sale(
                    channel, TAP_AMOUNT, contactless=True), f"{TAP_AMOUNT} CNY")
                sale = _step(console, "4. insert: a contact sale with PIN, online to the host", lambda: terminal.sale(
                    channel, SALE_AMOUNT), f"{SALE_AMOUNT} CNY, PIN {DEMO_PIN}")
                for result in (tap, sale):
                    journal.mark_printed(result.entry.id)
                _receipt(terminal, sale, out, console)
                _journal(journal, console)
                _ride(channel, out / "gate-journal.sqlite", console)
                _id_check(channel, console)
                _clinic(channel, journal, console)
        finally:
            capture.close()


def _step(console: Console, title: str, run: object, what: str) -> PosResult:
    started = time.perf_counter()
    result: PosResult = run()  # type: ignore[operator]
    ms = (time.perf_counter() - started) * 1000
    outcome = result.outcome
    lines = [f"{what}: [{'green' if result.approved else 'red'}]"
             f"{'APPROVED' if result.approved else 'DECLINED'}[/] — {result.reason}"]
    if outcome is not None:
        lines.append(f"{outcome.label} {outcome.aid.hex().upper()}  {outcome.masked_pan()}  "
                     f"ODA {outcome.oda_method.name if outcome.oda_method else '-'}  "
                     f"TVR {outcome.tvr.to_bytes().hex().upper()}")
    entry = result.entry
    lines.append(f"trace {entry.stan}  journal: {entry.status.value}  response {entry.response_code or '-'}  "
                 f"auth {entry.auth_code or '-'}  card to journal in {ms:.0f} ms")
    console.print(Panel.fit("\n".join(lines), title=title))
    return result


def _receipt(terminal: Terminal, sale: PosResult, out: Path, console: Console) -> None:
    receipt = terminal.receipt(sale.entry, Copy.CUSTOMER)
    console.rule("5. the customer receipt")
    console.print(render_text(receipt, width=32), markup=False, highlight=False)
    try:
        (out / "receipt.png").write_bytes(render_png(receipt, width=32))
        console.print(f"as a picture: {out / 'receipt.png'}")
    except ReceiptError as exc:  # no Pillow or no CJK font: the text receipt is the receipt
        console.print(f"[yellow]no PNG receipt: {exc}[/]")


def _ride(channel: CardChannel, journal_path: Path, console: Console) -> None:
    """The same card at the metro gates: in at one station, out at another, from its purse."""
    from pos_sim.transit import Validator, demo_gate_psam, demo_rules

    rules = demo_rules()
    clock = [datetime.now().replace(microsecond=0)]
    lines = []
    with Journal(journal_path) as journal:
        for name, minutes in (("Xizhimen", 0), ("Dongzhimen", 18)):
            clock[0] += timedelta(minutes=minutes)
            here = rules.station(name)
            gate = Validator(rules, demo_gate_psam(here, journal), here, journal=journal, clock=lambda: clock[0])
            tap = gate.tap(channel)
            lines.append(f"{'▶' if tap.gate_open else '■'} {tap.display}")
            if tap.purse is not None:
                lines.append(f"  TAC {tap.purse.tac.hex().upper()} (MAC2 checked by the gate's PSAM)")
    console.print(Panel.fit("\n".join(lines), title="7. the metro: the same card's transit purse at the gates"))


def _id_check(channel: CardChannel, console: Console) -> None:
    """The same card at a border desk: BAC with the MRZ data, the identity, passive + active checks."""
    from cardkit.eid import mask_citizen_id, read_id
    from cardkit.issuer.demo_keys import demo_csca
    from pos_sim.demo_card import DEMO_BIRTH, DEMO_DOCUMENT_NUMBER, DEMO_EXPIRY

    identity, verdict = read_id(channel, DEMO_DOCUMENT_NUMBER, DEMO_BIRTH, DEMO_EXPIRY, trust=(demo_csca()[1],),
                                photo=True)
    mrz = identity.mrz
    verdicts = " · ".join((
        "chip genuine" if verdict.genuine else "chip NOT genuine",
        "data unaltered" if verdict.unaltered else "data ALTERED",
        "issuer trusted" if verdict.trusted else "issuer NOT trusted"))
    console.print(Panel.fit(
        f"BAC with document {DEMO_DOCUMENT_NUMBER}, born {DEMO_BIRTH}, expires {DEMO_EXPIRY}; 3DES secure messaging\n"
        f"{identity.full_name} ({mrz.surname} {mrz.given_names}), {mrz.nationality}, born {mrz.birth_date:%Y-%m-%d}, "
        f"ID {mask_citizen_id(identity.citizen_id)}, photo {len(identity.photo or b'')} bytes JPEG\n"
        f"[{'green' if verdict.genuine and verdict.unaltered and verdict.trusted else 'red'}]{verdicts}[/]",
        title="8. the ID application (ICAO 9303): read and verified"))


def _clinic(channel: CardChannel, journal: Journal, console: Console) -> None:
    """The same card at a clinic: terminal authentication, PIN, a payment from the medical account."""
    from cardkit.issuer.demo_keys import DEMO_SOCIAL_MAK, DEMO_SOCIAL_MPK, DEMO_SOCIAL_MTK
    from cardkit.social import SocialClient, SocialSam
    from pos_sim.clinic import pay_medical

    sam = SocialSam(DEMO_SOCIAL_MAK, DEMO_SOCIAL_MPK, DEMO_SOCIAL_MTK, bytes.fromhex("110105000001"))
    client = SocialClient(channel)
    client.select()
    client.authenticate_terminal(sam)
    record = client.read()
    enrolled = ", ".join(s.scheme.name.lower().replace("_", " ") for s in record.insurance if s.state.value == 1)
    payment = pay_medical(client, MEDICAL_AMOUNT, DEMO_PIN, sam, journal, datetime.now().replace(microsecond=0))
    console.print(Panel.fit(
        f"{record.holder.name}: enrolled in {enrolled}\n"
        f"{_fen(MEDICAL_AMOUNT)} CNY with PIN {DEMO_PIN}: "
        f"[{'green' if payment.approved else 'red'}]{'APPROVED' if payment.approved else 'DECLINED'}[/] — "
        f"medical account {_fen(payment.result.balance_after) if payment.result else '?'} CNY, "
        f"TAC {payment.result.tac.hex().upper() if payment.result else '-'}",
        title="9. the social insurance application: a clinic's payment"))


def _fen(amount: int) -> str:
    return f"{Decimal(amount).scaleb(-2):.2f}"


def _journal(journal: Journal, console: Console) -> None:
    table = Table(title="6. the journal (SQLite, WAL: committed before each receipt)")
    for col in ("trace", "kind", "amount", "card", "status", "code", "auth"):
        table.add_column(col, justify="right" if col == "amount" else "left")
    for e in journal.entries():
        table.add_row(e.stan, e.kind, f"{Decimal(e.amount).scaleb(-2):.2f}", e.pan_masked, e.status.value,
                      e.response_code or "", e.auth_code or "")
    console.print(table)
    totals = journal.totals()
    console.print(f"batch {journal.current_batch()}: {totals.debit.count} debits, "
                  f"{totals.debit.decimal():.2f} CNY")
