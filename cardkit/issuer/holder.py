"""Holder profiles: who a card is for and which applications it carries, from a YAML file.

A profile is what an issuer's clerk writes (``cardkit issue --holder alice.yaml``); the issuer's own
configuration adds keys and number ranges, and allocates what a profile leaves out (PANs, serials,
document numbers, PINs). The batch form, one CSV row per holder, is :mod:`cardkit.issuer.holder_csv`;
synthetic holders come from :mod:`cardkit.issuer.holder_example`. docs/holders.md describes both files.

Every check runs when a dataclass is built, so a profile made in code is as valid as one read from a
file. The readers only add *where*: the file, the line (YAML) or row and column (CSV) of the field.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from cardkit.errors import ProfileError
from cardkit.issuer.eid_data import _jpeg_size, citizen_id_check_digit

__all__ = [
    "APPLICATIONS",
    "BANK_PRODUCTS",
    "BankSection",
    "HolderError",
    "HolderProfile",
    "IdSection",
    "SocialSection",
    "TransitSection",
    "dump_holder",
    "format_amount",
    "load_holder",
    "luhn_valid",
    "parse_amount",
    "parse_date",
    "parse_holder",
]

APPLICATIONS = ("bank", "transit", "id", "social")
BANK_PRODUCTS = ("debit", "credit")
SEXES = ("M", "F", "X")
MAX_AMOUNT = 0x7FFFFFFF  # fen: the purse and medical account balances are 4-byte fields

_HOLDER_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_MRZ_NAME = re.compile(r"[A-Z]+(?:[ -][A-Z]+)*")  # ICAO 9303-3 §4.6: A-Z; spaces/hyphens become '<'
_DOCUMENT_NUMBER = re.compile(r"[A-Z0-9]{1,9}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_AMOUNT = re.compile(r"(\d{1,10})(?:\.(\d{1,2}))?")
_NAME_BYTES = 20  # the transit holder file's name field (GB18030); the social one holds 30
_LATIN_NAME = 40  # the social card's latin name: SURNAME/GIVEN NAMES
_EARLIEST_BIRTH = date(1900, 1, 1)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc


class HolderError(ProfileError):
    """One field of a holder profile is wrong.

    ``field`` names it (a dataclass field while constructing, then the file's own name for it: a YAML
    path such as ``holder.citizen_id`` or a CSV ``column citizen_id``); ``where`` says in which file,
    line or row. Messages never quote a PIN.
    """

    def __init__(self, field: str, reason: str, where: str = "", *, joiner: str = ": ") -> None:
        self.field = field
        self.reason = reason
        self.where = where
        super().__init__(f"{where}{joiner}{field}: {reason}" if where else f"{field}: {reason}")


# --- small validators, shared by the dataclasses below and the CSV reader --------------------------------


def _digits(value: str, n: int) -> bool:
    return len(value) == n and value.isascii() and value.isdigit()


def _plain_text(value: object, name: str, *, required: bool) -> None:
    if not isinstance(value, str):
        raise HolderError(name, "must be text")
    if required and not value:
        raise HolderError(name, "must not be empty")
    if value != value.strip():
        raise HolderError(name, "has spaces at the start or end")
    if _CONTROL.search(value):
        raise HolderError(name, "contains a control character (a line break or tab?)")


def _check_date(value: object, name: str) -> None:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise HolderError(name, "must be a date")


def _check_amount(value: object, name: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise HolderError(name, "must be an integer number of fen")
    if value < 0:
        raise HolderError(name, "must not be negative")
    if value > MAX_AMOUNT:
        raise HolderError(name, f"at most {format_amount(MAX_AMOUNT)}")


def luhn_valid(number: str) -> bool:
    """ISO/IEC 7812-1 Annex B check digit (the Luhn formula) over a digit string, check digit last."""
    total = 0
    for i, c in enumerate(reversed(number)):
        d = ord(c) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def parse_amount(text: str) -> int:
    """``"50.00"``, ``"50"`` or ``"50.5"`` yuan → fen. Raises :class:`HolderError` (field ``""``)."""
    m = _AMOUNT.fullmatch(text)
    if m is None:
        if text.startswith("-"):
            raise HolderError("", "must not be negative")
        raise HolderError("", "must be an amount in yuan with at most 2 decimals, e.g. 50.00")
    whole, frac = m.groups()
    return int(whole) * 100 + int((frac or "0").ljust(2, "0"))


def format_amount(fen: int) -> str:
    """fen → ``"50.00"`` (what :func:`parse_amount` reads back)."""
    return f"{fen // 100}.{fen % 100:02d}"


def parse_date(text: str) -> date:
    """``"YYYY-MM-DD"`` → date. Raises :class:`HolderError` (field ``""``)."""
    if _DATE.fullmatch(text) is None:
        raise HolderError("", "must be a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HolderError("", f"{text} is not a calendar date") from None


def _check_citizen_id(cid: object, birth_date: date, sex: str) -> None:
    """GB 11643-1999: 6-digit region, birth date YYYYMMDD, 3-digit sequence (odd for men), check character."""
    if not (isinstance(cid, str) and len(cid) == 18 and cid.isascii() and cid[:17].isdigit()):
        raise HolderError("citizen_id", "must be 18 characters: 17 digits and a check character (0-9 or X)")
    expected = citizen_id_check_digit(cid[:17])
    if cid[17] != expected:
        raise HolderError("citizen_id", f"check character should be {expected}")
    if cid[6:14] != f"{birth_date:%Y%m%d}":
        raise HolderError("citizen_id", "its birth date (characters 7-14) is not birth_date")
    if sex != "X" and (int(cid[16]) % 2 == 1) != (sex == "M"):
        raise HolderError("citizen_id", f"its 17th digit is {'even' if sex == 'M' else 'odd'}, "
                                        f"but sex is {sex} (odd for men, even for women)")


# --- the model -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdSection:
    """The ID application (ICAO 9303 document). ``None`` means the issuer decides."""

    document_number: str | None = None  # 1..9 of A-Z 0-9; None: allocated by the issuer
    expiry: date | None = None  # None: the issuer's default (issue date + 10 years)

    def __post_init__(self) -> None:
        if self.document_number is not None and (
                not isinstance(self.document_number, str) or not _DOCUMENT_NUMBER.fullmatch(self.document_number)):
            raise HolderError("document_number", "must be 1 to 9 characters A-Z / 0-9")
        if self.expiry is not None:
            _check_date(self.expiry, "expiry")


@dataclass(frozen=True, slots=True)
class BankSection:
    """The bank applications: which products, in priority order; ``pan`` and ``ec_balance`` are the first's."""

    products: tuple[str, ...] = ("debit",)
    pan: str | None = None  # 12..19 digits, Luhn; None: allocated by the issuer
    pin: str | None = field(default=None, repr=False)  # 4..12 digits; None: generated by the issuer
    ec_balance: int = 0  # PBOC electronic cash on the first product, fen
    expiry: date | None = None  # None: the issuer's default

    def __post_init__(self) -> None:
        products = self.products
        if not isinstance(products, tuple) or not products:
            raise HolderError("products", "at least one of debit, credit")
        for p in products:
            if p not in BANK_PRODUCTS:
                raise HolderError("products", f"{p!r} is not one of debit, credit")
        if len(set(products)) != len(products):
            raise HolderError("products", "a product is listed twice")
        if self.pan is not None:
            if not (isinstance(self.pan, str) and 12 <= len(self.pan) <= 19 and self.pan.isascii()
                    and self.pan.isdigit()):
                raise HolderError("pan", "must be 12 to 19 digits")
            if not luhn_valid(self.pan):
                raise HolderError("pan", "the Luhn check digit is wrong")
        if self.pin is not None and not (isinstance(self.pin, str) and 4 <= len(self.pin) <= 12
                                         and self.pin.isascii() and self.pin.isdigit()):
            raise HolderError("pin", "must be 4 to 12 digits")
        _check_amount(self.ec_balance, "ec_balance")
        if self.expiry is not None:
            _check_date(self.expiry, "expiry")


@dataclass(frozen=True, slots=True)
class TransitSection:
    """The transit purse. Amounts in fen."""

    initial_balance: int = 0
    max_balance: int = 100_000
    card_type: int = 0  # the holder file's card type byte: 0 normal, 1 student, 2 senior ...
    serial: str | None = None  # 20 digits; None: allocated by the issuer

    def __post_init__(self) -> None:
        _check_amount(self.initial_balance, "initial_balance")
        _check_amount(self.max_balance, "max_balance")
        if self.max_balance == 0:
            raise HolderError("max_balance", "must be more than 0")
        if self.initial_balance > self.max_balance:
            raise HolderError("initial_balance", "more than max_balance")
        if not isinstance(self.card_type, int) or isinstance(self.card_type, bool) or not 0 <= self.card_type <= 255:
            raise HolderError("card_type", "must be a whole number 0..255")
        if self.serial is not None and not (isinstance(self.serial, str) and _digits(self.serial, 20)):
            raise HolderError("serial", "must be 20 digits")


@dataclass(frozen=True, slots=True)
class SocialSection:
    """The social insurance application. Amounts in fen."""

    region: str | None = None  # 6 digits, GB/T 2260, where the card is issued; None: the issuer's own region
    ethnicity: str = "01"  # 2 digits, GB 3304 (01 Han)
    medical_balance: int = 0
    card_number: str | None = None  # 16 digits; None: allocated by the issuer
    pin: str | None = field(default=None, repr=False)  # 6 digits; None: generated by the issuer

    def __post_init__(self) -> None:
        if self.region is not None and not (isinstance(self.region, str) and _digits(self.region, 6)):
            raise HolderError("region", "must be 6 digits (a GB/T 2260 region code)")
        if not (isinstance(self.ethnicity, str) and _digits(self.ethnicity, 2)):
            raise HolderError("ethnicity", "must be 2 digits (a GB 3304 code, 01 Han)")
        _check_amount(self.medical_balance, "medical_balance")
        if self.card_number is not None and not (isinstance(self.card_number, str) and _digits(self.card_number, 16)):
            raise HolderError("card_number", "must be 16 digits")
        if self.pin is not None and not (isinstance(self.pin, str) and _digits(self.pin, 6)):
            raise HolderError("pin", "must be 6 digits")


_SECTIONS: dict[str, type[Any]] = {"id": IdSection, "bank": BankSection, "transit": TransitSection,
                                   "social": SocialSection}


@dataclass(frozen=True, slots=True)
class HolderProfile:
    """One holder and the applications of their card.

    ``applications`` is kept in the canonical order of :data:`APPLICATIONS`; a section is present
    exactly when its application is included (a section left ``None`` gets its defaults).

    Raises (at construction):
        HolderError: naming the field that is wrong.
    """

    holder_id: str  # the issuer's reference, unique in a batch: [A-Za-z0-9_-]{1,32}
    surname: str  # Latin, MRZ rules: A-Z, single spaces or hyphens between letters
    given_names: str
    name: str  # as printed, e.g. 张三
    sex: str  # "M", "F" or "X"
    birth_date: date
    citizen_id: str = field(repr=False)  # 18 characters, GB 11643, consistent with birth_date and sex
    address: str = field(default="", repr=False)
    photo: bytes | None = field(default=None, repr=False)  # JPEG; None: the issuer's placeholder face
    applications: tuple[str, ...] = APPLICATIONS
    id: IdSection | None = None
    bank: BankSection | None = None
    transit: TransitSection | None = None
    social: SocialSection | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.holder_id, str) and _HOLDER_ID.fullmatch(self.holder_id)):
            raise HolderError("holder_id", "must be 1 to 32 characters A-Z a-z 0-9 _ -")
        for name in ("surname", "given_names"):
            value = getattr(self, name)
            if not (isinstance(value, str) and _MRZ_NAME.fullmatch(value)):
                raise HolderError(name, "must be upper-case Latin letters A-Z, with single spaces or hyphens "
                                        "between words")
        if len(self.surname) + 1 + len(self.given_names) > _LATIN_NAME:
            raise HolderError("given_names", f"surname and given names together are more than {_LATIN_NAME - 1} "
                                             "characters")
        _plain_text(self.name, "name", required=True)
        try:
            encoded = self.name.encode("gb18030")
        except UnicodeEncodeError:
            raise HolderError("name", "not encodable in GB18030") from None
        if len(encoded) > _NAME_BYTES:
            raise HolderError("name", f"{len(encoded)} bytes in GB18030, at most {_NAME_BYTES}")
        if self.sex not in SEXES:
            raise HolderError("sex", "must be M, F or X")
        _check_date(self.birth_date, "birth_date")
        if not _EARLIEST_BIRTH <= self.birth_date <= date.today():
            raise HolderError("birth_date", f"must be between {_EARLIEST_BIRTH} and today")
        _check_citizen_id(self.citizen_id, self.birth_date, self.sex)
        _plain_text(self.address, "address", required=False)
        if self.photo is not None and (not isinstance(self.photo, bytes) or _jpeg_size(self.photo) is None):
            raise HolderError("photo", "is not a JPEG (baseline or progressive)")
        self._check_applications()

    def _check_applications(self) -> None:
        apps = self.applications
        if not isinstance(apps, tuple) or not apps:
            raise HolderError("applications", "at least one of bank, transit, id, social")
        for app in apps:
            if app not in APPLICATIONS:
                raise HolderError("applications", f"{app!r} is not one of bank, transit, id, social")
        if len(set(apps)) != len(apps):
            raise HolderError("applications", "an application is listed twice")
        object.__setattr__(self, "applications", tuple(a for a in APPLICATIONS if a in apps))
        for app in APPLICATIONS:
            section = getattr(self, app)
            if app not in apps:
                if section is not None:
                    raise HolderError(app, f"a {app} section, but applications does not include {app}")
            elif section is None:
                object.__setattr__(self, app, _SECTIONS[app]())
            elif not isinstance(section, _SECTIONS[app]):
                raise HolderError(app, "is not a section of that application")
        if self.id is not None and self.id.expiry is not None and self.id.expiry <= self.birth_date:
            raise HolderError("id.expiry", "must be after birth_date")

    @property
    def latin_name(self) -> str:
        """``SURNAME/GIVEN NAMES``, as on the bank and social applications."""
        return f"{self.surname}/{self.given_names}"


# --- YAML ----------------------------------------------------------------------------------------------------

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
_NULL = _TAG + "null"
_TOP_KEYS = ("holder", "applications", "id", "bank", "transit", "social")
_HOLDER_KEYS = {"id": "holder_id", "surname": "surname", "given_names": "given_names", "name": "name",
                "sex": "sex", "birth_date": "birth_date", "citizen_id": "citizen_id", "address": "address",
                "photo": "photo"}
_HOLDER_FIELD_KEY = {v: k for k, v in _HOLDER_KEYS.items()}
_REQUIRED = ("id", "surname", "given_names", "name", "sex", "birth_date", "citizen_id")
_SECRET_KEYS = frozenset({"pin"})
# section → key → kind
_KINDS: dict[str, dict[str, str]] = {
    "id": {"document_number": "text", "expiry": "date"},
    "bank": {"products": "list", "pan": "text", "pin": "text", "ec_balance": "amount", "expiry": "date"},
    "transit": {"initial_balance": "amount", "max_balance": "amount", "card_type": "int", "serial": "text"},
    "social": {"region": "text", "ethnicity": "text", "medical_balance": "amount", "card_number": "text",
               "pin": "text"},
}


def did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    """``" (did you mean 'x'?)"`` when a close choice exists, else ``""``."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _Yaml:
    """The node tree of one profile, with the line of every node, read without constructing any object."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: Node | None, path: str, reason: str) -> HolderError:
        line = node.start_mark.line + 1 if node is not None else 1
        return HolderError(path or "profile", reason, f"{self.source} line {line}")

    def check_tag(self, node: Node, path: str) -> None:
        if isinstance(node, ScalarNode):
            ok = node.tag in _SCALAR_TAGS
        else:
            ok = node.tag == _TAG + ("seq" if isinstance(node, SequenceNode) else "map")
        if not ok:
            raise self.fail(node, path, f"YAML tag {node.tag} is not allowed in a profile")

    def mapping(self, node: Node, path: str, keys: tuple[str, ...] | list[str]) -> dict[str, tuple[Node, Node]]:
        """key → (key node, value node); unknown and duplicate keys are errors."""
        self.check_tag(node, path)
        if isinstance(node, ScalarNode) and node.tag == _NULL:
            return {}
        if not isinstance(node, MappingNode):
            raise self.fail(node, path, "must be a mapping of keys to values")
        out: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise self.fail(key_node, path, "keys must be plain words")
            key = str(key_node.value)
            where = f"{path}.{key}" if path else key
            if key in out:
                first = out[key][0].start_mark.line + 1
                raise self.fail(key_node, where, f"given twice (first on line {first})")
            if key not in keys:
                raise self.fail(key_node, where, "unknown key" + did_you_mean(key, list(keys)))
            self.check_tag(value_node, where)
            out[key] = (key_node, value_node)
        return out

    def text(self, node: Node, path: str) -> str | None:
        """A scalar's text as written (so ``01`` stays "01", ``NO`` stays "NO"); ``None`` for null."""
        if not isinstance(node, ScalarNode):
            raise self.fail(node, path, "must be a single value, not a list or mapping")
        if node.tag == _NULL:
            return None
        return str(node.value)

    def words(self, node: Node, path: str) -> tuple[str, ...]:
        if not isinstance(node, SequenceNode):
            raise self.fail(node, path, "must be a list, e.g. [a, b]")
        out = []
        for item in node.value:
            self.check_tag(item, path)
            value = self.text(item, path)
            if value is None:
                raise self.fail(item, path, "an empty list item")
            out.append(value)
        return tuple(out)

    def value(self, node: Node, path: str, kind: str) -> Any:
        if kind == "list":
            return self.words(node, path)
        text = self.text(node, path)
        if text is None or kind == "text":
            return text
        try:
            if kind == "amount":
                return parse_amount(text)
            if kind == "date":
                return parse_date(text)
        except HolderError as e:
            raise self.fail(node, path, e.reason) from None
        if not (text.isascii() and text.isdigit()):
            raise self.fail(node, path, "must be a whole number")
        return int(text)


def parse_holder(text: str, *, source: str, base_dir: Path) -> HolderProfile:
    """A holder profile from YAML text (docs/holders.md); ``source`` names the file in errors and
    ``base_dir`` is where a relative ``photo`` path is looked up.

    Raises:
        HolderError: ``"<source> line N: <field path>: <what is wrong>"`` — for YAML syntax, an unknown or
            duplicate key, a missing or malformed field, a photo that is missing or not a JPEG, a section
            for an application that is not listed, and every check of :class:`HolderProfile`.
    """
    doc = _Yaml(source)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise HolderError("YAML", f"{e.problem or e.context or 'malformed'}", f"{source} line {line}") from None
    except yaml.YAMLError as e:
        raise HolderError("YAML", str(e).splitlines()[0], f"{source} line 1") from None
    if root is None:
        raise HolderError("holder", "missing: the file is empty", f"{source} line 1")
    top = doc.mapping(root, "", _TOP_KEYS)
    if "holder" not in top:
        raise doc.fail(root, "holder", "missing; it is required")
    holder_key, holder_node = top["holder"]
    fields = doc.mapping(holder_node, "holder", tuple(_HOLDER_KEYS))
    for key in _REQUIRED:
        if key not in fields or doc.text(fields[key][1], f"holder.{key}") in (None, ""):
            raise doc.fail(fields[key][1] if key in fields else holder_key, f"holder.{key}", "missing; it is required")
    values: dict[str, Any] = {}
    for key, (_, node) in fields.items():
        path = f"holder.{key}"
        if key == "birth_date":
            values["birth_date"] = doc.value(node, path, "date")
        elif key == "photo":
            values["photo"] = _read_photo(doc, node, path, base_dir)
        else:
            value = doc.text(node, path)
            if value is not None:
                values[_HOLDER_KEYS[key]] = value

    def node_of(holder_field: str) -> tuple[Node | None, str]:
        """Where a HolderProfile field is written, for its error."""
        if holder_field == "id.expiry":
            section = doc.mapping(top["id"][1], "id", tuple(_KINDS["id"])) if "id" in top else {}
            return (section["expiry"][1] if "expiry" in section else root), holder_field
        if holder_field in APPLICATIONS:
            return (top[holder_field][0] if holder_field in top else
                    top["applications"][1] if "applications" in top else root), holder_field
        if holder_field == "applications":
            return (top["applications"][1] if "applications" in top else root), "applications"
        key = _HOLDER_FIELD_KEY[holder_field]
        return (fields[key][1] if key in fields else holder_key), f"holder.{key}"

    if "applications" in top:
        values["applications"] = doc.words(top["applications"][1], "applications")
        if not values["applications"]:
            raise doc.fail(top["applications"][1], "applications", "at least one of bank, transit, id, social")
        for app in values["applications"]:
            if app not in APPLICATIONS:
                raise doc.fail(top["applications"][1], "applications",
                               f"{app!r} is not one of bank, transit, id, social" + did_you_mean(app, APPLICATIONS))
    listed = values.get("applications", APPLICATIONS)
    for app in APPLICATIONS:
        if app not in top:
            continue
        key_node, node = top[app]
        if app not in listed:
            raise doc.fail(key_node, app, f"a {app} section, but applications does not list {app}")
        values[app] = _section(doc, app, key_node, node)
    try:
        return HolderProfile(**values)
    except HolderError as e:
        at, path = node_of(e.field)
        raise doc.fail(at, path, e.reason) from None


def _read_photo(doc: _Yaml, node: Node, path: str, base_dir: Path) -> bytes | None:
    name = doc.text(node, path)
    if not name:
        return None
    try:
        data = (base_dir / name).read_bytes()
    except FileNotFoundError:
        raise doc.fail(node, path, f"no such file: {name}") from None
    except OSError as e:
        raise doc.fail(node, path, f"cannot read {name}: {e.strerror}") from None
    if _jpeg_size(data) is None:
        raise doc.fail(node, path, f"{name} is not a JPEG (baseline or progressive)")
    return data


def _section(doc: _Yaml, app: str, key_node: Node, node: Node) -> Any:
    kinds = _KINDS[app]
    entries = doc.mapping(node, app, tuple(kinds))
    kwargs = {}
    for key, (_, value_node) in entries.items():
        value = doc.value(value_node, f"{app}.{key}", kinds[key])
        if value is not None:
            kwargs[key] = value
    try:
        return _SECTIONS[app](**kwargs)
    except HolderError as e:
        where = entries[e.field][1] if e.field in entries else key_node
        raise doc.fail(where, f"{app}.{e.field}", e.reason) from None  # reasons never quote a value


def load_holder(path: str | Path) -> HolderProfile:
    """Read one holder profile (UTF-8 YAML); a relative photo path is relative to the file.

    Raises:
        HolderError: the file is missing or unreadable, or anything :func:`parse_holder` refuses.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HolderError("file", "no such file", str(path)) from None
    except UnicodeDecodeError as e:
        raise HolderError("file", f"not UTF-8 text (byte {e.start})", str(path)) from None
    except OSError as e:
        raise HolderError("file", f"cannot read it: {e.strerror}", str(path)) from None
    return parse_holder(text, source=str(path), base_dir=p.parent)


class _FlowList(list[str]):
    """A list the dumper writes on one line: ``[bank, transit]``."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_FlowList, lambda d, v: d.represent_sequence(_TAG + "seq", v, flow_style=True))


def dump_holder(profile: HolderProfile, *, include_secrets: bool = False, photo_path: str | None = None) -> str:
    """The profile as YAML, in the layout of docs/holders.md; :func:`parse_holder` reads it back equal.

    PINs are written only with ``include_secrets=True`` (then the text is a secret: store it 0600).
    A profile with a photo needs ``photo_path``, the path (relative to where the YAML will be) that the
    caller saves :attr:`HolderProfile.photo` to — the YAML holds a path, never the bytes.

    Raises:
        HolderError: the profile has a photo and no ``photo_path`` is given.
    """
    if profile.photo is not None and not photo_path:
        raise HolderError("photo", "the profile has a photo: pass photo_path, where it is saved")
    holder: dict[str, Any] = {"id": profile.holder_id, "surname": profile.surname,
                              "given_names": profile.given_names, "name": profile.name, "sex": profile.sex,
                              "birth_date": profile.birth_date, "citizen_id": profile.citizen_id}
    if profile.address:
        holder["address"] = profile.address
    if profile.photo is not None:
        holder["photo"] = photo_path
    data: dict[str, Any] = {"holder": holder, "applications": _FlowList(profile.applications)}
    for app in profile.applications:
        section = getattr(profile, app)
        out: dict[str, Any] = {}
        for key, kind in _KINDS[app].items():
            value = getattr(section, key)
            if value is None or (key in _SECRET_KEYS and not include_secrets):
                continue
            out[key] = (format_amount(value) if kind == "amount" else _FlowList(value) if kind == "list" else value)
        data[app] = out
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False)
