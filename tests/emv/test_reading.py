"""`cardkit.emv.reading`: every application of the real bank applet read without paying."""

from __future__ import annotations

from applets.bank import CREDIT_AID, DEBIT_AID
from applets.runtime import SimulatedCard
from cardkit.crypto.oda import OdaMethod, OdaReason
from cardkit.emv import TerminalConfig
from cardkit.emv.reading import read_card
from cardkit.issuer.authorization import ScriptCommand
from cardkit.issuer.bank_data import BankProduct

from .test_flow_bank import PIN, Host, Pad, capks, kernel, make_card

BOTH = (BankProduct(aid=DEBIT_AID, label="PBOC DEBIT", priority=1),
        BankProduct(aid=CREDIT_AID, label="PBOC CREDIT", priority=2))


def two_app_card(icc_key: object) -> SimulatedCard:
    return make_card(icc_key, products=BOTH)


def test_every_application_with_its_records_counters_and_cda_chain(icc_key: object) -> None:
    reading = read_card(kernel(two_app_card(icc_key)))
    assert [a.aid for a in reading.applications] == [DEBIT_AID, CREDIT_AID]
    for app in reading.applications:
        assert app.error is None and app.label.startswith("PBOC")
        afl = app.data[0x94]
        expected = sum(afl[i + 2] - afl[i + 1] + 1 for i in range(0, len(afl), 4))
        assert len(app.records) == expected and all(raw[0] == 0x70 for _, _, raw in app.records)
        assert app.oda_method is OdaMethod.CDA and app.oda_ok is True and "certificates verified" in app.oda_note
        assert app.counters[0x9F36] == b"\x00\x01"  # the reading's own GPO was the first transaction start
        assert app.counters[0x9F17] == b"\x03" and app.log == ()
        assert app.data[0x5A].hex().startswith("622848")


def test_the_log_shows_a_purchase(icc_key: object) -> None:
    card = two_app_card(icc_key)
    assert kernel(card, host=Host(), pad=Pad(PIN)).run(1250).approved
    debit = read_card(kernel(card)).applications[0]
    assert len(debit.log) == 1 and debit.log[0].values[0x9F02] == bytes.fromhex("000000001250")
    assert debit.log[0].values[0x9F36] == b"\x00\x01"


def test_without_the_capk_the_reading_says_why_oda_failed(icc_key: object) -> None:
    app = read_card(kernel(make_card(icc_key), config=TerminalConfig())).applications[0]
    assert app.oda_ok is False and app.oda_failure is OdaReason.CAPK_NOT_FOUND and app.records


def test_dda_when_the_terminal_does_not_do_cda(icc_key: object) -> None:
    card = make_card(icc_key)
    config = TerminalConfig(capk=capks(), capabilities=bytes.fromhex("E0F840"))  # 9F33 b3: DDA, no CDA
    app = read_card(kernel(card, config=config)).applications[0]
    assert app.oda_method is OdaMethod.DDA and app.oda_ok is True and 0x9F4C in app.data


def test_contactless_reading_verifies_fdda(icc_key: object) -> None:
    reading = read_card(kernel(two_app_card(icc_key)), contactless=True)
    assert reading.contactless and len(reading.applications) == 2
    assert all(a.oda_method is OdaMethod.FDDA and a.oda_ok for a in reading.applications)


def test_a_blocked_application_is_reported_and_the_other_is_still_read(icc_key: object) -> None:
    card = two_app_card(icc_key)
    host = Host()
    host.standin.queue_script(ScriptCommand.APPLICATION_BLOCK, template=0x72)
    assert kernel(card, host=host, pad=Pad(PIN)).run(1250).approved
    debit, credit = read_card(kernel(card)).applications
    assert debit.error and "no application" in debit.error and debit.records == ()
    assert credit.error is None and credit.oda_ok
