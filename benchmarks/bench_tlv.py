"""Benchmark cardkit.tlv against pyemv and ber-tlv on one realistic EMV payload.

The payload is what a kernel parses in one contact transaction up to GENERATE AC: the SELECT PPSE
FCI, the SELECT AID FCI, a GPO response (template 77) and six READ RECORD templates (70) with
certificates, CDOLs and the PBOC electronic-cash data, concatenated (~1.3 KB, self-made with
realistic sizes; no real card data).

Every decoder runs in the same process on the same bytes, after a check that it sees the same set
of tags. Times are the best and the median of many repeats (``timeit``).

    .venv/bin/python benchmarks/bench_tlv.py [--repeat 40] [--json OUT] [--svg OUT]

No timed assertions: tests never depend on these numbers.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _svg import bar_chart
from _timing import time_call  # benchmarks/ is on sys.path when run as a script

from cardkit import tlv

Spec = list[tuple[str, "bytes | Spec"]]


def _h(s: str) -> bytes:
    return bytes.fromhex(s)


def _fill(n: int, seed: int) -> bytes:
    return bytes((seed * 31 + i * 17) & 0xFF for i in range(n))


AID = _h("A000000333010101")

RESPONSES: list[Spec] = [
    # SELECT PPSE
    [("6F", [("84", b"2PAY.SYS.DDF01"), ("A5", [("BF0C", [
        ("61", [("4F", AID), ("50", b"UnionPay Debit"), ("87", b"\x01")]),
    ])])])],
    # SELECT AID
    [("6F", [("84", AID), ("A5", [
        ("50", b"UnionPay Debit"), ("87", b"\x01"),
        ("9F38", _h("9F7A019F02065F2A029F1A029F66049F37049A039C01")),
        ("5F2D", b"zhen"), ("9F11", b"\x01"), ("9F12", b"UnionPay Debit"),
        ("BF0C", [("9F4D", _h("0B0A")), ("DF4D", _h("0C0A"))]),
    ])])],
    # GET PROCESSING OPTIONS, format 2
    [("77", [
        ("82", _h("7C00")), ("94", _h("08010100100102011801040018050500")),
        ("9F36", _h("0012")), ("9F26", _fill(8, 1)), ("9F27", b"\x80"),
        ("9F10", _h("07010103A00000010A0100000000005BE5C6D2")),
    ])],
    # READ RECORD SFI 1 rec 1
    [("70", [
        ("57", _h("6212345678901234D30122011234567899")),
        ("5F20", b"ZHANG/SAN                 "), ("9F1F", b"000000000000"),
    ])],
    # READ RECORD SFI 2 rec 1
    [("70", [
        ("5A", _h("6212345678901234")), ("5F24", _h("301231")), ("5F25", _h("200101")),
        ("5F28", _h("0156")), ("5F34", b"\x01"), ("9F07", _h("FF00")),
        ("9F0D", _h("D86004A800")), ("9F0E", _h("0010980000")), ("9F0F", _h("D86004F800")),
        ("8E", _h("000000000000000042031E031F00")), ("9F08", _h("0030")), ("9F42", _h("0156")),
    ])],
    # READ RECORD SFI 2 rec 2
    [("70", [
        ("8C", _h("9F02069F03069F1A0295055F2A029A039C019F37049F21039F4E14")),
        ("8D", _h("910A8A0295059F37049F4C08")), ("9F49", _h("9F3704")), ("9F4A", b"\x82"),
    ])],
    # READ RECORD SFI 3 rec 1: issuer public key certificate (1984-bit CA key) and remainder
    [("70", [
        ("8F", b"\x08"), ("90", _fill(248, 2)), ("92", _fill(36, 3)), ("9F32", b"\x03"),
    ])],
    # READ RECORD SFI 3 rec 2: ICC public key certificate (1984-bit issuer key), SDA data
    [("70", [
        ("9F46", _fill(248, 4)), ("9F47", b"\x03"), ("9F48", _fill(10, 5)),
        ("93", _fill(164, 7)),
    ])],
    # READ RECORD SFI 4 rec 1: PBOC electronic cash and risk data
    [("70", [
        ("9F79", _h("000000010000")), ("9F77", _h("000000100000")), ("9F78", _h("000000050000")),
        ("9F6D", _h("000000020000")), ("9F74", b"ECC001"), ("9F51", _h("0156")),
        ("9F52", _h("C000")), ("9F56", b"\x00"), ("9F57", _h("0156")), ("9F58", b"\x03"),
        ("9F59", b"\x05"), ("9F63", _fill(16, 6)), ("9F14", b"\x03"), ("9F23", b"\x05"),
        ("9F44", b"\x02"), ("5F30", _h("0220")), ("9F4F", _h("9A039F21039F02069F03069F1A025F2A029F4E149C019F3602")),
    ])],
]


def _cardkit_build(spec: Spec) -> bytes:
    out = []
    for tag, value in spec:
        t = bytes.fromhex(tag)
        out.append(tlv.build(t, _cardkit_build(value) if isinstance(value, list) else value))
    return b"".join(out)


def _pyemv_input(spec: Spec) -> dict[str, Any]:
    return {t: (_pyemv_input(v) if isinstance(v, list) else v) for t, v in spec}


def _bertlv_input(spec: Spec) -> list[tuple[int, Any]]:
    return [(int(t, 16), (_bertlv_input(v) if isinstance(v, list) else v)) for t, v in spec]


def _tags_cardkit(data: bytes) -> set[str]:
    return {o.tag.hex().upper() for o in tlv.walk(tlv.decode(data))}


def _tags_spec(spec: Spec) -> set[str]:
    out: set[str] = set()
    for t, v in spec:
        out.add(t)
        if isinstance(v, list):
            out |= _tags_spec(v)
    return out


def _materialise(objs: list[tlv.Tlv]) -> int:
    n = 0
    for o in objs:
        n += 1
        if o.tag[0] & 0x20:
            n += _materialise(o.children)  # type: ignore[arg-type]
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=40, help="timeit repeats (default 40)")
    ap.add_argument("--json", metavar="OUT", help="also write the results as JSON here")
    ap.add_argument("--svg", metavar="OUT", help="also draw the decode timings as an SVG bar chart here")
    args = ap.parse_args(argv)

    payload = b"".join(_cardkit_build(r) for r in RESPONSES)
    want = set().union(*(_tags_spec(r) for r in RESPONSES))
    n_objs = _materialise(tlv.decode(payload))
    assert _tags_cardkit(payload) == want, "cardkit lost tags"
    assert tlv.encode(tlv.decode(payload)) == payload, "cardkit round trip"

    decoded = tlv.decode(payload)
    decoders: dict[str, Callable[[], object]] = {
        "cardkit.tlv.decode": lambda: tlv.decode(payload),
        "cardkit.tlv.decode + read every children": lambda: _materialise(tlv.decode(payload)),
        "cardkit.tlv.flatten(decode())": lambda: tlv.flatten(tlv.decode(payload)),
        "cardkit.tlv.flatten(bytes)": lambda: tlv.flatten(payload),
    }
    encoders: dict[str, Callable[[], object]] = {
        "cardkit.tlv.encode(decoded objects)": lambda: tlv.encode(decoded),
        "cardkit.tlv.build (nested, from tag/value tree)": lambda: b"".join(
            _cardkit_build(r) for r in RESPONSES
        ),
    }
    notes: list[str] = []
    try:
        import pyemv.tlv as pyemv_tlv

        flat = pyemv_tlv.decode(payload, flatten=True)
        missing = want - set(flat) - {t for t in want if int(t[:2], 16) & 0x20}
        if missing:
            notes.append(f"pyemv missed primitive tags {sorted(missing)}")
        assert b"".join(pyemv_tlv.encode(_pyemv_input(r)) for r in RESPONSES) == payload
        notes.append("pyemv returns a dict: duplicate tags (the seven 6F/77/70 templates) overwrite "
                     "each other; compared on the set of primitive tags only")
        decoders["pyemv.tlv.decode"] = lambda: pyemv_tlv.decode(payload)
        decoders["pyemv.tlv.decode(flatten=True)"] = lambda: pyemv_tlv.decode(payload, flatten=True)
        pyemv_in = [_pyemv_input(r) for r in RESPONSES]
        encoders["pyemv.tlv.encode (per response)"] = lambda: b"".join(
            pyemv_tlv.encode(d) for d in pyemv_in
        )
    except ImportError:
        notes.append("pyemv not installed")
    try:
        from ber_tlv.tlv import Tlv as BerTlv

        def bt_tags(items: list[tuple[int, Any]]) -> set[str]:
            out: set[str] = set()
            for t, v in items:
                out.add(f"{t:X}")
                if isinstance(v, list):
                    out |= bt_tags(v)
            return out

        got = bt_tags(BerTlv.parse(payload))
        assert got == want, f"ber-tlv tags differ: {sorted(got ^ want)}"
        assert BerTlv.build(_bertlv_input([x for r in RESPONSES for x in r])) == payload
        decoders["ber_tlv.tlv.Tlv.parse"] = lambda: BerTlv.parse(payload)
        bt_in = _bertlv_input([x for r in RESPONSES for x in r])
        encoders["ber_tlv.tlv.Tlv.build"] = lambda: BerTlv.build(bt_in)
    except ImportError:
        notes.append("ber-tlv not installed")

    results: dict[str, Any] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "payload_bytes": len(payload),
        "payload_objects": n_objs,
        "decode": {k: time_call(f, args.repeat, 200) for k, f in decoders.items()},
        "encode": {k: time_call(f, args.repeat, 200) for k, f in encoders.items()},
        "notes": notes,
    }

    ours = results["decode"]["cardkit.tlv.decode"]["median_us"]
    ours_full = results["decode"]["cardkit.tlv.decode + read every children"]["median_us"]
    ours_flat = results["decode"]["cardkit.tlv.flatten(decode())"]["median_us"]
    peers = {
        k: v["median_us"]
        for k, v in results["decode"].items()
        if not k.startswith("cardkit") and "flatten" not in k
    }
    print(f"payload: {len(payload)} bytes, {n_objs} data objects, Python {platform.python_version()}")
    for section in ("decode", "encode"):
        print(f"\n{section:<48} {'best µs':>9} {'median µs':>10} {'x cardkit':>10}")
        base = results[section][next(iter(results[section]))]["median_us"]
        for name, r in results[section].items():
            print(f"{name:<48} {r['best_us']:9.2f} {r['median_us']:10.2f} {r['median_us'] / base:10.2f}")
    if peers:
        fastest = min(peers, key=peers.__getitem__)
        results["speedup_vs_fastest_peer"] = peers[fastest] / ours
        results["speedup_full_tree_vs_fastest_peer"] = peers[fastest] / ours_full
        print(f"\nfastest peer: {fastest} ({peers[fastest]:.2f} µs median)")
        print(f"cardkit decode is {peers[fastest] / ours:.2f}x faster "
              f"({peers[fastest] / ours_full:.2f}x when every child object is also read)")
        if "pyemv.tlv.decode(flatten=True)" in results["decode"]:
            flat_peer = results["decode"]["pyemv.tlv.decode(flatten=True)"]["median_us"]
            flat_bytes = results["decode"]["cardkit.tlv.flatten(bytes)"]["median_us"]
            results["speedup_flatten_vs_pyemv"] = flat_peer / ours_flat
            results["speedup_flatten_bytes_vs_pyemv"] = flat_peer / flat_bytes
            print(f"tag->value dict vs pyemv decode(flatten=True): flatten(bytes) "
                  f"{flat_peer / flat_bytes:.2f}x, flatten(decode()) {flat_peer / ours_flat:.2f}x")
    for note in notes:
        print(f"note: {note}")

    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.json}")
    if args.svg:
        rows = [(name, r["median_us"]) for name, r in results["decode"].items()]
        bar_chart(Path(args.svg), f"BER-TLV decode of a {len(payload)}-byte EMV transaction (median)", rows, "µs")
        print(f"wrote {args.svg}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
