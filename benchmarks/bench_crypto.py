"""Benchmark cardkit.crypto's issuer-side ARQC path against pyemv on the same inputs.

The issuer host's hot path per authorisation: ICC master key from the issuer master key
(option A), AC session key from the ATC (EMV common session key), the ARQC over the CDOL1 data
(ISO 9797-1 MAC algorithm 3), the comparison, and the ARPC. Each step is also timed alone.

cardkit keeps the issuer master key's cipher object in a small per-thread cache (a host
reuses its IMK); the "cold" rows clear that cache on every call, so they also pay for building
the IMK cipher, as pyemv does on every call. Times are best and median of many repeats
(``timeit``), in µs per operation; the ratio is pyemv median / cardkit median.

    .venv/bin/python benchmarks/bench_crypto.py [--repeat 30] [--json OUT] [--svg OUT]

No timed assertions: tests never depend on these numbers.
"""

from __future__ import annotations

import argparse
import hmac
import json
import platform
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _svg import bar_chart
from _timing import time_call  # benchmarks/ is on sys.path when run as a script

from cardkit.crypto import emv, hazmat

H = bytes.fromhex
IMK = H("0123456789ABCDEFFEDCBA9876543210")
PAN, PSN = "6212345678901234", "01"
ATC = H("001C")
# CDOL1-style data: amount, other amount, country, TVR, currency, date, type, UN, AIP, ATC, IAD (41 bytes)
DATA = H("0000000040000000000000000156800004800001561911050152BF45851800001C06011203A0B800")
ARC = H("3030")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=30, help="timeit repeats (default 30)")
    ap.add_argument("--json", metavar="OUT", help="also write the results as JSON here")
    ap.add_argument("--svg", metavar="OUT", help="also draw the full-path timings as an SVG bar chart here")
    args = ap.parse_args(argv)

    from pyemv import ac as pac
    from pyemv import kd as pkd

    # --- cardkit ---
    def ck_arqc() -> bytes:
        mk = emv.derive_icc_master_key(IMK, PAN, PSN)
        return emv.generate_ac(emv.derive_session_key(mk, ATC), DATA)

    arqc = ck_arqc()

    def ck_verify() -> bytes:
        mk = emv.derive_icc_master_key(IMK, PAN, PSN)
        sk = emv.derive_session_key(mk, ATC)
        emv.verify_ac(sk, DATA, arqc)
        return emv.generate_arpc_method1(sk, arqc, ARC)

    def ck_arqc_cold() -> bytes:
        hazmat.clear_cache()
        return ck_arqc()

    # --- pyemv, the same steps ---
    r = ATC + bytes(6)

    def py_arqc() -> bytes:
        mk = pkd.derive_icc_mk_a(IMK, PAN, PSN)
        return pac.generate_ac(pkd.derive_common_sk(mk, r), DATA)

    def py_verify() -> bytes:
        mk = pkd.derive_icc_mk_a(IMK, PAN, PSN)
        sk = pkd.derive_common_sk(mk, r)
        if not hmac.compare_digest(pac.generate_ac(sk, DATA), arqc):
            raise AssertionError("pyemv disagrees")
        return pac.generate_arpc_1(sk, arqc, ARC)

    assert py_arqc() == arqc and py_verify() == ck_verify(), "cardkit and pyemv disagree"

    mk = emv.derive_icc_master_key(IMK, PAN, PSN)
    sk = emv.derive_session_key(mk, ATC)
    pairs: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "ARQC from IMK (ICC MK + SK + MAC)": (ck_arqc, py_arqc),
        "ARQC from IMK, cold IMK cipher": (ck_arqc_cold, py_arqc),
        "verify ARQC + ARPC method 1 from IMK": (ck_verify, py_verify),
        "ICC MK option A": (
            lambda: emv.derive_icc_master_key(IMK, PAN, PSN),
            lambda: pkd.derive_icc_mk_a(IMK, PAN, PSN),
        ),
        "session key (common SK)": (lambda: emv.derive_session_key(mk, ATC), lambda: pkd.derive_common_sk(mk, r)),
        "AC: MAC alg 3 over 41 bytes": (lambda: emv.generate_ac(sk, DATA), lambda: pac.generate_ac(sk, DATA)),
        "ARPC method 1": (lambda: emv.generate_arpc_method1(sk, arqc, ARC), lambda: pac.generate_arpc_1(sk, arqc, ARC)),
    }
    rows: dict[str, Any] = {}
    for name, (ours, theirs) in pairs.items():
        a, b = time_call(ours, args.repeat, 500), time_call(theirs, args.repeat, 500)
        rows[name] = {"cardkit": a, "pyemv": b, "ratio": b["median_us"] / a["median_us"]}

    results = {"python": platform.python_version(), "machine": platform.machine(), "rows": rows}
    width = max(len(k) for k in rows)
    print(f"{'operation':<{width}}  {'cardkit µs':>11}  {'pyemv µs':>9}  {'pyemv/cardkit':>13}   (median; best)")
    for name, row in rows.items():
        a, b = row["cardkit"], row["pyemv"]
        print(f"{name:<{width}}  {a['median_us']:11.2f}  {b['median_us']:9.2f}  {row['ratio']:12.1f}x"
              f"   ({a['best_us']:.2f}; {b['best_us']:.2f})")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    if args.svg:
        chart = []
        for name in ("ARQC from IMK (ICC MK + SK + MAC)", "verify ARQC + ARPC method 1 from IMK"):
            chart.append((f"cardkit: {name}", rows[name]["cardkit"]["median_us"]))
            chart.append((f"pyemv: {name}", rows[name]["pyemv"]["median_us"]))
        bar_chart(Path(args.svg), "Issuer ARQC path, median µs per operation (lower is better)", chart, "µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
