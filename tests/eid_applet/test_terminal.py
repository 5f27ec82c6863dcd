"""A 9303 terminal against the applet: BAC, every file under secure messaging, the failure rules, AA."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_der_public_key

from applets.eid import EID_AID
from applets.runtime import load_card, save_card
from cardkit.crypto import icao
from cardkit.tlv import decode

from .kit import AA_KEY, DGIS, FIDS, HOLDER, Terminal, dgis, make_card, open_session, sw


def _tlv(data: bytes, *path: int) -> bytes:
    found = decode(data)[0].find(list(path)) if path else decode(data)[0]
    assert found is not None, path
    return found.value


def test_every_file_reads_back_as_personalized() -> None:
    t = open_session()
    for name, fid in FIDS.items():
        assert t.read_file(fid) == dgis()[DGIS[name]], name
    assert len(dgis()[DGIS["DG2"]]) > 2000  # several hundred-byte chunks, 15-bit offsets


def test_small_chunks_and_short_ef_read() -> None:
    t = open_session()
    assert t.read_file(FIDS["DG1"], chunk=7) == dgis()[0x0100]
    data, status = t.sm("00B0810004")  # READ BINARY by SFI 01 (DG1), offset 0, 4 bytes
    assert (data, status) == (dgis()[0x0100][:4], 0x9000)
    data, status = t.sm("00B09E0000")  # SFI 1E (EF.COM), Le 00: the whole file
    assert (data, status) == (dgis()[0x1E00], 0x9000)
    data, status = t.sm("00B0000010")  # the current EF is EF.COM now
    assert data == dgis()[0x1E00][:16]
    assert t.sm("00A4020C020999")[1] == 0x6A82  # no such EF: a protected 6A82, the session goes on
    assert t.sm("00B0000004")[0] == dgis()[0x1E00][:4]


def test_file_contents_follow_the_contract() -> None:
    t = open_session()
    com = t.read_file(FIDS["EF.COM"])
    assert _tlv(com, 0x5F01) == b"0107" and _tlv(com, 0x5F36) == b"040000"
    assert _tlv(com, 0x5C) == bytes.fromhex("61756B6F")
    mrz = _tlv(t.read_file(FIDS["DG1"]), 0x5F1F).decode("ascii")
    assert len(mrz) == 90
    l1, l2, l3 = mrz[:30], mrz[30:60], mrz[60:]
    assert l1[:5] == "IDCHN" and l1[5:14] == "E12345678" and l1[14] == icao.check_digit("E12345678")
    assert l1[15:30] + l2[18:21] == HOLDER.citizen_id and l2[21:29] == "<" * 8
    assert l2[:6] == "900101" and l2[7] == "M" and l2[8:14] == "311231" and l2[15:18] == "CHN"
    assert l2[29] == icao.check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])  # 9303-5 composite
    assert l3 == "ZHANG<<SAN".ljust(30, "<")
    dg2 = t.read_file(FIDS["DG2"])
    assert _tlv(dg2, 0x7F61, 0x02) == b"\x01"
    assert _tlv(dg2, 0x7F61, 0x7F60, 0xA1, 0x81) == b"\x02"  # biometric type: facial features
    record = _tlv(dg2, 0x7F61, 0x7F60, 0x5F2E)
    assert record[:8] == b"FAC\x00010\x00" and int.from_bytes(record[8:12], "big") == len(record)
    jpeg = record[14 + 20 + 12:]
    assert jpeg[:2] == b"\xff\xd8" and 2000 < len(jpeg) < 10_000
    width, height = int.from_bytes(record[36:38], "big"), int.from_bytes(record[38:40], "big")
    pil = pytest.importorskip("PIL.Image")
    assert pil.open(io.BytesIO(jpeg)).size == (width, height) == (240, 320)
    dg11 = t.read_file(FIDS["DG11"])
    assert _tlv(dg11, 0x5C) == bytes.fromhex("5F0E5F105F42")
    assert _tlv(dg11, 0x5F0E).decode() == "张三" and _tlv(dg11, 0x5F10) == b"110105199001010010"
    assert _tlv(dg11, 0x5F42).decode() == HOLDER.address
    spki = _tlv(t.read_file(FIDS["DG15"]))
    assert spki == AA_KEY.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def test_active_authentication_signature_verifies_with_dg15() -> None:
    t = open_session()
    public = load_der_public_key(_tlv(t.read_file(FIDS["DG15"])))
    assert isinstance(public, ec.EllipticCurvePublicKey)
    challenge = bytes.fromhex("0102030405060708")
    sig, status = t.sm(bytes.fromhex("0088000008") + challenge + b"\x00")
    assert status == 0x9000 and len(sig) == 64
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    public.verify(der, challenge, ec.ECDSA(hashes.SHA256()))  # over SHA-256 of the challenge
    with pytest.raises(InvalidSignature):
        public.verify(der, b"\x00" + challenge[1:], ec.ECDSA(hashes.SHA256()))
    assert t.sm(bytes.fromhex("0088000004") + challenge[:4] + b"\x00")[1] == 0x6700
    assert t.sm(bytes.fromhex("0088000108") + challenge + b"\x00")[1] == 0x6A86
    # the private key is in no file: no EF holds its scalar
    scalar = AA_KEY.private_numbers().private_value.to_bytes(32, "big")
    assert all(scalar not in t.read_file(fid) for fid in FIDS.values())


def test_nothing_is_readable_before_bac() -> None:
    t = Terminal(make_card())
    t.select_application()
    for fid in FIDS.values():
        assert sw(t.send(bytes.fromhex("00A4020C02") + fid.to_bytes(2, "big"))) == 0x9000
        assert sw(t.send("00B0000004")) == 0x6982
    assert sw(t.send("00B0810004")) == 0x6982
    assert sw(t.send("0088000008" + "00" * 8 + "00")) == 0x6982
    assert sw(t.send("00D6000001FF")) == 0x6D00  # nothing is writable, by any means


def test_wrong_mrz_is_6300_and_the_card_stays_locked() -> None:
    t = Terminal(make_card())
    t.select_application()
    wrong = icao.mrz_information("E12345678", "900102", HOLDER.mrz_expiry)
    assert t.bac(wrong) == 0x6300
    assert sw(t.send("0082000028" + "00" * 40 + "28")) == 0x6985  # the challenge is used up
    assert sw(t.send("00A4020C02011E")) == 0x9000 and sw(t.send("00B0000004")) == 0x6982
    assert t.bac() == 0x9000  # the right MRZ still works afterwards
    assert t.read_file(FIDS["EF.COM"]) == dgis()[0x1E00]


def test_tampered_mac_ends_the_session() -> None:
    t = open_session()
    assert t.ks is not None
    protected, _ = icao.protect_command(t.ks, t.ssc, bytes.fromhex("00A4020C02011E"))
    bad = bytearray(protected)
    bad[-3] ^= 0x01  # inside DO 8E
    assert t.send(bytes(bad)) == b"\x69\x88"
    # the session keys are gone: even a correct protected command is refused now
    good, _ = icao.protect_command(t.ks, t.ssc + 1, bytes.fromhex("00A4020C02011E"))
    assert t.send(good) == b"\x69\x88"
    assert sw(t.send("00A4020C02011E")) == 0x9000 and sw(t.send("00B0000004")) == 0x6982
    assert t.bac() == 0x9000 and t.read_file(FIDS["DG1"]) == dgis()[0x0100]


def test_replayed_command_ends_the_session() -> None:
    t = open_session()
    assert t.ks is not None
    protected, t.ssc = icao.protect_command(t.ks, t.ssc, bytes.fromhex("00A4020C02011E"))
    assert sw(t.send(protected)) == 0x9000
    t.ssc += 1
    assert t.send(protected) == b"\x69\x88"  # same SSC again: the MAC no longer verifies


def test_plain_command_after_bac_ends_the_session() -> None:
    t = open_session()
    assert t.send("00A4020C02011E") == b"\x69\x88"
    assert t.send("00B0810004") == b"\x69\x82"  # plain again (the SELECT was not run), nothing readable
    protected, _ = icao.protect_command(t.ks, t.ssc, bytes.fromhex("00B0000004"))  # type: ignore[arg-type]
    assert t.send(protected) == b"\x69\x88"


def test_bac_commands_under_sm_and_other_instructions() -> None:
    t = open_session()
    assert t.sm("0084000008")[1] == 0x6985
    assert t.sm("00CA010000")[1] == 0x6D00
    assert t.sm("80B0000004")[1] == 0x6E00
    assert t.read_file(FIDS["DG11"]) == dgis()[0x0B00]  # still in session after protected errors


def test_power_cycle_and_reselection_drop_bac(tmp_path: Path) -> None:
    card = make_card()
    t = open_session(card)
    card.power_off()
    card.power_on()
    t.select_application()
    assert sw(t.send("00A4020C02011E")) == 0x9000 and sw(t.send("00B0000004")) == 0x6982
    assert t.bac() == 0x9000
    t.select_application()  # SELECT by AID (plain, by the card OS) restarts the application
    assert sw(t.send("00A4020C02011E")) == 0x9000 and sw(t.send("00B0000004")) == 0x6982


def test_card_image_round_trip_keeps_the_data(tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    save_card(make_card(), path)
    card = load_card(path)
    card.power_on()
    t = open_session(card)
    for name, fid in FIDS.items():
        assert t.read_file(fid) == dgis()[DGIS[name]], name
    sig, status = t.sm("0088000008" + "11" * 8 + "00")
    assert status == 0x9000 and len(sig) == 64
    image = path.read_text()
    assert card.applet(EID_AID).label == "ID" and "eid" in image


def test_listed_in_ef_dir() -> None:
    card = make_card()
    assert sw(card.transmit(bytes.fromhex("00A4000C022F00"))) == 0x9000
    record = card.transmit(bytes.fromhex("00B2010400"))
    assert bytes.fromhex("4F07") + EID_AID in record and b"\x50\x02ID" in record


def test_sod_hashes_match_what_the_card_serves() -> None:
    from asn1crypto import cms

    t = open_session()
    sod = _tlv(t.read_file(FIDS["EF.SOD"]))
    signed = cms.ContentInfo.load(sod)["content"]
    lds = signed["encap_content_info"]["content"].native  # raw LDSSecurityObject DER
    from cardkit.issuer.eid_sod import LDSSecurityObject

    hashes_ = {h["data_group_number"].native: h["data_group_hash_value"].native
               for h in LDSSecurityObject.load(lds)["data_group_hash_values"]}
    assert sorted(hashes_) == [1, 2, 11, 15]
    for number, name in ((1, "DG1"), (2, "DG2"), (11, "DG11"), (15, "DG15")):
        assert hashes_[number] == hashlib.sha256(t.read_file(FIDS[name])).digest(), name
