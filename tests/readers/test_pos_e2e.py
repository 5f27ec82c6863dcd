"""The POS end to end: the demo card served by `cardkit emulate` to pcscd through vpcd, the terminal
on pyscard, and the acquirer/issuer host on a real TCP socket (ISO 8583, 2-byte length header)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from applets.runtime import save_card
from cardkit.issuer.demo_keys import DEMO_PAN
from cardkit.readers import CardChannel
from cardkit.readers.pcsc import PcscReader
from pos_sim.config import PosConfig
from pos_sim.demo_card import DEMO_PIN, make_demo_card
from pos_sim.host import Host, TcpHostLink
from pos_sim.host._server import ServerThread
from pos_sim.host.iso8583 import decode_message, encode_message
from pos_sim.journal import EntryStatus, Journal
from pos_sim.terminal import Terminal

from .conftest import CARDKIT, REPO, VPCD_READER

pytestmark = pytest.mark.pcsc


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    with Host(tmp_path / "host.sqlite") as h:
        h.seed_demo_accounts()
        yield h


@pytest.fixture
def server(host: Host) -> Iterator[ServerThread]:
    with ServerThread(host) as running:
        yield running


@pytest.fixture
def card_in_reader(serve_card, tmp_path: Path, vpcd_reader: PcscReader) -> PcscReader:  # type: ignore[no-untyped-def]
    image = tmp_path / "demo.card"
    save_card(make_demo_card(), image)
    serve_card(image)
    return vpcd_reader


def _terminal(tmp_path: Path, url: str, *pins: str | None, timeout: float = 5.0) -> tuple[Terminal, Journal]:
    journal = Journal(tmp_path / "journal.sqlite")
    typed = list(pins)
    config = PosConfig.demo(journal=tmp_path / "journal.sqlite", host=url)
    return Terminal(config, journal, TcpHostLink(url, timeout=timeout),
                    pin_entry=lambda _r: typed.pop(0) if typed else None), journal


def test_sale_approved_and_settled_over_tcp(tmp_path: Path, host: Host, server: ServerThread,
                                            card_in_reader: PcscReader) -> None:
    before = host.account(DEMO_PAN).balance
    terminal, journal = _terminal(tmp_path, server.url, DEMO_PIN)
    with card_in_reader.connect() as conn:
        result = terminal.sale(CardChannel(conn), 1250)
    assert result.approved and result.entry.response_code == "00" and result.entry.rrn
    assert host.account(DEMO_PAN).balance == before - 1250
    balanced, totals, code = terminal.settle()
    assert balanced and code == "00" and totals.debits_amount == 1250
    journal.close()


def test_declined_51_and_wrong_online_pin_55(tmp_path: Path, host: Host, server: ServerThread,
                                            card_in_reader: PcscReader) -> None:
    host.add_account(DEMO_PAN, balance=500, expiry="4912", pin=DEMO_PIN)
    terminal, journal = _terminal(tmp_path, server.url, DEMO_PIN, None, "999999")
    with card_in_reader.connect() as conn:
        poor = terminal.sale(CardChannel(conn), 1250)
        wrong_pin = terminal.sale(CardChannel(conn), 100)  # offline PIN bypassed, then a wrong online PIN
    assert not poor.approved and poor.entry.response_code == "51"
    assert not wrong_pin.approved and wrong_pin.entry.response_code == "55"
    assert host.account(DEMO_PAN).balance == 500
    journal.close()


def test_host_timeout_is_reversed(tmp_path: Path, host: Host, server: ServerThread,
                                  card_in_reader: PcscReader) -> None:
    before = host.account(DEMO_PAN).balance
    host.faults.lose_replies = 1  # the host posts the sale and never answers it
    terminal, journal = _terminal(tmp_path, server.url, DEMO_PIN, timeout=1.0)
    with card_in_reader.connect() as conn:
        result = terminal.sale(CardChannel(conn), 1250)
    assert not result.approved and result.reversed
    assert journal.get(result.entry.id).status is EntryStatus.REVERSED
    assert host.account(DEMO_PAN).balance == before
    journal.close()


def test_a_replayed_stan_is_a_duplicate_94(tmp_path: Path, host: Host, server: ServerThread,
                                           card_in_reader: PcscReader) -> None:
    sent: list[dict[str, str | bytes]] = []

    class Recording(TcpHostLink):
        def exchange(self, fields: dict[str, str | bytes]) -> dict[str, str | bytes]:
            sent.append(dict(fields))
            return super().exchange(fields)

    terminal, journal = _terminal(tmp_path, server.url, DEMO_PIN)
    terminal.host = Recording(server.url)
    with card_in_reader.connect() as conn:
        assert terminal.sale(CardChannel(conn), 1250).approved
    request = sent[0]
    assert decode_message(encode_message(request)) == request  # what went over the wire
    replay = TcpHostLink(server.url).exchange(request)
    assert replay["39"] == "94" and host.account(DEMO_PAN).balance == 1_000_000 - 1250
    journal.close()


def test_kill_9_mid_transaction_is_reversed_at_the_next_start(tmp_path: Path, host: Host, server: ServerThread,
                                                              card_in_reader: PcscReader) -> None:
    """`cardkit pos sale` killed while the host holds its reply; the next `cardkit pos` reverses it."""
    before = host.account(DEMO_PAN).balance
    host.faults.delay = 3.0  # the host posts at once and answers after 3 s: the kill lands in between
    journal_path = tmp_path / "journal.sqlite"
    common = [*CARDKIT, "pos", "--journal", str(journal_path), "--host", server.url]
    sale = subprocess.Popen([*common, "sale", "12.50", "--reader", f"pcsc:{VPCD_READER}", "--pin", DEMO_PIN],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 30
    while host.account(DEMO_PAN).balance == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert host.account(DEMO_PAN).balance == before - 1250  # the host took it
    os.killpg(sale.pid, signal.SIGKILL)
    sale.wait(timeout=10)
    host.faults.delay = 0.0
    with Journal(journal_path) as journal:
        [pending] = journal.incomplete()  # the journal knew before the request left
    listing = subprocess.run([*common, "journal", "--json"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0, listing.stderr
    [entry] = json.loads(listing.stdout)["entries"]
    assert entry["trace"] == pending.stan and entry["status"] == "reversed"
    assert host.account(DEMO_PAN).balance == before  # undone exactly once, not charged
