"""The transaction journal: durability, the state machine, queries, totals and the CSV export."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cardkit import tlv
from cardkit.errors import CardkitError
from pos_sim.journal import KINDS, EntryStatus, Journal, JournalEntry, JournalError, Total, minor_to_decimal

PAN = "6212345678901234567"
MASKED = "621234*********4567"


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal(tmp_path / "journal.db") as j:
        yield j


def begin(j: Journal, kind: str = "sale", amount: int = 1250, scheme: str = "UnionPay", **kw: Any) -> JournalEntry:
    request = kw.pop("request", {"0": "0200", "2": PAN, "4": f"{amount:012d}", "52": bytes(8)})
    return j.begin(kind=kind, amount=amount, stan=j.next_stan(), request=request, pan_masked=MASKED,
                   scheme=scheme, aid="A000000333010101", label="UnionPay Debit", **kw)


def approve(j: Journal, entry: JournalEntry, rrn: str | None = None) -> JournalEntry:
    return j.approve(entry.id, response={"39": "00", "38": "123456"}, auth_code="123456", response_code="00",
                     rrn=rrn or f"0000{entry.id:08d}", outcome={"cryptogram_type": "TC", "atc": "0001"})


# -- the file ----------------------------------------------------------------------------------


def test_file_is_private_wal_and_fully_synchronous(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    with Journal(path) as j:
        approve(j, begin(j))
        assert j._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert j._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        for f in tmp_path.iterdir():
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_reopen_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    with Journal(path) as j:
        e = approve(j, begin(j))
        j.mark_printed(e.id)
        j.close_batch()
    with Journal(path) as j:
        assert j.get(e.id).status is EntryStatus.APPROVED and j.get(e.id).receipt_printed
        assert j.current_batch() == 2
        assert j.next_stan() == "000002"


@pytest.mark.parametrize("content", [b"hello, not a database\n" * 100, b"SQLite format 3\x00" + bytes(200)])
def test_garbage_file_is_one_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "j.db"
    path.write_bytes(content)
    with pytest.raises(CardkitError, match="not a cardkit journal or is corrupt"):
        Journal(path)


def test_other_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE songs (title TEXT)")
    with pytest.raises(JournalError, match="not a cardkit journal"):
        Journal(path)


def test_corrupt_journal_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    with Journal(path) as j:
        for _ in range(200):
            approve(j, begin(j))
        j._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = bytearray(path.read_bytes())
    raw[4096 * 2: 4096 * 4] = b"\xa5" * 8192  # scribble over b-tree pages
    path.write_bytes(bytes(raw))
    with pytest.raises(JournalError, match="corrupt"):
        Journal(path)


def test_unopenable_path_is_a_journal_error(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="cannot open"):
        Journal(tmp_path / "missing-dir" / "j.db")


# -- counters ----------------------------------------------------------------------------------


def test_stan_wraps_to_000001_never_000000(journal: Journal) -> None:
    assert journal.next_stan() == "000001"
    journal._db.execute("UPDATE meta SET value = '999998' WHERE key = 'stan'")
    assert [journal.next_stan() for _ in range(3)] == ["999999", "000001", "000002"]


def test_stan_is_unique_across_threads(journal: Journal) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        stans = list(pool.map(lambda _: journal.next_stan(), range(200)))
    assert len(set(stans)) == 200


# -- what begin stores -------------------------------------------------------------------------


def test_begin_drops_pin_block_and_masks_the_pan(journal: Journal) -> None:
    field55 = tlv.build(0x9F26, bytes(8)) + tlv.build(0x5A, bytes.fromhex(PAN + "F")) + tlv.build(0x9F36, b"\x00\x01")
    request = {"0": "0200", "2": PAN, "35": PAN + "D25122011234567", "45": f"B{PAN}^ZHANG/SAN^2512",
               "52": b"\x12\x34" * 4, "55": field55, "4": "000000001250"}
    e = journal.begin(kind="sale", amount=1250, stan=journal.next_stan(), request=request, pan_masked=PAN,
                      scheme="UnionPay", aid="a000000333010101", label="UnionPay Debit")
    assert "52" not in e.request
    assert e.request["2"] == MASKED and e.pan_masked == MASKED
    assert e.request["35"].startswith(MASKED + "=") and e.request["45"].startswith(MASKED + "^")
    assert tlv.flatten(bytes.fromhex(e.request["55"])) == {b"\x9f\x26": bytes(8), b"\x9f\x36": b"\x00\x01"}
    assert e.aid == "A000000333010101" and e.status is EntryStatus.PENDING
    raw = Path(journal.path).read_bytes() + Path(str(journal.path) + "-wal").read_bytes()
    assert PAN.encode() not in raw and b"12341234" not in raw


def test_approve_scrubs_the_response_and_outcome(journal: Journal) -> None:
    e = begin(journal)
    e = journal.approve(e.id, response={"2": PAN, "39": "00", "52": "00" * 8}, auth_code="A1B2C3",
                        response_code="00", rrn="123", outcome={"pan": PAN, "pin": "1234", "tvr": b"\x00" * 5})
    assert e.response == {"2": MASKED, "39": "00"}
    assert e.outcome == {"pan": MASKED, "tvr": "0000000000"}


@pytest.mark.parametrize(("field", "value", "match"), [
    ("kind", "refudn", "unknown transaction kind"), ("amount", 12.5, "minor units"), ("amount", -1, "minor units"),
    ("amount", True, "minor units"), ("stan", "12345", "6 digits"), ("currency", "CNY", "ISO 4217"),
])
def test_begin_refuses_bad_values(journal: Journal, field: str, value: Any, match: str) -> None:
    kw: dict[str, Any] = {"kind": "sale", "amount": 100, "stan": "000001", "currency": "156"} | {field: value}
    with pytest.raises(JournalError, match=match):
        journal.begin(request={}, pan_masked=MASKED, scheme="UnionPay", aid="A0", label="x", **kw)
    assert journal.entries() == []


def test_outcome_must_be_json_able(journal: Journal) -> None:
    e = begin(journal)
    with pytest.raises(JournalError, match="JSON-able"):
        journal.approve(e.id, response={}, auth_code="1", response_code="00", rrn=None, outcome={"x": object()})
    assert journal.get(e.id).status is EntryStatus.PENDING


# -- transitions -------------------------------------------------------------------------------


def test_sale_approve_print(journal: Journal) -> None:
    e = approve(journal, begin(journal), rrn="412345678901")
    assert (e.status, e.auth_code, e.response_code, e.rrn) == (EntryStatus.APPROVED, "123456", "00", "412345678901")
    assert journal.unprinted() == [e]
    journal.mark_printed(e.id)
    assert journal.unprinted() == []
    assert journal.find_by_rrn("412345678901") == journal.get(e.id)
    assert journal.find_by_stan(e.stan) == journal.get(e.id)
    assert journal.find_by_stan(e.stan, batch=7) is None and journal.find_by_rrn("nope") is None


def test_decline_keeps_the_reason(journal: Journal) -> None:
    e = journal.decline(begin(journal).id, response={"39": "51"}, response_code="51", outcome=None,
                        reason="insufficient funds")
    assert e.status is EntryStatus.DECLINED and e.outcome == {"decline_reason": "insufficient funds"}
    assert journal.unprinted() == [e]


def test_crash_recovery_queries(journal: Journal) -> None:
    pending = begin(journal)
    assert journal.incomplete() == [pending]
    r = journal.mark_reversal_pending(pending.id, "no answer from host")
    assert journal.incomplete() == [] and journal.pending_reversals() == [r]
    assert r.reversal_reason == "no answer from host"
    assert journal.mark_reversed(pending.id).status is EntryStatus.REVERSED
    assert journal.pending_reversals() == []


@pytest.mark.parametrize(("setup", "operation"), [
    ("reversed", "approve"), ("declined", "reversal_pending"), ("approved", "approve"), ("approved", "decline"),
    ("declined", "void"), ("pending", "void"), ("pending", "reversed"), ("reversed", "reversal_pending"),
    ("approved", "reversed"),
])
def test_illegal_transitions_raise_and_change_nothing(journal: Journal, setup: str, operation: str) -> None:
    e = begin(journal)
    if setup in ("approved", "reversed"):
        approve(journal, e)
    if setup == "declined":
        journal.decline(e.id, response=None, response_code="05", outcome=None, reason="do not honour")
    if setup == "reversed":
        journal.mark_reversal_pending(e.id, "test")
        journal.mark_reversed(e.id)
    before = journal.get(e.id)
    with pytest.raises(JournalError, match=f"#{e.id} .* is {before.status.value}: cannot"):
        _operate(journal, e.id, operation)
    assert journal.get(e.id) == before


def _operate(j: Journal, entry_id: int, operation: str) -> None:
    match operation:
        case "approve":
            j.approve(entry_id, response={}, auth_code="1", response_code="00", rrn=None, outcome=None)
        case "decline":
            j.decline(entry_id, response=None, response_code="05", outcome=None, reason="x")
        case "reversal_pending":
            j.mark_reversal_pending(entry_id, "x")
        case "reversed":
            j.mark_reversed(entry_id)
        case "void":
            j.mark_voided(entry_id)


def test_unknown_entry(journal: Journal) -> None:
    with pytest.raises(JournalError, match="no journal entry #42"):
        journal.get(42)
    with pytest.raises(JournalError, match="no journal entry #42"):
        journal.mark_printed(42)
    with pytest.raises(JournalError, match="no journal entry #42"):
        begin(journal, kind="refund", original_id=42)


def test_approved_void_voids_the_original_in_one_commit(journal: Journal) -> None:
    sale = approve(journal, begin(journal, amount=5000))
    void = approve(journal, begin(journal, kind="void", amount=5000, original_id=sale.id))
    assert journal.get(sale.id).status is EntryStatus.VOIDED and void.original_id == sale.id
    assert journal.mark_voided(sale.id).status is EntryStatus.VOIDED  # idempotent: the terminal may call it too
    assert journal.totals().debit == Total()
    # a second void of the same sale is refused before it reaches the host
    with pytest.raises(JournalError, match="cannot void"):
        begin(journal, kind="void", amount=5000, original_id=sale.id)
    # reversing the void gives the sale back
    journal.mark_reversal_pending(void.id, "host asked for it")
    journal.mark_reversed(void.id)
    assert journal.get(sale.id).status is EntryStatus.APPROVED
    assert journal.totals().debit == Total(1, 5000)


def test_racing_voids_only_one_wins(journal: Journal) -> None:
    sale = approve(journal, begin(journal))
    first, second = (begin(journal, kind="void", original_id=sale.id) for _ in range(2))
    approve(journal, first)
    with pytest.raises(JournalError, match="voided: cannot void"):
        approve(journal, second)
    assert journal.get(second.id).status is EntryStatus.PENDING  # reversed at start-up like any other
    assert journal.incomplete() == [journal.get(second.id)]


def test_void_needs_an_original(journal: Journal) -> None:
    with pytest.raises(JournalError, match="original_id"):
        begin(journal, kind="void")


# -- totals and batches ------------------------------------------------------------------------


def test_totals_by_scheme_and_kind(journal: Journal) -> None:
    for kind, amount, scheme in [("sale", 1000, "UnionPay"), ("sale", 250, "UnionPay"), ("sale", 99, "Visa"),
                                 ("refund", 300, "UnionPay"), ("completion", 700, "UnionPay"),
                                 ("preauth", 800, "UnionPay"), ("balance", 0, "UnionPay")]:
        approve(journal, begin(journal, kind, amount, scheme))
    journal.decline(begin(journal).id, response=None, response_code="51", outcome=None, reason="no funds")
    r = approve(journal, begin(journal, amount=4000))
    journal.mark_reversal_pending(r.id, "receipt printer jammed")
    journal.mark_reversed(r.id)
    begin(journal, amount=123)  # still pending: not counted
    t = journal.totals()
    assert t.by_scheme_debit == {"UnionPay": Total(3, 1950), "Visa": Total(1, 99)}
    assert t.by_scheme_credit == {"UnionPay": Total(1, 300)}
    assert t.by_kind == {"sale": Total(3, 1349), "refund": Total(1, 300), "completion": Total(1, 700),
                         "preauth": Total(1, 800), "balance": Total(1, 0)}
    assert (t.debit, t.credit, t.net) == (Total(4, 2049), Total(1, 300), 1749)
    assert t.decimal(t.net) == Decimal("17.49") and t.debit.decimal() == Decimal("20.49")


def test_close_batch_refuses_while_reversals_are_owed(journal: Journal) -> None:
    e = approve(journal, begin(journal))
    journal.mark_reversal_pending(e.id, "printer")
    with pytest.raises(JournalError, match="awaiting reversal"):
        journal.close_batch()
    journal.mark_reversed(e.id)
    p = begin(journal)
    with pytest.raises(JournalError, match="pending"):
        journal.close_batch()
    journal.decline(p.id, response=None, response_code="05", outcome=None, reason="x")
    assert journal.current_batch() == 1


def test_close_batch_moves_on(journal: Journal) -> None:
    e = approve(journal, begin(journal, amount=1500))
    totals = journal.close_batch()
    assert totals.batch == 1 and totals.debit == Total(1, 1500)
    assert journal.current_batch() == 2 and journal.totals().debit == Total()
    assert journal.entries() == [] and journal.entries(1) == [journal.get(e.id)]
    assert journal.totals(1) == totals
    assert begin(journal).batch == 2


def test_minor_to_decimal() -> None:
    assert minor_to_decimal(1250) == Decimal("12.50") and str(minor_to_decimal(5)) == "0.05"
    assert str(minor_to_decimal(1250, "392")) == "1250" and str(minor_to_decimal(1, "048")) == "0.001"


# -- CSV ---------------------------------------------------------------------------------------


def test_csv_export_parses_back(journal: Journal, tmp_path: Path) -> None:
    sale = approve(journal, begin(journal, amount=1250, scheme='Union"Pay, Ltd'))
    journal.decline(begin(journal).id, response=None, response_code="51", outcome=None, reason="no funds")
    out = io.StringIO()
    assert journal.export_csv(out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["status"] for r in rows] == ["approved", "declined"]
    assert rows[0]["scheme"] == 'Union"Pay, Ltd' and rows[0]["amount"] == "1250" and rows[0]["rrn"] == sale.rrn
    assert rows[0]["pan_masked"] == MASKED and rows[1]["rrn"] == "" and rows[1]["original_id"] == ""
    assert "request" not in rows[0] and PAN not in out.getvalue()
    path = tmp_path / "batch.csv"
    assert journal.export_csv(path) == 2 and path.read_bytes().decode() == out.getvalue()


def test_entry_fields_are_json_friendly(journal: Journal) -> None:
    e = approve(journal, begin(journal))
    json.dumps(dict(e.request)), json.dumps(dict(e.response or {})), json.dumps(dict(e.outcome or {}))
    assert set(KINDS) == {"sale", "refund", "void", "preauth", "completion", "balance", "ec_load", "fare",
                          "purse_load", "medical"}
    assert e.created <= e.updated and e.created.tzinfo is not None
    os.fspath(journal.path)


def test_a_journal_from_an_earlier_cardkit_admits_todays_kinds(tmp_path: Path) -> None:
    """Journals made before the transit/medical kinds existed check ``kind`` against the old list."""
    import sqlite3

    from pos_sim import journal as journal_module

    path = tmp_path / "old.sqlite"
    old_kinds = ("sale", "refund", "void", "preauth", "completion", "balance", "ec_load")
    old_schema = journal_module._SCHEMA.replace(
        ", ".join(repr(k) for k in journal_module.KINDS), ", ".join(repr(k) for k in old_kinds))
    with Journal(path) as fresh:
        sale = fresh.begin(kind="sale", amount=100, stan=fresh.next_stan(), request={}, pan_masked="",
                           scheme="UnionPay", aid="A000000333010101", label="X")
    db = sqlite3.connect(path)  # rewrite the table as an earlier cardkit made it
    db.executescript("PRAGMA foreign_keys=OFF; ALTER TABLE entries RENAME TO e; "
                     + [s for s in old_schema.split(";") if "CREATE TABLE IF NOT EXISTS entries" in s][0]
                     + "; INSERT INTO entries SELECT * FROM e; DROP TABLE e;")
    db.close()
    with pytest.raises(sqlite3.IntegrityError):
        db = sqlite3.connect(path)
        db.execute("INSERT INTO entries (batch, stan, kind, amount, currency, status, created, updated, pan_masked,"
                   " scheme, aid, label, request) VALUES (1, '000009', 'fare', 0, '156', 'pending', '', '', '', '',"
                   " '', '', '{}')")
    db.close()
    with Journal(path) as upgraded:
        assert upgraded.get(sale.id).kind == "sale"  # the old rows survive with their ids
        fare = upgraded.begin(kind="fare", amount=200, stan=upgraded.next_stan(), request={}, pan_masked="",
                              scheme="Transit", aid="A000000632010105", label="TRANSIT")
        assert upgraded.get(fare.id).kind == "fare"
