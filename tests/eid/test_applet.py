"""cardkit.eid against the real ID applet (applets.eid) through VirtualReader.

The card is personalized by the issuer's data preparation (cardkit.issuer.eid_data) with the
TEST document signer; the reader knows nothing of either beyond ICAO 9303.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from applets.eid import EID_AID, EidApplet, install_eid
from applets.runtime import SimulatedCard, new_blank_card
from cardkit import tlv
from cardkit.eid import AccessDenied, EidReader, SecureMessagingError, read_id
from cardkit.issuer.demo_keys import demo_csca, demo_document_signer
from cardkit.issuer.eid_data import IdHolder, prepare_eid
from cardkit.readers import CardChannel, VirtualReader

from . import lds_builder as b
from .fakecard import FlipMac

HOLDER = IdHolder("E98765432", "LI", "XIAO MING", "李小明", "F", date(1985, 12, 24), date(2032, 6, 30),
                  "11010519851224018X", address="上海市黄浦区人民大道200号")
AA_KEY = ec.derive_private_key(0x5EED_CA5D, ec.SECP256R1())
DGI_DG11, DGI_DG15 = 0x0B00, 0x0F00


def _card(dgis: dict[int, bytes] | None = None) -> SimulatedCard:
    card = new_blank_card(serial="8986000000000000099")
    install_eid(card, dgis if dgis is not None else prepare_eid(HOLDER, document_signer=demo_document_signer(),
                                                                  aa_key=AA_KEY))
    card.strict = True
    return card


def _channel(card: object) -> CardChannel:
    return CardChannel(VirtualReader(card).connect())  # type: ignore[arg-type]


def _open(card: object) -> EidReader:
    reader = EidReader(_channel(card))
    reader.open(HOLDER.document_number, HOLDER.mrz_birth, HOLDER.mrz_expiry)
    return reader


def test_read_and_verify_the_applet() -> None:
    identity, verdict = read_id(_channel(_card()), HOLDER.document_number, HOLDER.mrz_birth, HOLDER.mrz_expiry,
                                trust=[demo_csca()[1]])
    mrz = identity.mrz
    assert (mrz.document_number, mrz.surname, mrz.given_names, mrz.sex, mrz.nationality) == (
        "E98765432", "LI", "XIAO MING", "F", "CHN")
    assert (mrz.birth_date, mrz.expiry_date, mrz.document_code, mrz.issuing_state) == (
        date(1985, 12, 24), date(2032, 6, 30), "ID", "CHN")
    assert mrz.optional == identity.citizen_id == "11010519851224018X"
    assert identity.full_name == "李小明" and identity.address == "上海市黄浦区人民大道200号"
    assert identity.photo is not None and identity.photo[:3] == b"\xff\xd8\xff" and identity.photo[-2:] == b"\xff\xd9"
    assert verdict.genuine and verdict.unaltered and verdict.trusted, verdict
    assert verdict.passive_reason == "EF.SOD verifies and DG1, DG2, DG11, DG15 match it"


def test_photo_is_the_issued_jpeg() -> None:
    from cardkit.issuer.eid_photo import PLACEHOLDER_FACE_JPEG

    identity = _open(_card()).read()
    assert identity.photo == PLACEHOLDER_FACE_JPEG


def test_wrong_mrz_is_access_denied() -> None:
    reader = EidReader(_channel(_card()))
    with pytest.raises(AccessDenied, match="^access denied: the document number, birth date or expiry does not"):
        reader.open(HOLDER.document_number, HOLDER.mrz_birth, "320701")
    reader.open(HOLDER.document_number, HOLDER.mrz_birth, HOLDER.mrz_expiry)  # the right data still works
    assert reader.read(photo=False).full_name == "李小明"


def test_a_wrong_response_mac_ends_the_session() -> None:
    reader = _open(FlipMac(_card(), 4))
    with pytest.raises(SecureMessagingError, match="does not verify"):
        reader.read()
    with pytest.raises(SecureMessagingError, match="ended"):
        reader.read_file(0x0101)
    reader.open(HOLDER.document_number, HOLDER.mrz_birth, HOLDER.mrz_expiry)  # the card is still in SM: reopened
    assert reader.read(photo=False).citizen_id == "11010519851224018X"


def test_the_applet_ends_the_session_on_a_wrong_command_mac() -> None:
    reader = _open(_card())
    assert reader._session is not None
    reader._session._ssc += 2
    with pytest.raises(SecureMessagingError, match="6988"):
        reader.read_file(0x0101)


def _tampered_dg11() -> dict[int, bytes]:
    dgis = prepare_eid(HOLDER, document_signer=demo_document_signer(), aa_key=AA_KEY)
    other = prepare_eid(replace(HOLDER, chinese_name="王五"), document_signer=demo_document_signer(), aa_key=AA_KEY)
    dgis[DGI_DG11] = other[DGI_DG11]  # a DG11 that EF.SOD did not sign
    return dgis


def test_a_tampered_data_group_fails_passive_authentication() -> None:
    reader = _open(_card(_tampered_dg11()))
    assert reader.read().full_name == "王五"
    verdict = reader.verify([demo_csca()[1]])
    assert not verdict.unaltered and verdict.altered == (11,)
    assert verdict.passive_reason == "DG11 does not match its hash in EF.SOD"
    assert verdict.genuine and verdict.trusted


def test_a_copied_chip_fails_active_authentication() -> None:
    card = _card()  # every file of the genuine document ...
    applet = card.applet(EID_AID)
    assert isinstance(applet, EidApplet)
    # ... on a chip with another AA private key: a cloner cannot read the key out of the genuine
    # chip, and the issuer's personalization rightly refuses a key DG15 does not publish, so the
    # clone's key is put straight into the applet's store.
    other = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value.to_bytes(32, "big")
    with applet.store.transaction():
        applet.store.set("aa/key", other)
        applet.store.set("perso-serial", int(applet.store.get("perso-serial") or 0) + 1)  # drops its cached key
    reader = _open(card)
    reader.read(photo=False)
    verdict = reader.verify([demo_csca()[1]])
    assert verdict.unaltered and verdict.trusted and not verdict.genuine
    assert "does not verify with the DG15 key" in verdict.active_reason


def test_active_authentication_on_the_applet() -> None:
    reader = _open(_card())
    for challenge in (bytes(8), bytes(range(8)), None):
        result = reader.active_authentication(challenge)
        assert result.ok is True and "SHA256" in result.reason


def test_chain_with_a_wrong_csca() -> None:
    reader = _open(_card())
    reader.read(photo=False)
    verdict = reader.verify([b.make_pki(cn="Not the CSCA").csca])
    assert verdict.unaltered and verdict.chain_ok is False and not verdict.trusted
    assert "not issued by a trusted CSCA" in verdict.chain_reason
    assert reader.verify().chain_ok is None


def test_files_match_what_was_issued() -> None:
    dgis = prepare_eid(HOLDER, document_signer=demo_document_signer(), aa_key=AA_KEY)
    reader = _open(_card(dgis))
    for fid, dgi in ((0x011E, 0x1E00), (0x0101, 0x0100), (0x0102, 0x0200), (0x010B, 0x0B00), (0x010F, 0x0F00),
                     (0x011D, 0x1D00)):
        assert reader.read_file(fid) == dgis[dgi], hex(fid)
    assert tlv.decode(reader.read_file(0x010F))[0].tag == b"\x6f"


def test_a_plain_command_ends_the_applet_session() -> None:
    from cardkit.eid import commands

    reader = _open(_card())
    assert reader.channel.transmit(commands.read_binary(0, 4)).sw == 0x6988  # plain, after BAC
    with pytest.raises(SecureMessagingError, match="6988"):
        reader.read_file(0x0101)
    assert not reader.is_open


def test_the_demo_card_and_its_other_applications() -> None:
    from cardkit.purse import PurseClient
    from pos_sim.demo_card import DEMO_BIRTH, DEMO_DOCUMENT_NUMBER, DEMO_EXPIRY, demo_id_holder, make_demo_card

    channel = _channel(make_demo_card())
    identity, verdict = read_id(channel, DEMO_DOCUMENT_NUMBER, DEMO_BIRTH, DEMO_EXPIRY, trust=[demo_csca()[1]])
    holder = demo_id_holder()
    assert (identity.full_name, identity.citizen_id, identity.address) == (
        holder.chinese_name, holder.citizen_id, holder.address)
    assert identity.mrz.expiry_date == holder.expiry_date and identity.photo is not None
    assert verdict.genuine and verdict.unaltered and verdict.trusted
    assert PurseClient(channel).select().balance >= 0  # the same channel, in plain, for the next application
