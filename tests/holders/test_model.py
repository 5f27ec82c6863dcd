"""The HolderProfile dataclasses: every check at construction, defaults, secrets out of repr."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from cardkit.errors import ProfileError
from cardkit.issuer.eid_photo import PLACEHOLDER_FACE_JPEG
from cardkit.issuer.holder import (
    APPLICATIONS,
    BankSection,
    HolderError,
    HolderProfile,
    IdSection,
    SocialSection,
    TransitSection,
    format_amount,
    luhn_valid,
    parse_amount,
    parse_date,
)

from ._data import HOLDER, STANDARD_EXAMPLE_ID


def make(**changes: object) -> HolderProfile:
    return HolderProfile(**{**HOLDER, **changes})  # type: ignore[arg-type]


def test_standard_example_citizen_id_is_accepted() -> None:
    # GB 11643-1999 example 11010519491231002X: check character X, born 1949-12-31, a woman
    p = make(citizen_id=STANDARD_EXAMPLE_ID, birth_date=date(1949, 12, 31), sex="F")
    assert p.citizen_id == STANDARD_EXAMPLE_ID


@pytest.mark.parametrize("cid, message", [
    ("110105199001010011", "citizen_id: check character should be 0"),
    ("11010519491231002x", "citizen_id: check character should be X"),  # X is upper case
    ("11010519900101001", "citizen_id: must be 18 characters: 17 digits and a check character (0-9 or X)"),
    ("1101051990010100A0", "citizen_id: must be 18 characters: 17 digits and a check character (0-9 or X)"),
    ("１10105199001010010", "citizen_id: must be 18 characters: 17 digits and a check character (0-9 or X)"),
])
def test_citizen_id_format_and_check_character(cid: str, message: str) -> None:
    with pytest.raises(HolderError) as e:
        make(citizen_id=cid)
    assert str(e.value) == message
    assert isinstance(e.value, ProfileError)


def test_citizen_id_must_agree_with_birth_date_and_sex() -> None:
    with pytest.raises(HolderError, match=r"^citizen_id: its birth date \(characters 7-14\) is not birth_date$"):
        make(birth_date=date(1990, 1, 2))
    with pytest.raises(HolderError, match="^citizen_id: its 17th digit is odd, but sex is F"):
        make(sex="F")
    assert make(sex="X").sex == "X"  # no parity rule for X


@pytest.mark.parametrize("field, value, message", [
    ("holder_id", "H 1", "holder_id: must be 1 to 32 characters A-Z a-z 0-9 _ -"),
    ("holder_id", "H" * 33, "holder_id: must be 1 to 32 characters A-Z a-z 0-9 _ -"),
    ("surname", "Zhang", "surname: must be upper-case Latin letters A-Z"),
    ("surname", "ZHANG ", "surname: must be upper-case Latin letters A-Z"),
    ("given_names", "SAN--SAN", "given_names: must be upper-case Latin letters A-Z"),
    ("given_names", "X" * 40, "given_names: surname and given names together are more than 39 characters"),
    ("name", "", "name: must not be empty"),
    ("name", "张\n三", "name: contains a control character"),
    ("name", "张三张三张三张三张三张", "name: 22 bytes in GB18030, at most 20"),
    ("sex", "<", "sex: must be M, F or X"),
    ("birth_date", "1990-01-01", "birth_date: must be a date"),
    ("birth_date", date(1899, 12, 31), "birth_date: must be between 1900-01-01 and today"),
    ("address", " 北京", "address: has spaces at the start or end"),
    ("photo", b"GIF89a", "photo: is not a JPEG"),
    ("applications", (), "applications: at least one of bank, transit, id, social"),
    ("applications", ("bank", "atm"), "applications: 'atm' is not one of bank, transit, id, social"),
    ("applications", ("bank", "bank"), "applications: an application is listed twice"),
    ("social", SocialSection(), "social: a social section, but applications does not include social"),
])
def test_holder_field_checks(field: str, value: object, message: str) -> None:
    changes: dict[str, object] = {field: value}
    if field == "social":
        changes["applications"] = ("bank",)
    with pytest.raises(HolderError) as e:
        make(**changes)
    assert str(e.value).startswith(message)
    assert e.value.field == field


def test_applications_canonical_order_and_default_sections() -> None:
    p = make(applications=("social", "bank"))
    assert p.applications == ("bank", "social")
    assert p.bank == BankSection() and p.social == SocialSection() and p.id is None and p.transit is None
    full = make()
    assert full.applications == APPLICATIONS
    assert (full.id, full.transit) == (IdSection(), TransitSection())
    assert full.latin_name == "ZHANG/SAN"


def test_photo_is_kept_as_bytes() -> None:
    assert make(photo=PLACEHOLDER_FACE_JPEG).photo == PLACEHOLDER_FACE_JPEG


@pytest.mark.parametrize("build, message", [
    (lambda: IdSection(document_number="E1234567890"), "document_number: must be 1 to 9 characters A-Z / 0-9"),
    (lambda: IdSection(document_number="e123"), "document_number: must be 1 to 9 characters A-Z / 0-9"),
    (lambda: BankSection(products=()), "products: at least one of debit, credit"),
    (lambda: BankSection(products=("gold",)), "products: 'gold' is not one of debit, credit"),
    (lambda: BankSection(products=("debit", "debit")), "products: a product is listed twice"),
    (lambda: BankSection(pan="6228480000000000019"), "pan: the Luhn check digit is wrong"),
    (lambda: BankSection(pan="62284800"), "pan: must be 12 to 19 digits"),
    (lambda: BankSection(pin="123"), "pin: must be 4 to 12 digits"),
    (lambda: BankSection(pin="12345a"), "pin: must be 4 to 12 digits"),
    (lambda: BankSection(ec_balance=-1), "ec_balance: must not be negative"),
    (lambda: TransitSection(initial_balance=100_001), "initial_balance: more than max_balance"),
    (lambda: TransitSection(max_balance=0), "max_balance: must be more than 0"),
    (lambda: TransitSection(card_type=256), "card_type: must be a whole number 0..255"),
    (lambda: TransitSection(serial="3100"), "serial: must be 20 digits"),
    (lambda: SocialSection(region="11010"), "region: must be 6 digits (a GB/T 2260 region code)"),
    (lambda: SocialSection(ethnicity="1"), "ethnicity: must be 2 digits (a GB 3304 code, 01 Han)"),
    (lambda: SocialSection(medical_balance=0x80000000), "medical_balance: at most 21474836.47"),
    (lambda: SocialSection(card_number="110105"), "card_number: must be 16 digits"),
    (lambda: SocialSection(pin="1234"), "pin: must be 6 digits"),
])
def test_section_checks(build: object, message: str) -> None:
    with pytest.raises(HolderError) as e:
        build()  # type: ignore[operator]
    assert str(e.value) == message


def test_secrets_never_in_repr_or_errors() -> None:
    p = make(bank=BankSection(pin="987654"), social=SocialSection(region="110105", pin="135790"),
             address="北京市东城区景山前街4号")
    text = repr(p)
    for secret in ("987654", "135790", "110105199001010010", "景山"):
        assert secret not in text
    for bad in ("98765x", "1357901"):
        with pytest.raises(HolderError) as e:
            BankSection(pin=bad) if bad.endswith("x") else SocialSection(pin=bad)
        assert bad not in str(e.value)


def test_luhn_known_answers() -> None:
    # ISO/IEC 7812-1 Annex B; 79927398713 is the worked example of en.wikipedia "Luhn algorithm"
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert luhn_valid("6228480000000000018")  # cardkit's demo PAN (demo_keys.DEMO_PAN)
    assert luhn_valid("4111111111111111")  # the well-known Visa test PAN


@pytest.mark.parametrize("text, fen", [("50.00", 5000), ("50", 5000), ("50.5", 5050), ("0.01", 1), ("0", 0),
                                       ("21474836.47", 0x7FFFFFFF)])
def test_amounts(text: str, fen: int) -> None:
    assert parse_amount(text) == fen
    assert parse_amount(format_amount(fen)) == fen


@pytest.mark.parametrize("text, reason", [
    ("-5", "must not be negative"), ("50.001", "at most 2 decimals"), ("1e3", "at most 2 decimals"),
    ("", "at most 2 decimals"), ("5,00", "at most 2 decimals"), (" 5", "at most 2 decimals")])
def test_bad_amounts(text: str, reason: str) -> None:
    with pytest.raises(HolderError, match=reason):
        parse_amount(text)


def test_dates() -> None:
    assert parse_date("2030-12-31") == date(2030, 12, 31)
    with pytest.raises(HolderError, match="2030-02-30 is not a calendar date"):
        parse_date("2030-02-30")
    with pytest.raises(HolderError, match="must be a date as YYYY-MM-DD"):
        parse_date("20301231")


def test_profiles_are_frozen_values() -> None:
    p = make()
    with pytest.raises(AttributeError):
        p.surname = "LI"  # type: ignore[misc]
    assert replace(p, given_names="SI").given_names == "SI"
    assert make() == p and hash(IdSection()) == hash(IdSection())
