"""Data preparation, personalization checks, the demo card and the card image round trip."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from applets.runtime import load_card, new_blank_card, save_card
from applets.transit import TRANSIT_AID, install_transit, parse_dgis
from cardkit.crypto.purse import PurseAlgorithm, diversify_card_key
from cardkit.errors import ProfileError
from cardkit.issuer.demo_keys import DEMO_PURSE_MLK, DEMO_PURSE_MPK, DEMO_PURSE_MTK
from cardkit.issuer.transit_data import TransitAccount, prepare_transit
from pos_sim.demo_card import DEMO_TRANSIT_SERIAL, make_demo_card

from .kit import Terminal, applet, make_card, make_dgis, select, send

MASTERS = {"mlk": DEMO_PURSE_MLK, "mpk": DEMO_PURSE_MPK, "mtk": DEMO_PURSE_MTK}


def _account(**kw: object) -> TransitAccount:
    base: dict[str, object] = dict(serial=DEMO_TRANSIT_SERIAL, holder_name="张三", id_number="110101199003070000",
                                   start=date(2025, 1, 1), expiry=date(2030, 12, 31), initial_balance=5_000)
    base.update(kw)
    return TransitAccount(**base)  # type: ignore[arg-type]


def test_prepared_dgis_parse_and_carry_the_account() -> None:
    dgis = prepare_transit(_account(), **MASTERS)
    profile = parse_dgis(dgis)
    assert profile.issuer_info[8] == 0x03 and profile.issuer_info[10:20] == bytes.fromhex(DEMO_TRANSIT_SERIAL)
    assert profile.issuer_info[20:28] == bytes.fromhex("2025010120301231")
    assert profile.holder_info[2:6] == "张三".encode("gb18030")
    assert profile.purse.balance == 5_000 and profile.purse.max_balance == 100_000
    x = bytes.fromhex(DEMO_TRANSIT_SERIAL)[2:]
    assert profile.dlk == diversify_card_key(DEMO_PURSE_MLK, x)
    assert profile.dpk == diversify_card_key(DEMO_PURSE_MPK, x)
    assert profile.dtk == diversify_card_key(DEMO_PURSE_MTK, x)
    assert "dlk" not in repr(profile) and profile.dlk.hex() not in repr(profile).lower()


@pytest.mark.parametrize(("field", "value"), [
    ("serial", "123"), ("holder_name", "X" * 21), ("id_number", "1" * 33), ("expiry", date(2020, 1, 1)),
    ("initial_balance", 100_001), ("max_balance", 0), ("overdraft", -1), ("issuer_id", b"\x00"),
    ("card_type", 256), ("mac_failure_limit", 0),
])
def test_account_errors_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ProfileError, match=field):
        _account(**{field: value})


def test_master_key_length_is_checked_without_quoting_it() -> None:
    with pytest.raises(ProfileError, match="mpk") as err:
        prepare_transit(_account(), mlk=DEMO_PURSE_MLK, mpk=b"\x11" * 8, mtk=DEMO_PURSE_MTK)
    assert "1111" not in str(err.value)


@pytest.mark.parametrize(("change", "dgi"), [
    (lambda d: d.pop(0x9201), "9201"),
    (lambda d: d.update({0x1500: bytes(29)}), "1500"),
    (lambda d: d.update({0x9000: bytes(9)}), "9000"),
    (lambda d: d.update({0x1703: b"\x03"}), "1701"),
    (lambda d: d.update({0x1702: b"\x01" + bytes(5)}), "1702"),
    (lambda d: d.update({0x4242: b""}), "4242"),
    (lambda d: d.update({0x9201: b"\x07" + d[0x9201][1:]}), "9201"),
])
def test_bad_dgis_are_refused_and_the_card_untouched(change, dgi: str) -> None:  # type: ignore[no-untyped-def]
    dgis = make_dgis()
    change(dgis)
    card = new_blank_card(serial="8986000000000000018")
    before = card.store.committed()
    with pytest.raises(ProfileError, match=dgi) as err:
        install_transit(card, dgis)
    assert card.store.committed() == before and all(a.aid != TRANSIT_AID for a in card.applets)
    assert "3f01" not in str(err.value).lower()


def test_install_twice_is_refused() -> None:
    card = make_card()
    with pytest.raises(ValueError, match="already"):
        install_transit(card, make_dgis())


def test_demo_card_has_the_purse_from_the_demo_masters() -> None:
    card = make_demo_card()
    card.power_on()
    select(card)
    x = bytes.fromhex(DEMO_TRANSIT_SERIAL)[2:]
    t = Terminal(card, dlk=diversify_card_key(DEMO_PURSE_MLK, x), dpk=diversify_card_key(DEMO_PURSE_MPK, x),
                 dtk=diversify_card_key(DEMO_PURSE_MTK, x))
    assert t.balance() == 5_000
    out = t.purchase(150, capp=b"\x01" + bytes(47))
    assert out.sw == 0x9000 and out.answer == out.expected["tac"] + out.expected["mac2"]
    out = t.load(1_000)
    assert out.sw == 0x9000 and out.answer == out.expected["tac"]
    assert t.balance() == 5_850


def test_card_image_round_trip_keeps_the_purse(tmp_path: Path) -> None:
    card = make_card()
    select(card)
    t = Terminal(card)
    assert t.purchase(120, capp=b"\x01" + b"\x42" * 47).sw == 0x9000
    assert t.load(30).sw == 0x9000
    state, log, capp = applet(card).state(), applet(card).log_records(), applet(card).capp_records()
    path = tmp_path / "card.json"
    save_card(card, path)
    again = load_card(path)
    again.power_on()
    a = applet(again)
    assert (a.state(), a.log_records(), a.capp_records()) == (state, log, capp)
    a.random = card.applet(TRANSIT_AID).random  # type: ignore[attr-defined]
    select(again)
    assert Terminal(again).balance() == 910
    assert Terminal(again).purchase(10).sw == 0x9000
    assert send(again, "00B201BC00")[0] == b"\x01" + b"\x42" * 47


def test_sm4_account_prepares_sm4_keys() -> None:
    dgis = prepare_transit(_account(algorithm=PurseAlgorithm.SM4), **MASTERS)
    profile = parse_dgis(dgis)
    x = bytes.fromhex(DEMO_TRANSIT_SERIAL)[2:]
    assert profile.purse.algorithm is PurseAlgorithm.SM4
    assert profile.dpk == diversify_card_key(DEMO_PURSE_MPK, x, PurseAlgorithm.SM4)
