"""Batch issuance: cards issued per second for a batch of synthetic holders, with 1 and 2 workers,
and where a card's time goes (ICC RSA key generation vs data preparation vs personalization APDUs
vs writing the image).

Usage: ``.venv/bin/python benchmarks/bench_issue.py [--n 200] [--svg OUT]``

Each run makes a fresh issuer (file keystore) in a temporary directory and issues ``--n`` holders
from ``cardkit issue-batch --example``'s generator; every card goes through the card manager
(SCP03 C-MAC + C-DECRYPTION, INSTALL, STORE DATA, PUT KEY, SECURED) into its own image.
The 2-worker figure is the same batch through the local process pool (spawned workers, each
opening the keystore once); the ratio to 1 worker is the scaling on this machine's cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from _svg import bar_chart  # benchmarks/ is on sys.path when run as a script

from cardkit.issuer.batch import BatchSummary, run_batch
from cardkit.issuer.holder_csv import write_holders
from cardkit.issuer.holder_example import example_holders
from cardkit.issuer.issuer import Issuer, init_issuer

SECRET = "benchmark passphrase"
TOKEN_PIN = "1234"


def one_run(n: int, workers: int, base: Path, *, token: tuple[str, str] | None = None) -> BatchSummary:
    """One batch of ``n`` into a new issuer: file keystore, or the SoftHSM2 token ``(module, label)``."""
    name = f"{'pkcs11' if token else 'file'}-{workers}"
    root = base / f"issuer-{name}"
    secret = TOKEN_PIN if token else SECRET
    init_issuer(root, secret=secret, pkcs11_module=token[0] if token else None,
                token_label=token[1] if token else None).close()
    csv = base / f"holders-{name}.csv"
    with csv.open("w", encoding="utf-8", newline="") as f:
        write_holders(example_holders(n, seed=workers), f)
    with Issuer.open(root, secret) as issuer:
        summary = run_batch(csv, issuer, root, base / f"cards-{name}", workers=workers, secret=secret)
    assert summary.issued == n and summary.failed == 0, summary.failures[:3]
    return summary


def softhsm_token(base: Path) -> tuple[str, str] | None:
    """A fresh SoftHSM2 token in ``base`` (SOFTHSM2_CONF set for this process and its workers)."""
    from cardkit.issuer.keystore import default_pkcs11_module

    module, util = default_pkcs11_module(), shutil.which("softhsm2-util")
    if module is None or util is None:
        return None
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run([util, "--init-token", "--free", "--label", "bench", "--pin", TOKEN_PIN, "--so-pin", "12345678"],
                   check=True, capture_output=True)
    return module, "bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="holders in the batch")
    parser.add_argument("--svg", metavar="OUT", help="also draw the figures as an SVG bar chart here")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; batch of {args.n} synthetic holders, file keystore")
    with tempfile.TemporaryDirectory() as tmp:
        runs = {w: one_run(args.n, w, Path(tmp)) for w in (1, 2)}
        hsm_dir = Path(tmp) / "hsm"
        hsm_dir.mkdir()
        token = softhsm_token(hsm_dir)
        hsm = one_run(args.n, 1, Path(tmp), token=token) if token else None
    for w, s in runs.items():
        plural = "s" if w > 1 else " "
        print(f"{w} worker{plural}: {s.cards_per_second:6.1f} cards/s ({s.wall_seconds:.1f} s for {s.issued})")
    print(f"2 workers : 1 worker {runs[2].cards_per_second / runs[1].cards_per_second:.2f}x")
    if hsm is not None:
        print(f"PKCS#11 (SoftHSM2), 1 worker: {hsm.cards_per_second:6.1f} cards/s, "
              f"{hsm.cards_per_second / runs[1].cards_per_second:.2f}x the file keystore")
    one = runs[1]
    total = sum(one.phase_seconds.values())
    print("where one card's time goes (1 worker, mean per card):")
    for phase, seconds in one.phase_seconds.items():
        print(f"  {phase:<22} {seconds / one.issued * 1e3:7.1f} ms  {seconds / total:6.1%}")
    if args.svg:
        rows = [(f"wall time per card, {w} worker{'s' if w > 1 else ''}", 1e3 / s.cards_per_second)
                for w, s in runs.items()]
        if hsm is not None:
            rows.append(("wall time per card, 1 worker, PKCS#11", 1e3 / hsm.cards_per_second))
        rows += [(f"of a card: {phase}", seconds / one.issued * 1e3) for phase, seconds in one.phase_seconds.items()]
        bar_chart(Path(args.svg), f"Issuing {args.n} cards, ms per card (lower is better)", rows, "ms")
        print(f"wrote {args.svg}")


if __name__ == "__main__":
    main()
