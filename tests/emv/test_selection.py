"""Application selection (Book 1 §12): PSE, list of AIDs with partial match, PPSE, ordering."""

from __future__ import annotations

import pytest

from cardkit import tlv
from cardkit.emv import Candidate, SupportedAid, TerminalConfig
from cardkit.emv.selection import (
    build_candidates,
    candidates_from_aid_list,
    candidates_from_ppse,
    final_select,
    order_candidates,
)
from cardkit.errors import CardError

from .cards import ScriptedCard, channel_for, fci, h, select_key

DEBIT = bytes.fromhex("A000000333010101")
CREDIT = bytes.fromhex("A000000333010102")
OTHER = bytes.fromhex("A0000000031010")
PREFIX = bytes.fromhex("A0000003330101")


def entry(aid: bytes, label: str, priority: int | None = None) -> bytes:
    return h(0x61, h(0x4F, aid) + h(0x50, label.encode()) + (h(0x87, bytes((priority,))) if priority else b""))


def test_order_by_priority_then_discovery() -> None:
    cands = [Candidate(b"A" * 5, priority=None, order=0), Candidate(b"B" * 5, priority=3, order=1),
             Candidate(b"C" * 5, priority=1, order=2), Candidate(b"D" * 5, priority=3, order=3),
             Candidate(b"E" * 5, priority=None, order=4)]
    assert [c.aid[:1] for c in order_candidates(cands)] == [b"C", b"B", b"D", b"A", b"E"]


def test_candidate_from_entry_reads_priority_and_confirmation() -> None:
    objs = tlv.decode(h(0x50, b"PBOC") + h(0x87, "82"))
    c = Candidate.from_entry(DEBIT, objs, 0)
    assert (c.label, c.priority, c.confirmation_required) == ("PBOC", 2, True)
    assert Candidate.from_entry(DEBIT, tlv.decode(h(0x87, "00")), 0).priority is None


def pse_card(*records: bytes, sfi: int = 1) -> ScriptedCard:
    table = {select_key(b"1PAY.SYS.DDF01"): fci(b"1PAY.SYS.DDF01", h(0x88, bytes((sfi,))))}
    for i, rec in enumerate(records, start=1):
        table[f"00B2{i:02X}{sfi << 3 | 4:02X}"] = tlv.build(0x70, rec).hex() + "9000"
    table[f"00B2{len(records) + 1:02X}{sfi << 3 | 4:02X}"] = "6A83"
    return ScriptedCard(table)


def test_pse_directory_filters_unsupported_and_orders() -> None:
    card = pse_card(entry(OTHER, "VISA", 1) + entry(CREDIT, "CREDIT", 2), entry(DEBIT, "DEBIT", 1))
    got = build_candidates(channel_for(card), TerminalConfig())
    assert [(c.aid, c.label) for c in got] == [(DEBIT, "DEBIT"), (CREDIT, "CREDIT")]
    assert [c.ins for c in card.commands] == [0xA4, 0xB2, 0xB2, 0xB2]  # no AID-list SELECTs needed


def test_no_pse_falls_back_to_the_aid_list_with_next_occurrence() -> None:
    card = ScriptedCard({
        select_key(b"1PAY.SYS.DDF01"): "6A82",
        select_key(PREFIX): fci(DEBIT, h(0x50, b"DEBIT") + h(0x87, "02")),
        select_key(PREFIX, next_occurrence=True): lambda cmd: next(answers),
    })
    answers = iter([fci(CREDIT, h(0x50, b"CREDIT") + h(0x87, "01")), "6A82"])
    cfg = TerminalConfig(aids=(SupportedAid(PREFIX, partial_match=True),))
    got = build_candidates(channel_for(card), cfg)
    assert [c.aid for c in got] == [CREDIT, DEBIT]  # priority 1 first


def test_exact_match_only_ignores_longer_df_names() -> None:
    card = ScriptedCard({select_key(PREFIX): fci(DEBIT)})
    cfg = TerminalConfig(aids=(SupportedAid(PREFIX, partial_match=False),))
    assert candidates_from_aid_list(channel_for(card), cfg) == []
    assert len(card.commands) == 1


def test_blocked_application_is_not_a_candidate_but_the_next_occurrence_is() -> None:
    card = ScriptedCard({
        select_key(PREFIX): fci(DEBIT)[:-4] + "6283",
        select_key(PREFIX, next_occurrence=True): lambda cmd: next(answers),
    })
    answers = iter([fci(CREDIT), "6A82"])
    cfg = TerminalConfig(aids=(SupportedAid(PREFIX),))
    assert [c.aid for c in candidates_from_aid_list(channel_for(card), cfg)] == [CREDIT]


def test_a_card_ignoring_next_occurrence_does_not_loop() -> None:
    card = ScriptedCard({select_key(PREFIX): fci(DEBIT), select_key(PREFIX, next_occurrence=True): fci(DEBIT)})
    cfg = TerminalConfig(aids=(SupportedAid(PREFIX),))
    assert [c.aid for c in candidates_from_aid_list(channel_for(card), cfg)] == [DEBIT]
    assert len(card.commands) == 2


def test_card_blocked_6a81() -> None:
    card = ScriptedCard({select_key(b"1PAY.SYS.DDF01"): "6A81"})
    with pytest.raises(CardError) as info:
        build_candidates(channel_for(card), TerminalConfig())
    assert info.value.sw == 0x6A81


def test_ppse() -> None:
    directory = h(0xBF0C, entry(CREDIT, "CREDIT", 2) + entry(DEBIT, "DEBIT", 1) + entry(OTHER, "VISA", 1))
    card = ScriptedCard({select_key(b"2PAY.SYS.DDF01"): fci(b"2PAY.SYS.DDF01", directory)})
    got = build_candidates(channel_for(card), TerminalConfig(), contactless=True)
    assert [c.aid for c in got] == [DEBIT, CREDIT]
    assert candidates_from_ppse(channel_for(ScriptedCard()), TerminalConfig()) is None


def test_final_select() -> None:
    card = ScriptedCard({select_key(DEBIT): fci(DEBIT, h(0x50, b"DEBIT") + h(0x9F38, "9F6604")),
                         select_key(CREDIT): fci(CREDIT)[:-4] + "6283"})
    chosen = final_select(channel_for(card), Candidate(DEBIT))
    assert chosen is not None and chosen.pdol == bytes.fromhex("9F6604") and chosen.df_name == DEBIT
    assert final_select(channel_for(card), Candidate(CREDIT)) is None
