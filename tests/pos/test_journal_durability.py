"""The journal's promise under fire: SIGKILL at random points, and random walks of the state machine."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from pos_sim.journal import EntryStatus, Journal, JournalError, Total

# The child plays a terminal: at start-up it reverses what a previous life left PENDING (as the
# real terminal does), then begins and approves sales as fast as it can, reporting each commit on
# stdout only after the journal call returned.
CHILD = textwrap.dedent("""
    import sys
    import time
    from pos_sim.journal import Journal
    j = Journal(sys.argv[1])
    for e in j.incomplete():
        j.mark_reversal_pending(e.id, "found pending at start-up")
        print("R", e.id, flush=True)
    for e in j.pending_reversals():
        j.mark_reversed(e.id)
    print("READY", flush=True)
    n = 0
    while True:
        n += 1
        stan = j.next_stan()
        e = j.begin(kind="sale", amount=n, stan=stan, request={"11": stan, "52": "00" * 8},
                    pan_masked="621234*********4567", scheme="UnionPay", aid="A000000333010101", label="UP")
        print("B", e.id, stan, n, flush=True)
        if len(sys.argv) > 2 and n == int(sys.argv[2]):
            time.sleep(60)  # the host never answers: killed right between begin and approve
        j.approve(e.id, response={"39": "00"}, auth_code="%06d" % n, response_code="00",
                  rrn="%012d" % e.id, outcome={"n": n})
        print("A", e.id, stan, n, flush=True)
""")


def _life(path: Path, rng: random.Random, stall_at: int | None = None) -> list[list[str]]:
    """Run the child until it is ready, let it work a random while (or until it stalls on the
    ``stall_at``-th sale), SIGKILL it; its reports."""
    root = Path(__file__).resolve().parents[2]
    argv = [sys.executable, "-c", CHILD, str(path)] + ([] if stall_at is None else [str(stall_at)])
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=root,
                             env=os.environ | {"PYTHONPATH": str(root)})
    assert child.stdout is not None
    lines = []
    while (line := child.stdout.readline()) != "READY\n":
        assert line, "the child died before it was ready"
        lines.append(line.split())
    if stall_at is None:
        time.sleep(rng.uniform(0.0, 0.25))
    else:
        while (line := child.stdout.readline()).split()[:1] != ["B"] or line.split()[3] != str(stall_at):
            lines.append(line.split())
    child.send_signal(signal.SIGKILL)
    rest, _ = child.communicate(timeout=10)
    assert child.returncode == -signal.SIGKILL
    # a report the kill cut short has no newline: drop it (the child never finished saying it)
    return lines + [line.split() for line in rest.split("\n")[:-1]]


def test_sigkill_never_loses_an_approved_entry(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    rng = random.Random(8583)
    approved: dict[int, tuple[str, int]] = {}
    begun: set[int] = set()
    for _ in range(12):
        for report in _life(path, rng):
            if report[0] == "B":
                begun.add(int(report[1]))
            elif report[0] == "A":
                approved[int(report[1])] = (report[2], int(report[3]))
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        with Journal(path) as j:
            for entry_id, (stan, n) in approved.items():
                e = j.get(entry_id)  # reported as committed: it is there, whole, and still approved
                assert (e.status, e.stan, e.amount, e.auth_code, e.outcome) == (
                    EntryStatus.APPROVED, stan, n, f"{n:06d}", {"n": n})
                assert "52" not in e.request
            for entry_id in begun:
                assert j.get(entry_id).status in (EntryStatus.PENDING, EntryStatus.APPROVED, EntryStatus.REVERSED)
            entries = j.entries()
            stans = [e.stan for e in entries]
            assert len(stans) == len(set(stans)), "a STAN was used twice"
            for e in entries:  # nothing half-written: approved means fully approved
                if e.status is EntryStatus.APPROVED:
                    assert e.response == {"39": "00"} and e.rrn == f"{e.id:012d}"
                else:
                    assert e.status in (EntryStatus.PENDING, EntryStatus.REVERSED) and e.auth_code is None
            assert j.totals().debit == Total(len([e for e in entries if e.status is EntryStatus.APPROVED]),
                                             sum(e.amount for e in entries if e.status is EntryStatus.APPROVED))
    assert len(approved) > 12, "the child hardly ran; the test proved nothing"


def test_sigkill_between_begin_and_approve_is_reversed_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    rng = random.Random(1)
    first = _life(path, rng, stall_at=3)
    assert [r[0] for r in first] == ["B", "A", "B", "A"]
    with Journal(path) as j:
        (stalled,) = j.incomplete()
        assert stalled.amount == 3 and stalled.status is EntryStatus.PENDING
    second = _life(path, rng, stall_at=1)
    assert second[0] == ["R", str(stalled.id)]
    with Journal(path) as j:
        assert j.get(stalled.id).status is EntryStatus.REVERSED
        assert j.totals().debit == Total(2, 1 + 2)  # two sales of life one; life two's first still pending


# -- the state machine, walked at random --------------------------------------------------------

_AMOUNTS = st.integers(min_value=0, max_value=10**9)
_KINDS = st.sampled_from(["sale", "refund", "preauth", "completion", "balance", "ec_load"])
_SCHEMES = st.sampled_from(["UnionPay", "Visa", "Mastercard"])


class JournalMachine(RuleBasedStateMachine):
    """A model (dict id -> status) walked beside the real journal; every operation the model calls
    illegal must raise JournalError and leave the journal as it was."""

    entries = Bundle("entries")

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.journal = Journal(Path(self.dir.name) / "j.db")
        self.status: dict[int, EntryStatus] = {}
        self.info: dict[int, tuple[str, int, str, int, int | None]] = {}  # kind, amount, scheme, batch, original
        self.batch = 1

    def teardown(self) -> None:
        self.journal.close()
        self.dir.cleanup()

    @rule(target=entries, kind=_KINDS, amount=_AMOUNTS, scheme=_SCHEMES)
    def begin(self, kind: str, amount: int, scheme: str) -> int:
        e = self.journal.begin(kind=kind, amount=amount, stan=self.journal.next_stan(), request={"4": str(amount)},
                               pan_masked="621234*********4567", scheme=scheme, aid="A0", label="x")
        self.status[e.id] = EntryStatus.PENDING
        self.info[e.id] = (kind, amount, scheme, self.batch, None)
        return e.id

    @rule(target=entries, original=entries)
    def begin_void(self, original: int) -> int:
        if self.status[original] is not EntryStatus.APPROVED:
            with pytest.raises(JournalError):
                self.journal.begin(kind="void", amount=0, stan="000001", request={}, pan_masked="", scheme="UnionPay",
                                   aid="A0", label="x", original_id=original)
            return original
        e = self.journal.begin(kind="void", amount=self.info[original][1], stan=self.journal.next_stan(), request={},
                               pan_masked="", scheme=self.info[original][2], aid="A0", label="x", original_id=original)
        self.status[e.id] = EntryStatus.PENDING
        self.info[e.id] = ("void", self.info[original][1], self.info[original][2], self.batch, original)
        return e.id

    def _attempt(self, entry_id: int, legal: bool, call: object, after: EntryStatus) -> None:
        snapshot = self.journal.entries(self.info[entry_id][3])
        if not legal:
            with pytest.raises(JournalError):
                call()  # type: ignore[operator]
            assert self.journal.entries(self.info[entry_id][3]) == snapshot
            return
        call()  # type: ignore[operator]
        self.status[entry_id] = after

    @rule(entry=entries)
    def approve(self, entry: int) -> None:
        kind, *_, original = self.info[entry]
        legal = self.status[entry] is EntryStatus.PENDING and (
            original is None or self.status[original] is EntryStatus.APPROVED)
        self._attempt(entry, legal, lambda: self.journal.approve(
            entry, response={"39": "00"}, auth_code="1", response_code="00", rrn=None, outcome=None),
            EntryStatus.APPROVED)
        if legal and original is not None:
            self.status[original] = EntryStatus.VOIDED

    @rule(entry=entries)
    def decline(self, entry: int) -> None:
        self._attempt(entry, self.status[entry] is EntryStatus.PENDING, lambda: self.journal.decline(
            entry, response=None, response_code="05", outcome=None, reason="x"), EntryStatus.DECLINED)

    @rule(entry=entries)
    def reversal_pending(self, entry: int) -> None:
        legal = self.status[entry] in (EntryStatus.PENDING, EntryStatus.APPROVED)
        self._attempt(entry, legal, lambda: self.journal.mark_reversal_pending(entry, "x"),
                      EntryStatus.REVERSAL_PENDING)

    @rule(entry=entries)
    def reversed(self, entry: int) -> None:
        was_approved = self.journal.get(entry).auth_code is not None
        self._attempt(entry, self.status[entry] is EntryStatus.REVERSAL_PENDING,
                      lambda: self.journal.mark_reversed(entry), EntryStatus.REVERSED)
        original = self.info[entry][4]
        if self.status[entry] is EntryStatus.REVERSED and was_approved and original is not None:
            if self.status[original] is EntryStatus.VOIDED:
                self.status[original] = EntryStatus.APPROVED

    @rule(entry=entries)
    def voided(self, entry: int) -> None:
        legal = self.status[entry] in (EntryStatus.APPROVED, EntryStatus.VOIDED)
        self._attempt(entry, legal, lambda: self.journal.mark_voided(entry), EntryStatus.VOIDED)

    @rule()
    def close_batch(self) -> None:
        if any(s in (EntryStatus.PENDING, EntryStatus.REVERSAL_PENDING) for s in self.status.values()):
            with pytest.raises(JournalError):
                self.journal.close_batch()
            return
        expected = self._expected(self.batch)
        totals = self.journal.close_batch()
        assert (totals.debit, totals.credit) == expected
        self.batch += 1

    def _expected(self, batch: int) -> tuple[Total, Total]:
        debit, credit = Total(), Total()
        for entry_id, (kind, amount, _, b, _) in self.info.items():
            if b == batch and self.status[entry_id] is EntryStatus.APPROVED:
                if kind in ("sale", "completion", "ec_load"):  # what the host's 0500 counts as debits
                    debit += Total(1, amount)
                elif kind == "refund":
                    credit += Total(1, amount)
        return debit, credit

    @invariant()
    def journal_matches_model(self) -> None:
        assert self.journal.current_batch() == self.batch
        for batch in {b for *_, b, _ in self.info.values()}:
            for e in self.journal.entries(batch):
                assert e.status is self.status[e.id], e
        t = self.journal.totals()
        assert (t.debit, t.credit) == self._expected(self.batch)
        assert t.net == t.debit.amount - t.credit.amount
        assert {e.id for e in self.journal.incomplete()} == {
            i for i, s in self.status.items() if s is EntryStatus.PENDING}


TestJournalMachine = JournalMachine.TestCase
TestJournalMachine.settings = settings(max_examples=60, stateful_step_count=25, deadline=None,
                                       suppress_health_check=[HealthCheck.too_slow])
