"""CitizenCard on the demo card: every application reported, absent and blocked ones said so."""

from __future__ import annotations

from cardkit.citizen import AppStatus, CitizenCard
from cardkit.crypto.oda import CapkStore
from cardkit.emv import Kernel, OnlineRequest, OnlineResponse, TerminalConfig
from cardkit.issuer.authorization import ScriptCommand
from cardkit.issuer.demo_keys import demo_capk, demo_issuer
from cardkit.readers import CardChannel, VirtualReader
from pos_sim.demo_card import DEMO_PIN, make_demo_card
from pos_sim.issuer_standin import IssuerStandIn


def channel(card: object) -> CardChannel:
    return CardChannel(VirtualReader(card).connect())  # type: ignore[arg-type]


def test_the_demo_card_lists_and_reads_its_applications() -> None:
    report = CitizenCard(channel(make_demo_card())).read()
    labels = [label for _, label in report.directory]
    assert labels[:3] == ["PBOC DEBIT", "PBOC CREDIT", "TRANSIT"]
    debit, credit = report.by_kind("bank")
    assert debit.status is AppStatus.OK and debit.fields["PAN"] == "622848*********0018"
    assert debit.fields["electronic cash"] == "500.00 CNY" and credit.fields["PAN"].endswith("0026")
    [transit] = report.by_kind("transit")
    assert transit.status is AppStatus.OK and transit.fields["balance"] == "50.00 CNY"
    assert "6228480000000000018" not in repr(report)


def test_a_blocked_bank_application_is_reported_not_raised() -> None:
    card = make_demo_card()
    standin = IssuerStandIn(demo_issuer())
    standin.queue_script(ScriptCommand.APPLICATION_BLOCK, template=0x72)

    def online(request: OnlineRequest) -> OnlineResponse | None:
        return standin.online(request)

    store = CapkStore()
    store.add(demo_capk())
    assert Kernel(channel(card), TerminalConfig(capk=store), pin_entry=lambda _r: DEMO_PIN,
                  online=online).run(100).approved
    report = CitizenCard(channel(card)).read()
    debit, credit = report.by_kind("bank")
    assert debit.status is AppStatus.BLOCKED and credit.status is AppStatus.OK


def test_a_card_with_only_a_bank_application_and_no_mf() -> None:
    from applets.bank import install_bank
    from applets.runtime import SimulatedCard
    from cardkit.issuer import DEBIT_AID, BankProduct, prepare_bank_dgis
    from pos_sim.demo_card import demo_accounts

    card = SimulatedCard()
    install_bank(card, {DEBIT_AID: prepare_bank_dgis(demo_accounts()[0], demo_issuer(), product=BankProduct())})
    report = CitizenCard(channel(card)).read()
    assert report.directory == ()
    assert [a.status for a in report.applications] == [AppStatus.ABSENT, AppStatus.OK, AppStatus.ABSENT,
                                                       AppStatus.ABSENT, AppStatus.ABSENT, AppStatus.ABSENT]


def test_social_insurance_public_data_without_a_sam_and_all_of_it_with_one() -> None:
    from cardkit.issuer.demo_keys import DEMO_SOCIAL_MAK, DEMO_SOCIAL_MPK, DEMO_SOCIAL_MTK
    from cardkit.social import SocialSam

    card = make_demo_card()
    [locked] = CitizenCard(channel(card)).read().by_kind("social")
    assert locked.status is AppStatus.LOCKED and locked.fields["region"] == "110105" and "SAM" in locked.reason
    assert "holder" not in locked.fields
    sam = SocialSam(DEMO_SOCIAL_MAK, DEMO_SOCIAL_MPK, DEMO_SOCIAL_MTK, bytes.fromhex("000000000001"))
    [opened] = CitizenCard(channel(card), social_sam=sam).read().by_kind("social")
    assert opened.status is AppStatus.OK and opened.fields["holder"] == "张三 (ZHANG/SAN)"
    assert opened.fields["medical account"] == "800.00 CNY" and opened.fields["pension"].startswith("enrolled")
    wrong = SocialSam(bytes(16), DEMO_SOCIAL_MPK, DEMO_SOCIAL_MTK, bytes.fromhex("000000000001"))
    [refused] = CitizenCard(channel(card), social_sam=wrong).read().by_kind("social")
    assert refused.status is AppStatus.LOCKED and refused.reason


def test_the_id_panel_opens_with_the_mrz_data_and_verifies() -> None:
    from cardkit.citizen import Mrz
    from cardkit.issuer.demo_keys import demo_csca
    from pos_sim.demo_card import DEMO_BIRTH, DEMO_DOCUMENT_NUMBER, DEMO_EXPIRY

    card = make_demo_card()
    [locked] = CitizenCard(channel(card)).read().by_kind("eid")
    assert locked.status is AppStatus.LOCKED and "MRZ" in locked.reason
    wrong = CitizenCard(channel(card), mrz=Mrz(DEMO_DOCUMENT_NUMBER, "010101", DEMO_EXPIRY)).read()
    assert wrong.by_kind("eid")[0].status is AppStatus.LOCKED and "access denied" in wrong.by_kind("eid")[0].reason
    csca = demo_csca()[1]
    report = CitizenCard(channel(card), mrz=Mrz(DEMO_DOCUMENT_NUMBER, DEMO_BIRTH, DEMO_EXPIRY), trust=(csca,)).read()
    [eid] = report.by_kind("eid")
    assert eid.status is AppStatus.OK and eid.fields["name"].startswith("张三")
    assert (eid.fields["chip"], eid.fields["data"], eid.fields["issuer"]) == ("genuine", "unaltered", "trusted")
    assert eid.fields["citizen ID"] == "110105********0010"
    assert report.by_kind("transit")[0].status is AppStatus.OK  # the purse still reads after the ID's SM session


def test_the_card_manager_panel_tells_a_blank_card_from_an_issued_one() -> None:
    from applets.runtime import new_blank_card

    def panel(card: object) -> dict[str, str]:
        report = CitizenCard(channel(card)).read()  # type: ignore[arg-type]
        manager = report.applications[0]
        assert manager.kind == "card" and manager.status is AppStatus.OK
        return dict(manager.fields)

    blank = panel(new_blank_card(serial="8986000000000000018"))
    assert blank["state"].startswith("blank")
    assert "KVN 20 DES" in blank["key sets"] and "KVN 30 AES" in blank["key sets"]
    issued = panel(make_demo_card())
    assert issued["state"].startswith("issued") and issued["key sets"] == "KVN 01 AES"
    assert "serial 00000018" in issued["IC"]
