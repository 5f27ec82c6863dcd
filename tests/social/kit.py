"""A social insurance test card and a raw-APDU terminal that computes what the card must answer.

The terminal rebuilds the cryptogram, MACs and TAC from :mod:`cardkit.crypto` and the bytes on
the wire (never from ``applets.social``), so a card that agrees only with itself fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from applets.runtime import SimulatedCard, new_blank_card
from applets.social import SOCIAL_AID, SocialApplet, install_social
from cardkit.crypto import purse as pc
from cardkit.crypto.hazmat.ciphers import TripleDES
from cardkit.crypto.hazmat.mac import retail_mac
from cardkit.issuer.demo_keys import DEMO_SOCIAL_MAK, DEMO_SOCIAL_MPK, DEMO_SOCIAL_MTK, DEMO_SOCIAL_MUK
from cardkit.issuer.social_data import SocialAccount, prepare_social
from tests.bank.kit import apdu, send  # noqa: F401  (the APDU helpers every applet's tests share)

CARD_NUMBER = "1101050000000018"
X = bytes.fromhex(CARD_NUMBER)
PIN = b"123456"
RANDOM = bytes.fromhex("1A2B3C4D5E6F7081")
TERMINAL = bytes.fromhex("010203040506")
DATE = bytes.fromhex("20260504")
TIME = bytes.fromhex("093000")
SW_OK = 0x9000
ACCOUNT = SocialAccount(CARD_NUMBER, "110105", date(2025, 1, 1), date(2035, 1, 1), "张三", "ZHANG/SAN", "1", "01",
                        date(1990, 1, 1), "110105199001010010", pin=PIN.decode(), initial_balance=80_000)


def make_card(balance: int = 80_000) -> SimulatedCard:
    from dataclasses import replace

    card = new_blank_card(serial="8986000000000000018")
    dgis = prepare_social(replace(ACCOUNT, initial_balance=balance), terminal_auth_master=DEMO_SOCIAL_MAK,
                          purchase_master=DEMO_SOCIAL_MPK, tac_master=DEMO_SOCIAL_MTK, unblock_master=DEMO_SOCIAL_MUK)
    install_social(card, dgis, random=lambda n: RANDOM[:n])
    card.strict = True
    card.power_on()
    return card


def applet(card: SimulatedCard) -> SocialApplet:
    a = card.applet(SOCIAL_AID)
    assert isinstance(a, SocialApplet)
    return a


def select(card: SimulatedCard) -> None:
    assert send(card, apdu(0x00, 0xA4, 0x04, 0x00, SOCIAL_AID, 0))[1] == SW_OK


def card_key(master: bytes) -> bytes:
    return pc.diversify_card_key(master, X)


def authenticate(card: SimulatedCard, master: bytes = DEMO_SOCIAL_MAK) -> int:
    challenge, sw = send(card, "0084000008")
    assert sw == SW_OK and len(challenge) == 8
    return send(card, apdu(0x00, 0x82, 0x00, 0x01, TripleDES(card_key(master)).encrypt_ecb(challenge)))[1]


def verify(card: SimulatedCard, pin: bytes = PIN) -> int:
    return send(card, apdu(0x00, 0x20, 0x00, 0x01, pin))[1]


def unblock_apdu(card: SimulatedCard, master: bytes = DEMO_SOCIAL_MUK) -> bytes:
    challenge, sw = send(card, "0084000008")
    assert sw == SW_OK
    mac = retail_mac(card_key(master), bytes.fromhex("842C0001") + challenge, padding=2)[:4]
    return apdu(0x84, 0x2C, 0x00, 0x01, mac)


def init_apdu(amount: int, terminal: bytes = TERMINAL) -> bytes:
    return apdu(0x80, 0x50, 0x01, 0x02, b"\x01" + amount.to_bytes(4, "big") + terminal, 0x0F)


@dataclass
class Debit:
    command: bytes
    mac2: bytes
    tac: bytes


def debit_apdu(init: bytes, amount: int, txn_no: int = 7, *, wrong_mac: bool = False) -> Debit:
    counter, random = int.from_bytes(init[4:6], "big"), init[11:15]
    sespk = pc.purchase_session_key(card_key(DEMO_SOCIAL_MPK), random, counter, txn_no)
    mac1 = pc.purchase_mac1(sespk, amount, TERMINAL, DATE, TIME)
    if wrong_mac:
        mac1 = bytes(b ^ 0xFF for b in mac1)
    tac = pc.purchase_tac(card_key(DEMO_SOCIAL_MTK), amount, TERMINAL, txn_no, DATE, TIME)
    cmd = apdu(0x80, 0x54, 0x01, 0x00, txn_no.to_bytes(4, "big") + DATE + TIME + mac1, 8)
    return Debit(cmd, pc.purchase_mac2(sespk, amount), tac)
