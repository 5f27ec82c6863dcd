"""Personalization: the DGI map of docs/bank.md in, one validated :class:`Profile` out.

Every DGI is checked here, once, with an error naming it (``ProfileError``), so the command code
can trust the profile: records are '70' templates, the AFLs point at records that exist, the CDOLs
carry the CVN 01 AC data, the key check values match, the PIN block is format 2, the RSA key fits
its certificate. The same parser rebuilds the profile from the store after a card image is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from applets.bank.codec import AC_DATA_TAGS, T, bcd_to_int
from applets.bank.icckey import RSA_DGIS, IccKey, parse_icc_key
from cardkit import tlv
from cardkit.crypto.hazmat.keys import kcv
from cardkit.crypto.pin import decode_pin_block
from cardkit.errors import CryptoError, ProfileError, TlvError

__all__ = [
    "DGI_COUNTERS",
    "DGI_FCI",
    "DGI_FCI_CONTACTLESS",
    "DGI_GPO",
    "DGI_GPO_CONTACTLESS",
    "DGI_KCV",
    "DGI_KEYS",
    "DGI_PIN",
    "DGI_PIN_TRIES",
    "DGI_RISK",
    "DEFAULT_LOG_FORMAT",
    "Counters",
    "Dol",
    "Gpo",
    "Keys",
    "Profile",
    "Risk",
    "parse_dgis",
]

DGI_FCI = 0x9102
DGI_FCI_CONTACTLESS = 0x9103
DGI_GPO = 0x9104
DGI_GPO_CONTACTLESS = 0x9105
DGI_KEYS = 0x8000
DGI_KCV = 0x9000
DGI_PIN = 0x8010
DGI_PIN_TRIES = 0x9010
DGI_RISK = 0x0D01
DGI_COUNTERS = 0x0E01
_RESERVED_SFIS = (DGI_RISK >> 8, DGI_COUNTERS >> 8)  # 0D01 / 0E01 sit in the record DGI range
_SPECIAL = {DGI_FCI, DGI_FCI_CONTACTLESS, DGI_GPO, DGI_GPO_CONTACTLESS, DGI_KEYS, DGI_KCV, DGI_PIN,
            DGI_PIN_TRIES, DGI_RISK, DGI_COUNTERS, *RSA_DGIS}

DEFAULT_LOG_FORMAT = bytes.fromhex("9A039F21039F02069F03069F1A025F2A029F4E149C019F3602")

Dol = tuple[tuple[bytes, int], ...]


@dataclass(frozen=True, slots=True)
class Gpo:
    """A GET PROCESSING OPTIONS answer: AIP (82) and AFL (94)."""

    aip: bytes
    afl: bytes


@dataclass(frozen=True, slots=True)
class Keys:
    """ICC master keys (DGI 8000); never shown by ``repr``."""

    ac: bytes = field(repr=False)
    smi: bytes = field(repr=False)
    smc: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Risk:
    """Card risk management and internal data (DGI 0D01) with the defaults of docs/bank.md."""

    iad_prefix: bytes = b"\x07\x01\x01"
    lower_limit: int = 0
    upper_limit: int = 0
    ada: bytes = b"\x00\x00"
    issuer_auth_required: bool = True
    log_sfi: int = 0x0B
    log_records: int = 10
    log_format: bytes = DEFAULT_LOG_FORMAT
    ec_limit: int = 100000
    ec_single_limit: int = 50000
    ec_reset: int = 0
    currency: bytes = b"\x01\x56"
    card_processes: bytes = bytes(4)
    fdda_version: int = 0x01
    ctq: bytes = b"\x00\x00"


@dataclass(frozen=True, slots=True)
class Counters:
    """Initial counters (DGI 0E01)."""

    atc: int = 0
    last_online_atc: int = 0
    ec_balance: int = 0


@dataclass(frozen=True, slots=True)
class Profile:
    """Everything personalization fixed; the command code never re-checks any of it."""

    records: Mapping[tuple[int, int], bytes]
    fci_contact: bytes
    fci_contactless: bytes
    pdol_contact: Dol
    pdol_contactless: Dol
    gpo_contact: Gpo
    gpo_contactless: Gpo
    cdol1: Dol
    cdol2: Dol
    ddol: Dol | None
    track2: bytes | None
    psn: bytes | None
    keys: Keys = field(repr=False)
    pin_block: bytes | None = field(repr=False)
    pin_limit: int
    pin_tries: int
    icc_key: IccKey | None = field(repr=False)
    risk: Risk
    counters: Counters
    label: str
    priority: int | None

    def record(self, sfi: int, number: int) -> bytes | None:
        return self.records.get((sfi, number))

    def has_sfi(self, sfi: int) -> bool:
        return any(s == sfi for s, _ in self.records)


def _fail(dgi: int, what: str) -> ProfileError:
    return ProfileError(f"DGI {dgi:04X}: {what}")


def _decode(dgi: int, data: bytes) -> list[tlv.Tlv]:
    try:
        return tlv.decode(data)
    except TlvError as exc:
        raise _fail(dgi, f"not BER-TLV ({exc})") from None


def _dol(dgi: int, raw: bytes, what: str) -> Dol:
    try:
        return tuple(tlv.parse_dol(raw))
    except TlvError as exc:
        raise _fail(dgi, f"{what} is not a DOL ({exc})") from None


def _records_dol(raw: bytes, what: str) -> Dol:
    try:
        return tuple(tlv.parse_dol(raw))
    except TlvError as exc:
        raise ProfileError(f"records: {what} is not a DOL ({exc})") from None


def parse_dgis(dgis: Mapping[int, bytes]) -> Profile:
    """Validate a DGI map (docs/bank.md) and build the profile.

    Raises:
        ProfileError: naming the first DGI that is missing, unknown or wrong, and why. Messages
            never contain key bytes or the PIN.
    """
    for dgi in dgis:
        if not isinstance(dgi, int) or not 0 <= dgi <= 0xFFFF:
            raise ProfileError(f"DGI {dgi!r} is not a 2-byte number")
    for need in (DGI_FCI, DGI_GPO, DGI_KEYS, DGI_KCV):
        if need not in dgis:
            raise _fail(need, "missing (required)")
    risk = _parse_risk(dgis.get(DGI_RISK, b""))
    records = _parse_records(dgis, risk.log_sfi)
    data: dict[bytes, bytes] = {}
    for raw in records.values():
        for tag, value in tlv.flatten(raw).items():
            data.setdefault(tag, value)
    fci_contact, label, priority = _parse_fci(DGI_FCI, dgis[DGI_FCI])
    fci_contactless = fci_contact
    if DGI_FCI_CONTACTLESS in dgis:
        fci_contactless = _parse_fci(DGI_FCI_CONTACTLESS, dgis[DGI_FCI_CONTACTLESS])[0]
    _check_log_entry(fci_contact, risk)
    gpo = _parse_gpo(DGI_GPO, dgis[DGI_GPO], records)
    gpo_cl = _parse_gpo(DGI_GPO_CONTACTLESS, dgis[DGI_GPO_CONTACTLESS], records) \
        if DGI_GPO_CONTACTLESS in dgis else gpo
    pdol = _pdol(DGI_FCI, fci_contact, qpboc=False)
    pdol_cl = _pdol(DGI_FCI_CONTACTLESS if DGI_FCI_CONTACTLESS in dgis else DGI_FCI, fci_contactless,
                    qpboc=DGI_GPO_CONTACTLESS in dgis)
    cdol1, cdol2 = _parse_cdols(data)
    keys = _parse_keys(dgis[DGI_KEYS], dgis[DGI_KCV])
    pin_block, pin_limit, pin_tries = _parse_pin(dgis)
    icc_key = parse_icc_key(dgis, data)
    for g, dgi in ((gpo, DGI_GPO), (gpo_cl, DGI_GPO_CONTACTLESS)):
        if g.aip[0] & 0x21 and icc_key is None:  # AIP byte 1: b6 DDA, b1 CDA supported
            raise _fail(dgi, "the AIP announces DDA/CDA but DGIs 8201-8205 (ICC key) are missing")
    counters = _parse_counters(dgis.get(DGI_COUNTERS, b""), risk)
    ddol = _records_dol(data[T.DDOL], "9F49 (DDOL)") if T.DDOL in data else None
    return Profile(
        records=MappingProxyType(records),
        fci_contact=fci_contact,
        fci_contactless=fci_contactless,
        pdol_contact=pdol,
        pdol_contactless=pdol_cl,
        gpo_contact=gpo,
        gpo_contactless=gpo_cl,
        cdol1=cdol1,
        cdol2=cdol2,
        ddol=ddol,
        track2=data.get(T.TRACK2),
        psn=data.get(T.PSN),
        keys=keys,
        pin_block=pin_block,
        pin_limit=pin_limit,
        pin_tries=pin_tries,
        icc_key=icc_key,
        risk=risk,
        counters=counters,
        label=label,
        priority=priority,
    )


# -- records ------------------------------------------------------------------------------------


def _parse_records(dgis: Mapping[int, bytes], log_sfi: int) -> dict[tuple[int, int], bytes]:
    records: dict[tuple[int, int], bytes] = {}
    for dgi, value in sorted(dgis.items()):
        if dgi in _SPECIAL:
            continue
        sfi, number = dgi >> 8, dgi & 0xFF
        if not 1 <= sfi <= 30 or number == 0:
            raise _fail(dgi, "unknown DGI (records are SFI 01-1E, record 01-FF; see docs/bank.md)")
        if sfi in _RESERVED_SFIS or sfi == log_sfi:
            raise _fail(dgi, f"SFI {sfi} is reserved (0D01/0E01 DGIs, or the log file of 9F4D)")
        objs = _decode(dgi, bytes(value))
        if len(objs) != 1 or objs[0].tag != b"\x70":
            raise _fail(dgi, "a record must be exactly one '70' template")
        if len(value) > 254:
            raise _fail(dgi, f"record of {len(value)} bytes does not fit a READ RECORD answer")
        records[(sfi, number)] = bytes(value)
    if not records:
        raise ProfileError("no record DGIs (0101-1E10): the application has no data to read")
    return records


def _parse_fci(dgi: int, value: bytes) -> tuple[bytes, str, int | None]:
    """(A5 content, label, priority) of a SELECT response DGI."""
    objs = _decode(dgi, bytes(value))
    flat = tlv.flatten(objs)
    label = flat.get(b"\x50")
    if not label or len(label) > 16:
        raise _fail(dgi, "needs an application label 50 of 1-16 bytes")
    prio = flat.get(b"\x87")
    if prio is not None and len(prio) != 1:
        raise _fail(dgi, "application priority indicator 87 is one byte")
    return bytes(value), label.decode("latin-1"), prio[0] if prio else None


def _pdol(dgi: int, fci: bytes, *, qpboc: bool) -> Dol:
    raw = tlv.flatten(fci).get(T.PDOL, b"")
    dol = _dol(dgi, raw, "9F38 (PDOL)")
    have = dict(dol)
    for tag, n in AC_DATA_TAGS + ((T.TTQ, 4),):
        if tag in have and have[tag] != n:
            raise _fail(dgi, f"PDOL asks {have[tag]} bytes of {tag.hex().upper()}, the card needs {n}")
    if qpboc:
        for tag in (T.TTQ, T.AMOUNT, T.CURRENCY, T.UN):
            if tag not in have:
                raise _fail(dgi, f"qPBOC (DGI 9105) needs {tag.hex().upper()} in the PDOL")
    return dol


def _parse_gpo(dgi: int, value: bytes, records: Mapping[tuple[int, int], bytes]) -> Gpo:
    if len(value) < 6 or (len(value) - 2) % 4:
        raise _fail(dgi, "must be AIP (2 bytes) followed by one or more 4-byte AFL entries")
    afl = bytes(value[2:])
    for i in range(0, len(afl), 4):
        entry = afl[i : i + 4]
        sfi, first, last, count = entry[0] >> 3, entry[1], entry[2], entry[3]
        if entry[0] & 0x07 or not 1 <= sfi <= 30 or first == 0 or last < first or count > last - first + 1:
            raise _fail(dgi, f"bad AFL entry {entry.hex().upper()}")
        for number in range(first, last + 1):
            if (sfi, number) not in records:
                raise _fail(dgi, f"AFL entry {entry.hex().upper()} names record {number} of SFI {sfi}, "
                                 f"which no DGI {(sfi << 8) | number:04X} provides")
    return Gpo(bytes(value[:2]), afl)


def _parse_cdols(data: Mapping[bytes, bytes]) -> tuple[Dol, Dol]:
    if T.CDOL1 not in data or T.CDOL2 not in data:
        raise ProfileError("records: CDOL1 (8C) and CDOL2 (8D) are required")
    cdol1 = _records_dol(data[T.CDOL1], "8C (CDOL1)")
    cdol2 = _records_dol(data[T.CDOL2], "8D (CDOL2)")
    first, second = dict(cdol1), dict(cdol2)
    for tag, n in AC_DATA_TAGS:
        if first.get(tag) != n:
            raise ProfileError(f"records: CDOL1 (8C) must ask {n} bytes of {tag.hex().upper()} (CVN 01 AC data)")
        if tag in second and second[tag] != n:
            raise ProfileError(f"records: CDOL2 (8D) asks {second[tag]} bytes of {tag.hex().upper()}, not {n}")
    if second.get(T.ARC) != 2:
        raise ProfileError("records: CDOL2 (8D) must ask 2 bytes of 8A (authorisation response code)")
    if T.ISSUER_AUTH_DATA in second and not 10 <= second[T.ISSUER_AUTH_DATA] <= 16:
        raise ProfileError("records: CDOL2 (8D) must ask 10-16 bytes of 91 (issuer authentication data)")
    return cdol1, cdol2


# -- keys and PIN ---------------------------------------------------------------------------------


def _parse_keys(keys: bytes, kcvs: bytes) -> Keys:
    if len(keys) != 48:
        raise _fail(DGI_KEYS, f"must be three 16-byte keys (48 bytes), got {len(keys)}")
    if len(kcvs) != 9:
        raise _fail(DGI_KCV, f"must be three 3-byte check values (9 bytes), got {len(kcvs)}")
    parts = [bytes(keys[i : i + 16]) for i in (0, 16, 32)]
    for name, key, check in zip(("AC", "SMI", "SMC"), parts, (kcvs[0:3], kcvs[3:6], kcvs[6:9]), strict=True):
        if kcv(key) != check:
            raise _fail(DGI_KCV, f"check value of the {name} key does not match DGI 8000")
    return Keys(*parts)


def _parse_pin(dgis: Mapping[int, bytes]) -> tuple[bytes | None, int, int]:
    if DGI_PIN not in dgis:
        if DGI_PIN_TRIES in dgis:
            raise _fail(DGI_PIN_TRIES, "PIN try counters without an offline PIN (DGI 8010)")
        return None, 0, 0
    block = bytes(dgis[DGI_PIN])
    if len(block) != 8 or block[0] >> 4 != 2:
        raise _fail(DGI_PIN, "must be an 8-byte ISO 9564 format 2 PIN block")
    try:
        decode_pin_block(block)
    except CryptoError:
        raise _fail(DGI_PIN, "not a well-formed ISO 9564 format 2 PIN block") from None
    tries = bytes(dgis.get(DGI_PIN_TRIES, b"\x03\x03"))
    if len(tries) != 2 or not 1 <= tries[0] <= 15 or tries[1] > tries[0]:
        raise _fail(DGI_PIN_TRIES, "must be try limit (1-15) and try counter (<= limit), one byte each")
    return block, tries[0], tries[1]


# -- 0D01 / 0E01 -----------------------------------------------------------------------------------

_RISK_LENGTHS = {
    "9F10": 3, "9F14": 1, "9F23": 1, "9F52": 2, "9F56": 1, "9F4D": 2, "9F77": 6, "9F78": 6, "9F6D": 6,
    "9F51": 2, "9F68": 4, "9F69": 7,
}


def _tlv_list(dgi: int, value: bytes, allowed: Mapping[str, int | None]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for obj in _decode(dgi, bytes(value)):
        name = obj.tag.hex().upper()
        if name not in allowed:
            raise _fail(dgi, f"tag {name} is not one docs/bank.md defines for this DGI")
        want = allowed[name]
        if want is not None and len(obj.value) != want:
            raise _fail(dgi, f"{name} must be {want} bytes, got {len(obj.value)}")
        out[name] = obj.value
    return out


def _amount(dgi: int, tags: Mapping[str, bytes], name: str, default: int) -> int:
    if name not in tags:
        return default
    value = bcd_to_int(tags[name])
    if value is None:
        raise _fail(dgi, f"{name} is not a BCD amount (n12)")
    return value


def _parse_risk(value: bytes) -> Risk:
    d = DGI_RISK
    tags = _tlv_list(d, value, {**_RISK_LENGTHS, "9F4F": None, "DF4D": None})
    base = Risk()
    iad = tags.get("9F10", base.iad_prefix)
    if iad[0] != 0x07:
        raise _fail(d, "9F10 prefix must start with 07 (length of the EMV part of the IAD)")
    lower = tags.get("9F14", bytes((base.lower_limit,)))[0]
    upper = tags.get("9F23", bytes((base.upper_limit,)))[0]
    if lower > upper:
        raise _fail(d, "lower consecutive offline limit 9F14 exceeds the upper 9F23")
    log_entry = tags.get("9F4D", bytes((base.log_sfi, base.log_records)))
    if not 11 <= log_entry[0] <= 30 or log_entry[0] in _RESERVED_SFIS or not 1 <= log_entry[1] <= 30:
        raise _fail(d, "9F4D log entry: SFI 0B-1E (not 0D/0E) and 1-30 records")
    log_format = tags.get("9F4F", base.log_format)
    if not _dol(d, log_format, "9F4F (log format)"):
        raise _fail(d, "9F4F log format is empty")
    card_auth = tags.get("9F69", bytes((base.fdda_version,)) + bytes(4) + base.ctq)
    if card_auth[0] not in (0x00, 0x01):
        raise _fail(d, "9F69 fDDA version must be 00 or 01")
    ec_limit = _amount(d, tags, "9F77", base.ec_limit)
    single = _amount(d, tags, "9F78", base.ec_single_limit)
    return Risk(
        iad_prefix=iad,
        lower_limit=lower,
        upper_limit=upper,
        ada=tags.get("9F52", base.ada),
        issuer_auth_required=bool(tags.get("9F56", b"\x80")[0] & 0x80),
        log_sfi=log_entry[0],
        log_records=log_entry[1],
        log_format=log_format,
        ec_limit=ec_limit,
        ec_single_limit=single,
        ec_reset=_amount(d, tags, "9F6D", base.ec_reset),
        currency=tags.get("9F51", base.currency),
        card_processes=tags.get("9F68", base.card_processes),
        fdda_version=card_auth[0],
        ctq=card_auth[5:7],
    )


def _check_log_entry(fci: bytes, risk: Risk) -> None:
    shown = tlv.flatten(fci).get(b"\x9f\x4d")
    if shown is not None and shown != bytes((risk.log_sfi, risk.log_records)):
        raise _fail(DGI_FCI, "the log entry 9F4D in BF0C differs from the one in DGI 0D01")


def _parse_counters(value: bytes, risk: Risk) -> Counters:
    d = DGI_COUNTERS
    tags = _tlv_list(d, value, {"9F36": 2, "9F13": 2, "9F79": 6})
    atc = int.from_bytes(tags.get("9F36", b"\x00\x00"), "big")
    last = int.from_bytes(tags.get("9F13", b"\x00\x00"), "big")
    if last > atc:
        raise _fail(d, "last online ATC 9F13 is ahead of the ATC 9F36")
    balance = _amount(d, tags, "9F79", 0)
    if balance > risk.ec_limit:
        raise _fail(d, "EC balance 9F79 exceeds the EC balance limit 9F77")
    return Counters(atc, last, balance)
