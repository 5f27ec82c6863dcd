"""A behavioural fake of the transit purse card, written from the APDU contract and cardkit.crypto.purse.

It is a test double for the client until (and beside) the real applet: it keeps a balance,
online/offline counters, a log, the CAPP data cache and the proofs GET TRANSACTION PROVE returns,
and it computes MAC1/verifies MAC2 (load) and verifies MAC1/computes MAC2 and TAC (purchase) with
card keys diversified from test master keys by its serial.

Fault injection: ``lose_answer_to`` (commit, then the answer never arrives: the card loses power)
and ``tear_before`` (the card loses power before doing anything) each take an INS byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cardkit import tlv
from cardkit.apdu import SW, CommandAPDU, ResponseAPDU
from cardkit.crypto import purse as km
from cardkit.crypto.purse import PurseAlgorithm, TransactionType
from cardkit.errors import CardTornError

ATR = bytes.fromhex("3B8080010101")
AID = bytes.fromhex("A000000632010105")

# TEST master keys (made up for these tests; never used elsewhere).
MLK = bytes.fromhex("11111111111111112222222222222222")
MPK = bytes.fromhex("33333333333333334444444444444444")
MTK = bytes.fromhex("55555555555555556666666666666666")
SERIAL = "31050000000000012345"  # 20 BCD digits; X = its last 8 bytes
TERMINAL = bytes.fromhex("112233445566")

_ALG_BYTE = {PurseAlgorithm.TDES: 0x00, PurseAlgorithm.SM4: 0x04}


def capp_record(station: int = 0, flag: int = 0) -> bytes:
    """A 48-byte transit record: identifier 01, length 46, entry flag, station, padding."""
    return bytes((0x01, 46, flag)) + station.to_bytes(2, "big") + bytes(43)


@dataclass
class _Txn:
    kind: str  # "load" | "purchase"
    amount: int
    terminal: bytes
    random: bytes
    counter: int
    compound: bool = False
    seslk: bytes = b""
    capp: dict[int, bytes] = field(default_factory=dict)


class FakeTransitCard:
    """The transit purse as the contract describes it (a test double, not the applet)."""

    def __init__(self, *, balance: int = 1000, online_counter: int = 5, offline_counter: int = 0x12,
                 serial: str = SERIAL, mlk: bytes = MLK, mpk: bytes = MPK, mtk: bytes = MTK,
                 algorithm: PurseAlgorithm = PurseAlgorithm.TDES, max_balance: int = 100_000,
                 holder_name: str = "张三", id_number: str = "110101199003071234") -> None:
        x = bytes.fromhex(serial)[-8:]
        self.dlk = km.diversify_card_key(mlk, x, algorithm)
        self.dpk = km.diversify_card_key(mpk, x, algorithm)
        self.dtk = km.diversify_card_key(mtk, x, algorithm)
        self.algorithm = algorithm
        self.serial = serial
        self.balance = balance
        self.online_counter = online_counter
        self.offline_counter = offline_counter
        self.max_balance = max_balance
        self.capp: dict[int, bytes] = {1: capp_record()}
        self.log: list[bytes] = []
        self.proofs: dict[tuple[int, int], tuple[bytes, bytes]] = {}
        self.holder = (bytes((0x01, 0x00)) + holder_name.encode("gb18030").ljust(20, b"\x00")
                       + id_number.encode().ljust(32, b"\x00") + b"\x00")
        self.issuer = (bytes.fromhex("0000000000003105") + b"\x02\x01" + bytes.fromhex(serial)
                       + bytes.fromhex("20240101") + bytes.fromhex("20341231") + b"\x00\x00")
        self.commands: list[CommandAPDU] = []
        self.lose_answer_to: int | None = None
        self.tear_before: int | None = None
        self.powered = True
        self._selected = False
        self._txn: _Txn | None = None
        self._randoms = 0x1A2B3C4D

    # CardLike
    @property
    def atr(self) -> bytes:
        return ATR

    def power_on(self) -> bytes:
        self.powered, self._selected, self._txn = True, False, None
        return ATR

    reset = power_on

    def power_off(self) -> None:
        self.powered, self._selected, self._txn = False, False, None

    def transmit(self, capdu: bytes) -> bytes:
        if not self.powered:
            raise CardTornError("the card is not powered")
        command = CommandAPDU.parse(capdu)
        self.commands.append(command)
        if command.ins == self.tear_before:
            self.tear_before = None
            self.power_off()
            raise CardTornError("power lost before the command (injected)")
        answer = self._process(command)
        if command.ins == self.lose_answer_to:
            self.lose_answer_to = None
            self.power_off()
            raise CardTornError("the answer was lost after the card committed (injected)")
        return answer.to_bytes()

    def sent(self, ins: int) -> list[CommandAPDU]:
        return [c for c in self.commands if c.ins == ins]

    # ------------------------------------------------------------------------ processing
    def _process(self, c: CommandAPDU) -> ResponseAPDU:
        if c.ins == 0xA4:
            if c.data != AID:
                return ResponseAPDU.status(SW.FILE_NOT_FOUND)
            self._selected, self._txn = True, None
            a5 = tlv.build(0x50, b"TRANSIT") + tlv.build(0x9F08, b"\x02")
            return ResponseAPDU(tlv.build(0x6F, tlv.build(0x84, AID) + tlv.build(0xA5, a5)), SW.OK)
        if not self._selected:
            return ResponseAPDU.status(SW.CONDITIONS_NOT_SATISFIED)
        handler = {0xB0: self._read_binary, 0xB2: self._read_record, 0x50: self._initialize,
                   0x52: self._credit, 0xDC: self._update_capp, 0x54: self._debit, 0x5C: self._get_balance,
                   0x5A: self._prove}.get(c.ins)
        if handler is None:
            return ResponseAPDU.status(SW.INS_NOT_SUPPORTED)
        return handler(c)

    def _read_binary(self, c: CommandAPDU) -> ResponseAPDU:
        files = {0x95: self.issuer, 0x96: self.holder}
        data = files.get(c.p1)
        return ResponseAPDU(data, SW.OK) if data is not None else ResponseAPDU.status(SW.FILE_NOT_FOUND)

    def _read_record(self, c: CommandAPDU) -> ResponseAPDU:
        if c.p2 == 0xBC:
            rec = self.capp.get(c.p1)
        elif c.p2 == 0xC4:
            rec = self.log[c.p1 - 1] if 1 <= c.p1 <= len(self.log) else None
        else:
            return ResponseAPDU.status(SW.FILE_NOT_FOUND)
        return ResponseAPDU(rec, SW.OK) if rec is not None else ResponseAPDU.status(SW.RECORD_NOT_FOUND)

    def _random(self) -> bytes:
        self._randoms = (self._randoms * 1103515245 + 12345) & 0xFFFFFFFF
        return self._randoms.to_bytes(4, "big")

    def _initialize(self, c: CommandAPDU) -> ResponseAPDU:
        self._txn = None
        if len(c.data) != 11 or c.p2 != 0x02 or c.p1 not in (0x00, 0x01, 0x03):
            return ResponseAPDU.status(SW.WRONG_P1P2)
        if c.data[0] != 0x01:
            return ResponseAPDU.status(SW.KEY_INDEX_NOT_SUPPORTED)
        amount, terminal = int.from_bytes(c.data[1:5], "big"), c.data[5:11]
        random, alg = self._random(), _ALG_BYTE[self.algorithm]
        if c.p1 == 0x00:
            if self.balance + amount > self.max_balance:
                return ResponseAPDU.status(SW.CONDITIONS_NOT_SATISFIED)  # as the applet: over the maximum
            seslk = km.load_session_key(self.dlk, random, self.online_counter, self.algorithm)
            mac1 = km.load_mac1(seslk, self.balance, amount, terminal, algorithm=self.algorithm)
            self._txn = _Txn("load", amount, terminal, random, self.online_counter, seslk=seslk)
            return ResponseAPDU(self.balance.to_bytes(4, "big") + self.online_counter.to_bytes(2, "big")
                                + bytes((0x01, alg)) + random + mac1, SW.OK)
        if amount > self.balance:
            return ResponseAPDU.status(SW.INSUFFICIENT_BALANCE)
        self._txn = _Txn("purchase", amount, terminal, random, self.offline_counter, compound=c.p1 == 0x03)
        return ResponseAPDU(self.balance.to_bytes(4, "big") + self.offline_counter.to_bytes(2, "big")
                            + bytes(3) + bytes((0x01, alg)) + random, SW.OK)

    def _credit(self, c: CommandAPDU) -> ResponseAPDU:
        txn, self._txn = self._txn, None
        if txn is None or txn.kind != "load" or len(c.data) != 11:
            return ResponseAPDU.status(SW.CONDITIONS_NOT_SATISFIED)
        day, time, mac2 = c.data[:4], c.data[4:7], c.data[7:11]
        if mac2 != km.load_mac2(txn.seslk, txn.amount, txn.terminal, day, time, algorithm=self.algorithm):
            return ResponseAPDU.status(SW.MAC_INVALID)
        self.balance += txn.amount
        tac = km.load_tac(self.dtk, self.balance, txn.counter, txn.amount, txn.terminal, day, time,
                          algorithm=self.algorithm)
        self._commit(TransactionType.EP_LOAD, txn, day, time, mac2, tac)
        self.online_counter += 1
        return ResponseAPDU(tac, SW.OK)

    def _update_capp(self, c: CommandAPDU) -> ResponseAPDU:
        txn = self._txn
        if txn is None or not txn.compound or c.p2 != 0xB8:
            return ResponseAPDU.status(SW.CONDITIONS_NOT_SATISFIED)
        number = next((n for n, rec in self.capp.items() if rec[0] == c.p1), None)  # P1: the identifier
        if number is None:
            return ResponseAPDU.status(SW.RECORD_NOT_FOUND)
        if len(c.data) != len(self.capp[number]) or c.data[0] != c.p1:
            return ResponseAPDU.status(SW.WRONG_LENGTH)
        txn.capp[number] = c.data
        return ResponseAPDU.status(SW.OK)

    def _debit(self, c: CommandAPDU) -> ResponseAPDU:
        txn, self._txn = self._txn, None
        if txn is None or txn.kind != "purchase" or len(c.data) != 15:
            return ResponseAPDU.status(SW.CONDITIONS_NOT_SATISFIED)
        txn_no, day, time, mac1 = int.from_bytes(c.data[:4], "big"), c.data[4:8], c.data[8:11], c.data[11:15]
        kind = TransactionType.CAPP_PURCHASE if txn.compound else TransactionType.EP_PURCHASE
        sespk = km.purchase_session_key(self.dpk, txn.random, txn.counter, txn_no, self.algorithm)
        if mac1 != km.purchase_mac1(sespk, txn.amount, txn.terminal, day, time, kind, self.algorithm):
            return ResponseAPDU.status(SW.MAC_INVALID)
        if txn.amount > self.balance:
            return ResponseAPDU.status(SW.INSUFFICIENT_BALANCE)
        self.balance -= txn.amount
        self.capp.update(txn.capp)
        mac2 = km.purchase_mac2(sespk, txn.amount, self.algorithm)
        tac = km.purchase_tac(self.dtk, txn.amount, txn.terminal, txn_no, day, time, kind, self.algorithm)
        self._commit(kind, txn, day, time, mac2, tac)
        self.offline_counter += 1
        return ResponseAPDU(tac + mac2, SW.OK)

    def _commit(self, kind: int, txn: _Txn, day: bytes, time: bytes, mac2: bytes, tac: bytes) -> None:
        self.proofs[(kind, txn.counter)] = (mac2, tac)
        record = (txn.counter.to_bytes(2, "big") + bytes(3) + txn.amount.to_bytes(4, "big") + bytes((kind,))
                  + txn.terminal + day + time)
        self.log = [record, *self.log][:10]

    def _get_balance(self, c: CommandAPDU) -> ResponseAPDU:
        return ResponseAPDU(self.balance.to_bytes(4, "big"), SW.OK)

    def _prove(self, c: CommandAPDU) -> ResponseAPDU:
        if len(c.data) != 2:
            return ResponseAPDU.status(SW.WRONG_LENGTH)
        proof = self.proofs.get((c.p2, int.from_bytes(c.data, "big")))
        if proof is None:
            return ResponseAPDU.status(SW.MAC_REQUIRED)
        return ResponseAPDU(proof[0] + proof[1], SW.OK)
