"""Host authorizations per second: over TCP with 1, 4, 16 and 64 concurrent terminals, and in process.

Usage: ``.venv/bin/python benchmarks/bench_host.py [--n 4000] [--svg OUT]``

The server is ``cardkit host serve`` in its own process on a fresh file ledger (WAL), exactly as
a user runs it. The terminals are asyncio connections in this process, each sending one 0200
purchase and waiting for its 0210 before the next, so N is the number of requests in flight.
Every request is a full authorization: field 55 with a real ARQC from the demo card (checked,
ARPC computed), an online PIN block under the demo ZPK (deciphered, verified, try counter
written), duplicate check, funds and limit check, posting. Requests are encoded before the clock
starts; every reply is decoded and must be 00.

After each run the ledger is read directly: the number of postings of that run and the balance
moved must equal the approvals counted by the clients — nothing lost, nothing posted twice.
The baseline is ``Host.handle`` called in a loop in this process on the same kind of file ledger.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _svg import bar_chart  # benchmarks/ is on sys.path when run as a script

from cardkit.crypto.oda import CapkStore
from cardkit.crypto.pin import encode_pin_block, encrypt_pin_block
from cardkit.emv import Kernel, OnlineRequest, TerminalConfig
from cardkit.issuer.demo_keys import DEMO_PAN, DEMO_ZPK, demo_capk
from cardkit.readers import CardChannel, VirtualReader
from pos_sim.demo_card import DEMO_PIN, make_demo_card
from pos_sim.host import Host, decode_message, encode_message, frame

REPO = Path(__file__).resolve().parents[1]
CONCURRENCY = (1, 4, 16, 64)
AMOUNT = 1  # 0.01 CNY each: the 10,000.00 demo balance lasts a million authorizations
GOAL_PER_S = 1_000.0


def card_request() -> OnlineRequest:
    """One real online request (ARQC in field 55) from the demo card."""
    store = CapkStore()
    store.add(demo_capk())
    captured: list[OnlineRequest] = []
    kernel = Kernel(CardChannel(VirtualReader(make_demo_card()).connect()), TerminalConfig(capk=store),
                    pin_entry=lambda _r: DEMO_PIN, online=lambda r: captured.append(r) or None)
    kernel.run(AMOUNT)
    return captured[0]


def requests(request: OnlineRequest, tid: str, count: int) -> list[bytes]:
    """``count`` distinct 0200s for terminal ``tid`` (STAN 1..count), encoded."""
    block = encrypt_pin_block(DEMO_ZPK, encode_pin_block(DEMO_PIN, DEMO_PAN, 0))
    out = []
    for stan in range(1, count + 1):
        out.append(encode_message({
            "t": "0200", "2": request.pan, "3": "000000", "4": f"{AMOUNT:012d}", "7": "0501123000",
            "11": f"{stan:06d}", "22": "051", "23": "001", "25": "00", "37": f"5121{stan:08d}", "41": tid,
            "42": "BENCHMERCHANT01", "49": "156", "52": block, "55": request.icc_data, "60": "000001"}))
    return out


async def terminal(host: str, port: int, messages: list[bytes], latencies: list[float]) -> int:
    """One terminal: send, wait for the reply, next. Returns its approvals."""
    reader, writer = await asyncio.open_connection(host, port)
    approved = 0
    try:
        for raw in messages:
            start = time.perf_counter()
            writer.write(frame(raw))
            header = await reader.readexactly(2)
            reply = decode_message(await reader.readexactly(int.from_bytes(header, "big")))
            latencies.append(time.perf_counter() - start)
            approved += reply["39"] == "00"
    finally:
        writer.close()
    return approved


def over_tcp(port: int, db: Path, request: OnlineRequest, n: int, concurrency: int, run: int) -> dict[str, float]:
    per = max(1, n // concurrency)
    tids = [f"R{run}T{i:05d}" for i in range(concurrency)]
    batches = [requests(request, tid, per) for tid in tids]
    balance_before = _balance(db)
    latencies: list[float] = []

    async def main() -> list[int]:
        return await asyncio.gather(*(terminal("127.0.0.1", port, b, latencies) for b in batches))

    start = time.perf_counter()
    approved = sum(asyncio.run(main()))
    elapsed = time.perf_counter() - start
    sent = per * concurrency
    posted = _count(db, f"tid LIKE 'R{run}T%' AND state = 'posted'")
    moved = balance_before - _balance(db)
    if not approved == sent == posted == moved // AMOUNT:
        raise SystemExit(f"N={concurrency}: sent {sent}, approved {approved}, posted {posted}, moved {moved}")
    latencies.sort()
    return {"per_s": sent / elapsed, "p50_ms": statistics.median(latencies) * 1e3,
            "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1e3, "requests": sent}


def _count(db: Path, where: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM transactions WHERE {where}").fetchone()[0])


def _balance(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT balance FROM accounts WHERE pan = ?", (DEMO_PAN,)).fetchone()[0])


def in_process(tmp: Path, request: OnlineRequest, n: int) -> dict[str, float]:
    with Host(tmp / "inprocess.sqlite") as host:
        host.seed_demo_accounts()
        messages = requests(request, "INPROC01", n)
        start = time.perf_counter()
        codes = [decode_message(host.handle(raw))["39"] for raw in messages]
        elapsed = time.perf_counter() - start
        assert codes == ["00"] * n and host.ledger.count("state = 'posted'") == n
        codec = time.perf_counter()
        for raw in messages[:1000]:
            decode_message(raw)
            encode_message(decode_message(raw))
        codec_us = (time.perf_counter() - codec) / min(n, 1000) * 1e6
    return {"per_s": n / elapsed, "codec_us": codec_us}


def start_server(db: Path) -> tuple[subprocess.Popen[str], int]:
    cmd = [sys.executable, "-c", "import sys, cli; sys.exit(cli.main())", "host", "serve", "--port", "0",
           "--db", str(db)]
    server = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    line = server.stdout.readline()
    if "listening on tcp://" not in line:
        server.kill()
        raise SystemExit(f"cardkit host serve did not start: {line!r}")
    return server, int(line.split()[3].rsplit(":", 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000, help="authorizations per measurement")
    parser.add_argument("--svg", metavar="OUT", help="also draw µs per authorization as an SVG bar chart here")
    args = parser.parse_args()

    request = card_request()
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        base = in_process(Path(tmp), request, args.n)
        print(f"{'in process, Host.handle':<34} {base['per_s']:8,.0f} auth/s  "
              f"({1e6 / base['per_s']:6.1f} µs each; codec decode+encode {base['codec_us']:.1f} µs)")
        rows.append(("cardkit Host.handle in process", 1e6 / base["per_s"]))
        db = Path(tmp) / "host.sqlite"
        server, port = start_server(db)
        try:
            for run, concurrency in enumerate(CONCURRENCY):
                r = over_tcp(port, db, request, args.n, concurrency, run)
                print(f"{f'TCP, {concurrency} terminal(s)':<34} {r['per_s']:8,.0f} auth/s  p50 {r['p50_ms']:6.2f} ms"
                      f"  p99 {r['p99_ms']:6.2f} ms  ({r['per_s'] / base['per_s']:.2f}x in process; "
                      f"{r['requests']:.0f} posted once each)")
                rows.append((f"cardkit over TCP, {concurrency} terminal(s)", 1e6 / r["per_s"]))
        finally:
            server.send_signal(signal.SIGTERM)
            code = server.wait(30)
        print(f"cardkit host serve stopped by SIGTERM, exit {code}")
    rows.append((f"goal: {GOAL_PER_S:,.0f} auth/s", 1e6 / GOAL_PER_S))
    if args.svg:
        bar_chart(Path(args.svg), "Host: µs of wall time per authorization (lower is better)", rows, "µs")
        print(f"wrote {args.svg}")


if __name__ == "__main__":
    main()
