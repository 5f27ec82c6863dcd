"""Offline PIN: plaintext and enciphered VERIFY, try counter, GET CHALLENGE."""

from __future__ import annotations

import secrets

import pytest

from applets.bank import DEBIT_AID, BankApplet
from applets.runtime import SimulatedCard
from cardkit.crypto.pin import encode_pin_block

from .kit import PIN, Pki, Terminal, apdu, recover_icc, send

WRONG = encode_pin_block("9999", format=2).reveal()
RIGHT = encode_pin_block(PIN, format=2).reveal()


def _tries(card: SimulatedCard) -> int:
    app = card.applet(DEBIT_AID)
    assert isinstance(app, BankApplet)
    return app.state().pin_tries


def _verify(card: SimulatedCard, block: bytes) -> int:
    return send(card, apdu(0x00, 0x20, 0x00, 0x80, block))[1]


def test_plaintext_pin(card: SimulatedCard) -> None:
    t = Terminal(card)
    t.start()
    assert _verify(card, WRONG) == 0x63C2
    assert _verify(card, RIGHT) == 0x9000
    assert _tries(card) == 3  # a right PIN restores the counter
    t.genac(0x40)
    assert t.cvr[0] & 0x06 == 0x04  # performed, not failed (the last try passed)


def test_pin_blocks_after_the_limit(card: SimulatedCard) -> None:
    Terminal(card).start()
    assert [_verify(card, WRONG) for _ in range(3)] == [0x63C2, 0x63C1, 0x63C0]
    assert _verify(card, RIGHT) == 0x6983
    assert _tries(card) == 0
    Terminal(card).start()
    assert _verify(card, RIGHT) == 0x6983  # stays blocked in the next transaction


@pytest.mark.parametrize(("command", "sw"), [
    (apdu(0x00, 0x20, 0x00, 0x80, RIGHT[:7]), 0x6700),
    (apdu(0x00, 0x20, 0x00, 0x81, RIGHT), 0x6A86),
    (apdu(0x00, 0x20, 0x01, 0x80, RIGHT), 0x6A86),
    (apdu(0x00, 0x20, 0x00, 0x80, encode_pin_block("1234", "6228480000000000017", format=0).reveal()), 0x6A80),
    (apdu(0x00, 0x20, 0x00, 0x80, bytes.fromhex("2F1234FFFFFFFFFF")), 0x6A80),
    (apdu(0x00, 0x20, 0x00, 0x88, bytes(128)), 0x6985),  # enciphered without GET CHALLENGE
    (apdu(0x00, 0x20, 0x00, 0x88, bytes(127)), 0x6700),
    (apdu(0x80, 0x20, 0x00, 0x80, RIGHT), 0x6E00),
])
def test_verify_refusals_count_no_try(card: SimulatedCard, command: bytes, sw: int) -> None:
    Terminal(card).start()
    before = card.store.committed()
    assert send(card, command)[1] == sw
    assert card.store.committed() == before


def test_verify_after_generate_ac_is_refused(card: SimulatedCard) -> None:
    t = Terminal(card)
    t.start()
    t.genac(0x80)
    assert _verify(card, RIGHT) == 0x6985


def test_card_without_offline_pin(card_with: object) -> None:
    card = card_with(pin=None)  # type: ignore[operator]
    Terminal(card).start()
    assert _verify(card, RIGHT) == 0x6A88
    assert send(card, "80CA9F1700")[1] == 0x6A88


def _enciphered(pki: Pki, t: Terminal, block: bytes, challenge: bytes, header: int = 0x7F) -> bytes:
    icc = recover_icc(pki, t, t.read_records())
    n = int.from_bytes(icc.key.modulus, "big")
    plain = bytes((header,)) + block + challenge + secrets.token_bytes(icc.key.length - 17)
    e = int.from_bytes(icc.key.exponent, "big")
    return pow(int.from_bytes(plain, "big"), e, n).to_bytes(icc.key.length, "big")


def test_enciphered_pin(card: SimulatedCard, pki: Pki) -> None:
    t = Terminal(card)
    t.start()
    challenge, sw = send(card, "0084000008")
    assert sw == 0x9000 and len(challenge) == 8
    assert send(card, apdu(0x00, 0x20, 0, 0x88, _enciphered(pki, t, WRONG, challenge)))[1] == 0x63C2
    challenge = send(card, "0084000000")[0]
    assert send(card, apdu(0x00, 0x20, 0, 0x88, _enciphered(pki, t, RIGHT, challenge)))[1] == 0x9000
    assert _tries(card) == 3


def test_enciphered_pin_needs_the_current_challenge(card: SimulatedCard, pki: Pki) -> None:
    t = Terminal(card)
    t.start()
    old = send(card, "0084000008")[0]
    send(card, "0084000008")
    before = card.store.committed()
    assert send(card, apdu(0x00, 0x20, 0, 0x88, _enciphered(pki, t, RIGHT, old)))[1] == 0x6A80
    challenge = send(card, "0084000008")[0]
    assert send(card, apdu(0x00, 0x20, 0, 0x88, _enciphered(pki, t, RIGHT, challenge, 0x7E)))[1] == 0x6A80
    assert card.store.committed() == before  # neither attempt counted a try
    challenge = send(card, "0084000008")[0]
    cryptogram = _enciphered(pki, t, RIGHT, challenge)
    assert send(card, apdu(0x00, 0x20, 0, 0x88, cryptogram))[1] == 0x9000
    assert send(card, apdu(0x00, 0x20, 0, 0x88, cryptogram))[1] == 0x6985  # a challenge serves once


def test_get_challenge_parameters(card: SimulatedCard) -> None:
    Terminal(card).select()
    assert send(card, "0084000108")[1] == 0x6A86
    assert send(card, "0084000004")[1] == 0x6700
    assert send(card, "008400000100")[1] == 0x6700
    assert send(card, "0084000008")[0] != send(card, "0084000008")[0]
