"""The small runtime hooks the card manager stands on, and PSE/PPSE personalization (DGI 9102)."""

from __future__ import annotations

import pytest

from applets.bank import DEBIT_AID, PPSE_NAME, DirectoryEntry, PpseApplet, PseApplet
from applets.bank.directory import parse_directory_dgis
from applets.runtime import (
    Applet,
    CommandContext,
    PowerLoss,
    SimulatedCard,
    Store,
    TransactionError,
    list_application,
    listed_applications,
    new_blank_card,
    status,
    unlist_application,
)
from cardkit import tlv
from cardkit.apdu import CommandAPDU, ResponseAPDU
from cardkit.errors import ProfileError

from .kit import H, select, send

ENTRY = DirectoryEntry(DEBIT_AID, "PBOC DEBIT", 1)


# --- Store.atomic --------------------------------------------------------------------------------


def test_atomic_joins_inner_transactions() -> None:
    store = Store()
    with store.atomic():
        store.set("a", 1)
        with store.transaction():  # what an applet's personalize() does
            store.set("b", 2)
        assert store.committed() == {}  # nothing lands before the outer block ends
    assert store.committed() == {"a": 1, "b": 2} and store.generation == 1


def test_an_aborted_inner_transaction_dooms_the_block() -> None:
    store = Store({"x": 0})
    with pytest.raises(TransactionError, match="aborted"), store.atomic():
        store.set("a", 1)
        try:
            with store.transaction():
                store.set("b", 2)
                raise ValueError("the inner step failed")
        except ValueError:
            pass  # swallowed: the outer block must still not commit half of it
    assert store.committed() == {"x": 0} and not store.in_transaction


def test_tear_inside_atomic_loses_all_of_it() -> None:
    store = Store({"x": 0})
    store.arm_tear(3)
    with pytest.raises(PowerLoss), store.atomic():
        store.set("a", 1)
        with store.transaction():
            store.set("b", 2)
            store.set("c", 3)
    assert store.committed() == {"x": 0} and not store.in_transaction
    with store.transaction():  # and the store works normally afterwards
        store.set("d", 4)
    with pytest.raises(TransactionError), store.transaction(), store.transaction():
        pass  # nesting outside atomic() is still refused
    with pytest.raises(TransactionError), store.transaction(), store.atomic():
        pass


# --- the gate, detach and replace ----------------------------------------------------------------


class Echo(Applet):
    def process(self, cmd: CommandAPDU, ctx: CommandContext) -> ResponseAPDU:
        return status(0x9000, b"echo")


class Gate:
    def __init__(self) -> None:
        self.refuse_select: set[bytes] = set()
        self.refuse_all = False
        self.seen: list[bytes] = []

    def admit_command(self, current: Applet | None, cmd: CommandAPDU) -> int | None:
        self.seen.append(cmd.header)
        return 0x6A81 if self.refuse_all else None

    def admit_select(self, target: Applet) -> int | None:
        return 0x6999 if target.aid in self.refuse_select else None


def test_gate_is_asked_before_commands_and_selections() -> None:
    a, b = Echo(H("F000000001")), Echo(H("F000000002"))
    card = SimulatedCard(applets=[a, b], default_aid=a.aid, strict=True)
    gate = Gate()
    card.gate = gate
    gate.refuse_select.add(b.aid)
    card.power_on()
    assert card.selected(0) is a
    assert select(card, b.aid) == 0x6999 and card.selected(0) is a
    assert send(card, "80010000") == (b"echo", 0x9000)
    gate.refuse_select.add(a.aid)
    card.power_on()
    assert card.selected(0) is None  # the default selection at reset is gated too
    gate.refuse_all = True
    assert send(card, "0070000001")[1] == 0x6A81
    assert H("00700000") in gate.seen


def test_detach_and_replace() -> None:
    a, b = Echo(H("F000000001")), Echo(H("F000000002"))
    card = SimulatedCard(applets=[a, b], default_aid=a.aid, strict=True)
    card.power_on()
    with card.store.transaction():
        b.store.set("k", 1)
    send(card, "0070000001")
    select(card, b.aid, channel=1)
    newer = Echo(b.aid, label="newer")
    assert card.replace(newer) is b
    assert card.applets == (a, newer) and newer.store.get("k") == 1 and card.selected(1) is None
    assert card.detach(a.aid) is a and card.selected(0) is None and list(card.applets) == [newer]
    with pytest.raises(KeyError):
        card.detach(a.aid)


# --- EF.DIR ----------------------------------------------------------------------------------------


def test_ef_dir_listing_helpers() -> None:
    card = new_blank_card(serial="1", card_manager=False)
    list_application(card, DEBIT_AID, "PBOC DEBIT")
    list_application(card, DEBIT_AID, "PBOC DEBIT")  # listed once
    list_application(card, H("A000000632010105"), "TRANSIT")
    assert listed_applications(card) == (DEBIT_AID, H("A000000632010105"))
    unlist_application(card, DEBIT_AID)
    unlist_application(card, DEBIT_AID)  # no record: no change
    assert listed_applications(card) == (H("A000000632010105"),)


def test_blank_card_lists_no_card_manager() -> None:
    card = new_blank_card(serial="1")
    assert listed_applications(card) == ()
    assert [a.type_name for a in card.applets] == ["fs", "card-manager"]


# --- PSE / PPSE personalization ----------------------------------------------------------------------


def test_parse_directory_dgis() -> None:
    two = ENTRY.template() + DirectoryEntry(H("A000000333010102"), "PBOC CREDIT").template()
    assert parse_directory_dgis({0x9102: two}) == (ENTRY, DirectoryEntry(H("A000000333010102"), "PBOC CREDIT"))


@pytest.mark.parametrize(
    ("dgis", "message"),
    [
        ({}, "missing"),
        ({0x9102: b""}, "missing or empty"),
        ({0x9102: ENTRY.template(), 0x9103: b"\x00"}, "DGI 9103"),
        ({0x9102: H("6105") + H("4F03010203")}, "entry 1"),  # AID too short, no label
        ({0x9102: H("7003") + H("500141")}, "not an application template"),
        ({0x9102: ENTRY.template()[:-1]}, "DGI 9102"),  # truncated BER-TLV
        ({0x9102: tlv.build(0x61, H("4F08") + DEBIT_AID + H("500141") + H("87020102"))}, "one byte"),
        ({0x9102: tlv.build(0x61, H("4F08") + DEBIT_AID + H("500141") + H("9F120141"))}, "unexpected"),
    ],
)
def test_bad_directory_dgis(dgis: dict[int, bytes], message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        parse_directory_dgis(dgis)


def test_ppse_personalize_replaces_the_configured_entries() -> None:
    card = new_blank_card(serial="1", card_manager=False)
    ppse = PpseApplet(entries=[DirectoryEntry(H("A000000333010102"), "PBOC CREDIT")])
    card.register(ppse)
    assert not ppse.personalized
    ppse.personalize({0x9102: ENTRY.template()})
    assert ppse.personalized and ppse.entries == (ENTRY,)
    assert ppse.to_config()["entries"][0]["label"] == "PBOC CREDIT"  # the constructor's, for the image
    ppse.entries = ppse.entries + (DirectoryEntry(H("A000000333010103"), "QUASI"),)  # install_bank appends
    assert [e.label for e in ppse.entries] == ["PBOC DEBIT", "QUASI"]
    before = card.store.committed()
    with pytest.raises(ProfileError):
        ppse.personalize({0x9102: b"\x61\x00"})
    assert card.store.committed() == before
    card.power_on()
    rsp, sw = send(card, "00A404000E" + PPSE_NAME.hex() + "00")
    assert sw == 0x9000 and DEBIT_AID in rsp and H("A000000333010103") in rsp


def test_pse_constructor_path_unchanged() -> None:
    pse = PseApplet(entries=[ENTRY])
    assert pse.entries == (ENTRY,) and pse.aid == b"1PAY.SYS.DDF01"
    rebuilt = PseApplet.from_config(pse.to_config())
    assert isinstance(rebuilt, PseApplet) and rebuilt.entries == (ENTRY,)
