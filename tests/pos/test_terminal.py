"""The POS terminal on the demo card (in process) against the real host (in process, through the
ISO 8583 codec): every operation, and every way a transaction can go wrong between tap and receipt."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from applets.runtime import SimulatedCard
from cardkit import tlv
from cardkit.emv import OutcomeKind, Tsi, Tvr
from cardkit.issuer.demo_keys import DEMO_PAN
from cardkit.readers import CardChannel, VirtualReader
from pos_sim.config import PosConfig
from pos_sim.demo_card import DEMO_PIN, make_demo_card
from pos_sim.host import Host, InProcessHostLink
from pos_sim.journal import EntryStatus, Journal
from pos_sim.terminal import PosError, Terminal

NOW = datetime(2026, 12, 1, 10, 30, 0)


class Pad:
    """A PIN pad that types the given PINs in turn, then bypasses."""

    def __init__(self, *pins: str | None) -> None:
        self.pins: list[str | None] = list(pins)

    def __call__(self, request: object) -> str | None:
        return self.pins.pop(0) if self.pins else None


class Bench:
    """A demo card, an in-process host with the demo accounts, a journal, and a terminal."""

    def __init__(self, tmp: Path) -> None:
        self.card: SimulatedCard = make_demo_card()
        self.host = Host(tmp / "host.sqlite", clock=lambda: NOW)
        self.host.seed_demo_accounts()
        self.link = InProcessHostLink(self.host)
        self.journal = Journal(tmp / "journal.sqlite")
        self.config = PosConfig.demo(journal=tmp / "journal.sqlite")
        self.pad = Pad(DEMO_PIN, DEMO_PIN, DEMO_PIN)
        self.terminal = self.new_terminal()

    def new_terminal(self, link: object | None = None) -> Terminal:
        return Terminal(self.config, self.journal, link or self.link, pin_entry=self.pad,  # type: ignore[arg-type]
                        clock=lambda: NOW)

    def channel(self) -> CardChannel:
        return CardChannel(VirtualReader(self.card).connect())

    def balance(self, pan: str = DEMO_PAN) -> int:
        return self.host.account(pan).balance


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Bench]:
    b = Bench(tmp_path)
    yield b
    b.journal.close()
    b.host.close()


def test_sale_is_approved_online_journaled_and_debited(bench: Bench) -> None:
    before = bench.balance()
    result = bench.terminal.sale(bench.channel(), 1250)
    assert result.approved and result.outcome is not None
    assert result.outcome.kind is OutcomeKind.APPROVED_ONLINE
    assert Tsi.ISSUER_AUTHENTICATION_PERFORMED in result.outcome.tsi  # the host's ARPC satisfied the card
    assert Tvr.ISSUER_AUTHENTICATION_FAILED not in result.outcome.tvr
    entry = bench.journal.get(result.entry.id)
    assert entry.status is EntryStatus.APPROVED and entry.response_code == "00" and entry.auth_code
    assert entry.pan_masked == "622848*********0018" and "52" not in entry.request
    assert entry.outcome is not None
    assert entry.outcome["cryptogram_type"] == "TC" and entry.outcome["cvm"] == "PIN_OFFLINE"
    assert bench.balance() == before - 1250


def test_contactless_small_sale_is_approved_offline_from_electronic_cash(bench: Bench) -> None:
    before = bench.balance()
    result = bench.terminal.sale(bench.channel(), 300, contactless=True)
    assert result.approved and result.outcome is not None and result.outcome.kind is OutcomeKind.APPROVED_OFFLINE
    assert result.entry.status is EntryStatus.APPROVED and result.entry.request["t"] == "0220"  # an advice, after
    assert bench.balance() == before  # electronic cash: the card's own balance paid


def test_insufficient_funds_is_declined_51(bench: Bench) -> None:
    bench.host.add_account(DEMO_PAN, balance=1000, expiry="4912", pin=DEMO_PIN)
    result = bench.terminal.sale(bench.channel(), 1250)
    assert not result.approved and result.entry.status is EntryStatus.DECLINED
    assert result.entry.response_code == "51" and "51" in result.reason
    assert bench.balance() == 1000


def test_wrong_online_pin_is_declined_55(bench: Bench) -> None:
    bench.pad.pins = [None, "000000"]  # offline PIN bypassed: the CVM list's next rule is online PIN
    result = bench.terminal.sale(bench.channel(), 1250)
    assert not result.approved and result.entry.response_code == "55"
    assert result.outcome is not None and Tvr.ONLINE_PIN_ENTERED in result.outcome.tvr


def test_right_online_pin_is_approved(bench: Bench) -> None:
    bench.pad.pins = [None, DEMO_PIN]
    result = bench.terminal.sale(bench.channel(), 1250)
    assert result.approved and result.entry.outcome is not None and result.entry.outcome["cvm"] == "PIN_ONLINE"


def test_a_lost_reply_is_reversed_exactly_once(bench: Bench) -> None:
    before = bench.balance()
    bench.host.faults.lose_replies = 1
    result = bench.terminal.sale(bench.channel(), 1250)
    assert not result.approved and result.reversed
    assert bench.journal.get(result.entry.id).status is EntryStatus.REVERSED
    assert bench.balance() == before  # posted, then undone by the 0400
    assert bench.terminal.recover() == [] and bench.balance() == before


class CorruptArpc:
    """A link that flips a bit of the ARPC (tag 91) in every reply: the card must refuse it."""

    def __init__(self, inner: InProcessHostLink) -> None:
        self.inner = inner

    def exchange(self, fields: dict[str, str | bytes]) -> dict[str, str | bytes]:
        reply = self.inner.exchange(fields)
        icc = reply.get("55")
        if isinstance(icc, bytes):
            objs = [tlv.Tlv(o.tag, bytes((o.value[0] ^ 1,)) + o.value[1:]) if o.tag == b"\x91" else o
                    for o in tlv.decode(icc)]
            reply["55"] = tlv.encode(objs)
        return reply


def test_card_declining_after_host_approval_reverses(bench: Bench) -> None:
    before = bench.balance()
    result = bench.new_terminal(CorruptArpc(bench.link)).sale(bench.channel(), 1250)
    assert not result.approved and result.reversed
    assert result.outcome is not None and Tvr.ISSUER_AUTHENTICATION_FAILED in result.outcome.tvr
    assert bench.journal.get(result.entry.id).status is EntryStatus.REVERSED and bench.balance() == before


class CrashAfterSend:
    """The host posts the request, then the terminal 'dies' before it hears the reply."""

    def __init__(self, inner: InProcessHostLink) -> None:
        self.inner = inner

    def exchange(self, fields: dict[str, str | bytes]) -> dict[str, str | bytes]:
        self.inner.exchange(fields)
        raise SystemExit("killed")


def test_a_crash_mid_transaction_is_reversed_at_start_up(bench: Bench) -> None:
    before = bench.balance()
    with pytest.raises(SystemExit):
        bench.new_terminal(CrashAfterSend(bench.link)).sale(bench.channel(), 1250)
    assert bench.balance() == before - 1250  # the host took it; the terminal never knew
    [pending] = bench.journal.incomplete()
    assert bench.new_terminal().recover() == []
    assert bench.journal.get(pending.id).status is EntryStatus.REVERSED and bench.balance() == before


def test_an_unprinted_approval_is_returned_for_reprint(bench: Bench) -> None:
    result = bench.terminal.sale(bench.channel(), 500)
    assert [e.id for e in bench.new_terminal().recover()] == [result.entry.id]
    bench.journal.mark_printed(result.entry.id)
    assert bench.new_terminal().recover() == []


def test_unacknowledged_reversal_stays_pending_until_the_host_answers(bench: Bench) -> None:
    before = bench.balance()
    bench.host.faults.lose_replies = 1 + 3  # the sale's reply and every reversal attempt of this pass
    result = bench.terminal.sale(bench.channel(), 1250)
    assert bench.journal.get(result.entry.id).status is EntryStatus.REVERSAL_PENDING
    with pytest.raises(PosError, match="reversals are still pending"):
        bench.host.faults.offline = True
        bench.terminal.settle()
    bench.host.faults.offline = False
    assert bench.terminal.send_reversals() == 0 and bench.balance() == before


def test_void_undoes_the_sale(bench: Bench) -> None:
    before = bench.balance()
    sale = bench.terminal.sale(bench.channel(), 2000)
    void = bench.terminal.void(bench.channel(), sale.entry.stan)
    assert void.approved and bench.journal.get(sale.entry.id).status is EntryStatus.VOIDED
    assert bench.balance() == before
    with pytest.raises(PosError, match="voided"):
        bench.terminal.void(bench.channel(), sale.entry.stan)


def test_refund_of_a_sale_credits_the_account(bench: Bench) -> None:
    before = bench.balance()
    sale = bench.terminal.sale(bench.channel(), 2000)
    refund = bench.terminal.refund(bench.channel(), 500, original_stan=sale.entry.stan)
    assert refund.approved and refund.entry.kind == "refund"
    assert bench.balance() == before - 1500
    with pytest.raises(PosError, match="exceeds"):
        bench.terminal.refund(bench.channel(), 2500, original_stan=sale.entry.stan)


def test_preauth_then_completion(bench: Bench) -> None:
    before = bench.balance()
    hold = bench.terminal.preauth(bench.channel(), 10_000)
    assert hold.approved and hold.entry.kind == "preauth" and hold.entry.auth_code
    done = bench.terminal.complete(bench.channel(), hold.entry.stan, 8_000)
    assert done.approved and bench.balance() == before - 8_000
    with pytest.raises(PosError, match="exceeds"):
        bench.terminal.complete(bench.channel(), hold.entry.stan, 20_000)


def test_balance_inquiry_shows_the_balance(bench: Bench) -> None:
    result = bench.terminal.balance(bench.channel())
    assert result.approved and result.balance is not None
    assert result.balance == bench.balance() / 100


def test_settlement_in_balance_then_a_new_batch(bench: Bench) -> None:
    bench.terminal.sale(bench.channel(), 1000)
    bench.terminal.sale(bench.channel(), 2000)
    batch = bench.journal.current_batch()
    balanced, totals, code = bench.terminal.settle()
    assert balanced and code == "00" and (totals.debits, totals.debits_amount) == (2, 3000)
    assert bench.journal.current_batch() == batch + 1



def test_the_sale_receipt_field_by_field(bench: Bench) -> None:
    from decimal import Decimal

    from pos_sim.receipt import Copy, Cvm, render_text

    result = bench.terminal.sale(bench.channel(), 1250)
    entry = result.entry
    receipt = bench.terminal.receipt(entry, Copy.CUSTOMER)
    assert (receipt.mid, receipt.tid, receipt.trace, receipt.batch) == (bench.config.mid, bench.config.tid,
                                                                        entry.stan, entry.batch)
    assert receipt.amount == Decimal("12.50") and receipt.currency == "CNY" and receipt.kind == "sale"
    assert receipt.pan_masked == "622848*********0018" and receipt.label == "PBOC DEBIT"
    assert receipt.aid == "A000000333010101" and receipt.auth_code == entry.auth_code and receipt.rrn == entry.rrn
    assert receipt.cryptogram_type == "TC" and len(receipt.cryptogram) == 16 and receipt.cvm is Cvm.PIN_OFFLINE
    assert result.outcome is not None
    assert receipt.tvr == result.outcome.tvr.to_bytes().hex().upper()
    assert receipt.atc == result.outcome.get(0x9F36).hex().upper()  # type: ignore[union-attr]
    text = render_text(receipt, width=32)
    assert "12.50" in text and "622848*********0018" in text and "6228480000000000018" not in text
    assert receipt.approved and bench.config.merchant_name_zh in text


def test_a_declined_receipt_says_why(bench: Bench) -> None:
    from pos_sim.receipt import render_text

    bench.host.add_account(DEMO_PAN, balance=1000, expiry="4912", pin=DEMO_PIN)
    result = bench.terminal.sale(bench.channel(), 1250)
    receipt = bench.terminal.receipt(result.entry)
    assert not receipt.approved and receipt.decline_reason and receipt.response_code == "51"
    assert "DECLINED" in render_text(receipt, width=42)


def test_the_balance_receipt_shows_the_balance(bench: Bench) -> None:
    result = bench.terminal.balance(bench.channel())
    receipt = bench.terminal.receipt(result.entry)
    assert receipt.balance == result.balance and receipt.kind == "balance"


class Wire:
    """Keeps the bytes of every message the terminal sends, as the TCP link would put them on the wire."""

    def __init__(self, inner: InProcessHostLink) -> None:
        self.inner = inner
        self.sent: list[bytes] = []

    def exchange(self, fields: dict[str, str | bytes]) -> dict[str, str | bytes]:
        from pos_sim.host import encode_message

        self.sent.append(encode_message(fields))
        return self.inner.exchange(fields)


def test_the_terminals_messages_decode_with_pyiso8583s_published_spec(bench: Bench) -> None:
    """Independent of our codec: pyiso8583's own decoder with its published default spec."""
    import iso8583
    from iso8583.specs import default as published

    wire = Wire(bench.link)
    terminal = bench.new_terminal(wire)
    bench.pad.pins = [None, DEMO_PIN]  # offline PIN bypassed: an online PIN block goes in field 52
    sale = terminal.sale(bench.channel(), 1250)
    terminal.void(bench.channel(), sale.entry.stan)
    terminal.settle()
    docs = [iso8583.decode(raw, published)[0] for raw in wire.sent]
    assert [d["t"] for d in docs] == ["0200", "0200", "0500"]
    first = docs[0]
    assert (first["2"], first["3"], first["4"], first["49"]) == ("6228480000000000018", "000000", "000000001250", "156")
    assert first["11"] == sale.entry.stan and first["41"] == bench.config.tid and first["42"] == bench.config.mid
    assert first["22"] == "051" and len(first["52"]) == 16  # 8 bytes, hex: enciphered, never the clear block
    icc = tlv.flatten(bytes.fromhex(first["55"]))
    assert icc[b"\x9f\x02"] == bytes.fromhex("000000001250") and icc[b"\x9f\x27"] == b"\x80"  # the ARQC
    void = docs[1]
    assert void["3"] == "020000" and void["61"].startswith(sale.entry.stan)
    assert docs[2]["76"] == "0000000000" and docs[2]["88"] == "0" * 16  # the sale was voided: nothing to settle


def _ec_balance(bench: Bench) -> int:
    from cardkit.emv.risk import get_data
    from cardkit.emv.selection import select_command

    channel = bench.channel()
    channel.transmit(select_command(bytes.fromhex("A000000333010101")))
    raw = get_data(channel, 0x9F79)
    assert raw is not None
    return int(raw.hex())


def test_electronic_cash_top_up_raises_the_card_balance(bench: Bench) -> None:
    before_card, before_account = _ec_balance(bench), bench.balance()
    result = bench.terminal.ec_load(bench.channel(), 10_000)
    assert result.approved, result.reason
    assert result.outcome is not None and Tsi.SCRIPT_PROCESSING_PERFORMED in result.outcome.tsi
    assert _ec_balance(bench) == before_card + 10_000 and bench.balance() == before_account - 10_000
    balanced, totals, code = bench.terminal.settle()  # the host counts an EC load as a debit: so do we
    assert balanced and code == "00" and totals.debits_amount == 10_000


def test_a_top_up_over_the_card_limit_is_reversed(bench: Bench) -> None:
    before_card, before_account = _ec_balance(bench), bench.balance()
    result = bench.terminal.ec_load(bench.channel(), 60_000)  # 500.00 + 600.00 > the 1000.00 EC limit (9F77)
    assert not result.approved and result.reversed and "refused" in result.reason
    assert _ec_balance(bench) == before_card and bench.balance() == before_account


def test_an_offline_tap_is_advised_and_the_batch_settles_in_balance(bench: Bench) -> None:
    tap = bench.terminal.sale(bench.channel(), 300, contactless=True)
    sale = bench.terminal.sale(bench.channel(), 1250)
    assert tap.approved and sale.approved and tap.entry.request["t"] == "0220"
    balanced, totals, code = bench.terminal.settle()
    assert (balanced, code, totals.debits, totals.debits_amount) == (True, "00", 2, 1550)


def test_an_advice_the_host_never_got_shows_at_settlement(bench: Bench) -> None:
    bench.host.faults.offline = True
    tap = bench.terminal.sale(bench.channel(), 300, contactless=True)
    assert tap.approved  # the card decided: the sale stands
    bench.host.faults.offline = False
    balanced, _, code = bench.terminal.settle()
    assert not balanced and code == "95"
