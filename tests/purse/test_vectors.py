"""Known bytes through the client: the REFERENCE.md regression vector and the public transit trace.

Sources (REFERENCE.md "PBOC electronic purse"):

* the self-computed regression vector (tests/vectors/crypto_purse.txt, REGRESSION ONLY — not an
  independent public vector). It starts from the card keys DLK/DPK/DTK, not from master keys, so
  here the diversification step of the PSAM and the issuer helper is replaced by "the vector's card
  key"; everything after it (session keys, MAC1/MAC2/TAC, APDU layouts) is the real code;
* the public transit trace (keys unknown): used for lengths and offsets only.

The card is scripted frame by frame; each frame's comment names the command.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from cardkit.crypto.purse import PurseAlgorithm
from cardkit.purse import Psam, PurseClient
from cardkit.purse import issuer as host
from cardkit.purse import psam as psam_module
from tests.crypto.vectors import load
from tests.emv.cards import ScriptedCard, channel_for

V = {v.name: v for v in load("crypto_purse.txt")}
LOAD, BUY = V["load_ref"], V["purchase_ref"]
WHEN = datetime(2023, 3, 8, 11, 22, 33)
TERMINAL = LOAD.h("terminal")
SERIAL = "31000000000000000018"
# Master keys standing in for the vector's card keys (see the module docstring).
MLK, MPK, MTK = b"L" * 16, b"P" * 16, b"T" * 16
CARD_KEYS = {MLK: LOAD.h("dlk"), MPK: BUY.h("dpk"), MTK: LOAD.h("dtk")}

ISSUER_FILE = ("3100000000000000" "0301" + SERIAL + "20250101" "20301231" "0000")
HOLDER_FILE = ("0000" + b"ZHANG/SAN".ljust(20, b"\0").hex() + b"110101199003070000".ljust(32, b"\0").hex() + "00")


@pytest.fixture
def vector_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    def card_key(master: bytes, x: bytes, algorithm: PurseAlgorithm = PurseAlgorithm.TDES) -> bytes:
        assert x == bytes.fromhex(SERIAL)[-8:]
        return CARD_KEYS[master]

    monkeypatch.setattr(psam_module, "diversify_card_key", card_key)
    monkeypatch.setattr(host.keymath, "diversify_card_key", card_key)


def scripted(balance: str) -> ScriptedCard:
    fci = "6F15" "8408A000000632010105" "A509" "5007" + b"TRANSIT".hex()
    return ScriptedCard({
        "00A4040008A000000632010105": fci + "9000",  # SELECT transit
        "00B09500": ISSUER_FILE + "9000",  # READ BINARY SFI 15
        "00B09600": HOLDER_FILE + "9000",  # READ BINARY SFI 16
        "805C0002": balance + "9000",  # GET BALANCE
    })


def test_load_regression_vector_end_to_end(vector_keys: None) -> None:
    card = scripted(LOAD["old_balance"])
    # INITIALIZE FOR LOAD: key index 01, amount 00000064, terminal 112233445566 ->
    # old balance, online counter 0005, key version 01, algorithm 00, random, MAC1
    card.table["805000020B0100000064112233445566"] = (
        LOAD["old_balance"] + LOAD["online_counter"] + "0100" + LOAD["random"] + LOAD["mac1"] + "9000")
    # CREDIT FOR LOAD: date, time, MAC2 -> TAC (of new balance 0000044C)
    card.table["805200000B" + LOAD["date"] + LOAD["time"] + LOAD["mac2"]] = LOAD["tac"] + "9000"
    client = PurseClient(channel_for(card))
    info = client.select()
    assert info.serial == SERIAL and info.balance == 1000 and info.holder_name == "ZHANG/SAN"
    result = client.load(0x64, TERMINAL, lambda i, init, when: host.load_mac2(MLK, i, init, when), WHEN)
    assert card.sent(0x50)[0].to_bytes().hex().upper() == "805000020B010000006411223344556610"
    assert card.sent(0x52)[0].to_bytes().hex().upper() == "805200000B2023030811223383" "7F744404"
    assert result.tac == LOAD.h("tac") and result.mac2 == LOAD.h("mac2")
    assert (result.balance_before, result.balance_after, result.counter) == (1000, 0x44C, 5)
    host.verify_load_tac(MTK, info, result)


def test_purchase_regression_vector_end_to_end(vector_keys: None) -> None:
    card = scripted("000003E8")
    # INITIALIZE FOR PURCHASE: key index 01, amount 00000064, terminal -> old balance, offline
    # counter 0012, overdraft 000000, key version 01, algorithm 00, random
    card.table["805001020B0100000064112233445566"] = "000003E8" + BUY["offline_counter"] + "000000" "0100" + \
        BUY["random"] + "9000"
    # DEBIT FOR PURCHASE: terminal txn no 00000001, date, time, MAC1 -> TAC, MAC2
    debit = "805401000F" + BUY["terminal_txn_no"] + BUY["date"] + BUY["time"] + BUY["mac1"]
    card.table[debit] = BUY["tac"] + BUY["mac2"] + "9000"
    client = PurseClient(channel_for(card))
    client.select()
    psam = Psam(MPK, MTK, terminal_id=TERMINAL)
    result = client.purchase(0x64, psam, WHEN)  # the PSAM computes MAC1 and checks MAC2 and TAC
    assert card.sent(0x54)[0].to_bytes().hex().upper() == debit + "08"
    assert (result.tac, result.mac2, result.terminal_txn_no, result.counter) == (BUY.h("tac"), BUY.h("mac2"), 1, 0x12)
    assert result.balance_after == 1000 - 0x64


# REFERENCE.md "PBOC electronic purse": a public transit trace (format checks only; keys unknown).
TRACE_INIT = "805003020B01000000C8200041599997"
TRACE_INIT_ANSWER = "000162AF003600032001008417" "6AD7"
TRACE_DEBIT = "805401000F000000572018031316432966CBC863"
TRACE_DEBIT_ANSWER = "C630C2C8ABCC913B"


class TracePsam:
    """Stands in for the trace's PSAM: hands out its MAC1, accepts its MAC2/TAC, records the checks."""

    terminal_id = bytes.fromhex("200041599997")

    def __init__(self) -> None:
        self.checked: list[tuple[str, bytes]] = []

    def mac1(self, card: object, init: object, when: datetime, type: int | None = None) -> tuple[int, bytes]:
        return 0x57, bytes.fromhex("66CBC863")

    def verify_mac2(self, card: object, init: object, txn_no: int, mac2: bytes) -> None:
        self.checked.append(("mac2", mac2))

    def verify_tac(self, card: object, init: object, txn_no: int, when: datetime, tac: bytes) -> None:
        self.checked.append(("tac", tac))


def test_public_trace_layout() -> None:
    card = scripted("000162AF")
    card.table[TRACE_INIT] = TRACE_INIT_ANSWER + "9000"  # INITIALIZE FOR CAPP PURCHASE
    card.table[TRACE_DEBIT] = TRACE_DEBIT_ANSWER + "9000"  # DEBIT FOR CAPP PURCHASE
    client = PurseClient(channel_for(card))
    client.select()
    init = client.initialize_purchase(0xC8, TracePsam.terminal_id, compound=True)
    assert card.sent(0x50)[0].to_bytes().hex().upper() == TRACE_INIT + "0F"
    assert (init.old_balance, init.offline_counter, init.overdraft_limit) == (0x162AF, 0x36, 0x320)
    assert (init.key_version, init.algorithm, init.random) == (1, PurseAlgorithm.TDES, bytes.fromhex("84176AD7"))
    psam = TracePsam()
    result = client.debit_for_purchase(init, psam, datetime(2018, 3, 13, 16, 43, 29))  # type: ignore[arg-type]
    assert card.sent(0x54)[0].to_bytes().hex().upper() == TRACE_DEBIT + "08"
    assert result.tac == bytes.fromhex("C630C2C8") and result.mac2 == bytes.fromhex("ABCC913B")
    assert psam.checked == [("mac2", result.mac2), ("tac", result.tac)]
    assert (result.kind, result.terminal_txn_no, result.balance_after) == ("capp", 0x57, 0x162AF - 0xC8)
