"""The kernel against the real simulated bank application (applets/bank, docs/bank.md).

Cards are personalized by the issuer's own data preparation (``cardkit.issuer.bank_data`` with the
published demo keys) or by the bank test kit (``tests/bank/kit.py``, whose CDOL2 carries 91), and
run in process behind ``VirtualReader`` + ``CardChannel``. The online side is the issuer
stand-in, which verifies the ARQC from the kernel's ICC data and answers with a real ARPC: a
wrong byte in what the kernel sends, or in the order it sends it, fails these tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime

import pytest

from applets.bank import CREDIT_AID, DEBIT_AID, install_bank
from applets.runtime import SimulatedCard, new_blank_card
from cardkit.crypto.oda import Capk, CapkStore, OdaMethod, OdaReason
from cardkit.emv import (
    CryptogramType,
    CvmResult,
    CvmResults,
    Kernel,
    OnlineRequest,
    OnlineResponse,
    OutcomeKind,
    PinKind,
    PinRequest,
    TerminalConfig,
    TransactionOutcome,
    Tsi,
    Tvr,
)
from cardkit.emv.risk import get_data
from cardkit.emv.selection import select_command
from cardkit.issuer.authorization import ScriptCommand, verify_arqc
from cardkit.issuer.bank_data import BankAccount, BankProduct, prepare_bank_dgis
from cardkit.issuer.demo_keys import demo_capk, demo_issuer
from cardkit.issuer.keys import IssuerKeys
from cardkit.readers import CardChannel, VirtualReader
from pos_sim.issuer_standin import IssuerStandIn
from tests.bank import kit

NOW = datetime(2026, 5, 1, 12, 30, 0)
PAN = "6228480000000000017"
PIN = "123456"


def account(**kw: object) -> BankAccount:
    base: dict[str, object] = dict(pan=PAN, holder_name="TEST/CARDHOLDER", expiry=date(2030, 12, 31),
                                   effective=date(2025, 1, 1), pin=PIN, ec_balance=20_000)
    base.update(kw)
    return BankAccount(**base)  # type: ignore[arg-type]


def make_card(icc_key: object, *, products: tuple[BankProduct, ...] = (BankProduct(),),
              acct: BankAccount | None = None) -> SimulatedCard:
    card = new_blank_card(serial="8986001234567890123")
    install_bank(card, {p.aid: prepare_bank_dgis(acct or account(), demo_issuer(), product=p,
                                                 icc_key=icc_key)  # type: ignore[arg-type]
                        for p in products})
    card.strict = True
    return card


def capks() -> CapkStore:
    store = CapkStore()
    store.add(demo_capk())
    return store


class Host:
    """The issuer stand-in behind the kernel's online callback, keeping every request."""

    def __init__(self, *, decline: str | None = None, tamper_arpc: bool = False, offline: bool = False) -> None:
        self.standin = IssuerStandIn(demo_issuer(), decline_code=decline)
        self.requests: list[OnlineRequest] = []
        self.tamper_arpc = tamper_arpc
        self.offline = offline

    def __call__(self, request: OnlineRequest) -> OnlineResponse | None:
        self.requests.append(request)
        if self.offline:
            return None
        answer = self.standin.authorize(request.data)
        arpc = answer.issuer_auth_data
        if self.tamper_arpc:
            arpc = bytes((arpc[0] ^ 0x01,)) + arpc[1:]
        return OnlineResponse(answer.response_code, arpc=arpc,
                              scripts=b"".join(s.tlv() for s in answer.scripts), auth_code=answer.auth_code)


class Pad:
    def __init__(self, *pins: str | None) -> None:
        self.pins = list(pins)
        self.requests: list[PinRequest] = []

    def __call__(self, request: PinRequest) -> str | None:
        self.requests.append(request)
        return self.pins.pop(0) if self.pins else None


def counter_rng() -> Callable[[int], bytes]:
    state = iter(range(1, 1 << 30))
    return lambda n: bytes((next(state) * 37) & 0xFF for _ in range(n))


def kernel(card: SimulatedCard, *, config: TerminalConfig | None = None, host: Host | None = None,
           pad: Pad | None = None, **kw: object) -> Kernel:
    channel = CardChannel(VirtualReader(card).connect())
    return Kernel(channel, config or TerminalConfig(capk=capks()), pin_entry=pad, online=host,
                  clock=lambda: NOW, rng=counter_rng(), **kw)  # type: ignore[arg-type]


@pytest.fixture
def card(icc_key: object) -> Iterator[SimulatedCard]:
    yield make_card(icc_key)


# ------------------------------------------------------------------------------------ contact


def test_online_approval_with_offline_pin_cda_and_external_authenticate(card: SimulatedCard) -> None:
    host, pad = Host(), Pad(PIN)
    out = kernel(card, host=host, pad=pad).run(1250)
    assert out.kind is OutcomeKind.APPROVED_ONLINE, out.reason
    assert out.response_code == "00" and out.data[0x8A] == b"00" and len(out.data[0x89]) == 6
    # the host verified the ARQC from the kernel's data (a wrong 95/9F37/82 ... would decline)
    assert len(host.requests) == 1
    verify_arqc(demo_issuer(), host.requests[0].data)
    assert host.requests[0].pin_block is None and host.requests[0].pan == PAN
    # ODA: the card and the terminal both do CDA; both GENERATE ACs were signed and verified
    assert out.oda_method is OdaMethod.CDA and out.oda_failure is None
    assert Tvr.CDA_FAILED not in out.tvr and 0x9F4C in out.data
    # CVM: the first rule, offline plaintext PIN, succeeded at the card
    assert out.cvm_results == CvmResults(0x41, 0x03, CvmResult.SUCCESSFUL)
    assert pad.requests[0].kind is PinKind.OFFLINE_PLAINTEXT and pad.requests[0].tries_left == 3
    # risk: floor limit 0 sent it online; the issuer authenticated through EXTERNAL AUTHENTICATE
    assert Tvr.EXCEEDS_FLOOR_LIMIT in out.tvr and Tvr.ISSUER_AUTHENTICATION_FAILED not in out.tvr
    assert out.tsi == (Tsi.ODA_PERFORMED | Tsi.CARDHOLDER_VERIFICATION_PERFORMED | Tsi.CARD_RISK_MANAGEMENT_PERFORMED
                       | Tsi.ISSUER_AUTHENTICATION_PERFORMED | Tsi.TERMINAL_RISK_MANAGEMENT_PERFORMED)
    assert out.data[0x9F27] == bytes((CryptogramType.TC,))
    assert out.aid == DEBIT_AID and out.label == "PBOC DEBIT" and out.masked_pan() == "622848*********0017"
    for tag in (0x9F02, 0x9F03, 0x9F1A, 0x95, 0x5F2A, 0x9A, 0x9C, 0x9F37, 0x82, 0x9F36, 0x9F10, 0x9F26, 0x9F27,
                0x5A, 0x5F34, 0x84, 0x9F34, 0x9F33, 0x9F35, 0x9F09, 0x9F1E, 0x9F41, 0x50, 0x5F24, 0x57):
        assert tag in out.data, f"{tag:X} missing from the outcome"
    assert out.data[0x9A] == bytes.fromhex("260501") and out.data[0x9F02] == bytes.fromhex("000000001250")


def test_wrong_pin_then_right(card: SimulatedCard) -> None:
    pad = Pad("999999", PIN)
    out = kernel(card, host=Host(), pad=pad).run(1250)
    assert out.kind is OutcomeKind.APPROVED_ONLINE
    assert [r.retry for r in pad.requests] == [False, True] and pad.requests[1].tries_left == 2


def test_pin_bypass_falls_to_online_pin(card: SimulatedCard) -> None:
    host, pad = Host(), Pad(None, "4321")
    out = kernel(card, host=host, pad=pad).run(1250)
    assert out.kind is OutcomeKind.APPROVED_ONLINE
    assert Tvr.PIN_NOT_ENTERED in out.tvr and Tvr.ONLINE_PIN_ENTERED in out.tvr
    assert out.cvm_results == CvmResults(0x42, 0x03, CvmResult.UNKNOWN)
    block = host.requests[0].pin_block
    assert block is not None and block.format == 0 and "4321" not in repr(host.requests[0])


def test_offline_approval_below_the_floor_limit(card: SimulatedCard) -> None:
    cfg = TerminalConfig(capk=capks(), floor_limit=100_000)
    host = Host()
    out = kernel(card, config=cfg, host=host, pad=Pad(PIN)).run(1250)
    assert out.kind is OutcomeKind.APPROVED_OFFLINE, out.reason
    assert host.requests == [] and out.response_code == "Y1"
    assert out.oda_method is OdaMethod.CDA and out.oda_failure is None  # the TC was CDA-signed and checked


def test_issuer_decline(card: SimulatedCard) -> None:
    out = kernel(card, host=Host(decline="51"), pad=Pad(PIN)).run(1250)
    assert out.kind is OutcomeKind.DECLINED_ONLINE and out.response_code == "51"
    assert out.data[0x9F27] == bytes((CryptogramType.AAC,))


def test_unable_to_go_online_declines_with_z3(card: SimulatedCard) -> None:
    host = Host(offline=True)
    out = kernel(card, host=host, pad=Pad(PIN)).run(1250)
    assert len(host.requests) == 1
    assert out.kind is OutcomeKind.DECLINED_OFFLINE and out.response_code == "Z3"


def test_unable_to_go_online_approves_with_y3_when_defaults_allow(icc_key: object) -> None:
    product = BankProduct(iac_default=bytes(5))
    card = make_card(icc_key, products=(product,))
    cfg = TerminalConfig(capk=capks(), tac_default=bytes(5))
    out = kernel(card, config=cfg, host=Host(offline=True), pad=Pad(PIN)).run(1250)
    assert out.kind is OutcomeKind.APPROVED_OFFLINE and out.response_code == "Y3", out.reason
    assert out.data[0x9F27] == bytes((CryptogramType.TC,))


def test_tampered_arpc_fails_issuer_authentication_and_the_card_declines(card: SimulatedCard) -> None:
    out = kernel(card, host=Host(tamper_arpc=True), pad=Pad(PIN)).run(1250)
    assert Tvr.ISSUER_AUTHENTICATION_FAILED in out.tvr
    assert out.kind is OutcomeKind.DECLINED_ONLINE and "card declined" in out.reason


def test_issuer_script_blocks_the_application(card: SimulatedCard) -> None:
    host = Host()
    host.standin.queue_script(ScriptCommand.APPLICATION_BLOCK, template=0x72)
    k = kernel(card, host=host, pad=Pad(PIN, PIN))
    out = k.run(1250)
    assert out.kind is OutcomeKind.APPROVED_ONLINE
    assert Tsi.SCRIPT_PROCESSING_PERFORMED in out.tsi and Tvr.SCRIPT_FAILED_AFTER_FINAL_GAC not in out.tvr
    assert out.script_results == bytes.fromhex("2000000000") and out.data[0x9F5B] == out.script_results
    again = k.run(1250)  # the blocked application answers SELECT with 6283: no candidate left
    assert again.kind is OutcomeKind.NOT_ACCEPTED


def test_a_script_the_card_rejects_is_reported(card: SimulatedCard) -> None:
    class BadScriptHost(Host):
        def __call__(self, request: OnlineRequest) -> OnlineResponse | None:
            good = super().__call__(request)
            assert good is not None
            bogus = bytes.fromhex("7115 9F1804 11223344 860C 841E00000800000000000000".replace(" ", ""))
            return OnlineResponse(good.response_code, arpc=good.arpc, scripts=bogus)

    out = kernel(card, host=BadScriptHost(), pad=Pad(PIN)).run(1250)
    assert out.kind is OutcomeKind.APPROVED_ONLINE
    assert Tvr.SCRIPT_FAILED_BEFORE_FINAL_GAC in out.tvr
    assert out.script_results == bytes.fromhex("1111223344")  # failed at command 1, script id 11223344


def test_without_the_capk_cda_fails_and_action_analysis_decides(card: SimulatedCard) -> None:
    out = kernel(card, config=TerminalConfig(), host=Host(), pad=Pad(PIN)).run(1250)
    assert out.oda_method is OdaMethod.CDA and out.oda_failure is OdaReason.CAPK_NOT_FOUND
    assert Tvr.CDA_FAILED in out.tvr and out.kind is OutcomeKind.APPROVED_ONLINE  # TAC online covers CDA failed
    strict = TerminalConfig(tac_denial=bytes.fromhex("0400000000"))
    card2 = kernel(card, config=strict, host=Host(), pad=Pad(PIN)).run(1250)
    assert card2.kind is OutcomeKind.DECLINED_OFFLINE


@pytest.mark.parametrize(("caps", "method"), [("E0F8C0", OdaMethod.DDA), ("E0F880", OdaMethod.SDA)])
def test_dda_and_sda_against_the_card(card: SimulatedCard, caps: str, method: OdaMethod) -> None:
    cfg = TerminalConfig(capk=capks(), capabilities=bytes.fromhex(caps))
    out = kernel(card, config=cfg, host=Host(), pad=Pad(PIN)).run(1250)
    assert out.kind is OutcomeKind.APPROVED_ONLINE
    assert out.oda_method is method and out.oda_failure is None and Tsi.ODA_PERFORMED in out.tsi
    if method is OdaMethod.DDA:
        assert 0x9F4C in out.data
    else:
        assert out.data[0x9F45] == bytes.fromhex("DAC1") and Tvr.SDA_SELECTED in out.tvr


def test_pse_lists_two_applications_and_the_cardholder_chooses(icc_key: object) -> None:
    credit = BankProduct(aid=CREDIT_AID, label="PBOC CREDIT", priority=2)
    card = make_card(icc_key, products=(BankProduct(), credit))
    seen: list[tuple[bytes, ...]] = []

    def choose(candidates):  # type: ignore[no-untyped-def]
        seen.append(tuple(c.aid for c in candidates))
        return candidates[1]

    out = kernel(card, host=Host(), pad=Pad(PIN), choose_application=choose).run(1250)
    assert seen == [(DEBIT_AID, CREDIT_AID)]  # ordered by priority 1, 2
    assert out.kind is OutcomeKind.APPROVED_ONLINE and out.aid == CREDIT_AID and out.label == "PBOC CREDIT"


def test_aid_list_selection_without_pse(card: SimulatedCard) -> None:
    out = kernel(card, config=TerminalConfig(capk=capks(), use_pse=False), host=Host(), pad=Pad(PIN)).run(1250)
    assert out.kind is OutcomeKind.APPROVED_ONLINE and out.aid == DEBIT_AID


def test_expired_card_is_declined_by_the_issuer_action_codes(icc_key: object) -> None:
    card = make_card(icc_key, acct=account(expiry=date(2026, 4, 30)))
    out = kernel(card, host=Host(), pad=Pad(PIN)).run(1250)
    assert Tvr.EXPIRED_APPLICATION in out.tvr
    assert out.kind is OutcomeKind.DECLINED_OFFLINE  # IAC-denial 0050000000 has "expired"


# -------------------------------------------------------------------------------- contactless


def tap(card: SimulatedCard, amount: int, *, host: Host | None = None, pad: Pad | None = None,
        config: TerminalConfig | None = None) -> TransactionOutcome:
    return kernel(card, config=config, host=host, pad=pad).run(amount, contactless=True)


def ec_balance(card: SimulatedCard) -> int:
    """GET DATA 9F79 after a fresh SELECT."""
    channel = CardChannel(VirtualReader(card).connect())
    channel.transmit_ok(select_command(DEBIT_AID))
    raw = get_data(channel, 0x9F79)
    assert raw is not None
    return int(raw.hex())


def test_contactless_electronic_cash_offline_approval_with_fdda(card: SimulatedCard) -> None:
    before = ec_balance(card)
    out = tap(card, 1250)
    assert out.kind is OutcomeKind.APPROVED_OFFLINE, out.reason
    assert out.contactless and out.oda_method is OdaMethod.FDDA and out.oda_failure is None
    assert out.data[0x9F27] == bytes((CryptogramType.TC,)) and out.cvm_results.method == 0x1F
    assert ec_balance(card) == before - 1250


def test_contactless_insufficient_balance_goes_online(card: SimulatedCard) -> None:
    host = Host()
    out = tap(card, 30_000, host=host)  # more than the 200.00 of electronic cash
    assert out.kind is OutcomeKind.APPROVED_ONLINE, out.reason
    verify_arqc(demo_issuer(), host.requests[0].data)  # the ARQC of the GPO, 95 as sent in the PDOL
    assert host.requests[0].contactless


def test_contactless_without_a_host_is_an_online_request(card: SimulatedCard) -> None:
    out = tap(card, 30_000)
    assert out.kind is OutcomeKind.ONLINE_REQUEST and out.data[0x9F27] == bytes((CryptogramType.ARQC,))
    verify_arqc(demo_issuer(), out.data)


def test_contactless_offline_only_reader_and_no_balance_declines(card: SimulatedCard) -> None:
    cfg = TerminalConfig(capk=capks(), terminal_type=0x23)
    out = tap(card, 30_000, config=cfg)
    assert out.kind is OutcomeKind.DECLINED_OFFLINE and out.data[0x9F27] == bytes((CryptogramType.AAC,))


def test_contactless_above_the_cvm_limit_needs_a_cvm(card: SimulatedCard) -> None:
    out = tap(card, 150_000, host=Host(), pad=Pad("4321"))
    assert out.kind is OutcomeKind.APPROVED_ONLINE
    assert out.signature_required or out.online_pin
    assert Tsi.CARDHOLDER_VERIFICATION_PERFORMED in out.tsi


def test_contactless_transaction_limit_means_another_interface(card: SimulatedCard) -> None:
    out = tap(card, 500_000)
    assert out.kind is OutcomeKind.TRY_ANOTHER_INTERFACE and out.aid == b""


def test_contactless_fdda_without_the_capk_is_not_an_offline_approval(card: SimulatedCard) -> None:
    out = tap(card, 1250, config=TerminalConfig(), host=Host())
    assert out.oda_failure is OdaReason.CAPK_NOT_FOUND and Tvr.DDA_FAILED in out.tvr
    assert out.kind in (OutcomeKind.APPROVED_ONLINE, OutcomeKind.DECLINED_ONLINE)
    offline = tap(card, 1250, config=TerminalConfig())
    assert offline.kind is OutcomeKind.DECLINED_OFFLINE


# --------------------------------------------------- the bank test kit's card: 91 in CDOL2


def test_issuer_authentication_through_cdol2_on_the_kit_card() -> None:
    pki = kit.make_pki()
    card = kit.make_card(kit.make_dgis(pki))
    card.power_off()
    test_ca = pki.ca.capk
    capk = Capk(DEBIT_AID[:5], test_ca.index, test_ca.modulus, test_ca.exponent)  # the kit's TEST CA under A000000333
    store = CapkStore()
    store.add(capk)
    issuer = IssuerKeys(kit.IMK_AC, kit.IMK_SMI, kit.IMK_SMC, pki.issuer_key, pki.issuer_cert, capk)

    def run(tamper: bool) -> tuple[TransactionOutcome, list[bytes]]:
        host = Host(tamper_arpc=tamper)
        host.standin = IssuerStandIn(issuer)
        k = kernel(card, config=TerminalConfig(capk=store), host=host, pad=Pad(kit.PIN))
        sent: list[bytes] = []
        k.channel.connection.hooks.append(lambda c, r, t: sent.append(c))
        return k.run(1250), sent

    out, sent = run(False)
    assert out.kind is OutcomeKind.APPROVED_ONLINE, out.reason
    assert not any(c[1] == 0x82 for c in sent)  # no EXTERNAL AUTHENTICATE: 91 went in CDOL2
    assert Tsi.ISSUER_AUTHENTICATION_PERFORMED in out.tsi and out.oda_failure is None
    bad, _ = run(True)
    assert bad.kind is OutcomeKind.DECLINED_ONLINE and bad.data[0x9F27] == bytes((CryptogramType.AAC,))
