"""A tiny GlobalPlatform host for the card manager's tests, built only on cardkit.crypto.gp.

It opens SCP03 and SCP02 sessions against a SimulatedCard in process, wraps commands (C-MAC,
C-DECRYPTION) the way pySim and GlobalPlatformPro do, and checks and strips R-MAC / R-ENCRYPTION.
Plus builders for the command data the card manager takes (PUT KEY blocks, INSTALL, STORE DATA in
DGI format) and the DGI maps of the real applications, made as pos_sim/demo_card.py makes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from applets.card_manager import DEFAULT_KEY, SL_C_DEC, SL_C_MAC, SL_R_ENC, SL_R_MAC, key_check_value
from applets.runtime import SimulatedCard, new_blank_card
from cardkit import cardaids
from cardkit.crypto import gp
from cardkit.crypto.hazmat import AES, TripleDES, pad_method_2

ISD = cardaids.ISD_AID
H = bytes.fromhex
SERIAL = "8986000000000000018"
VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "crypto_gp.txt"


def send(card: SimulatedCard, raw: bytes | str) -> tuple[bytes, int]:
    r = card.transmit(H(raw.replace(" ", "")) if isinstance(raw, str) else raw)
    return r[:-2], int.from_bytes(r[-2:], "big")


def apdu(cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None) -> bytes:
    out = bytes((cla, ins, p1, p2))
    if data:
        out += bytes((len(data),)) + data
    if le is not None:
        out += bytes((le & 0xFF,))
    return out


def select(card: SimulatedCard, aid: bytes, channel: int = 0) -> int:
    return send(card, apdu(channel, 0xA4, 0x04, 0x00, aid, le=0))[1]


def blank_card(**kwargs: object) -> SimulatedCard:
    card = new_blank_card(serial=SERIAL, **kwargs)  # type: ignore[arg-type]
    card.strict = True  # an exception in an applet fails the test instead of hiding behind 6F00
    card.power_on()
    return card


def split(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """(CLA INS P1 P2, data, Le bytes) of a short APDU."""
    if len(raw) <= 5:
        return raw[:4], b"", raw[4:]
    lc = raw[4]
    return raw[:4], raw[5 : 5 + lc], raw[5 + lc :]


def load_vectors() -> list[dict[str, str]]:
    """tests/vectors/crypto_gp.txt (each line preceded by its '# source:' line): name + fields."""
    out = []
    for line in VECTORS.read_text().splitlines():
        if line and not line.startswith("#"):
            name, *pairs = line.split()
            out.append({"name": name, **dict(p.split("=", 1) for p in pairs)})
    return out


def _success(sw: int) -> bool:
    return sw == 0x9000 or sw >> 8 in (0x62, 0x63)


class HostError(AssertionError):
    """The card broke the protocol as the host sees it (a wrong cryptogram or R-MAC)."""


@dataclass
class Scp03Host:
    """Host end of one SCP03 session (Amendment D), after EXTERNAL AUTHENTICATE."""

    card: SimulatedCard
    level: int
    keys: gp.Scp03SessionKeys
    dek: bytes = field(repr=False)
    mcv: bytes = bytes(16)
    counter: int = 0
    channel: int = 0

    def wrap(self, raw: bytes) -> bytes:
        header, data, le = split(raw)
        if self.level & SL_C_DEC:
            self.counter += 1
            if data:
                data = gp.scp03_encrypt_command(self.keys.s_enc, self.counter, data)
        if not self.level & SL_C_MAC:
            return header + (bytes((len(data),)) + data if data else b"") + le
        mac, self.mcv = gp.scp03_command_mac(self.keys.s_mac, self.mcv, bytes((header[0] & 0xFC,)) + header[1:], data)
        return bytes((header[0] | 0x04,)) + header[1:] + bytes((len(data) + 8,)) + data + mac + le

    def unwrap(self, resp: bytes) -> tuple[bytes, int]:
        data, sw = resp[:-2], int.from_bytes(resp[-2:], "big")
        if not self.level & SL_R_MAC or not _success(sw):
            return data, sw
        data, rmac = data[:-8], data[-8:]
        if gp.scp03_response_mac(self.keys.s_rmac, self.mcv, data, resp[-2:]) != rmac:
            raise HostError("wrong R-MAC")
        if self.level & SL_R_ENC and data:
            data = gp.scp03_decrypt_response(self.keys.s_enc, self.counter, data)
        return data, sw

    def send(self, raw: bytes | str) -> tuple[bytes, int]:
        raw = H(raw.replace(" ", "")) if isinstance(raw, str) else raw
        return self.unwrap(self.card.transmit(self.wrap(raw)))

    def encrypt_key(self, key: bytes) -> bytes:
        """Amendment D §7.2 key component: clear length byte, then AES-CBC(K-DEK, ICV 0) of the padded key."""
        padded = key + bytes(-len(key) % 16)
        return bytes((len(key),)) + AES(self.dek).encrypt_cbc(padded)


@dataclass
class Scp02Host:
    """Host end of one SCP02 i=55 session (GP 2.3 Annex E)."""

    card: SimulatedCard
    level: int
    s_enc: bytes = field(repr=False)
    s_mac: bytes = field(repr=False)
    s_dek: bytes = field(repr=False)
    last_mac: bytes = field(repr=False)

    def wrap(self, raw: bytes) -> bytes:
        header, data, le = split(raw)
        if not self.level & SL_C_MAC:
            return raw
        icv = gp.scp02_next_icv(self.s_mac, self.last_mac)
        self.last_mac = gp.scp02_command_mac(self.s_mac, icv, header, data)
        if self.level & SL_C_DEC and data:
            data = TripleDES(self.s_enc).encrypt_cbc(pad_method_2(data, 8))
        return bytes((header[0] | 0x04,)) + header[1:] + bytes((len(data) + 8,)) + data + self.last_mac + le

    def unwrap(self, resp: bytes) -> tuple[bytes, int]:
        return resp[:-2], int.from_bytes(resp[-2:], "big")

    def send(self, raw: bytes | str) -> tuple[bytes, int]:
        raw = H(raw.replace(" ", "")) if isinstance(raw, str) else raw
        return self.unwrap(self.card.transmit(self.wrap(raw)))

    def encrypt_key(self, key: bytes) -> bytes:
        """A 16-byte key under the session DEK, 3DES-ECB (GP 2.3 E.4.7): no length byte."""
        return TripleDES(self.s_dek).encrypt_ecb(key)


Host = Scp03Host | Scp02Host


def open_scp03(card: SimulatedCard, *, level: int = SL_C_MAC, kvn: int = 0, enc: bytes = DEFAULT_KEY,
               mac: bytes = DEFAULT_KEY, dek: bytes = DEFAULT_KEY, host_challenge: bytes = H("0102030405060708"),
               channel: int = 0) -> Scp03Host:
    """INITIALIZE UPDATE + EXTERNAL AUTHENTICATE; raises HostError if the card's cryptogram is wrong
    and AssertionError if the card refuses."""
    rsp, sw = send(card, apdu(0x80 | channel, 0x50, kvn, 0, host_challenge, le=0))
    assert sw == 0x9000, f"INITIALIZE UPDATE {sw:04X}"
    assert len(rsp) == 32 and rsp[11] == 0x03, rsp.hex()
    card_challenge, card_cryptogram = rsp[13:21], rsp[21:29]
    keys = gp.derive_scp03_session_keys(enc, mac, host_challenge, card_challenge)
    if gp.scp03_card_cryptogram(keys.s_mac, host_challenge, card_challenge) != card_cryptogram:
        raise HostError("wrong card cryptogram")
    host = Scp03Host(card, level, keys, dek, channel=channel)
    host_cryptogram = gp.scp03_host_cryptogram(keys.s_mac, host_challenge, card_challenge)
    c_mac, host.mcv = gp.scp03_command_mac(keys.s_mac, bytes(16), bytes((0x80, 0x82, level, 0)), host_cryptogram)
    _, sw = send(card, bytes((0x84 | channel, 0x82, level, 0, 16)) + host_cryptogram + c_mac)
    assert sw == 0x9000, f"EXTERNAL AUTHENTICATE {sw:04X}"
    return host


def open_scp02(card: SimulatedCard, *, level: int = SL_C_MAC, kvn: int = 0x20, enc: bytes = DEFAULT_KEY,
               mac: bytes = DEFAULT_KEY, dek: bytes = DEFAULT_KEY,
               host_challenge: bytes = H("1122334455667788")) -> Scp02Host:
    rsp, sw = send(card, apdu(0x80, 0x50, kvn, 0, host_challenge, le=0))
    assert sw == 0x9000, f"INITIALIZE UPDATE {sw:04X}"
    assert len(rsp) == 28 and rsp[11] == 0x02, rsp.hex()
    seq, card_challenge, card_cryptogram = rsp[12:14], rsp[14:20], rsp[20:28]
    s_enc = gp.scp02_session_key(enc, gp.SCP02_S_ENC, seq)
    s_mac = gp.scp02_session_key(mac, gp.SCP02_C_MAC, seq)
    s_dek = gp.scp02_session_key(dek, gp.SCP02_DEK, seq)
    if gp.scp02_card_cryptogram(s_enc, host_challenge, seq, card_challenge) != card_cryptogram:
        raise HostError("wrong card cryptogram")
    host_cryptogram = gp.scp02_host_cryptogram(s_enc, host_challenge, seq, card_challenge)
    c_mac = gp.scp02_command_mac(s_mac, bytes(8), bytes((0x84, 0x82, level, 0)), host_cryptogram)
    _, sw = send(card, bytes((0x84, 0x82, level, 0, 16)) + host_cryptogram + c_mac)
    assert sw == 0x9000, f"EXTERNAL AUTHENTICATE {sw:04X}"
    return Scp02Host(card, level, s_enc, s_mac, s_dek, c_mac)


# --- command data builders -------------------------------------------------------------------------


def put_key_data(host: Host, kvn: int, keys: Iterable[tuple[int, bytes]]) -> bytes:
    """PUT KEY data: new KVN || (type, length, key component, 03, KCV) per key (type 88 AES, 80 DES)."""
    out = bytes((kvn,))
    for key_type, key in keys:
        component = host.encrypt_key(key)
        out += bytes((key_type, len(component))) + component + b"\x03" + key_check_value(key_type, key)
    return out


def install_data(load_file: bytes, module: bytes, aid: bytes, privileges: bytes = b"\x00",
                 parameters: bytes = b"\xc9\x00", token: bytes = b"") -> bytes:
    """INSTALL [for install] data (GP 2.3 Table 11-47): length-prefixed fields."""
    return b"".join(bytes((len(f),)) + f for f in (load_file, module, aid, privileges, parameters, token))


def perso_data(aid: bytes) -> bytes:
    """INSTALL [for personalization] data: 00 00 L AID 00 00 00."""
    return b"\x00\x00" + bytes((len(aid),)) + aid + b"\x00\x00\x00"


def dgi_stream(dgis: Mapping[int, bytes]) -> bytes:
    """DGI || length (1 byte, or FF + 2 bytes from 255 on) || value, for every DGI."""
    out = b""
    for dgi, value in dgis.items():
        n = len(value)
        out += dgi.to_bytes(2, "big") + (bytes((n,)) if n < 0xFF else b"\xff" + n.to_bytes(2, "big")) + value
    return out


def store_data_blocks(stream: bytes, size: int = 200, p1: int = 0x08) -> list[bytes]:
    """STORE DATA commands carrying ``stream`` in blocks of ``size`` (P1 b8 on the last one)."""
    chunks = [stream[i : i + size] for i in range(0, len(stream), size)] or [b""]
    return [apdu(0x80, 0xE2, p1 | (0x80 if n == len(chunks) - 1 else 0), n, chunk)
            for n, chunk in enumerate(chunks)]


def personalize(host: Host, load_file: bytes, module: bytes, aid: bytes, dgis: Mapping[int, bytes],
                size: int = 200) -> int:
    """INSTALL [for install and make selectable], INSTALL [for personalization], STORE DATA...;
    returns the status word of the last STORE DATA."""
    _, sw = host.send(apdu(0x80, 0xE6, 0x0C, 0x00, install_data(load_file, module, aid), le=0))
    assert sw == 0x9000, f"INSTALL {sw:04X}"
    _, sw = host.send(apdu(0x80, 0xE6, 0x20, 0x00, perso_data(aid), le=0))
    assert sw == 0x9000, f"INSTALL [for personalization] {sw:04X}"
    for block in store_data_blocks(dgi_stream(dgis), size):
        _, sw = host.send(block)
    return sw


# --- the real applications' DGI maps (as pos_sim/demo_card.py makes them) --------------------------


@cache
def bank_dgis() -> dict[int, bytes]:
    from cardkit.issuer import BankAccount, BankProduct, prepare_bank_dgis
    from cardkit.issuer.demo_keys import DEMO_PAN, demo_issuer

    today = date.today()
    account = BankAccount(DEMO_PAN, "ZHANG/SAN", date(today.year + 4, 12, 31), date(today.year - 1, 1, 1),
                          pin="123456", ec_balance=50_000)
    return prepare_bank_dgis(account, demo_issuer(), product=BankProduct())


@cache
def transit_dgis() -> dict[int, bytes]:
    from cardkit.issuer.demo_keys import DEMO_PURSE_MLK, DEMO_PURSE_MPK, DEMO_PURSE_MTK
    from cardkit.issuer.transit_data import TransitAccount, prepare_transit

    today = date.today()
    account = TransitAccount("31000000000000000018", "ZHANG/SAN", "110101199003070000", date(today.year - 1, 1, 1),
                             date(today.year + 4, 12, 31), initial_balance=5_000, max_balance=100_000)
    return prepare_transit(account, mlk=DEMO_PURSE_MLK, mpk=DEMO_PURSE_MPK, mtk=DEMO_PURSE_MTK)


@cache
def social_dgis() -> dict[int, bytes]:
    from cardkit.issuer.demo_keys import DEMO_SOCIAL_MAK, DEMO_SOCIAL_MPK, DEMO_SOCIAL_MTK, DEMO_SOCIAL_MUK
    from cardkit.issuer.social_data import SocialAccount, prepare_social

    today = date.today()
    account = SocialAccount("1101050000000018", "110105", date(today.year - 1, 1, 1), date(today.year + 9, 12, 31),
                            "张三", "ZHANG/SAN", "1", "01", date(1990, 1, 1), "110105199001010010", pin="123456",
                            initial_balance=80_000)
    return prepare_social(account, terminal_auth_master=DEMO_SOCIAL_MAK, purchase_master=DEMO_SOCIAL_MPK,
                          tac_master=DEMO_SOCIAL_MTK, unblock_master=DEMO_SOCIAL_MUK)


@cache
def eid_dgis() -> dict[int, bytes]:
    from cardkit.issuer.demo_keys import demo_document_signer
    from cardkit.issuer.eid_data import IdHolder, prepare_eid

    today = date.today()
    holder = IdHolder("E12345678", "ZHANG", "SAN", "张三", "M", date(1990, 1, 1), date(today.year + 4, 12, 31),
                      "110105199001010010", address="北京市东城区景山前街4号")
    return prepare_eid(holder, document_signer=demo_document_signer())


def fixed_random(*values: bytes) -> Callable[[int], bytes]:
    """A card random source that hands out ``values`` in turn (then zeros)."""
    queue = list(values)

    def take(n: int) -> bytes:
        return queue.pop(0)[:n] if queue else bytes(n)

    return take
