"""cardkit.eid against the fake ID card: BAC, reading, passive and active authentication, SM faults."""

from __future__ import annotations

from datetime import date

import pytest

from cardkit.eid import AccessDenied, EidError, EidReader, SecureMessagingError, commands, read_id
from cardkit.readers import CardChannel, VirtualReader

from . import lds_builder as b
from .fakecard import BIRTH, DOC, EXPIRY, FakeEidCard, FlipMac, make_documents


def _channel(card: object) -> CardChannel:
    return CardChannel(VirtualReader(card).connect())  # type: ignore[arg-type]


def test_read_everything(reader: EidReader, pki: b.Pki) -> None:
    reader.open(DOC, BIRTH, EXPIRY)
    identity = reader.read()
    mrz = identity.mrz
    assert (mrz.document_number, mrz.surname, mrz.given_names, mrz.nationality, mrz.sex) == (
        "E12345678", "ZHANG", "SAN", "CHN", "M")
    assert (mrz.birth_date, mrz.expiry_date) == (date(1990, 3, 7), date(2034, 1, 1))
    assert mrz.optional == "110101199003071234"
    assert mrz.bac_fields == (DOC, BIRTH, EXPIRY)
    assert identity.citizen_id == "110101199003071234"
    assert identity.full_name == "张三"
    assert identity.address == "北京市东城区景山前街4号"
    assert identity.photo == b.JPEG
    verdict = reader.verify([pki.csca])
    assert verdict.genuine and verdict.unaltered and verdict.trusted, verdict
    assert verdict.altered == ()
    assert "DG1, DG2, DG11, DG15" in verdict.passive_reason
    assert "P-256" in verdict.active_reason or "secp256r1" in verdict.active_reason


def test_read_id_one_call(channel: CardChannel, pki: b.Pki) -> None:
    identity, verdict = read_id(channel, DOC, BIRTH, EXPIRY, trust=[pki.csca], photo=False)
    assert identity.photo is None and identity.full_name == "张三"
    assert verdict.genuine and verdict.unaltered and verdict.chain_ok is True
    assert "DG2" not in verdict.passive_reason  # not read, so not checked


def test_files_are_read_in_chunks(reader: EidReader, card: FakeEidCard) -> None:
    reader.open(DOC, BIRTH, EXPIRY)
    photo = reader.read_file(0x0102)
    assert len(photo) > 2000 and photo == card.files[0x0102]
    reads = [c for c in card.commands if len(c) > 1 and c[1] == 0xB0]
    assert len(reads) >= len(photo) // 0xDF


def test_wrong_mrz_is_access_denied(reader: EidReader) -> None:
    with pytest.raises(AccessDenied, match="document number, birth date or expiry does not match"):
        reader.open(DOC, BIRTH, "340102")
    assert not reader.is_open


def test_malformed_mrz_field(reader: EidReader) -> None:
    with pytest.raises(EidError, match="YYMMDD"):
        reader.open(DOC, "1990-3-7", EXPIRY)


def test_no_id_application(pki: b.Pki) -> None:
    reader = EidReader(_channel(FakeEidCard(make_documents(pki=pki), aid=bytes.fromhex("A0000002471099"))))
    with pytest.raises(EidError, match="no ID application"):
        reader.open(DOC, BIRTH, EXPIRY)


def test_not_open() -> None:
    reader = EidReader(_channel(FakeEidCard(make_documents())))
    with pytest.raises(EidError, match="not open"):
        reader.read()


def test_wrong_response_mac_ends_the_session(card: FakeEidCard) -> None:
    reader = EidReader(_channel(FlipMac(card, 3)))
    reader.open(DOC, BIRTH, EXPIRY)
    with pytest.raises(SecureMessagingError, match="does not verify"):
        reader.read()
    assert not reader.is_open
    with pytest.raises(SecureMessagingError, match="ended"):
        reader.read_file(0x0101)
    reader.open(DOC, BIRTH, EXPIRY)  # a new BAC session works
    assert reader.read().full_name == "张三"


def test_card_ends_the_session_on_a_wrong_command_mac(reader: EidReader, card: FakeEidCard) -> None:
    reader.open(DOC, BIRTH, EXPIRY)
    assert reader._session is not None
    reader._session._ssc += 1  # our counter runs ahead: the card's MAC check fails
    with pytest.raises(SecureMessagingError, match="6988"):
        reader.read_file(0x0101)
    assert card.sessions_ended == 1 and not reader.is_open


def test_plain_command_ends_the_card_session(reader: EidReader, card: FakeEidCard, channel: CardChannel) -> None:
    reader.open(DOC, BIRTH, EXPIRY)
    plain = channel.transmit(commands.select_file(0x0101))  # not protected
    assert plain.sw == 0x6988 and card.sessions_ended == 1
    with pytest.raises(SecureMessagingError):
        reader.read()


def test_tampered_data_group_fails_passive(pki: b.Pki) -> None:
    docs = make_documents(pki=pki)
    docs.files[0x010B] = b.dg11(full_name="李四")  # DG11 rewritten after the SOD was signed
    reader = EidReader(_channel(FakeEidCard(docs)))
    reader.open(DOC, BIRTH, EXPIRY)
    assert reader.read().full_name == "李四"
    verdict = reader.verify([pki.csca])
    assert not verdict.unaltered and verdict.altered == (11,)
    assert "DG11" in verdict.passive_reason
    assert verdict.genuine and verdict.trusted  # the chip and the signer are fine; the data is not


def test_tampered_photo_fails_passive(pki: b.Pki) -> None:
    docs = make_documents(pki=pki)
    docs.files[0x0102] = b.dg2(b.JPEG[:-10] + b"\x00" * 8 + b"\xff\xd9")
    reader = EidReader(_channel(FakeEidCard(docs)))
    reader.open(DOC, BIRTH, EXPIRY)
    reader.read()
    verdict = reader.verify()
    assert verdict.altered == (2,) and "DG2 does not match" in verdict.passive_reason
    assert verdict.chain_ok is None


def test_forged_sod_signature(pki: b.Pki) -> None:
    docs = make_documents(pki=pki)
    sod = bytearray(docs.files[0x011D])
    sod[-5] ^= 0x01  # inside the signature
    docs.files[0x011D] = bytes(sod)
    reader = EidReader(_channel(FakeEidCard(docs)))
    reader.open(DOC, BIRTH, EXPIRY)
    verdict = reader.verify()
    assert not verdict.passive_ok and "signature" in verdict.passive_reason


def test_copied_chip_fails_active(pki: b.Pki) -> None:
    docs = make_documents(pki=pki)
    from cryptography.hazmat.primitives.asymmetric import ec

    docs.aa_key = ec.generate_private_key(ec.SECP256R1())  # a clone: all files, another private key
    reader = EidReader(_channel(FakeEidCard(docs)))
    reader.open(DOC, BIRTH, EXPIRY)
    reader.read()
    verdict = reader.verify([pki.csca])
    assert verdict.unaltered and not verdict.genuine
    assert "copied chip" in verdict.active_reason


def test_substituted_dg15_fails_both(pki: b.Pki) -> None:
    docs = make_documents(pki=pki)
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    docs.aa_key, docs.files[0x010F] = key, b.dg15(key.public_key())  # the cloner's own AA key
    reader = EidReader(_channel(FakeEidCard(docs)))
    reader.open(DOC, BIRTH, EXPIRY)
    verdict = reader.verify([pki.csca])
    assert verdict.altered == (15,) and not verdict.genuine
    assert "DG15 does not match EF.SOD" in verdict.active_reason


def test_no_dg15_means_active_not_supported(pki: b.Pki) -> None:
    reader = EidReader(_channel(FakeEidCard(make_documents(pki=pki, with_dg15=False))))
    reader.open(DOC, BIRTH, EXPIRY)
    verdict = reader.verify([pki.csca])
    assert verdict.active_ok is None and not verdict.genuine and "no DG15" in verdict.active_reason
    assert verdict.unaltered


def test_rsa_active_authentication(pki: b.Pki) -> None:
    reader = EidReader(_channel(FakeEidCard(make_documents(pki=pki, rsa_aa=True))))
    reader.open(DOC, BIRTH, EXPIRY)
    result = reader.active_authentication(bytes(range(8)))
    assert result.ok is True and "9796-2" in result.reason


def test_chain_with_the_wrong_csca(reader: EidReader) -> None:
    other = b.make_pki(cn="Other CSCA")
    same_name = b.make_pki()  # same subject, other key: the signature must fail, not the name
    reader.open(DOC, BIRTH, EXPIRY)
    reader.read(photo=False)
    for trust in ([other.csca], [same_name.csca]):
        verdict = reader.verify(trust)
        assert verdict.chain_ok is False and not verdict.trusted
        assert "not issued by a trusted CSCA" in verdict.chain_reason
        assert verdict.unaltered  # consistent with its own signer; only the chain fails


def test_chain_with_several_cscas(reader: EidReader, pki: b.Pki) -> None:
    reader.open(DOC, BIRTH, EXPIRY)
    verdict = reader.verify([b.make_pki(cn="Other").csca, pki.csca])
    assert verdict.trusted and "Test CSCA" in verdict.chain_reason


def test_expired_document_signer() -> None:
    pki = b.make_pki(ds_days=(-400, -10))
    reader = EidReader(_channel(FakeEidCard(make_documents(pki=pki))))
    reader.open(DOC, BIRTH, EXPIRY)
    verdict = reader.verify([pki.csca])
    assert verdict.chain_ok is False and "expired" in verdict.chain_reason


def test_rsa_document_signer() -> None:
    pki = b.make_pki(rsa_ds=True)
    reader = EidReader(_channel(FakeEidCard(make_documents(pki=pki))))
    reader.open(DOC, BIRTH, EXPIRY)
    verdict = reader.verify([pki.csca])
    assert verdict.unaltered and verdict.trusted


def test_no_session_keys_in_reprs_or_errors(reader: EidReader, card: FakeEidCard) -> None:
    reader.open(DOC, BIRTH, EXPIRY)
    session = reader._session
    assert session is not None
    text = repr(reader) + repr(session) + repr(reader.read())
    for secret in (session._keys.k_enc, session._keys.k_mac, card.bac_keys.k_enc):
        assert secret.hex() not in text.lower() and secret.hex().upper() not in text
    assert "_ssc" not in text and DOC not in repr(reader)
