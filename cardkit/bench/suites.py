"""The suites: smoke, emv, transit and eid, each a list of checks built for one run.

Checks that need the demo card's keys (an issuer stand-in, a PSAM, the MRZ) skip themselves on
another card (:meth:`Context.require_demo`); everything else works on any citizen card.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from cardkit.apdu import SW, CommandAPDU
from cardkit.bench.checks import Check, Context, Failed, Skipped
from cardkit.citizen import KNOWN_APPLICATIONS
from cardkit.eid import EID_AID
from cardkit.emv import Kernel
from cardkit.errors import CardkitError
from cardkit.purse import TRANSIT_AID

__all__ = ["SUITES", "build_suite", "is_demo_card", "parse_atr"]

DEBIT_AID = bytes.fromhex("A000000333010101")
TAG_PIN_TRIES = 0x9F17

#: Malformed commands and the status words a card may answer them with (ISO 7816-4 §5.6).
MALFORMED: tuple[tuple[str, bytes, frozenset[int]], ...] = (
    ("unknown INS", bytes.fromhex("00FE0000"), frozenset({SW.INS_NOT_SUPPORTED})),
    ("invalid CLA FF", bytes.fromhex("FFA40000"), frozenset({SW.CLA_NOT_SUPPORTED, 0x6800})),
    ("header cut short", bytes.fromhex("00A4"), frozenset({SW.WRONG_LENGTH})),
    ("Lc longer than the data", bytes.fromhex("00A404000CA000000632010105"), frozenset({SW.WRONG_LENGTH})),
    ("wrong P1-P2 of SELECT", bytes.fromhex("00A404FF08A000000632010105"),
     frozenset({SW.INCORRECT_P1P2, SW.WRONG_P1P2, SW.FUNCTION_NOT_SUPPORTED})),
)


# -------------------------------------------------------------------------------------- helpers
def parse_atr(atr: bytes) -> tuple[list[str], bytes]:
    """The protocols an ATR offers (``T=0`` implicit without TD1) and its historical bytes (7816-3 §8)."""
    if len(atr) < 2 or atr[0] not in (0x3B, 0x3F):
        raise Failed(f"ATR {atr.hex().upper()} does not start with TS 3B or 3F")
    t0 = atr[1]
    k, y, i = t0 & 0x0F, t0 >> 4, 2
    protocols: list[str] = []
    while True:
        i += bin(y & 0x7).count("1")  # TA, TB, TC
        if not y & 0x8:
            break
        if i >= len(atr):
            raise Failed("ATR ends inside its interface bytes")
        td = atr[i]
        i += 1
        proto = f"T={td & 0x0F}"
        if proto not in protocols:
            protocols.append(proto)
        y = td >> 4
    historical = atr[i : i + k]
    if len(historical) != k:
        raise Failed(f"ATR announces {k} historical bytes, carries {len(historical)}")
    return protocols or ["T=0"], historical


def _selectable(ctx: Context, aid: bytes) -> bool:
    return ctx.channel.transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x00, aid, le=256)).sw == SW.OK


def is_demo_card(ctx: Context) -> bool:
    """Whether the card is the demo card: its transit purse has the demo serial (cached)."""
    if "demo" not in ctx.facts:
        from cardkit.purse import PurseClient
        from pos_sim.demo_card import DEMO_TRANSIT_SERIAL

        try:
            ctx.facts["demo"] = PurseClient(ctx.channel).select().serial == DEMO_TRANSIT_SERIAL
        except CardkitError:
            ctx.facts["demo"] = False
    return ctx.facts["demo"] is True


# ---------------------------------------------------------------------------------------- smoke
def _atr(ctx: Context) -> str:
    protocols, historical = parse_atr(ctx.connection.atr)
    if not set(protocols) & {"T=0", "T=1"}:
        raise Failed(f"the ATR offers {', '.join(protocols)}: neither T=0 nor T=1")
    return f"{' '.join(protocols)}; historical bytes {historical.hex(' ').upper() or 'none'}"


def _select(aid: bytes, name: str) -> Callable[[Context], str]:
    def check(ctx: Context) -> str:
        sw = ctx.channel.transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x00, aid, le=256)).sw
        if sw == SW.OK:
            return f"{name} selected"
        if sw in (SW.FILE_NOT_FOUND, SW.FUNCTION_NOT_SUPPORTED, SW.SELECTED_FILE_INVALIDATED):
            raise Skipped(f"{name} is not on this card (SW {sw:04X})")
        raise Failed(f"SELECT {name} answered {sw:04X}")
    return check


def _malformed(label: str, capdu: bytes, expected: frozenset[int]) -> Callable[[Context], str]:
    def check(ctx: Context) -> str:
        try:
            rapdu = ctx.connection.transmit(capdu)
        except CardkitError as exc:
            raise Failed(f"{label}: no answer ({exc})") from None
        if len(rapdu) < 2:
            raise Failed(f"{label}: answer of {len(rapdu)} bytes has no status word")
        sw = int.from_bytes(rapdu[-2:], "big")
        if sw not in expected:
            allowed = "/".join(f"{s:04X}" for s in sorted(expected))
            raise Failed(f"{label}: SW {sw:04X}, expected {allowed}")
        return f"{label}: {sw:04X}"
    return check


def smoke() -> list[Check]:
    checks = [Check("ATR parsed", _atr)]
    checks += [Check(f"SELECT {name}", _select(aid, name)) for aid, (_, name) in KNOWN_APPLICATIONS.items()]
    checks += [Check(f"malformed: {label}", _malformed(label, c, e)) for label, c, e in MALFORMED]
    return checks


# ------------------------------------------------------------------------------------------ emv
def _kernel(ctx: Context, aid: bytes | None = None) -> Kernel:
    from cardkit.crypto.oda import CapkStore
    from cardkit.emv import SupportedAid, TerminalConfig
    from cardkit.issuer.demo_keys import demo_capk, demo_issuer
    from pos_sim.demo_card import DEMO_PIN
    from pos_sim.issuer_standin import IssuerStandIn

    store = CapkStore()
    store.add(demo_capk())
    config = TerminalConfig(capk=store)
    if aid is not None:
        config = replace(config, aids=(SupportedAid(aid, partial_match=False),), use_pse=False)
    return Kernel(ctx.channel, config, pin_entry=lambda _r: DEMO_PIN, online=IssuerStandIn(demo_issuer()).online)


def _emv_read(aid: bytes, name: str) -> Callable[[Context], str]:
    def check(ctx: Context) -> str:
        from cardkit.emv.reading import read_card

        if not _selectable(ctx, aid):
            raise Skipped(f"{name} is not on this card")
        apps = read_card(_kernel(ctx, aid)).applications
        if not apps:
            raise Failed(f"{name}: no application read")
        app = apps[0]
        if app.error:
            raise Failed(f"{name}: {app.error}")
        if 0x5A not in app.data:
            raise Failed(f"{name}: no PAN (5A) in the records")
        return f"{name}: {len(app.records)} records, ODA {app.oda_method.name if app.oda_method else 'none'}"
    return check


def _transaction(contactless: bool, amount: int) -> Callable[[Context], str]:
    def check(ctx: Context) -> str:
        ctx.require_demo("a transaction with the issuer stand-in and the demo CAPK")
        outcome = _kernel(ctx).run(amount, contactless=contactless)
        if not outcome.approved:
            raise Failed(f"declined: {outcome.reason}")
        return f"approved: {outcome.reason}"
    return check


def _pin_tries(ctx: Context) -> int:
    resp = ctx.channel.transmit(CommandAPDU(0x80, 0xCA, 0x9F, 0x17, le=256))
    if resp.sw != SW.OK or len(resp.data) < 4:
        raise Failed(f"GET DATA 9F17 answered {resp.sw:04X}")
    return resp.data[-1]


def _verify(ctx: Context, pin: str) -> int:
    from cardkit.crypto.pin import encode_pin_block

    block = encode_pin_block(pin, format=2).reveal()
    return ctx.channel.transmit(CommandAPDU(0x00, 0x20, 0x00, 0x80, block), sensitive=True).sw


def _pin_counter(ctx: Context) -> str:
    ctx.require_demo("the PIN counter check (it needs the PIN)")
    from pos_sim.demo_card import DEMO_PIN

    kernel = _kernel(ctx, DEBIT_AID)
    kernel.select_and_initiate(kernel.start(0))
    before = _pin_tries(ctx)
    wrong = "0" * len(DEMO_PIN) if DEMO_PIN != "0" * len(DEMO_PIN) else "1" * len(DEMO_PIN)
    sw = _verify(ctx, wrong)
    after_wrong = _pin_tries(ctx)
    if sw != 0x63C0 | after_wrong or after_wrong != before - 1:
        raise Failed(f"a wrong PIN answered {sw:04X} and left 9F17 at {after_wrong} (was {before})")
    sw = _verify(ctx, DEMO_PIN)
    after_right = _pin_tries(ctx)
    if sw != SW.OK or after_right != before:
        raise Failed(f"the right PIN answered {sw:04X} and left 9F17 at {after_right} (was {before})")
    return f"9F17 {before} → {after_wrong} after a wrong PIN → {after_right} after the right one"


def emv(repeat: int) -> list[Check]:
    checks = [Check(f"read {name}", _emv_read(aid, name))
              for aid, (kind, name) in KNOWN_APPLICATIONS.items() if kind == "bank"]
    checks += [Check("contact transaction (online, stand-in)", _transaction(False, 1250)),
               Check("contactless transaction", _transaction(True, 1)),
               Check("PIN try counter", _pin_counter)]
    checks += [Check(f"contactless {i}/{repeat}", _transaction(True, 1), "emv-contactless")
               for i in range(1, repeat + 1)]
    return checks


# -------------------------------------------------------------------------------------- transit
def _balance(ctx: Context) -> str:
    from cardkit.purse import PurseClient

    if not _selectable(ctx, TRANSIT_AID):
        raise Skipped("the transit purse is not on this card")
    info = PurseClient(ctx.channel).select()
    ctx.facts["transit-balance"] = info.balance
    return f"balance {info.balance / 100:.2f}"


def _tap(ctx: Context) -> str:
    ctx.require_demo("a tap (it needs the demo PSAM keys)")
    from cardkit.issuer.demo_keys import DEMO_PURSE_MPK, DEMO_PURSE_MTK
    from cardkit.purse import Psam
    from pos_sim.transit import Validator, demo_rules

    n = int(ctx.facts.get("taps", 0))  # type: ignore[call-overload]
    ctx.facts["taps"] = n + 1
    rules = replace(demo_rules(), bands=((100.0, 1),), max_fare=1, min_entry_balance=0, transfer_discount=0)
    station = rules.station(("Xizhimen", "Dongzhimen")[n % 2])
    when = datetime(2026, 12, 1, 8, 0, 0) + timedelta(minutes=10 * (n + 1))
    psam = Psam(DEMO_PURSE_MPK, DEMO_PURSE_MTK, terminal_id=bytes.fromhex("000100000101"))
    tap = Validator(rules, psam, station, clock=lambda: when).tap(ctx.channel)
    if not tap.gate_open:
        raise Failed(f"the gate stayed closed: {tap.reason}")
    return f"{tap.action.name.lower()} at {station.name}"


def _transit_log(ctx: Context) -> str:
    from cardkit.purse import PurseClient

    if not _selectable(ctx, TRANSIT_AID):
        raise Skipped("the transit purse is not on this card")
    client = PurseClient(ctx.channel)
    client.select()
    entries = client.log()
    exits = int(ctx.facts.get("taps", 0)) // 2  # type: ignore[call-overload]
    if exits and not entries:
        raise Failed(f"{exits} paid exits and an empty log")
    counters = [e.counter for e in entries]
    if counters != sorted(counters, reverse=True):
        raise Failed(f"log counters are not newest first: {counters}")
    return f"{len(entries)} log entries"


def transit(repeat: int) -> list[Check]:
    taps = [Check(f"tap {i}/{2 * repeat}", _tap, "transit-tap") for i in range(1, 2 * repeat + 1)]
    return [Check("balance", _balance), *taps, Check("log", _transit_log)]


# ------------------------------------------------------------------------------------------ eid
def _mrz() -> tuple[str, str, str]:
    from pos_sim.demo_card import DEMO_BIRTH, DEMO_DOCUMENT_NUMBER, DEMO_EXPIRY

    return DEMO_DOCUMENT_NUMBER, DEMO_BIRTH, DEMO_EXPIRY


def _need_eid(ctx: Context) -> None:
    if not _selectable(ctx, EID_AID):
        raise Skipped("the ID application is not on this card")


def _eid_read(ctx: Context) -> str:
    _need_eid(ctx)
    ctx.require_demo("BAC with the demo MRZ")
    from cardkit.eid import read_id
    from cardkit.issuer.demo_keys import demo_csca

    identity, verdict = read_id(ctx.channel, *_mrz(), trust=(demo_csca()[1],), photo=False)
    problems = [why for ok, why in ((verdict.passive_ok, f"passive: {verdict.passive_reason}"),
                                    (verdict.chain_ok is True, f"chain: {verdict.chain_reason}"),
                                    (verdict.active_ok is True, f"active: {verdict.active_reason}")) if not ok]
    if problems:
        raise Failed("; ".join(problems))
    return f"{identity.mrz.document_number}: passive, chain and active authentication verified"


def _wrong_mrz(ctx: Context) -> str:
    _need_eid(ctx)
    from cardkit.eid import AccessDenied, EidReader

    _, birth, expiry = _mrz()
    try:
        EidReader(ctx.channel).open("X00000000", birth, expiry)
    except AccessDenied as exc:
        return f"access denied: {exc}"
    raise Failed("BAC with a wrong document number succeeded")


def _dg1(ctx: Context) -> str:
    _need_eid(ctx)
    ctx.require_demo("BAC with the demo MRZ")
    from cardkit.eid import EidReader
    from cardkit.eid.lds import File

    reader = EidReader(ctx.channel)
    reader.open(*_mrz())
    return f"DG1: {len(reader.read_file(File.DG1))} bytes"


def eid(repeat: int) -> list[Check]:
    return [Check("BAC, read, passive + active authentication", _eid_read),
            Check("wrong MRZ is denied", _wrong_mrz),
            *[Check(f"BAC + DG1 {i}/{repeat}", _dg1, "eid-dg1") for i in range(1, repeat + 1)]]


#: Suite name → builder of its checks (given the repeat count). ``full`` runs them in this order.
SUITES: dict[str, Callable[[int], list[Check]]] = {
    "smoke": lambda _repeat: smoke(), "emv": emv, "transit": transit, "eid": eid,
}


def build_suite(name: str, repeat: int) -> list[tuple[str, Check]]:
    """``(suite, check)`` pairs of ``name`` (``full`` = every suite)."""
    names = list(SUITES) if name == "full" else [name]
    if any(n not in SUITES for n in names):
        raise KeyError(name)
    return [(n, c) for n in names for c in SUITES[n](repeat)]
