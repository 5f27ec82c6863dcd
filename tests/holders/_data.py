"""Shared test data: a valid holder, written as YAML text and as keyword arguments."""

from __future__ import annotations

from datetime import date
from typing import Any

# GB 11643-1999, §8 / Annex example (also the example of zh.wikipedia "中华人民共和国公民身份号码"):
# 110105 Beijing Chaoyang, born 1949-12-31, sequence 002 (even: a woman), check character X.
STANDARD_EXAMPLE_ID = "11010519491231002X"

HOLDER: dict[str, Any] = dict(holder_id="H000001", surname="ZHANG", given_names="SAN", name="张三", sex="M",
                              birth_date=date(1990, 1, 1), citizen_id="110105199001010010")

# line numbers matter: tests name them
ALICE = """\
holder:
  id: H000042
  surname: WANG
  given_names: XIAO MING
  name: 王小明
  sex: M
  birth_date: 1990-01-01
  citizen_id: "110105199001010010"
  address: 北京市东城区景山前街4号
applications: [bank, transit, id, social]
id: {document_number: E12345678, expiry: 2030-12-31}
bank: {products: [debit, credit], pin: "987654", ec_balance: "500.00"}
transit: {initial_balance: "50.00", max_balance: "1000.00"}
social: {region: "110105", medical_balance: "800.00", pin: "135790"}
"""


def alice_with(old: str, new: str) -> str:
    """ALICE with one substring replaced (exactly once)."""
    assert ALICE.count(old) == 1, old
    return ALICE.replace(old, new)
