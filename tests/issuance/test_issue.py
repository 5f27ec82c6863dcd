"""Issue a card from a holder profile and read every application back with the other issues'
clients; the card manager ends SECURED under the card's own keys. Runs on both keystores."""

from __future__ import annotations

import dataclasses
import os
import stat
from datetime import date
from pathlib import Path

import pytest

from applets.runtime import SimulatedCard, load_card
from cardkit.apdu import CommandAPDU
from cardkit.citizen import AppStatus, CitizenCard, Mrz
from cardkit.crypto.oda import CapkStore, OdaMethod
from cardkit.emv import TerminalConfig
from cardkit.emv.kernel import Kernel
from cardkit.emv.reading import read_card
from cardkit.errors import ProfileError
from cardkit.gp import CardLifeCycle, GpError, Scope, SecurityLevel, get_status, open_secure_channel
from cardkit.issuer.holder import load_holder
from cardkit.issuer.issue import issue_virtual, write_pin_mailer
from cardkit.issuer.issuer import Issuer
from cardkit.issuer.personalize import DEFAULT_KEYS_SCP03, card_keys, personalize
from cardkit.issuer.prepare import prepare_card
from cardkit.purse import PurseClient
from cardkit.readers.channel import CardChannel
from cardkit.readers.virtual import VirtualReader
from cardkit.social import SocialSam

from .conftest import ZHANG

ID_EXPIRY = date(2035, 12, 31)


def channel(card: SimulatedCard) -> CardChannel:
    return CardChannel(VirtualReader(card).connect())


def issue_zhang(issuer: Issuer, holder_id: str, tmp_path: Path) -> tuple[SimulatedCard, object]:
    profile = dataclasses.replace(load_holder(ZHANG), holder_id=holder_id)
    assert profile.id is not None
    profile = dataclasses.replace(profile, id=dataclasses.replace(profile.id, document_number=None, expiry=ID_EXPIRY))
    plan = prepare_card(profile, issuer)
    issued = issue_virtual(plan, issuer.card_manager_master(), tmp_path / f"{holder_id}.card")
    return issued.card, plan


def test_every_application_reads_back(issuer: Issuer, tmp_path: Path) -> None:
    card, plan = issue_zhang(issuer, f"read-{issuer.keystore.backend}", tmp_path)
    numbers = plan.numbers  # type: ignore[attr-defined]
    assert numbers["pan.debit"].startswith(issuer.settings.bin) and len(numbers["pan.debit"]) == 19
    assert numbers["pan.credit"] != numbers["pan.debit"]  # one PAN space for every product

    # bank: every record, counters and the CDA chain under the issuer's own test CA
    capks = CapkStore()
    capks.add(issuer.capk)
    reading = read_card(Kernel(channel(card), TerminalConfig(capk=capks)))
    assert [a.label for a in reading.applications] == ["PBOC DEBIT", "PBOC CREDIT"]
    for app in reading.applications:
        assert app.error is None and app.oda_method is OdaMethod.CDA and app.oda_ok, app.oda_note

    # transit: the purse's balance as the profile asked
    purse = PurseClient(channel(card))
    purse.select()
    assert purse.balance() == 5_000

    # ID and social, through the citizen card reader: chip genuine, data unaltered, issuer trusted
    mrz = Mrz(numbers["document"], "900101", ID_EXPIRY.strftime("%y%m%d"))
    mak, mpk, mtk, _ = issuer.social_masters()  # the clinic's SAM, its keys in the issuer's keystore
    sam = SocialSam(mak, mpk, mtk, terminal_id=bytes.fromhex("000000000001"))
    report = CitizenCard(channel(card), mrz=mrz, trust=(issuer.csca_certificate,), social_sam=sam).read()
    status = {r.kind + " " + r.name: r.status for r in report.applications}
    assert set(status.values()) == {AppStatus.OK}, status
    eid = next(r for r in report.applications if r.kind == "eid")
    assert eid.fields["issuer"] == "trusted" and "张三" in str(eid.fields)
    social = next(r for r in report.applications if r.kind == "social")
    assert social.fields["medical account"] == "800.00 CNY"


def test_the_card_manager_is_secured_under_the_cards_own_keys(issuer: Issuer, tmp_path: Path) -> None:
    card, _ = issue_zhang(issuer, f"gp-{issuer.keystore.backend}", tmp_path)
    with pytest.raises(GpError):  # the default test keys are gone
        open_secure_channel(channel(card), DEFAULT_KEYS_SCP03)
    session = open_secure_channel(channel(card), card_keys(issuer.card_manager_master(), _diversification_data(card)),
                                  level=SecurityLevel.C_MAC)
    isd = get_status(session, Scope.ISD)[0]
    assert isd.life_cycle == CardLifeCycle.SECURED
    apps = {e.aid.hex().upper() for e in get_status(session, Scope.APPLICATIONS)}
    assert {"A000000333010101", "A000000333010102", "A000000632010105", "A0000002471001",
            "D156000005010100"} <= apps


def _diversification_data(card: SimulatedCard) -> bytes:
    """What the card's INITIALIZE UPDATE answers first (GP 2.3 §11.12.3: 10 bytes of key
    diversification data)."""
    ch = channel(card)
    ch.transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x00, bytes.fromhex("A000000151000000"), le=256))
    resp = ch.transmit(CommandAPDU(0x80, 0x50, 0x00, 0x00, bytes(8), le=256))
    return resp.data[:10]


def test_the_image_and_pin_mailer_are_private(issuer: Issuer, tmp_path: Path) -> None:
    card, plan = issue_zhang(issuer, f"files-{issuer.keystore.backend}", tmp_path)
    image = tmp_path / f"files-{issuer.keystore.backend}.card"
    assert stat.S_IMODE(os.stat(image).st_mode) == 0o600
    load_card(image)
    mailer = tmp_path / "pins.txt"
    write_pin_mailer(plan, mailer)  # type: ignore[arg-type]
    assert stat.S_IMODE(os.stat(mailer).st_mode) == 0o600 and "bank PIN 123456" in mailer.read_text()
    assert "123456" not in repr(plan) and "123456" not in plan.describe()  # type: ignore[attr-defined]


def test_a_pan_the_profile_names_cannot_be_taken_twice(issuer: Issuer, tmp_path: Path) -> None:
    base = load_holder(ZHANG)
    pan = issue_zhang(issuer, f"pan-{issuer.keystore.backend}", tmp_path)[1].numbers["pan.debit"]  # type: ignore[attr-defined]
    other = dataclasses.replace(base, holder_id=f"thief-{issuer.keystore.backend}",
                                bank=dataclasses.replace(base.bank, pan=pan))  # type: ignore[arg-type]
    with pytest.raises(ProfileError, match="already taken by another holder"):
        prepare_card(other, issuer)


def test_a_card_that_is_not_blank_is_refused_and_unchanged(issuer: Issuer, tmp_path: Path) -> None:
    card, plan = issue_zhang(issuer, f"twice-{issuer.keystore.backend}", tmp_path)

    def applications() -> dict[str, object]:  # everything but the card manager's SCP counters
        return {k: v for k, v in card.store.committed().items() if not k.startswith("app/A000000151000000")}

    before = applications()
    with pytest.raises(GpError, match="no key set with KVN 30"):  # the default keys are gone
        personalize(channel(card), plan, issuer.card_manager_master())  # type: ignore[arg-type]
    assert applications() == before


class _PulledAfter:
    """A channel whose card leaves after ``n`` commands (a card pulled mid-personalization)."""

    def __init__(self, inner: CardChannel, n: int) -> None:
        self.inner, self.left = inner, n

    def transmit(self, cmd: CommandAPDU, **kwargs: object) -> object:
        from cardkit.errors import TransportError

        if self.left == 0:
            raise TransportError("the card left the reader")
        self.left -= 1
        return self.inner.transmit(cmd, **kwargs)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_an_interrupted_personalization_runs_again_on_the_same_card(issuer: Issuer, tmp_path: Path) -> None:
    from applets.runtime import new_blank_card
    from cardkit.errors import TransportError

    profile = dataclasses.replace(load_holder(ZHANG), holder_id=f"pulled-{issuer.keystore.backend}")
    assert profile.id is not None
    profile = dataclasses.replace(profile, id=dataclasses.replace(profile.id, document_number=None))
    plan = prepare_card(profile, issuer)
    card = new_blank_card(serial=plan.card_serial)
    with pytest.raises(TransportError):  # pulled in the middle of the third application's STORE DATA
        personalize(_PulledAfter(channel(card), 14), plan, issuer.card_manager_master())  # type: ignore[arg-type]
    report = personalize(channel(card), plan, issuer.card_manager_master())
    assert ("A000000151000000", "SECURED") in report.registry
    assert {aid for aid, state in report.registry if state == "PERSONALIZED"} >= {
        "A000000333010101", "A000000333010102", "A000000632010105", "A0000002471001", "D156000005010100"}
