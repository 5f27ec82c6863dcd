"""Test DGIs and a minimal purse terminal that checks the card from the outside.

The terminal never uses ``applets.transit`` code: MAC1, MAC2 and TAC are rebuilt from
:mod:`cardkit.crypto.purse` and the bytes on the wire, so a card that agrees with itself but not
with REFERENCE.md "PBOC electronic purse" fails. The default keys, counters and random are the
ones of the REFERENCE.md self-computed regression vector.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from applets.runtime import SimulatedCard, new_blank_card
from applets.transit import TRANSIT_AID, TransitApplet, install_transit
from cardkit.crypto import purse as pc
from cardkit.crypto.hazmat.keys import kcv
from cardkit.crypto.purse import PurseAlgorithm, TransactionType
from tests.bank.kit import apdu, send  # noqa: F401  (the APDU helpers every applet's tests share)

# REFERENCE.md "PBOC electronic purse", self-computed regression vector
DLK = bytes.fromhex("3F01" * 8)
DPK = bytes.fromhex("3E01" * 8)
DTK = bytes.fromhex("34" * 16)
RANDOM = bytes.fromhex("1A2B3C4D")
TERMINAL = bytes.fromhex("112233445566")
DATE = bytes.fromhex("20230308")
TIME = bytes.fromhex("112233")

SERIAL = "31000000000000000018"
ISSUER_INFO = (bytes.fromhex("3100000000000000") + b"\x03\x01" + bytes.fromhex(SERIAL)
               + bytes.fromhex("20250101") + bytes.fromhex("20301231") + bytes(2))
HOLDER_INFO = b"\x00\x00" + b"ZHANG/SAN".ljust(20, b"\0") + b"110101199003070000".ljust(32, b"\0") + b"\x00"
TRANSIT_RECORD = b"\x01" + bytes(47)
ALGORITHM_BYTE = {PurseAlgorithm.TDES: 0x00, PurseAlgorithm.SM4: 0x04}
SW_OK = 0x9000


def make_dgis(*, balance: int = 1000, max_balance: int = 100_000, overdraft: int = 0, online: int = 5,
              offline: int = 0x12, algorithm: PurseAlgorithm = PurseAlgorithm.TDES, mac_limit: int = 3,
              keys: tuple[bytes, bytes, bytes] = (DLK, DPK, DTK),
              capp_records: tuple[bytes, ...] = (TRANSIT_RECORD,)) -> dict[int, bytes]:
    """The DGI map of docs/transit-card.md, written here from the document, not from the applet."""
    name = "SM4" if algorithm is PurseAlgorithm.SM4 else "3DES"
    purse = (bytes((ALGORITHM_BYTE[algorithm], 0x01)) + balance.to_bytes(4, "big") + max_balance.to_bytes(4, "big")
             + overdraft.to_bytes(3, "big") + online.to_bytes(2, "big") + offline.to_bytes(2, "big")
             + bytes((mac_limit,)))
    dgis = {0x1500: ISSUER_INFO, 0x1600: HOLDER_INFO, 0x8000: b"".join(keys),
            0x9000: b"".join(kcv(k, 3, algorithm=name) for k in keys), 0x9201: purse}
    for i, record in enumerate(capp_records, start=1):
        dgis[0x1700 | i] = record
    return dgis


def fixed_random(value: bytes = RANDOM) -> Callable[[int], bytes]:
    return lambda n: value[:n]


def make_card(dgis: dict[int, bytes] | None = None, random: Callable[[int], bytes] | None = None) -> SimulatedCard:
    card = new_blank_card(serial="8986000000000000018")
    install_transit(card, dgis if dgis is not None else make_dgis(), random=random or fixed_random())
    card.strict = True  # an exception in the applet fails the test instead of becoming 6F00
    card.power_on()
    return card


def applet(card: SimulatedCard) -> TransitApplet:
    a = card.applet(TRANSIT_AID)
    assert isinstance(a, TransitApplet)
    return a


def select(card: SimulatedCard) -> None:
    assert send(card, apdu(0x00, 0xA4, 0x04, 0x00, TRANSIT_AID, 0))[1] == SW_OK


def init_apdu(p1: int, amount: int, terminal: bytes = TERMINAL, key_index: int = 1) -> bytes:
    le = 0x10 if p1 == 0 else 0x0F
    return apdu(0x80, 0x50, p1, 0x02, bytes((key_index,)) + amount.to_bytes(4, "big") + terminal, le)


@dataclass
class Outcome:
    sw: int
    init: bytes = b""
    answer: bytes = b""
    expected: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Terminal:
    """A terminal with the card keys (what a PSAM and a host compute together), talking raw APDUs."""

    card: SimulatedCard
    dlk: bytes = DLK
    dpk: bytes = DPK
    dtk: bytes = DTK
    algorithm: PurseAlgorithm = PurseAlgorithm.TDES
    terminal: bytes = TERMINAL
    date: bytes = DATE
    time: bytes = TIME
    txn_no: int = 1

    def balance(self) -> int:
        data, sw = send(self.card, "805C000204")
        assert sw == SW_OK, hex(sw)
        return int.from_bytes(data, "big")

    def credit_apdu(self, init: bytes, amount: int, *, wrong_mac: bool = False) -> tuple[bytes, dict[str, bytes]]:
        """The CREDIT FOR LOAD for an INITIALIZE FOR LOAD answer, and what the card must answer."""
        old, counter, random, mac1 = (int.from_bytes(init[0:4], "big"), int.from_bytes(init[4:6], "big"),
                                      init[8:12], init[12:16])
        seslk = pc.load_session_key(self.dlk, random, counter, self.algorithm)
        assert mac1 == pc.load_mac1(seslk, old, amount, self.terminal, TransactionType.EP_LOAD, self.algorithm)
        mac2 = pc.load_mac2(seslk, amount, self.terminal, self.date, self.time, TransactionType.EP_LOAD,
                            self.algorithm)
        tac = pc.load_tac(self.dtk, old + amount, counter, amount, self.terminal, self.date, self.time,
                          TransactionType.EP_LOAD, self.algorithm)
        sent = bytes(b ^ 0xFF for b in mac2) if wrong_mac else mac2
        return apdu(0x80, 0x52, 0, 0, self.date + self.time + sent, 4), {"mac2": mac2, "tac": tac, "seslk": seslk}

    def load(self, amount: int, *, wrong_mac: bool = False) -> Outcome:
        init, sw = send(self.card, init_apdu(0x00, amount, self.terminal))
        if sw != SW_OK:
            return Outcome(sw)
        cmd, expected = self.credit_apdu(init, amount, wrong_mac=wrong_mac)
        answer, sw = send(self.card, cmd)
        return Outcome(sw, init, answer, expected)

    def debit_apdu(self, init: bytes, amount: int, txn_type: int, *, wrong_mac: bool = False
                   ) -> tuple[bytes, dict[str, bytes]]:
        """The DEBIT for an INITIALIZE FOR (CAPP) PURCHASE answer, and what the card must answer."""
        counter, random = int.from_bytes(init[4:6], "big"), init[11:15]
        sespk = pc.purchase_session_key(self.dpk, random, counter, self.txn_no, self.algorithm)
        mac1 = pc.purchase_mac1(sespk, amount, self.terminal, self.date, self.time, txn_type, self.algorithm)
        if wrong_mac:
            mac1 = bytes(b ^ 0xFF for b in mac1)
        expected = {
            "mac2": pc.purchase_mac2(sespk, amount, self.algorithm),
            "tac": pc.purchase_tac(self.dtk, amount, self.terminal, self.txn_no, self.date, self.time, txn_type,
                                   self.algorithm),
            "sespk": sespk,
        }
        data = self.txn_no.to_bytes(4, "big") + self.date + self.time + mac1
        return apdu(0x80, 0x54, 0x01, 0x00, data, 8), expected

    def purchase(self, amount: int, *, capp: bytes | None = None, compound: bool = False,
                 wrong_mac: bool = False) -> Outcome:
        compound = compound or capp is not None
        txn_type = TransactionType.CAPP_PURCHASE if compound else TransactionType.EP_PURCHASE
        init, sw = send(self.card, init_apdu(0x03 if compound else 0x01, amount, self.terminal))
        if sw != SW_OK:
            return Outcome(sw)
        if capp is not None:
            _, sw = send(self.card, apdu(0x80, 0xDC, capp[0], 0x17 << 3, capp))
            if sw != SW_OK:
                return Outcome(sw, init)
        cmd, expected = self.debit_apdu(init, amount, txn_type, wrong_mac=wrong_mac)
        answer, sw = send(self.card, cmd)
        return Outcome(sw, init, answer, expected)

    def prove(self, txn_type: int, counter: int) -> tuple[bytes, int]:
        return send(self.card, apdu(0x80, 0x5A, 0x00, txn_type, counter.to_bytes(2, "big"), 8))
