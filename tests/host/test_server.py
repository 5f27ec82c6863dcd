"""The host over TCP: concurrent terminals, graceful shutdown, lost replies, reconnects, and
``cardkit host serve`` as a real process stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pos_sim.host import Host, HostTimeout, HostUnavailable, ServerThread, TcpHostLink, frame

from .kit import DEMO_PAN, Card, Terminal

START = 1_000_000
CARDKIT = [sys.executable, "-c", "import sys, cli; sys.exit(cli.main())"]
REPO = Path(__file__).resolve().parents[2]


def echo(terminal: Terminal) -> dict[str, str | bytes]:
    return terminal.base("0800") | {"70": "301"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_concurrent_terminals_lose_and_duplicate_nothing(host: Host, debit_card: Card) -> None:
    n_terminals, per_terminal, amount = 8, 25, 100
    icc_request = debit_card.arqc(amount)  # one real ARQC; the key is TID + STAN, not the cryptogram

    def run(i: int) -> list[str]:
        terminal = Terminal(f"TERM{i:04d}")
        with TcpHostLink(server.url) as link:
            return [str(link.exchange(terminal.financial(icc_request))["39"]) for _ in range(per_terminal)]

    with ServerThread(host) as server, ThreadPoolExecutor(n_terminals) as pool:
        codes = [c for result in pool.map(run, range(n_terminals)) for c in result]
    total = n_terminals * per_terminal
    assert codes == ["00"] * total
    assert host.ledger.count("state = 'posted'") == total
    assert host.account(DEMO_PAN).balance == START - total * amount


def test_graceful_shutdown_finishes_the_request_in_flight(host: Host, debit_card: Card) -> None:
    msg = Terminal().financial(debit_card.arqc(300))
    server = ServerThread(host).start()
    idle = TcpHostLink(server.url)
    idle.exchange(echo(Terminal("IDLE0001")))  # a connection waiting for its next request
    answers: list[str] = []
    host.faults.delay = 0.5
    client = threading.Thread(target=lambda: answers.append(str(TcpHostLink(server.url).exchange(msg)["39"])))
    client.start()
    time.sleep(0.2)  # the request has been read and posted; its reply waits on the delay
    started = time.monotonic()
    server.stop()
    client.join(5)
    assert answers == ["00"]
    assert time.monotonic() - started >= 0.25
    assert host.account(DEMO_PAN).balance == START - 300
    with pytest.raises(HostUnavailable):  # no longer accepting
        TcpHostLink(server.url, timeout=1).exchange(echo(Terminal()))
    with pytest.raises((HostTimeout, HostUnavailable)):  # the idle connection was closed
        idle.exchange(echo(Terminal("IDLE0001")))


def test_lost_reply_over_tcp_times_out_after_posting(host: Host, debit_card: Card) -> None:
    terminal = Terminal()
    sale = terminal.financial(debit_card.arqc(700))
    with ServerThread(host) as server, TcpHostLink(server.url, timeout=0.3) as link:
        host.faults.lose_replies = 1
        with pytest.raises(HostTimeout):
            link.exchange(sale)
        assert host.account(DEMO_PAN).balance == START - 700
        assert link.exchange(terminal.reversal(sale))["39"] == "00"  # a new connection after the timeout
    assert host.account(DEMO_PAN).balance == START


def test_reconnects_once_after_the_server_closed_the_connection(host: Host) -> None:
    port = free_port()
    link = TcpHostLink(f"tcp://127.0.0.1:{port}")
    with ServerThread(host, port=port):
        assert link.exchange(echo(Terminal()))["39"] == "00"
    with ServerThread(host, port=port):  # a restarted host: the old socket is dead
        assert link.exchange(echo(Terminal()))["39"] == "00"
    link.close()


def test_nobody_listening_is_unavailable() -> None:
    with pytest.raises(HostUnavailable, match="cannot reach"):
        TcpHostLink(f"tcp://127.0.0.1:{free_port()}", timeout=1).exchange(echo(Terminal()))
    with pytest.raises(Exception, match="tcp://HOST:PORT"):
        TcpHostLink("udp://127.0.0.1:1")


def test_garbage_closes_that_connection_only(host: Host) -> None:
    with ServerThread(host) as server:
        with socket.create_connection(("127.0.0.1", server.server.port), timeout=2) as raw:
            raw.sendall(frame(b"0200\x00\x00"))
            assert raw.recv(10) == b""  # closed, no reply
        assert TcpHostLink(server.url).exchange(echo(Terminal()))["39"] == "00"


def test_cardkit_host_serve_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "host.sqlite"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([*CARDKIT, "host", "serve", "--port", "0", "--db", str(db)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "host listening on tcp://127.0.0.1:" in line and "demo accounts" in line
        url = line.split()[3]
        with TcpHostLink(url) as link:
            reply = link.exchange(echo(Terminal()))
            assert (reply["t"], reply["39"]) == ("0810", "00")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "host stopped" in out
    with Host(db) as reopened:  # the ledger was closed cleanly and is seeded
        assert reopened.account(DEMO_PAN).balance == START


def test_cardkit_host_serve_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = subprocess.run([*CARDKIT, "host", "serve", "--port", str(port), "--db", str(tmp_path / "h.sqlite")],
                             cwd=REPO, capture_output=True, text=True, timeout=30)
    assert run.returncode == 1
    assert run.stderr.startswith("error: cannot listen on 127.0.0.1:") and run.stderr.count("\n") == 1
