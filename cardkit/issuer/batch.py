"""Batch issuance: a CSV of holders → one virtual card image each, across processes, resumable.

Roles:

* The **coordinator** (:func:`run_batch`, one process) reads the CSV lazily, claims every card's
  numbers in the issuer's registry (so numbers are handed out in one place, in order, never twice),
  writes the job to the batch log (``issuance.db`` in the output directory) and hands it out.
* A **worker** (:class:`IssueWorker`, any process, any machine that can open the keystore) turns a
  :class:`BatchJob` into a card: data preparation (ICC RSA keys, signatures, diversified keys),
  personalization through the card manager, the image and PIN mailer written atomically. A job is
  plain data and a worker a picklable callable, so any ``concurrent.futures.Executor`` runs them:
  the local process pool here, or a Dask or Ray cluster (docs/issuance.md shows both).

The log is ``issuance.db`` (the state the resume works from) plus ``issuance.log``, one JSON line
per card as it is recorded (time, row, holder, card serial, status, applications, error): no PAN,
no PIN, no key.

Resuming: a holder the log has as issued is skipped; one that was handed out but not confirmed is
issued again with the numbers it was given (the registry returns them), unless its image is already
complete on disk (the worker finished but the coordinator died before recording it), in which case
it is recorded without a second card.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cardkit.errors import CardkitError, ProfileError
from cardkit.issuer.holder import HolderProfile
from cardkit.issuer.holder_csv import read_holders
from cardkit.issuer.issue import issue_virtual, write_pin_mailer
from cardkit.issuer.issuer import Issuer
from cardkit.issuer.prepare import CardNumbers, allocate_numbers, prepare_card

__all__ = ["BatchJob", "BatchResult", "BatchSummary", "IssueWorker", "run_batch"]

log = logging.getLogger(__name__)

LOG_FILE = "issuance.db"
AUDIT_FILE = "issuance.log"
SECRET_ENV = "CARDKIT_ISSUER_SECRET"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS card (
    holder_id TEXT PRIMARY KEY, row INTEGER NOT NULL, status TEXT NOT NULL
        CHECK (status IN ('handed out', 'issued', 'failed')),
    card_serial TEXT, numbers TEXT, image TEXT, error TEXT, seconds TEXT, updated REAL NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class BatchJob:
    """One card to make: the holder, the numbers claimed for it, where its files go."""

    row: int
    profile: HolderProfile
    numbers: CardNumbers
    image: str
    pin_mailer: str


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What a worker reports back (no secret in it)."""

    holder_id: str
    row: int
    card_serial: str
    ok: bool
    error: str = ""
    applications: tuple[str, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)  # prepare, of which rsa; personalize; save
    apdus: int = 0


@dataclass(slots=True)
class BatchSummary:
    """The run's totals, for the summary table and the benchmark."""

    issued: int = 0
    skipped: int = 0  # already issued by an earlier run of this batch
    recovered: int = 0  # finished by a worker before an interruption, recorded now
    failed: int = 0
    wall_seconds: float = 0.0
    phase_seconds: dict[str, float] = field(default_factory=dict)  # summed over cards
    failures: list[tuple[int, str, str]] = field(default_factory=list)  # (row, holder id, message)

    @property
    def cards_per_second(self) -> float:
        return self.issued / self.wall_seconds if self.wall_seconds else 0.0


_OPEN_ISSUERS: dict[str, Issuer] = {}  # per process, by directory: see IssueWorker.issuer


class IssueWorker:
    """Makes cards from :class:`BatchJob`; opens the issuer once per process, on first use.

    Args:
        issuer_dir: the issuer directory (every worker machine needs it, or at least its public
            files, and access to the keystore: the same file, or the same PKCS#11 token).
        secret: passphrase or PIN; when ``None`` it is read from ``$CARDKIT_ISSUER_SECRET`` on the
            worker (better for a cluster: the secret is not shipped with the task).
    """

    def __init__(self, issuer_dir: str | Path, secret: str | None = None) -> None:
        self.issuer_dir = str(issuer_dir)
        self._secret = secret
        self._issuer: Issuer | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"issuer_dir": self.issuer_dir, "_secret": self._secret, "_issuer": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.issuer_dir, self._secret, self._issuer = state["issuer_dir"], state["_secret"], None

    def __repr__(self) -> str:
        return f"IssueWorker({self.issuer_dir!r})"

    def issuer(self) -> Issuer:
        """The issuer, opened once per process: an executor unpickles a fresh worker for every job,
        and opening a keystore costs a key derivation (scrypt) or a token login."""
        if self._issuer is None:
            opened = _OPEN_ISSUERS.get(self.issuer_dir)
            if opened is None:
                secret = self._secret if self._secret is not None else os.environ.get(SECRET_ENV)
                opened = _OPEN_ISSUERS[self.issuer_dir] = Issuer.open(self.issuer_dir, secret)
            self._issuer = opened
        return self._issuer

    def __call__(self, job: BatchJob) -> BatchResult:
        holder = job.profile.holder_id
        try:
            issuer = self.issuer()
            t0 = time.perf_counter()
            plan = prepare_card(job.profile, issuer, numbers=job.numbers)
            t1 = time.perf_counter()
            issued = issue_virtual(plan, issuer.card_manager_master())
            t2 = time.perf_counter()
            write_pin_mailer(plan, job.pin_mailer)
            from applets.runtime import save_card

            save_card(issued.card, Path(job.image))
            t3 = time.perf_counter()
        except CardkitError as exc:
            return BatchResult(holder, job.row, job.numbers.card_serial, False, str(exc))
        except Exception as exc:  # a worker must report, not die: the coordinator logs it as failed
            log.exception("issuing %s failed", holder)
            return BatchResult(holder, job.row, job.numbers.card_serial, False, f"{type(exc).__name__}: {exc}")
        report = issued.report
        seconds = {"rsa keys": plan.rsa_seconds, "prepare (other)": t1 - t0 - plan.rsa_seconds,
                   "personalize (APDUs)": t2 - t1, "save": t3 - t2}
        return BatchResult(holder, job.row, plan.card_serial, True, applications=report.applications,
                           seconds=seconds, apdus=report.store_data_commands)


class _BatchLog:
    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        os.chmod(path, 0o600)

    def status(self, holder_id: str) -> str | None:
        row = self._db.execute("SELECT status FROM card WHERE holder_id = ?", (holder_id,)).fetchone()
        return None if row is None else str(row[0])

    def handed_out(self, job: BatchJob) -> None:
        self._db.execute(
            "INSERT INTO card (holder_id, row, status, card_serial, numbers, image, updated)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (holder_id) DO UPDATE SET status = excluded.status,"
            " row = excluded.row, error = NULL, updated = excluded.updated",
            (job.profile.holder_id, job.row, "handed out", job.numbers.card_serial,
             json.dumps(job.numbers.as_dict()), job.image, time.time()))

    def finished(self, result: BatchResult) -> None:
        """The holder's outcome; a holder refused before any job was handed out gets its row here."""
        self._db.execute(
            "INSERT INTO card (holder_id, row, status, error, seconds, updated) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (holder_id) DO UPDATE SET status = excluded.status, error = excluded.error,"
            " seconds = excluded.seconds, updated = excluded.updated",
            (result.holder_id, result.row, "issued" if result.ok else "failed", result.error or None,
             json.dumps(result.seconds), time.time()))

    def close(self) -> None:
        self._db.close()


def _image_complete(path: Path, card_serial: str) -> bool:
    """A worker's image that made it to disk before an interruption: loadable and of that card."""
    if not path.is_file():
        return False
    try:
        from applets.runtime import load_card

        card = load_card(path)
    except Exception:  # a torn or foreign file: issue the card again
        return False
    return _iccid_of(card) == card_serial


def _iccid_of(card: Any) -> str | None:
    from applets.runtime.blank import EF_ICCID, decode_iccid

    for applet in card.applets:
        if getattr(applet, "is_master_file", False):
            return decode_iccid(applet.fs.content(applet.fs.root + (EF_ICCID,)))
    return None


def _rows(profiles: Iterator[HolderProfile], before_error: Callable[[], None]) -> Iterator[tuple[int, HolderProfile]]:
    """Number the profiles; on a bad row, let the cards in flight finish before the error goes up."""
    row = 0
    while True:
        try:
            profile = next(profiles)
        except StopIteration:
            return
        except ProfileError:
            before_error()
            raise
        row += 1
        yield row, profile


def run_batch(holders: str | Path | Iterable[HolderProfile], issuer: Issuer, issuer_dir: str | Path,
              out_dir: str | Path, *, workers: int = 1, secret: str | None = None,
              executor: Executor | None = None, on_result: Callable[[BatchResult | None], None] | None = None,
              batch_name: str | None = None) -> BatchSummary:
    """Issue one card per holder into ``out_dir`` (``<holder id>.card`` and ``<holder id>.pin``).

    Args:
        holders: a CSV path (read lazily) or profiles.
        issuer: the opened issuer (the coordinator claims numbers through it).
        issuer_dir, secret: how workers open the issuer themselves.
        workers: local worker processes (1 = in this process, no pool).
        executor: any ``concurrent.futures.Executor`` to use instead (a Dask client's
            ``get_executor()``, a Ray pool...); ``workers`` then only bounds the jobs in flight.
        on_result: called once per holder (``None`` for a skipped one): drives a progress bar.

    Raises:
        ProfileError: the CSV has a bad row (file line and column named); the rows before it were
            issued and the batch can be resumed once the row is fixed.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    batch = batch_name or str(out.resolve())
    blog = _BatchLog(out / LOG_FILE)
    audit = (out / AUDIT_FILE).open("a", encoding="utf-8")  # one JSON line per card, for people and tools
    summary = BatchSummary()
    worker = IssueWorker(issuer_dir, secret)
    own_pool = None
    if executor is None and workers > 1:
        import multiprocessing

        own_pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        executor = own_pool
    profiles: Iterator[HolderProfile] = iter(read_holders(holders) if isinstance(holders, (str, Path)) else holders)
    in_flight: dict[Future[BatchResult], BatchJob] = {}
    limit = max(2, 2 * workers)
    t0 = time.perf_counter()

    def record(result: BatchResult, *, recovered: bool = False) -> None:
        blog.finished(result)
        audit.write(json.dumps({"time": datetime.now(UTC).isoformat(timespec="seconds"), "row": result.row,
                                "holder": result.holder_id, "card": result.card_serial,
                                "status": "issued" if result.ok else "failed", "applications": result.applications,
                                "error": result.error or None}, ensure_ascii=False) + "\n")
        audit.flush()
        if result.ok:
            issuer.numbers.mark_issued(result.holder_id, result.card_serial, batch)
            if recovered:
                summary.recovered += 1
            else:
                summary.issued += 1
            for phase, sec in result.seconds.items():
                summary.phase_seconds[phase] = summary.phase_seconds.get(phase, 0.0) + sec
        else:
            summary.failed += 1
            summary.failures.append((result.row, result.holder_id, result.error))
        if on_result:
            on_result(result)

    def drain(block_until: int) -> None:
        while len(in_flight) > block_until:
            done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for fut in done:
                job = in_flight.pop(fut)
                try:
                    result = fut.result()
                except Exception as exc:  # the worker process died
                    result = BatchResult(job.profile.holder_id, job.row, job.numbers.card_serial, False,
                                         f"worker lost: {type(exc).__name__}: {exc}")
                record(result)

    try:
        for row, profile in _rows(profiles, lambda: drain(0)):
            holder = profile.holder_id
            status = blog.status(holder)
            if status == "issued":
                summary.skipped += 1
                if on_result:
                    on_result(None)
                continue
            elsewhere = issuer.numbers.issued_card(holder)
            if elsewhere is not None and elsewhere[1] != batch:
                message = f"already issued card {elsewhere[0]} in batch {elsewhere[1]}"
                record(BatchResult(holder, row, elsewhere[0], False, message))
                continue
            try:
                numbers = allocate_numbers(profile, issuer)
            except ProfileError as exc:
                record(BatchResult(holder, row, "", False, str(exc)))
                continue
            job = BatchJob(row, profile, numbers, str(out / f"{holder}.card"), str(out / f"{holder}.pin"))
            if status == "handed out" and _image_complete(Path(job.image), numbers.card_serial) \
                    and Path(job.pin_mailer).is_file():
                record(BatchResult(holder, row, numbers.card_serial, True), recovered=True)
                continue
            blog.handed_out(job)
            if executor is None:
                record(worker(job))
            else:
                in_flight[executor.submit(worker, job)] = job
                drain(limit)
        drain(0)
    finally:
        summary.wall_seconds = time.perf_counter() - t0
        if own_pool is not None:
            own_pool.shutdown(wait=True, cancel_futures=True)
        in_process = _OPEN_ISSUERS.pop(worker.issuer_dir, None)  # the one this process's worker opened
        if in_process is not None:
            in_process.close()
        blog.close()
        audit.close()
    return summary
