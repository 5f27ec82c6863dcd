"""Reversals undo exactly once and are harmless blind; settlement compares the batch totals."""

from __future__ import annotations

import pytest

from pos_sim.host import Host, HostTimeout, InProcessHostLink, open_host_link

from .kit import DEMO_PAN, Card, Terminal

START = 1_000_000


def test_reversal_undoes_exactly_once(host: Host, link: InProcessHostLink, terminal: Terminal,
                                      debit_card: Card) -> None:
    sale = terminal.financial(debit_card.arqc(2_500))
    assert link.exchange(sale)["39"] == "00"
    reversal = terminal.reversal(sale)
    reply = link.exchange(reversal)
    assert (reply["t"], reply["39"], reply["90"]) == ("0410", "00", reversal["90"])
    assert host.account(DEMO_PAN).balance == START
    assert link.exchange(reversal)["39"] == "00"  # the same 0400 again
    assert link.exchange(terminal.reversal(sale))["39"] == "00"  # another 0400 for it, new STAN
    assert link.exchange(reversal | {"t": "0401"})["t"] == "0411"  # a repeat
    assert host.account(DEMO_PAN).balance == START
    assert host.ledger.count("state = 'reversed'") == 1


def test_lost_reply_then_reversal(host: Host, link: InProcessHostLink, terminal: Terminal,
                                  debit_card: Card) -> None:
    sale = terminal.financial(debit_card.arqc(9_900))
    host.faults.lose_replies = 1
    with pytest.raises(HostTimeout):
        link.exchange(sale)
    assert host.account(DEMO_PAN).balance == START - 9_900  # processed and posted, only the reply was lost
    assert link.exchange(terminal.reversal(sale))["39"] == "00"
    assert host.account(DEMO_PAN).balance == START


def test_reversal_of_an_unknown_original_is_harmless_and_blocks_it(host: Host, link: InProcessHostLink,
                                                                   terminal: Terminal, debit_card: Card) -> None:
    sale = terminal.financial(debit_card.arqc(1_234))
    assert link.exchange(terminal.reversal(sale))["39"] == "00"  # sent blindly: never posted
    assert host.account(DEMO_PAN).balance == START
    assert link.exchange(sale)["39"] == "94"  # the original arriving late must not charge the card
    assert host.account(DEMO_PAN).balance == START


def test_reversal_of_a_declined_void_and_completion(host: Host, link: InProcessHostLink, terminal: Terminal,
                                                    debit_card: Card) -> None:
    declined = terminal.financial(debit_card.arqc(START + 1))
    assert link.exchange(declined)["39"] == "51"
    assert link.exchange(terminal.reversal(declined))["39"] == "00"
    sale = terminal.financial(debit_card.arqc(600))
    assert link.exchange(sale)["39"] == "00"
    void = terminal.financial(amount=600, proc="020000", **{"61": f"{sale['11']}{sale['7']}"})
    assert link.exchange(void)["39"] == "00"
    assert link.exchange(terminal.reversal(void))["39"] == "00"  # the sale stands again
    assert host.account(DEMO_PAN).balance == START - 600
    pre = link.exchange(terminal.financial(debit_card.arqc(800), mti="0100", proc="030000"))
    completion = terminal.financial(amount=800, **{"25": "06", "38": pre["38"]})
    assert link.exchange(completion)["39"] == "00"
    assert link.exchange(terminal.reversal(completion))["39"] == "00"
    account = host.account(DEMO_PAN)
    assert (account.balance, account.held) == (START - 600, 800)  # the pre-authorization is open again


def test_unavailable_issuer_answers_reversals_91_and_undoes_later(host: Host, link: InProcessHostLink,
                                                                  terminal: Terminal, debit_card: Card) -> None:
    sale = terminal.financial(debit_card.arqc(100))
    link.exchange(sale)
    host.faults.unavailable = True
    reversal = terminal.reversal(sale)
    assert link.exchange(reversal)["39"] == "91"
    host.faults.unavailable = False
    assert link.exchange(reversal)["39"] == "00"
    assert host.account(DEMO_PAN).balance == START


def test_settlement_in_and_out_of_balance(host: Host, link: InProcessHostLink, terminal: Terminal,
                                          debit_card: Card) -> None:
    for amount in (1_000, 2_000, 3_000):
        assert link.exchange(terminal.financial(debit_card.arqc(amount)))["39"] == "00"
    voided = terminal.financial(debit_card.arqc(4_000))
    link.exchange(voided)
    link.exchange(terminal.financial(amount=4_000, proc="020000", **{"61": f"{voided['11']}{voided['7']}"}))
    reversed_ = terminal.financial(debit_card.arqc(5_000))
    link.exchange(reversed_)
    link.exchange(terminal.reversal(reversed_))
    link.exchange(terminal.financial(debit_card.arqc(START * 2)))  # declined: not in the batch
    link.exchange(terminal.financial(amount=500, proc="200000"))  # a refund: one credit
    link.exchange(terminal.financial(debit_card.arqc(0, 0x30), proc="300000"))  # inquiry: not counted
    link.exchange(Terminal("TERM0002").financial(debit_card.arqc(999)))  # another terminal's batch

    good = link.exchange(terminal.settlement(3, 6_000, 1, 500))
    assert (good["t"], good["39"], good["60"]) == ("0510", "00", terminal.batch)
    assert link.exchange(terminal.settlement(4, 10_000, 1, 500))["39"] == "95"
    assert link.exchange(terminal.settlement(3, 6_000))["39"] == "95"
    assert link.exchange(Terminal(batch="000002").settlement(0, 0))["39"] == "00"  # an empty batch
    assert link.exchange(terminal.base("0500") | {"60": "000001"})["39"] == "30"  # no totals


def test_open_host_link() -> None:
    embedded = open_host_link(None)
    assert isinstance(embedded, InProcessHostLink)
    assert embedded.host.account(DEMO_PAN).balance == START
    assert isinstance(open_host_link("embedded"), InProcessHostLink)
    with pytest.raises(Exception, match="tcp://HOST:PORT"):
        open_host_link("http://example.org")


def test_an_offline_approval_advised_is_counted_not_judged(host: Host, link: InProcessHostLink,
                                                           terminal: Terminal) -> None:
    from cardkit.emv import OutcomeKind

    card = Card()
    tap = card.kernel.run(300, contactless=True)  # electronic cash, offline: a TC
    assert tap.kind is OutcomeKind.APPROVED_OFFLINE
    advice = terminal.financial(amount=300, mti="0220", **{"22": "071", "23": "001", "55": tap.icc_data()})
    reply = link.exchange(advice)
    assert (reply["t"], reply["39"]) == ("0230", "00")
    assert link.exchange(advice)["39"] == "94"
    assert host.account(DEMO_PAN).balance == START  # electronic cash was paid for when loaded
    assert link.exchange(terminal.settlement(1, 300))["39"] == "00"
