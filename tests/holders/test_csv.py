"""Holder batches in CSV: round trips, errors naming row, line and column, duplicates, lazy reading."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from cardkit.issuer.eid_photo import PLACEHOLDER_FACE_JPEG
from cardkit.issuer.holder import BankSection, HolderError, HolderProfile, IdSection, SocialSection, TransitSection
from cardkit.issuer.holder_csv import CSV_COLUMNS, HolderFileErrors, read_holders, validate_holders, write_holders
from cardkit.issuer.holder_example import example_holders

from ._data import HOLDER

HEADER = ",".join(c.name for c in CSV_COLUMNS)
FULL = HolderProfile(
    **HOLDER, address="北京市东城区景山前街4号, \"故宫\"",
    id=IdSection("E12345678", date(2035, 12, 31)),
    bank=BankSection(("credit", "debit"), pan="6228480000000000018", pin="975310", ec_balance=50_000,
                     expiry=date(2030, 12, 31)),
    transit=TransitSection(5_000, 100_000, 1, "31000000000000000018"),
    social=SocialSection("110105", "03", 80_000, "1101050000000018", "654321"))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def csv_of(profiles: list[HolderProfile], *, include_secrets: bool = True) -> str:
    buf = io.StringIO(newline="")
    write_holders(profiles, buf, include_secrets=include_secrets)
    return buf.getvalue()


def minimal_rows(*rows: str) -> str:
    return "holder_id,surname,given_names,name,sex,birth_date,citizen_id,applications,social_region\n" + "".join(
        r + "\n" for r in rows)


ROW = "H1,ZHANG,SAN,张三,M,1990-01-01,110105199001010010,bank+id,"


def test_columns_are_documented() -> None:
    names = [c.name for c in CSV_COLUMNS]
    assert len(set(names)) == len(names) == 26
    assert names[:10] == ["holder_id", "surname", "given_names", "name", "sex", "birth_date", "citizen_id",
                          "address", "photo", "applications"]
    assert all(c.meaning and c.example for c in CSV_COLUMNS)
    docs = (Path(__file__).resolve().parents[2] / "docs" / "holders.md").read_text(encoding="utf-8")
    for name in names:
        assert f"| `{name}` |" in docs, name


def test_the_column_examples_make_a_valid_row(tmp_path: Path) -> None:
    row = ",".join(c.example for c in CSV_COLUMNS if c.name != "photo").replace("景山前街4号", "景山前街4号")
    header = ",".join(c.name for c in CSV_COLUMNS if c.name != "photo")
    (p,) = read_holders(write(tmp_path / "h.csv", header + "\n" + row + "\n"))
    assert p.bank is not None and p.bank.products == ("debit", "credit") and p.bank.pin == "123456"


def test_full_round_trip(tmp_path: Path) -> None:
    profiles = [FULL, replace(FULL, holder_id="H2", applications=("id",), id=None, bank=None, transit=None,
                              social=None, address="")]
    path = write(tmp_path / "h.csv", csv_of(profiles))
    assert list(read_holders(path)) == [replace(profiles[0]), replace(profiles[1], id=IdSection())]
    assert validate_holders(path) == 2


def test_secrets_only_when_asked(tmp_path: Path) -> None:
    text = csv_of([FULL], include_secrets=False)
    assert "975310" not in text and "654321" not in text
    (p,) = read_holders(write(tmp_path / "h.csv", text))
    assert p == replace(FULL, bank=replace(FULL.bank, pin=None), social=replace(FULL.social, pin=None))  # type: ignore[arg-type]


def test_photos_are_paths_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "H1.jpg").write_bytes(PLACEHOLDER_FACE_JPEG)
    p = replace(FULL, photo=PLACEHOLDER_FACE_JPEG)
    with pytest.raises(HolderError, match="H000001 has a photo: give its path in photo_paths"):
        write_holders([p], io.StringIO())
    buf = io.StringIO()
    write_holders([p], buf, include_secrets=True, photo_paths={"H000001": "photos/H1.jpg"})
    assert list(read_holders(write(tmp_path / "h.csv", buf.getvalue()))) == [p]


def test_empty_cells_are_defaults_and_absent_columns_are_empty(tmp_path: Path) -> None:
    (p,) = read_holders(write(tmp_path / "h.csv", minimal_rows("H1,ZHANG,SAN,张三,M,1990-01-01,110105199001010010,,")))
    assert p.applications == ("bank", "transit", "id", "social")
    assert (p.id, p.bank, p.transit, p.social) == (IdSection(), BankSection(), TransitSection(), SocialSection())
    assert p.address == "" and p.photo is None


def test_bom_crlf_blank_lines_and_quoted_line_breaks(tmp_path: Path) -> None:
    text = ("\ufeffholder_id,surname,given_names,name,sex,birth_date,citizen_id,address\r\n\r\n"
            "H1,ZHANG,SAN,张三,M,1990-01-01,110105199001010010,\"a\r\nb\"\r\n"
            "H2,ZHANG,SAN,张三,M,1990-01-01,110105199001010011,\r\n")
    path = tmp_path / "h.csv"
    path.write_bytes(text.encode("utf-8"))
    # row 1 starts on line 3 and spans two lines, so row 2 is on line 5
    with pytest.raises(HolderError) as e:
        list(read_holders(path))
    assert str(e.value) == f"{path} row 1 (line 3), column address: contains a control character (a line break or tab?)"
    path.write_bytes(text.replace("\"a\r\nb\"", "ab").encode("utf-8"))
    with pytest.raises(HolderError) as e:
        list(read_holders(path))
    assert str(e.value) == f"{path} row 2 (line 4), column citizen_id: check character should be 0"


@pytest.mark.parametrize("row, message", [
    ("H1,ZHANG,SAN,张三,M,1990-01-01,110105199001010011,,", "column citizen_id: check character should be 0"),
    ("H1,ZHANG,SAN,张三,M,1990-13-01,110105199001010010,,", "column birth_date: 1990-13-01 is not a calendar date"),
    ("H1,ZHANG,SAN,张三,M,,110105199001010010,,", "column birth_date: empty; it is required"),
    ("H1,ZHANG,SAN,张三,W,1990-01-01,110105199001010010,,", "column sex: must be M, F or X"),
    ("H1,Zhang,SAN,张三,M,1990-01-01,110105199001010010,,", "column surname: must be upper-case Latin letters"),
    ("H1,ZHANG,SAN,张三,M,1990-01-01,110105199001010010,bank+tram,",
     "column applications: 'tram' is not one of bank, transit, id, social"),
    ("H1,ZHANG,SAN,张三,M,1990-01-01,110105199001010010,bank+id,110105",
     "column social_region: filled, but applications does not include social"),
    ("H1,ZHANG,SAN,张三,M,1990-01-01,110105199001010010,,1101", "column social_region: must be 6 digits"),
    ("H1,ZHANG,SAN,张三,M,1990-01-01,110105199001010010,", "cells: 8 where the header has 9 columns"),
])
def test_row_errors_name_row_line_and_column(tmp_path: Path, row: str, message: str) -> None:
    path = write(tmp_path / "holders.csv", minimal_rows(ROW.replace("H1", "H0"), row))
    with pytest.raises(HolderError) as e:
        list(read_holders(path))
    assert str(e.value).startswith(f"{path} row 2 (line 3), {message}")


@pytest.mark.parametrize("column, cell, message", [
    ("bank_pan", "6228480000000000019", "column bank_pan: the Luhn check digit is wrong"),
    ("bank_pin", "12a456", "column bank_pin: must be 4 to 12 digits"),
    ("bank_ec_balance", "-1.00", "column bank_ec_balance: must not be negative"),
    ("bank_products", "debit+debit", "column bank_products: a product is listed twice"),
    ("transit_initial_balance", "2000.00", "column transit_initial_balance: more than max_balance"),
    ("transit_card_type", "x", "column transit_card_type: must be a whole number"),
    ("id_expiry", "31/12/2035", "column id_expiry: must be a date as YYYY-MM-DD"),
    ("id_expiry", "1990-01-01", "column id_expiry: must be after birth_date"),
    ("social_pin", "1234567", "column social_pin: must be 6 digits"),
    ("social_medical_balance", "1.234", "column social_medical_balance: must be an amount in yuan"),
])
def test_section_errors_name_the_column_never_the_pin(tmp_path: Path, column: str, cell: str, message: str) -> None:
    path = write(tmp_path / "h.csv", "holder_id,surname,given_names,name,sex,birth_date,citizen_id," + column +
                 "\nH1,ZHANG,SAN,张三,M,1990-01-01,110105199001010010," + cell + "\n")
    with pytest.raises(HolderError) as e:
        list(read_holders(path))
    assert str(e.value).startswith(f"{path} row 1 (line 2), {message}")
    if "pin" in column:
        assert cell not in str(e.value)


def test_header_errors(tmp_path: Path) -> None:
    cases = {
        "": "h.csv line 1: header: the file is empty; the first line names the columns",
        "holder_id,surname,given_names,name,sex,birth_date,citizen_id,adress\n":
            "h.csv line 1 (header): column 'adress': unknown (did you mean 'address'?)",
        "holder_id,surname,given_names,name,sex,birth_date\n": "h.csv line 1 (header): column citizen_id: missing; "
                                                               "it is required",
        "holder_id,surname,given_names,name,sex,birth_date,citizen_id,sex\n": "h.csv line 1 (header): column sex: "
                                                                             "given twice",
    }
    for text, message in cases.items():
        path = write(tmp_path / "h.csv", text)
        with pytest.raises(HolderError) as e:
            list(read_holders(path))
        assert str(e.value) == f"{tmp_path}/{message}"


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(HolderError, match=r"nope\.csv: file: no such file$"):
        list(read_holders(tmp_path / "nope.csv"))
    path = tmp_path / "h.csv"
    path.write_bytes(minimal_rows(ROW).encode("utf-8") + b"H2,ZHANG,SAN,\xd5\xc5\n")
    with pytest.raises(HolderError, match="file: not UTF-8 text"):
        list(read_holders(path))
    write(path, minimal_rows(ROW, 'H2,"ZHANG"x,SAN'))
    with pytest.raises(HolderError, match=r"h\.csv line 3: CSV: ',' expected after '\"'"):
        list(read_holders(path))


def test_duplicate_holder_id_names_both_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "holders.csv", minimal_rows(ROW, ROW.replace("H1", "H2"), ROW))
    reader = read_holders(path)
    assert [next(reader).holder_id, next(reader).holder_id] == ["H1", "H2"]
    with pytest.raises(HolderError) as e:
        next(reader)
    assert str(e.value) == f"{path} row 3 (line 4), column holder_id: H1 is also row 1 (line 2)"


def test_reading_is_lazy(tmp_path: Path) -> None:
    """The rows before a bad one come out before the error: nothing reads ahead."""
    bad = ROW.replace("1990-01-01", "1990-01-02")
    path = write(tmp_path / "h.csv", minimal_rows(ROW, ROW.replace("H1", "H2"), bad.replace("H1", "H3"),
                                                  *(ROW.replace("H1", f"X{i}") for i in range(1000))))
    reader = read_holders(path)
    assert [p.holder_id for p in (next(reader), next(reader))] == ["H1", "H2"]
    with pytest.raises(HolderError, match="row 3 .* column citizen_id"):
        next(reader)


def test_first_row_of_a_huge_file_needs_only_the_first_row(tmp_path: Path) -> None:
    """A file whose tail is garbage far beyond what any buffer holds: the first rows still come out."""
    path = tmp_path / "h.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        write_holders(example_holders(3), f)
        f.write("\n" * 10 + "garbage," * 100_000 + "\n")
    reader = read_holders(path)
    assert [p.holder_id for p in (next(reader), next(reader), next(reader))] == ["H000001", "H000002", "H000003"]
    with pytest.raises(HolderError, match=r"row 4 \(line 15\), cells: 100001 where the header has 26 columns"):
        next(reader)


def test_validate_reports_the_first_errors_and_counts_all(tmp_path: Path) -> None:
    rows = [ROW.replace("H1", f"H{i}") for i in range(1, 31)]
    for i in (4, 9, 14, 19, 24):
        rows[i] = rows[i].replace(",M,", ",Q,")
    rows.append(ROW.replace("H1", "H3"))  # a duplicate too
    path = write(tmp_path / "holders.csv", minimal_rows(*rows))
    with pytest.raises(HolderFileErrors) as e:
        validate_holders(path, max_errors=3)
    assert e.value.total == 6 and len(e.value.errors) == 3
    assert [str(x) for x in e.value.errors] == [f"{path} row {r} (line {r + 1}), column sex: must be M, F or X"
                                                for r in (5, 10, 15)]
    assert str(e.value).endswith("... and 3 more")
    assert str(e.value).startswith(f"{path}: rows: 6 invalid:\n")
    with pytest.raises(HolderFileErrors) as e:
        validate_holders(path)
    assert str(e.value.errors[-1]) == f"{path} row 31 (line 32), column holder_id: H3 is also row 3 (line 4)"
    assert validate_holders(write(tmp_path / "ok.csv", minimal_rows(*rows[:4]))) == 4
