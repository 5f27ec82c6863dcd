"""PINs, PIN blocks and keys stay out of logs, reprs, exception text and the database."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from cardkit.crypto.pin import encode_pin_block
from cardkit.issuer.demo_keys import DEMO_IMK_AC, DEMO_ZPK
from pos_sim.host import Host, HostMessageError, InProcessHostLink, ServerThread, TcpHostLink, encode_message

from .kit import DEMO_PAN, DEMO_PIN, Card, Terminal, new_host, pin_block

WRONG_PIN = "987654"


def secrets() -> list[str]:
    blocks = [pin_block(DEMO_PIN), pin_block(WRONG_PIN), encode_pin_block(DEMO_PIN, DEMO_PAN, 0).reveal(),
              encode_pin_block(WRONG_PIN, DEMO_PAN, 0).reveal(), DEMO_ZPK, DEMO_IMK_AC]
    return [DEMO_PIN, WRONG_PIN] + [b.hex() for b in blocks] + [b.hex().upper() for b in blocks]


def assert_clean(text: str) -> None:
    for secret in secrets():
        assert secret not in text


def test_no_pin_material_in_logs(caplog: pytest.LogCaptureFixture, debit_card: Card) -> None:
    caplog.set_level(logging.DEBUG)
    host = new_host()
    terminal = Terminal()
    with ServerThread(host) as server, TcpHostLink(server.url) as link:
        for pin in (DEMO_PIN, WRONG_PIN, WRONG_PIN, WRONG_PIN, DEMO_PIN):
            link.exchange(terminal.financial(debit_card.arqc(100), pin=pin))
        InProcessHostLink(host).exchange(terminal.financial(debit_card.arqc(100), pin=DEMO_PIN, proc="990000"))
    assert "answered" in caplog.text or "->" in caplog.text  # the log did record the decisions
    assert_clean(caplog.text)


def test_no_pin_material_in_errors_or_reprs(debit_card: Card) -> None:
    with pytest.raises(HostMessageError) as bad_length:
        encode_message({"t": "0200", "52": pin_block(DEMO_PIN)[:7]})
    with pytest.raises(HostMessageError) as bad_type:
        encode_message({"t": "0200", "52": pin_block(DEMO_PIN).hex()})  # type: ignore[dict-item]
    host = new_host()
    for text in (str(bad_length.value), str(bad_type.value), repr(host), repr(host.account(DEMO_PAN)),
                 repr(host.faults), repr(TcpHostLink())):
        assert_clean(text)


def test_the_database_holds_no_pin(tmp_path: Path, debit_card: Card) -> None:
    db = tmp_path / "host.sqlite"
    with new_host(db_path=db) as host:
        InProcessHostLink(host).exchange(Terminal().financial(debit_card.arqc(100), pin=DEMO_PIN))
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT * FROM accounts").fetchall() + conn.execute("SELECT * FROM transactions").fetchall()
        columns = [r[1] for r in conn.execute("PRAGMA table_info(accounts)")]
    assert "pin" not in columns
    for row in rows:
        for value in row:
            text = value.hex() if isinstance(value, bytes) else str(value)
            assert_clean(text)
    verifiers = [r[columns.index("pin_verifier")] for r in rows[:2]]
    assert verifiers[0] != verifiers[1]  # salted: one PIN, two verifiers
    with Host(db, pvk=b"another key") as wrong_key:  # the verifier needs the host's key
        reply = InProcessHostLink(wrong_key).exchange(Terminal("TERM0002").financial(debit_card.arqc(100),
                                                                                     pin=DEMO_PIN))
        assert reply["39"] == "55"
