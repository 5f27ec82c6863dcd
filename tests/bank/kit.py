"""Test DGIs, and a minimal terminal and issuer that check the card from the outside.

The terminal and the issuer here never use ``applets.bank`` code: AC data, ARPCs, script MACs
and ODA are rebuilt from :mod:`cardkit.crypto` and the bytes on the wire, so a card that agrees
with itself but not with docs/bank.md fails.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from cryptography.hazmat.primitives.asymmetric import rsa

from applets.bank import DEBIT_AID, install_bank
from applets.runtime import SimulatedCard, new_blank_card
from cardkit import tlv
from cardkit.crypto import oda
from cardkit.crypto.emv import (
    derive_icc_master_key,
    derive_session_key,
    derive_sm_session_key,
    generate_ac,
    generate_arpc_method1,
    script_encrypt,
    script_mac,
)
from cardkit.crypto.hazmat.keys import kcv
from cardkit.crypto.pin import encode_pin_block

PAN = "6228480000000000017"
PAN_5A = bytes.fromhex(PAN + "F")
PSN = b"\x01"
PIN = "1234"
TODAY = date(2026, 5, 1)
IMK_AC = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
IMK_SMI = bytes.fromhex("89ABCDEF0123456776543210FEDCBA98")
IMK_SMC = bytes.fromhex("FEDCBA98765432100123456789ABCDEF")
AIP = bytes.fromhex("7D00")  # SDA, DDA, cardholder verification, terminal risk management, IA, CDA
AFL = bytes.fromhex("08010100" "10010101" "18010300")
PDOL = bytes.fromhex("9F6604" "9F0206" "9F0306" "9F1A02" "9505" "5F2A02" "9A03" "9C01" "9F3704")
CDOL1 = bytes.fromhex("9F0206" "9F0306" "9F1A02" "9505" "5F2A02" "9A03" "9C01" "9F3704" "9F2103" "9F4E14")
CDOL2 = bytes.fromhex("8A02" "9F3704" "9505" "910A")
LOG_FORMAT = bytes.fromhex("9A039F21039F02069F03069F1A025F2A029F4E149C019F3602")
AC_TAGS = (b"\x9f\x02", b"\x9f\x03", b"\x9f\x1a", b"\x95", b"\x5f\x2a", b"\x9a", b"\x9c", b"\x9f\x37")
TTQ_QPBOC = bytes.fromhex("30000000")  # qPBOC, contact chip; offline allowed
TTQ_QPBOC_ONLINE = bytes.fromhex("30800000")  # online cryptogram required


def int_bytes(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def n12(value: int) -> bytes:
    return bytes.fromhex(f"{value:012d}")


@dataclass(frozen=True)
class Pki:
    """A TEST CA, an issuer key certified by it, and one ICC key."""

    ca: oda.TestCa
    issuer_key: rsa.RSAPrivateKey = field(repr=False)
    issuer_cert: oda.IssuerCertificate
    icc_key: rsa.RSAPrivateKey = field(repr=False)


def make_pki() -> Pki:
    ca = oda.generate_test_ca(1024)
    issuer_key = rsa.generate_private_key(public_exponent=3, key_size=1024)
    cert = oda.make_issuer_certificate(ca.private_key, issuer_key, issuer_id="622848", expiry="1230",
                                       serial=b"\x00\x00\x01")
    icc_key = rsa.generate_private_key(public_exponent=3, key_size=1024)
    return Pki(ca, issuer_key, cert, icc_key)


def risk_tlv(**tags: bytes) -> bytes:
    """A 0D01/0E01 TLV list from ``T9F14=b"..."`` style keywords (tag hex after the T)."""
    return b"".join(tlv.build(bytes.fromhex(name[1:]), value) for name, value in tags.items())


def track2() -> bytes:
    digits = PAN + "D" + "3012" + "220" + "0000000000"
    return bytes.fromhex(digits + ("F" if len(digits) % 2 else ""))


def make_dgis(pki: Pki, *, risk: bytes | None = None, counters: bytes | None = None,
              pin: str | None = PIN, rsa_key: bool = True) -> dict[int, bytes]:
    """The DGI map of docs/bank.md for a debit application with the test PKI."""
    mk = [derive_icc_master_key(k, PAN, PSN) for k in (IMK_AC, IMK_SMI, IMK_SMC)]
    rec11 = tlv.build(0x70, tlv.build(0x57, track2()) + tlv.build(0x5F20, b"TEST/CARDHOLDER"))
    rec21_body = b"".join([
        tlv.build(0x5A, PAN_5A), tlv.build(0x5F24, bytes.fromhex("301231")), tlv.build(0x5F25, bytes.fromhex("250101")),
        tlv.build(0x5F28, b"\x01\x56"), tlv.build(0x5F34, PSN), tlv.build(0x9F07, b"\xff\x00"),
        tlv.build(0x8E, bytes(8) + bytes.fromhex("42031E031F00")), tlv.build(0x9F0D, bytes.fromhex("D860AC8000")),
        tlv.build(0x9F0E, bytes(5)), tlv.build(0x9F0F, bytes.fromhex("D868BC9800")), tlv.build(0x8C, CDOL1),
        tlv.build(0x8D, CDOL2), tlv.build(0x9F4A, b"\x82"), tlv.build(0x9F08, b"\x00\x30"),
    ])
    rec21 = tlv.build(0x70, rec21_body)
    static = oda.static_data_to_authenticate([(2, rec21)], aip=AIP, sda_tag_list=b"\x82")
    ssad = oda.sign_static_data(pki.issuer_key, static, b"\xda\xc1")
    icc_cert = oda.make_icc_certificate(pki.issuer_key, pki.icc_key, pan=PAN, expiry="1230",
                                        serial=b"\x00\x00\x02", static_data=static)
    rec31 = tlv.build(0x70, tlv.build(0x8F, bytes((pki.ca.capk.index,))) + pki.issuer_cert.tlvs())
    rec32 = tlv.build(0x70, tlv.build(0x93, ssad))
    rec33 = tlv.build(0x70, icc_cert.tlvs() + tlv.build(0x9F49, b"\x9f\x37\x04"))
    fci = b"".join([
        tlv.build(0x50, b"PBOC DEBIT"), tlv.build(0x87, b"\x01"), tlv.build(0x9F38, PDOL),
        tlv.build(0x5F2D, b"zhen"), tlv.build(0x9F11, b"\x01"), tlv.build(0x9F12, b"UNIONPAY DEBIT"),
        tlv.build(0xBF0C, tlv.build(0x9F4D, b"\x0b\x0a")),
    ])
    dgis: dict[int, bytes] = {
        0x0101: rec11, 0x0201: rec21, 0x0301: rec31, 0x0302: rec32, 0x0303: rec33,
        0x9102: fci, 0x9104: AIP + AFL, 0x9105: AIP + AFL,
        0x8000: b"".join(mk), 0x9000: b"".join(kcv(k) for k in mk),
        0x0D01: risk if risk is not None else risk_tlv(T9F14=b"\x02", T9F23=b"\x04", T9F52=b"\x00\x00"),
        0x0E01: counters if counters is not None else risk_tlv(T9F79=n12(20000)),
    }
    if pin is not None:
        dgis[0x8010] = encode_pin_block(pin, format=2).reveal()
        dgis[0x9010] = b"\x03\x03"
    if rsa_key:
        n = pki.icc_key.private_numbers()
        for dgi, value in zip((0x8201, 0x8202, 0x8203, 0x8204, 0x8205),
                              (n.iqmp, n.dmq1, n.dmp1, n.q, n.p), strict=True):
            dgis[dgi] = int_bytes(value)
    else:
        dgis[0x9104] = dgis[0x9105] = bytes.fromhex("5C00") + AFL  # no DDA/CDA
    return dgis


def make_card(dgis: Mapping[int, bytes], *, aid: bytes = DEBIT_AID) -> SimulatedCard:
    card = new_blank_card(serial="8986001234567890123")
    install_bank(card, {aid: dgis})
    card.strict = True  # an exception in the applet fails the test instead of becoming 6F00
    card.power_on()
    return card


def send(card: SimulatedCard, apdu: str | bytes) -> tuple[bytes, int]:
    raw = bytes.fromhex(apdu.replace(" ", "")) if isinstance(apdu, str) else apdu
    r = card.transmit(raw)
    return r[:-2], int.from_bytes(r[-2:], "big")


def apdu(cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None) -> bytes:
    out = bytes((cla, ins, p1, p2))
    if data:
        out += bytes((len(data),)) + data
    if le is not None:
        out += bytes((le & 0xFF,))
    return out


class Terminal:
    """Just enough of an EMV kernel to drive the card and keep what it sent."""

    def __init__(self, card: SimulatedCard, *, amount: int = 1000, ttq: bytes = bytes(4)) -> None:
        self.card = card
        self.values: dict[bytes, bytes] = {
            b"\x9f\x66": ttq, b"\x9f\x02": n12(amount), b"\x9f\x03": n12(0), b"\x9f\x1a": b"\x01\x56",
            b"\x95": bytes(5), b"\x5f\x2a": b"\x01\x56", b"\x9a": bytes.fromhex("260501"), b"\x9c": b"\x00",
            b"\x9f\x37": secrets.token_bytes(4), b"\x9f\x21": bytes.fromhex("123000"),
            b"\x9f\x4e": b"CARDKIT TEST SHOP".ljust(20, b" "),
        }
        self.pdol = b""
        self.pdol_data = b""
        self.cdol_data: list[bytes] = []
        self.aip = b""
        self.afl = b""
        self.response: bytes = b""
        self.cid = -1
        self.atc = b""
        self.ac = b""
        self.iad = b""

    def select(self, aid: bytes = DEBIT_AID) -> int:
        data, sw = send(self.card, apdu(0x00, 0xA4, 0x04, 0x00, aid, 0))
        if data:
            pdol = tlv.find(tlv.decode(data), 0x9F38)
            self.pdol = pdol.value if pdol else b""
        return sw

    def gpo(self) -> int:
        self.pdol_data = tlv.build_dol_data(self.pdol, self.values)
        data, sw = send(self.card, apdu(0x80, 0xA8, 0, 0, tlv.build(0x83, self.pdol_data), 0))
        self.response = data
        if sw == 0x9000 and data[0] == 0x80:
            self.aip, self.afl = data[2:4], data[4:]
        elif sw == 0x9000:
            flat = tlv.flatten(data)
            self.aip, self.afl = flat[b"\x82"], flat[b"\x94"]
            self.cid, self.atc, self.ac, self.iad = flat[b"\x9f\x27"][0], flat[b"\x9f\x36"], flat[b"\x9f\x26"], \
                flat[b"\x9f\x10"]
        return sw

    def start(self, aid: bytes = DEBIT_AID) -> None:
        assert self.select(aid) == 0x9000
        assert self.gpo() == 0x9000

    def read_records(self) -> dict[tuple[int, int], bytes]:
        out = {}
        for i in range(0, len(self.afl), 4):
            sfi, first, last = self.afl[i] >> 3, self.afl[i + 1], self.afl[i + 2]
            for r in range(first, last + 1):
                data, sw = send(self.card, apdu(0x00, 0xB2, r, sfi << 3 | 4, le=0))
                assert sw == 0x9000
                out[(sfi, r)] = data
        return out

    def genac(self, p1: int, *, second: bool = False, **extra: bytes) -> int:
        for name, value in extra.items():
            self.values[bytes.fromhex(name[1:])] = value
        dol = CDOL2 if second else CDOL1
        data = tlv.build_dol_data(dol, self.values)
        self.cdol_data.append(data)
        resp, sw = send(self.card, apdu(0x80, 0xAE, p1, 0, data, 0))
        self.response = resp
        if sw == 0x9000:
            if resp[0] == 0x80:
                body = tlv.decode(resp)[0].value
                self.cid, self.atc, self.ac, self.iad = body[0], body[1:3], body[3:11], body[11:]
            else:
                flat = tlv.flatten(resp)
                self.cid, self.atc, self.iad = flat[b"\x9f\x27"][0], flat[b"\x9f\x36"], flat[b"\x9f\x10"]
        return sw

    @property
    def cvr(self) -> bytes:
        return self.iad[4:7]


class Issuer:
    """The issuer host's side: ICC keys from the IMKs, AC check, ARPC, script commands."""

    def __init__(self) -> None:
        self.mk_ac, self.mk_smi, self.mk_smc = (derive_icc_master_key(k, PAN, PSN) for k in (IMK_AC, IMK_SMI, IMK_SMC))

    def expected_ac(self, t: Terminal, *, aip: bytes | None = None) -> bytes:
        """CVN 01 AC data rebuilt from the terminal's values and the card's response alone."""
        data = b"".join(t.values[tag] for tag in AC_TAGS) + (aip or t.aip) + t.atc + t.iad[3:7]
        return generate_ac(derive_session_key(self.mk_ac, t.atc), data)

    def arpc(self, t: Terminal, arc: bytes = b"00") -> bytes:
        return generate_arpc_method1(derive_session_key(self.mk_ac, t.atc), t.ac, arc) + arc

    def script(self, t: Terminal, arqc: bytes, ins: int, p1: int = 0, p2: int = 0, data: bytes = b"",
               *, encipher: bool = False, bad_mac: bool = False) -> bytes:
        if encipher:
            data = script_encrypt(derive_sm_session_key(self.mk_smc, arqc), data)
        header = bytes((0x84, ins, p1, p2, len(data) + 8))
        mac = script_mac(derive_sm_session_key(self.mk_smi, arqc), header, data, transaction_data=t.atc + arqc)
        if bad_mac:
            mac = bytes((mac[0] ^ 1,)) + mac[1:]
        return header + data + mac


def recover_icc(pki: Pki, t: Terminal, records: Mapping[tuple[int, int], bytes]) -> oda.RecoveredIccKey:
    """The terminal's ODA chain: CAPK -> issuer key -> ICC key, over the static data of the AFL."""
    data: dict[bytes, bytes] = {}
    for raw in records.values():
        for tag, value in tlv.flatten(raw).items():
            data.setdefault(tag, value)
    issuer = oda.recover_issuer_key(pki.ca.capk, data[b"\x90"], data.get(b"\x92"), data[b"\x9f\x32"],
                                    pan=data[b"\x5a"], today=TODAY)
    static = oda.static_data_to_authenticate([(s, records[(s, r)]) for s, r in oda.oda_records(t.afl)],
                                             aip=t.aip, sda_tag_list=data.get(b"\x9f\x4a"))
    return oda.recover_icc_key(issuer, data[b"\x9f\x46"], data.get(b"\x9f\x48"), data[b"\x9f\x47"],
                               pan=data[b"\x5a"], static_data=static, today=TODAY)
