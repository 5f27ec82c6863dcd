"""Holder profiles in YAML: the demo holder, round trips, and every error naming its line and field path."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from cardkit.issuer.bank_data import BankAccount
from cardkit.issuer.eid_data import IdHolder
from cardkit.issuer.eid_photo import PLACEHOLDER_FACE_JPEG
from cardkit.issuer.holder import (
    BankSection,
    HolderError,
    HolderProfile,
    IdSection,
    SocialSection,
    TransitSection,
    dump_holder,
    load_holder,
    parse_holder,
)
from cardkit.issuer.social_data import SocialAccount
from cardkit.issuer.transit_data import TransitAccount
from pos_sim.demo_card import (
    DEMO_SOCIAL_CARD_NUMBER,
    DEMO_TRANSIT_SERIAL,
    demo_accounts,
    demo_id_holder,
    demo_social_account,
    demo_transit_account,
)

from ._data import ALICE, alice_with

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "holder-zhang-san.yaml"
TODAY = date(2026, 11, 24)


def parse(text: str, base_dir: Path = Path(".")) -> HolderProfile:
    return parse_holder(text, source="alice.yaml", base_dir=base_dir)


def error(text: str, base_dir: Path = Path(".")) -> str:
    with pytest.raises(HolderError) as e:
        parse(text, base_dir)
    return str(e.value)


def test_alice_parses() -> None:
    p = parse(ALICE)
    assert (p.holder_id, p.surname, p.given_names, p.name, p.sex) == ("H000042", "WANG", "XIAO MING", "王小明", "M")
    assert p.birth_date == date(1990, 1, 1) and p.citizen_id == "110105199001010010"
    assert p.id == IdSection("E12345678", date(2030, 12, 31))
    assert p.bank == BankSection(("debit", "credit"), pin="987654", ec_balance=50_000)
    assert p.transit == TransitSection(initial_balance=5_000, max_balance=100_000)
    assert p.social == SocialSection("110105", medical_balance=80_000, pin="135790")


def test_demo_holder_example_is_the_demo_card() -> None:
    """docs/examples/holder-zhang-san.yaml, plus what the issuer allocates, gives pos_sim.demo_card's data."""
    p = load_holder(EXAMPLE)
    assert p.applications == ("bank", "transit", "id", "social")
    assert p.photo is None  # the placeholder face, as on the demo card
    assert p.id is not None and p.bank is not None and p.transit is not None and p.social is not None
    demo_id = demo_id_holder(TODAY)
    assert IdHolder(p.id.document_number or "", p.surname, p.given_names, p.name, p.sex, p.birth_date,
                    demo_id.expiry_date, p.citizen_id, address=p.address) == demo_id
    debit, credit = demo_accounts(TODAY)
    assert p.bank.products == ("debit", "credit")
    for account, ec in zip((debit, credit), (p.bank.ec_balance, 0), strict=True):
        assert BankAccount(account.pan, p.latin_name, account.expiry, account.effective, pin=p.bank.pin or "",
                           ec_balance=ec) == account
    social = demo_social_account(TODAY)
    assert SocialAccount(DEMO_SOCIAL_CARD_NUMBER, p.social.region or "", social.issued, social.expiry, p.name,
                         p.latin_name, "1", p.social.ethnicity, p.birth_date, p.citizen_id, pin=p.social.pin or "",
                         initial_balance=p.social.medical_balance) == social
    transit = demo_transit_account(TODAY)
    assert TransitAccount(DEMO_TRANSIT_SERIAL, p.latin_name, transit.id_number, transit.start, transit.expiry,
                          initial_balance=p.transit.initial_balance, max_balance=p.transit.max_balance,
                          card_type=p.transit.card_type) == transit


def test_round_trip_with_and_without_secrets(tmp_path: Path) -> None:
    p = parse(ALICE)
    assert parse(dump_holder(p, include_secrets=True)) == p
    public = dump_holder(p)
    assert "987654" not in public and "135790" not in public
    stripped = parse(public)
    assert stripped.bank == replace(p.bank, pin=None) and stripped.social == replace(p.social, pin=None)
    assert replace(stripped, bank=p.bank, social=p.social) == p


def test_round_trip_minimal_and_with_photo(tmp_path: Path) -> None:
    minimal = parse("holder: {id: h-1, surname: LI, given_names: SI, name: 李四, sex: X, birth_date: 1990-01-01,"
                    " citizen_id: '110105199001010010'}\napplications: [id]\n")
    assert minimal.applications == ("id",) and minimal.bank is None and minimal.id == IdSection()
    assert parse(dump_holder(minimal)) == minimal
    (tmp_path / "face.jpg").write_bytes(PLACEHOLDER_FACE_JPEG)
    with_photo = replace(minimal, photo=PLACEHOLDER_FACE_JPEG)
    with pytest.raises(HolderError, match="photo_path"):
        dump_holder(with_photo)
    text = dump_holder(with_photo, photo_path="face.jpg")
    assert "photo: face.jpg" in text
    assert parse_holder(text, source="x.yaml", base_dir=tmp_path) == with_photo
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    assert load_holder(tmp_path / "p.yaml") == with_photo  # the photo is relative to the YAML file


def test_yaml_values_as_written() -> None:
    """Plain scalars keep the text written: 01 is not octal 1, NO is not false; numbers are amounts too."""
    p = parse(alice_with('social: {region: "110105", medical_balance: "800.00", pin: "135790"}',
                         "social: {region: 110105, ethnicity: 01, medical_balance: 800.5, pin: 013579}")
              .replace("surname: WANG", "surname: 'NO'").replace('ec_balance: "500.00"', "ec_balance: 500"))
    assert p.social == SocialSection("110105", "01", 80_050, pin="013579")
    assert p.surname == "NO" and p.bank is not None and p.bank.ec_balance == 50_000
    assert parse(ALICE.replace("birth_date: 1990-01-01", 'birth_date: "1990-01-01"')) == parse(ALICE)
    empty = parse(ALICE.replace("id: {document_number: E12345678, expiry: 2030-12-31}", "id:"))
    assert empty.id == IdSection()
    no_apps = parse(ALICE.replace("applications: [bank, transit, id, social]\n", ""))
    assert no_apps == parse(ALICE)  # absent: all four


@pytest.mark.parametrize("old, new, message", [
    # a value the model refuses: its own line and path
    ('citizen_id: "110105199001010010"', 'citizen_id: "110105199001010011"',
     "alice.yaml line 8: holder.citizen_id: check character should be 0"),
    ("birth_date: 1990-01-01", "birth_date: 1990-01-02",
     "alice.yaml line 8: holder.citizen_id: its birth date (characters 7-14) is not birth_date"),
    ("sex: M", "sex: Q", "alice.yaml line 6: holder.sex: must be M, F or X"),
    ("surname: WANG", "surname: wang", "alice.yaml line 3: holder.surname: must be upper-case Latin letters A-Z,"
                                       " with single spaces or hyphens between words"),
    ("birth_date: 1990-01-01", "birth_date: 1990-02-30", "alice.yaml line 7: holder.birth_date: 1990-02-30 is not "
                                                          "a calendar date"),
    ("birth_date: 1990-01-01", "birth_date: 1990-01-01 10:00:00",
     "alice.yaml line 7: holder.birth_date: must be a date as YYYY-MM-DD"),
    ("id: {document_number: E12345678,", "id: {document_number: E123456789,",
     "alice.yaml line 11: id.document_number: must be 1 to 9 characters A-Z / 0-9"),
    ("expiry: 2030-12-31", "expiry: 1989-12-31", "alice.yaml line 11: id.expiry: must be after birth_date"),
    ('ec_balance: "500.00"', 'ec_balance: "-5"', "alice.yaml line 12: bank.ec_balance: must not be negative"),
    ('ec_balance: "500.00"', "ec_balance: 5.005",
     "alice.yaml line 12: bank.ec_balance: must be an amount in yuan with at most 2 decimals, e.g. 50.00"),
    ("products: [debit, credit]", "products: [debit, gold]",
     "alice.yaml line 12: bank.products: 'gold' is not one of debit, credit"),
    ("products: [debit, credit]", "products: debit", "alice.yaml line 12: bank.products: must be a list, e.g. [a, b]"),
    ('initial_balance: "50.00"', 'initial_balance: "5000.00"',
     "alice.yaml line 13: transit.initial_balance: more than max_balance"),
    ('initial_balance: "50.00"', "card_type: two", "alice.yaml line 13: transit.card_type: must be a whole number"),
    ("applications: [bank, transit, id, social]", "applications: [bank, transit, id, atm]",
     "alice.yaml line 10: applications: 'atm' is not one of bank, transit, id, social"),
    ("applications: [bank, transit, id, social]", "applications: [bank, transit, id, socail]",
     "alice.yaml line 10: applications: 'socail' is not one of bank, transit, id, social (did you mean 'social'?)"),
    ("applications: [bank, transit, id, social]", "applications: []",
     "alice.yaml line 10: applications: at least one of bank, transit, id, social"),
    ("applications: [bank, transit, id, social]", "applications: [bank, transit, id]",
     "alice.yaml line 14: social: a social section, but applications does not list social"),
    # the shape of the file
    ("  sex: M\n", "", "alice.yaml line 1: holder.sex: missing; it is required"),
    ('  citizen_id: "110105199001010010"\n', '  citizen_id: ""\n',
     "alice.yaml line 8: holder.citizen_id: missing; it is required"),
    ("  address:", "  adress:", "alice.yaml line 9: holder.adress: unknown key (did you mean 'address'?)"),
    ("transit: {", "tranist: {", "alice.yaml line 13: tranist: unknown key (did you mean 'transit'?)"),
    ("max_balance:", "max_balance_fen:", "alice.yaml line 13: transit.max_balance_fen: unknown key "
                                         "(did you mean 'max_balance'?)"),
    ("  name: 王小明\n", "  name: 王小明\n  name: 王明\n",
     "alice.yaml line 6: holder.name: given twice (first on line 5)"),
    ("  name: 王小明", "  name: [王, 小明]", "alice.yaml line 5: holder.name: must be a single value, not a list or "
                                          "mapping"),
    ("id: {document_number", "id: !!python/object:os.system {document_number",
     "alice.yaml line 11: id: YAML tag tag:yaml.org,2002:python/object:os.system is not allowed in a profile"),
    ("  id: H000042", "  id: !!binary SDAwMDA0Mg==",
     "alice.yaml line 2: holder.id: YAML tag tag:yaml.org,2002:binary is not allowed in a profile"),
    ("transit: {initial_balance", "transit: [initial_balance",
     "alice.yaml line 13: YAML: expected ',' or ']', but got '}'"),
    ("holder:\n", "holder: 1\n", "alice.yaml line 2: YAML: mapping values are not allowed here"),
])
def test_errors_name_line_and_path(old: str, new: str, message: str) -> None:
    assert error(alice_with(old, new)) == message


def test_document_level_errors() -> None:
    assert error("") == "alice.yaml line 1: holder: missing: the file is empty"
    assert error("- a\n- b\n") == "alice.yaml line 1: profile: must be a mapping of keys to values"
    assert error("applications: [id]\n") == "alice.yaml line 1: holder: missing; it is required"
    assert error(ALICE + "---\nholder: {}\n") == "alice.yaml line 15: YAML: but found another document"
    assert error("holder: \n  id: H1\nholder: {}\n") == "alice.yaml line 3: holder: given twice (first on line 1)"
    assert error("holder: x\n") == "alice.yaml line 1: holder: must be a mapping of keys to values"


def test_photo_errors(tmp_path: Path) -> None:
    text = ALICE.replace("  address:", "  photo: face.jpg\n  address:")
    assert error(text, tmp_path) == "alice.yaml line 9: holder.photo: no such file: face.jpg"
    (tmp_path / "face.jpg").write_bytes(b"\x89PNG\r\n\x1a\n")
    assert error(text, tmp_path) == "alice.yaml line 9: holder.photo: face.jpg is not a JPEG (baseline or progressive)"
    (tmp_path / "face.jpg").write_bytes(PLACEHOLDER_FACE_JPEG)
    assert parse(text, tmp_path).photo == PLACEHOLDER_FACE_JPEG


def test_pins_never_in_errors() -> None:
    for old, new in (('pin: "987654"', 'pin: "98765x"'), ('pin: "135790"', 'pin: "1357901"')):
        message = error(alice_with(old, new))
        assert message in ("alice.yaml line 12: bank.pin: must be 4 to 12 digits",
                           "alice.yaml line 14: social.pin: must be 6 digits")
        assert new.split('"')[1] not in message


def test_load_holder_file_errors(tmp_path: Path) -> None:
    with pytest.raises(HolderError, match=r"nope\.yaml: file: no such file$"):
        load_holder(tmp_path / "nope.yaml")
    (tmp_path / "latin1.yaml").write_bytes("holder: {name: \xe9}\n".encode("latin-1"))
    with pytest.raises(HolderError, match=r"latin1\.yaml: file: not UTF-8 text \(byte 15\)$"):
        load_holder(tmp_path / "latin1.yaml")
    (tmp_path / "alice.yaml").write_text(alice_with("sex: M", "sex: Q"), encoding="utf-8")
    with pytest.raises(HolderError) as e:
        load_holder(tmp_path / "alice.yaml")
    assert str(e.value) == f"{tmp_path / 'alice.yaml'} line 6: holder.sex: must be M, F or X"
    assert (e.value.field, e.value.reason) == ("holder.sex", "must be M, F or X")
