"""Data preparation (IdHolder, GB 11643, the MRZ) and the card's checks of the DGI map."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from applets.eid import EID_AID, install_eid, parse_dgis
from applets.runtime import new_blank_card
from cardkit.errors import ProfileError
from cardkit.issuer.demo_keys import demo_csca, demo_document_signer
from cardkit.issuer.eid_data import citizen_id_check_digit, prepare_eid, td1_mrz
from cardkit.issuer.eid_photo import PLACEHOLDER_FACE_JPEG

from .kit import AA_KEY, HOLDER, dgis, make_card


def test_gb11643_check_character() -> None:
    # GB 11643-1999 §8.2 worked example 11010519491231002X, and a digit case
    assert citizen_id_check_digit("11010519491231002") == "X"
    assert citizen_id_check_digit("11010519900101001") == "0"
    with pytest.raises(ProfileError):
        citizen_id_check_digit("1101051990010100")
    with pytest.raises(ProfileError, match="citizen_id"):
        replace(HOLDER, citizen_id="110105199001010011")


@pytest.mark.parametrize("field, value", [
    ("document_number", "E1234567890"), ("document_number", "e1234"), ("surname", "Zh4ng"),
    ("given_names", ""), ("chinese_name", ""), ("sex", "Q"), ("expiry_date", date(1980, 1, 1)),
    ("nationality", "CN"), ("photo", b"not a jpeg"),
])
def test_holder_fields_are_checked(field: str, value: object) -> None:
    with pytest.raises(ProfileError, match=field.split("_")[0]):
        replace(HOLDER, **{field: value})


def test_holder_repr_hides_personal_numbers_and_photo() -> None:
    text = repr(HOLDER)
    assert "110105" not in text and "景山" not in text and "ZHANG" in text


def test_td1_mrz_lines() -> None:
    mrz = td1_mrz(HOLDER)
    assert mrz[:30] == "IDCHNE123456782110105199001010"
    assert mrz[30:60] == "9001011M3112319CHN010<<<<<<<<" + mrz[59]
    long = replace(HOLDER, surname="WANGWANGWANGWANGWANG", given_names="XIAOXIAO MING")
    assert td1_mrz(long)[60:] == "WANGWANGWANGWANGWANG<<XIAOXIAO"  # cut at 30 characters


def test_photo_given_goes_into_dg2() -> None:
    pil = pytest.importorskip("PIL.Image")
    import io

    buf = io.BytesIO()
    pil.new("RGB", (60, 80), (10, 20, 30)).save(buf, "JPEG")
    d = prepare_eid(replace(HOLDER, photo=buf.getvalue()), document_signer=demo_document_signer(), aa_key=AA_KEY)
    assert buf.getvalue() in d[0x0200] and PLACEHOLDER_FACE_JPEG not in d[0x0200]
    assert PLACEHOLDER_FACE_JPEG in dgis()[0x0200]


def test_placeholder_face_is_rendered_by_pillow() -> None:
    pil = pytest.importorskip("PIL.Image")
    import io

    from cardkit.issuer.eid_photo import render_placeholder_face

    fresh = render_placeholder_face()
    assert pil.open(io.BytesIO(fresh)).size == pil.open(io.BytesIO(PLACEHOLDER_FACE_JPEG)).size == (240, 320)
    assert fresh == render_placeholder_face()  # deterministic


def test_aa_key_made_when_not_given_and_must_be_p256() -> None:
    a = prepare_eid(HOLDER, document_signer=demo_document_signer())
    b = prepare_eid(HOLDER, document_signer=demo_document_signer())
    assert a[0x8101] != b[0x8101] and a[0x0F00] != b[0x0F00]
    parse_dgis(a)
    with pytest.raises(ProfileError, match="P-256"):
        prepare_eid(HOLDER, document_signer=demo_document_signer(), aa_key=ec.generate_private_key(ec.SECP384R1()))


def test_deterministic_for_the_same_inputs() -> None:
    assert prepare_eid(HOLDER, document_signer=demo_document_signer(), aa_key=AA_KEY) == dgis()


def test_document_signer_key_must_match_its_certificate() -> None:
    key, _ = demo_csca()
    with pytest.raises(ProfileError, match="does not match"):
        prepare_eid(HOLDER, document_signer=(key, demo_document_signer()[1]), aa_key=AA_KEY)


def _broken(**changes: bytes | None) -> dict[int, bytes]:
    d = dict(dgis())
    for dgi, value in changes.items():
        if value is None:
            del d[int(dgi, 16)]
        else:
            d[int(dgi, 16)] = value
    return d


@pytest.mark.parametrize("changes, message", [
    ({"0x0100": None}, "DGI 0100"),
    ({"0x0200": b"\x61\x01\x00"}, "DGI 0200"),
    ({"0x1D00": b"\x77\x05\x00"}, "DGI 1D00"),
    ({"0x9000": bytes(6)}, "DGI 9000"),
    ({"0x8000": bytes(31)}, "DGI 8000"),
    ({"0x8101": bytes(32)}, "DGI 8101"),
    ({"0x0F00": b"\x6F\x02\x30\x00"}, "DGI 0F00"),
    ({"0x7F00": b"\x00"}, "DGI 7F00"),
])
def test_the_card_refuses_a_bad_dgi_map(changes: dict[str, bytes | None], message: str) -> None:
    card = new_blank_card()
    with pytest.raises(ProfileError, match=message) as err:
        install_eid(card, _broken(**changes))
    assert all(a.aid != EID_AID for a in card.applets)  # nothing installed
    assert dgis()[0x8101].hex() not in str(err.value).lower()


def test_bac_keys_must_be_the_mrz_ones() -> None:
    other = prepare_eid(replace(HOLDER, document_number="E99999999"), document_signer=demo_document_signer(),
                        aa_key=AA_KEY)
    with pytest.raises(ProfileError, match="DG1's MRZ"):
        parse_dgis({**dgis(), 0x8000: other[0x8000], 0x9000: other[0x9000]})
    other_aa = prepare_eid(HOLDER, document_signer=demo_document_signer())
    with pytest.raises(ProfileError, match="DG15"):
        parse_dgis({**dgis(), 0x8101: other_aa[0x8101]})


def test_install_twice_is_refused_and_repr_hides_keys() -> None:
    card = make_card()
    with pytest.raises(ValueError, match="already"):
        install_eid(card, dgis())
    applet = card.applet(EID_AID)
    profile = parse_dgis(dgis())
    for text in (repr(applet), repr(profile)):
        assert dgis()[0x8000][:4].hex() not in text.lower() and dgis()[0x8101][:4].hex() not in text.lower()
