"""The reader (``nfc:udp``) against the card server over nfcpy's UDP driver: activation, EMV, transit."""

from __future__ import annotations

from applets.runtime import SimulatedCard
from cardkit.apdu import CommandAPDU
from cardkit.crypto.oda import CapkStore, OdaMethod
from cardkit.emv import Kernel, OutcomeKind, TerminalConfig
from cardkit.issuer.demo_keys import DEMO_PURSE_MPK, DEMO_PURSE_MTK, demo_capk, demo_issuer
from cardkit.purse import Psam
from cardkit.readers import CardChannel
from cardkit.readers.nfc import NfcReader, contactless_atr
from cardkit.readers.nfc_card import NfcCardServer
from pos_sim.issuer_standin import IssuerStandIn
from pos_sim.transit import Validator, demo_rules

PPSE = b"2PAY.SYS.DDF01"


def test_activation_gives_the_pcsc_contactless_atr(reader: NfcReader, demo_card: SimulatedCard,
                                                    card_server: NfcCardServer) -> None:
    with reader.connect() as conn:
        assert conn.atr == demo_card.contactless.atr
        assert conn.atr[:4] == b"\x3B\x8D\x80\x01" and conn.protocol == "T1"
        assert reader.atr() == conn.atr
    assert card_server.activations == 1


def test_contactless_atr_without_historical_bytes() -> None:
    assert contactless_atr(b"") == bytes.fromhex("3B80800101")  # PC/SC part 3 §3.1.3.2.3


def test_select_ppse(reader: NfcReader) -> None:
    with reader.connect() as conn:
        fci = CardChannel(conn).transmit_ok(CommandAPDU(0x00, 0xA4, 0x04, 0x00, PPSE, le=256)).data
    assert fci[:2] == b"\x6F\x4C" and PPSE in fci


def test_contactless_emv_purchase_approved_offline_with_fdda(reader: NfcReader) -> None:
    store = CapkStore()
    store.add(demo_capk())
    with reader.connect() as conn:
        kernel = Kernel(CardChannel(conn), TerminalConfig(capk=store), online=IssuerStandIn(demo_issuer()).online)
        outcome = kernel.run(300, contactless=True)
    assert outcome.kind is OutcomeKind.APPROVED_OFFLINE and outcome.oda_method is OdaMethod.FDDA


def test_transit_tap_opens_the_gate(reader: NfcReader) -> None:
    rules = demo_rules()
    validator = Validator(rules, Psam(DEMO_PURSE_MPK, DEMO_PURSE_MTK, terminal_id=bytes(6)), rules.station("Xizhimen"))
    with reader.connect() as conn:
        result = validator.tap(CardChannel(conn))
    assert result.gate_open
