"""Small fake cards for the kernel's step tests, and a channel over any card.

``ScriptedCard`` answers from a table: keys are a command's header and data in hex (no Le),
values a response in hex (data then SW) or a function of the command. It records every command,
so a test can check what the kernel sent. ``FakeEmvCard`` is a scripted card with the handful of
behaviours a contact EMV card needs (PSE, GPO, records, GENERATE AC ...), built from plain data
so one test can change one thing. These are test doubles; the kernel's proof against the real
bank applet is tests/emv/test_flow_bank.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import rsa

from cardkit import tlv
from cardkit.apdu import CommandAPDU
from cardkit.crypto import oda
from cardkit.readers import CardChannel, VirtualReader

Handler = Callable[[CommandAPDU], str]

ATR = bytes.fromhex("3B8080010101")
AID = bytes.fromhex("A000000333010101")
PAN = bytes.fromhex("6212345678901234567F")


def channel_for(card: object) -> CardChannel:
    """A CardChannel to ``card`` through the in-process virtual reader."""
    return CardChannel(VirtualReader(card).connect())  # type: ignore[arg-type]


def key_of(cmd: CommandAPDU) -> str:
    return (cmd.header + (bytes((len(cmd.data),)) + cmd.data if cmd.data else b"")).hex().upper()


class ScriptedCard:
    """A card that answers from a table; unknown commands get 6D00."""

    def __init__(self, table: dict[str, str | Handler] | None = None) -> None:
        self.table: dict[str, str | Handler] = {k.replace(" ", "").upper(): v for k, v in (table or {}).items()}
        self.commands: list[CommandAPDU] = []
        self.by_ins: dict[int, Handler] = {}

    # CardLike
    @property
    def atr(self) -> bytes:
        return ATR

    def power_on(self) -> bytes:
        return ATR

    def reset(self) -> bytes:
        return ATR

    def power_off(self) -> None:
        pass

    def transmit(self, capdu: bytes) -> bytes:
        cmd = CommandAPDU.parse(capdu)
        self.commands.append(cmd)
        answer = self.table.get(key_of(cmd))
        if answer is None and cmd.ins in self.by_ins:
            answer = self.by_ins[cmd.ins]
        if answer is None:
            return bytes.fromhex("6D00")
        text = answer(cmd) if callable(answer) else answer
        return bytes.fromhex(text.replace(" ", ""))

    def sent(self, ins: int) -> list[CommandAPDU]:
        return [c for c in self.commands if c.ins == ins]


def select_key(aid: bytes, *, next_occurrence: bool = False) -> str:
    return f"00A404{'02' if next_occurrence else '00'}{len(aid):02X}{aid.hex().upper()}"


def fci(aid: bytes, a5: bytes = b"") -> str:
    return (tlv.build(0x6F, tlv.build(0x84, aid) + (tlv.build(0xA5, a5) if a5 else b"")).hex() + "9000")


def h(tag: int, value: bytes | str) -> bytes:
    return tlv.build(tag, bytes.fromhex(value) if isinstance(value, str) else value)


CDOL1 = bytes.fromhex("9F02069F03069F1A0295055F2A029A039C019F3704")
CDOL2 = bytes.fromhex("8A0295059F3704")


@dataclass
class FakeEmvCard:
    """A contact EMV card from plain data. ``records`` maps (sfi, record) to the 70 template.

    GENERATE AC answers format 1 with the weaker of what was asked and ``max_first`` /
    ``max_second``; the AC is a fixed 8 bytes (the kernel does not check ACs). With ``cda_key``
    set and CDA requested, it answers format 2 signed with that key.
    """

    aip: bytes = bytes.fromhex("1C00")  # CVM, TRM, issuer authentication
    pdol: bytes = b""
    records: dict[tuple[int, int], bytes] = field(default_factory=dict)
    afl: bytes = bytes.fromhex("10010100")
    max_first: int = 0x80
    max_second: int = 0x40
    gpo_sw: str = "9000"
    pse: bool = True
    ext_auth_sw: str = "9000"
    pin: str = "1234"
    pin_tries: int = 3
    atc: int = 5
    last_online_atc: int | None = 3
    cda_key: rsa.RSAPrivateKey | None = None
    dda_key: rsa.RSAPrivateKey | None = None
    label: str = "PBOC DEBIT"
    card: ScriptedCard = field(default_factory=ScriptedCard)
    pdol_data: bytes = b""
    cdol1_data: bytes = b""

    def __post_init__(self) -> None:
        if not self.records:
            self.records = {(2, 1): default_application_record()}
        t = self.card.table
        a5 = h(0x50, self.label.encode()) + h(0x87, "01") + (h(0x9F38, self.pdol) if self.pdol else b"")
        t[select_key(AID)] = fci(AID, a5)
        if self.pse:
            t[select_key(b"1PAY.SYS.DDF01")] = fci(b"1PAY.SYS.DDF01", h(0x88, "01"))
            entry = h(0x61, h(0x4F, AID) + h(0x50, self.label.encode()) + h(0x87, "01"))
            t["00B2010C"] = tlv.build(0x70, entry).hex() + "9000"
            t["00B2020C"] = "6A83"
        else:
            t[select_key(b"1PAY.SYS.DDF01")] = "6A82"
        self.card.by_ins.update({
            0xA8: self._gpo, 0xB2: self._read, 0xCA: self._get_data, 0x20: self._verify,
            0xAE: self._genac, 0x82: lambda c: self.ext_auth_sw, 0x88: self._internal_auth,
        })
        self._gacs = 0

    def _gpo(self, cmd: CommandAPDU) -> str:
        self.pdol_data = tlv.decode(cmd.data)[0].value
        if self.gpo_sw != "9000":
            return self.gpo_sw
        return h(0x80, self.aip + self.afl).hex() + "9000"

    def _read(self, cmd: CommandAPDU) -> str:
        rec = self.records.get((cmd.p2 >> 3, cmd.p1))
        return rec.hex() + "9000" if rec is not None else "6A83"

    def _get_data(self, cmd: CommandAPDU) -> str:
        tag = cmd.p1 << 8 | cmd.p2
        if tag == 0x9F36:
            return h(0x9F36, self.atc.to_bytes(2, "big")).hex() + "9000"
        if tag == 0x9F13 and self.last_online_atc is not None:
            return h(0x9F13, self.last_online_atc.to_bytes(2, "big")).hex() + "9000"
        if tag == 0x9F17:
            return h(0x9F17, bytes((self.pin_tries,))).hex() + "9000"
        return "6A88"

    def _verify(self, cmd: CommandAPDU) -> str:
        if self.pin_tries == 0:
            return "6983"
        expected = bytes.fromhex(f"2{len(self.pin):X}{self.pin}".ljust(16, "F"))
        if cmd.data == expected:
            self.pin_tries = 3
            return "9000"
        self.pin_tries -= 1
        return f"63C{self.pin_tries:X}"

    def _internal_auth(self, cmd: CommandAPDU) -> str:
        assert self.dda_key is not None
        sdad = oda.sign_dynamic_data(self.dda_key, oda.dda_dynamic_data(b"\x12\x34"), cmd.data)
        return h(0x80, sdad).hex() + "9000"

    def _genac(self, cmd: CommandAPDU) -> str:
        self._gacs += 1
        asked = cmd.p1 & 0xC0
        limit = self.max_first if self._gacs == 1 else self.max_second
        cid = min(asked, limit)
        atc = self.atc.to_bytes(2, "big")
        ac = bytes.fromhex("1122334455667788")
        iad = bytes.fromhex("07010103A00000")
        if self._gacs == 1:
            self.cdol1_data = cmd.data
        if cmd.p1 & 0x10 and self.cda_key is not None and cid != 0x00:
            un = cmd.data[-4:]  # our CDOL1/CDOL2 end with 9F37
            body = oda.build_cda_response(
                self.cda_key, icc_dynamic_number=b"\xab\xcd", cid=cid, atc=atc, ac=ac, iad=iad, un=un,
                pdol_data=self.pdol_data, cdol1_data=self.cdol1_data,
                cdol2_data=cmd.data if self._gacs == 2 else b"",
            )
            return body.hex() + "9000"
        return h(0x80, bytes((cid,)) + atc + ac + iad).hex() + "9000"


def default_application_record(extra: dict[int, bytes] | None = None, drop: tuple[int, ...] = ()) -> bytes:
    """A 70 template with the mandatory data and a CVM list that allows no CVM; ``extra``
    replaces or adds values, ``drop`` removes tags."""
    values: dict[int, bytes] = {
        0x5A: PAN,
        0x5F24: bytes.fromhex("301231"),
        0x5F25: bytes.fromhex("200101"),
        0x5F28: bytes.fromhex("0156"),
        0x5F34: b"\x01",
        0x9F42: bytes.fromhex("0156"),
        0x9F07: bytes.fromhex("FF00"),
        0x9F08: bytes.fromhex("0030"),
        0x8E: bytes(8) + bytes.fromhex("1F00"),
        0x8C: CDOL1,
        0x8D: CDOL2,
        0x57: bytes.fromhex("6212345678901234567D30122200000F"),
    }
    values.update(extra or {})
    for tag in drop:
        values.pop(tag, None)
    return tlv.build(0x70, b"".join(tlv.build(t, v) for t, v in values.items()))
