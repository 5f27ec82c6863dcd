"""The rest of the scenario matrix against the real bank applet: a blocked PIN, a tampered issuer
certificate, and a CDA signature altered between the card and the terminal. Each asserts the
outcome and the TVR/TSI bits that explain it."""

from __future__ import annotations

from datetime import date

from applets.bank import install_bank
from applets.runtime import SimulatedCard, new_blank_card
from cardkit import tlv
from cardkit.crypto.oda import OdaMethod, OdaReason
from cardkit.emv import OutcomeKind, Tsi, Tvr
from cardkit.issuer.bank_data import BankAccount, BankProduct, prepare_bank_dgis
from cardkit.issuer.demo_keys import demo_issuer
from cardkit.readers import CardChannel, VirtualReader

from .test_flow_bank import PIN, Host, Pad, kernel

ISSUER_CERT_DGI = 0x0301  # SFI 3 record 1: 8F, 90, 92, 9F32 (docs/bank.md)


def _card(icc_key: object, tamper: int | None = None) -> SimulatedCard:
    account = BankAccount("6228480000000000017", "TEST/CARDHOLDER", date(2030, 12, 31), date(2025, 1, 1),
                          pin=PIN, ec_balance=20_000)
    dgis = prepare_bank_dgis(account, demo_issuer(), product=BankProduct(), icc_key=icc_key)  # type: ignore[arg-type]
    if tamper is not None:
        record = bytearray(dgis[tamper])
        cert = tlv.find(tlv.decode(bytes(record)), [0x70, 0x90])
        assert cert is not None
        at = bytes(record).index(cert.value) + len(cert.value) // 2
        record[at] ^= 0x01
        dgis[tamper] = bytes(record)
    card = new_blank_card(serial="8986001234567890123")
    install_bank(card, {BankProduct().aid: dgis})
    return card


def test_pin_blocked_after_three_wrong_then_the_next_transaction_knows(icc_key: object) -> None:
    card = _card(icc_key)
    first = kernel(card, host=Host(), pad=Pad("111111", "222222", "333333")).run(1250)
    assert Tvr.PIN_TRY_LIMIT_EXCEEDED in first.tvr and Tsi.CARDHOLDER_VERIFICATION_PERFORMED in first.tsi
    pad = Pad(PIN)
    again = kernel(card, host=Host(), pad=pad).run(1250)
    assert Tvr.PIN_TRY_LIMIT_EXCEEDED in again.tvr
    assert all(r.kind.value != "offline" for r in pad.requests)  # a blocked PIN is never prompted offline


def test_tampered_issuer_certificate_fails_oda(icc_key: object) -> None:
    host = Host()
    out = kernel(_card(icc_key, tamper=ISSUER_CERT_DGI), host=host, pad=Pad(PIN)).run(1250)
    assert out.oda_method is OdaMethod.CDA and out.oda_failure is not None
    # one flipped bit makes the RSA recovery garbage: the trailer or header check catches it first
    assert out.oda_failure in (OdaReason.TRAILER, OdaReason.HEADER, OdaReason.FORMAT, OdaReason.HASH)
    assert Tvr.CDA_FAILED in out.tvr and Tsi.ODA_PERFORMED in out.tsi
    assert out.kind is not OutcomeKind.APPROVED_OFFLINE  # TAC-online / TAC-default name CDA failed


class AlteredSignature:
    """A reader that flips one bit of the CDA signature (9F4B) in every GENERATE AC response."""

    def __init__(self, card: SimulatedCard) -> None:
        self._conn = VirtualReader(card).connect()

    def __getattr__(self, name: str) -> object:
        return getattr(self._conn, name)

    def transmit(self, capdu: bytes, **kw: object) -> bytes:
        rapdu: bytes = self._conn.transmit(capdu, **kw)
        if capdu[1] == 0xAE and rapdu[-2:] == b"\x90\x00":
            sig = tlv.find(tlv.decode(rapdu[:-2]), [0x77, 0x9F4B])
            if sig is not None:
                at = rapdu.index(sig.value) + 10
                rapdu = rapdu[:at] + bytes((rapdu[at] ^ 0x01,)) + rapdu[at + 1:]
        return rapdu


def test_altered_cda_signature_declines(icc_key: object) -> None:
    card = _card(icc_key)
    k = kernel(card, host=Host(), pad=Pad(PIN))
    k.channel = CardChannel(AlteredSignature(card))  # type: ignore[arg-type]
    out = k.run(1250)
    assert out.oda_method is OdaMethod.CDA and Tvr.CDA_FAILED in out.tvr
    assert out.kind in (OutcomeKind.DECLINED_OFFLINE, OutcomeKind.DECLINED_ONLINE) and "CDA" in out.reason
