"""Tag dictionary: EMV, PBOC/UnionPay, GlobalPlatform and ICAO 9303 data objects.

Each entry gives the raw tag, a name, the EMV format letter (``n``, ``cn``, ``an``, ``ans``, ``a``,
``b``) or ``template`` for constructed objects, and the document it comes from.

A few tags mean different things in different applications: ``61``/``6F``/``77`` are EMV templates
and ICAO data groups, ``87``/``8E``/``97``/``99`` are EMV data elements and ISO 7816-4 secure
messaging objects, ``9F6D`` is a Mastercard reader version and the PBOC electronic-cash reset
threshold. :func:`lookup` answers with the EMV meaning unless a ``context`` is given:

>>> lookup(b"\\x61").name
'Application Template'
>>> lookup(b"\\x61", context="icao").name
'DG1 (MRZ data group)'

:func:`lookup_all` lists every meaning. Sources, abbreviated in ``TagInfo.source``:

- ``EMV 4.4 Book 3 Annex A``: EMV Integrated Circuit Card Specifications for Payment Systems,
  Book 3, Annex A (Data Elements Dictionary), v4.4.
- ``EMV Book C-2`` / ``EMV Book C-3``: EMV Contactless Specifications, kernel 2 / kernel 3.
- ``PBOC 3.0 / JR/T 0025``: China Financial Integrated Circuit Card Specifications, the debit/credit
  and electronic cash parts (JR/T 0025.5, .7, .12, .13).
- ``GP Card Spec 2.3``: GlobalPlatform Card Specification v2.3, §11 (GET DATA, GET STATUS, FCI)
  and Annex H (Card Recognition Data).
- ``ICAO 9303-10`` / ``ICAO 9303-11``: Machine Readable Travel Documents, part 10 (LDS) and
  part 11 (security mechanisms: secure messaging data objects).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CONTEXTS", "FORMATS", "TagInfo", "entries", "lookup", "lookup_all", "name_of"]

FORMATS = frozenset({"n", "cn", "an", "ans", "a", "b", "template"})
CONTEXTS = ("emv", "pboc", "gp", "icao", "iso7816")

_EMV = "EMV 4.4 Book 3 Annex A"
_C2 = "EMV Book C-2"
_C3 = "EMV Book C-3"
_PBOC = "PBOC 3.0 / JR/T 0025"
_GP = "GP Card Spec 2.3"
_ICAO10 = "ICAO 9303-10"
_ICAO11 = "ICAO 9303-11"
_T = "template"
_ISO4 = "ISO/IEC 7816-4 Table 12"


@dataclass(frozen=True, slots=True)
class TagInfo:
    """What one tag means in one context."""

    tag: bytes
    name: str
    fmt: str
    source: str


# (tag hex, name, format, source), grouped by context. Within a context a tag appears once.
_TABLES: dict[str, list[tuple[str, str, str, str]]] = {
    "emv": [
        ("42", "Issuer Identification Number (IIN)", "n", _EMV),
        ("4F", "Application Identifier (AID) - card", "b", _EMV),
        ("50", "Application Label", "ans", _EMV),
        ("56", "Track 1 Data", "ans", _C2),
        ("57", "Track 2 Equivalent Data", "b", _EMV),
        ("5A", "Application Primary Account Number (PAN)", "cn", _EMV),
        ("5F20", "Cardholder Name", "ans", _EMV),
        ("5F24", "Application Expiration Date", "n", _EMV),
        ("5F25", "Application Effective Date", "n", _EMV),
        ("5F28", "Issuer Country Code", "n", _EMV),
        ("5F2A", "Transaction Currency Code", "n", _EMV),
        ("5F2D", "Language Preference", "an", _EMV),
        ("5F30", "Service Code", "n", _EMV),
        ("5F34", "Application PAN Sequence Number", "n", _EMV),
        ("5F36", "Transaction Currency Exponent", "n", _EMV),
        ("5F50", "Issuer URL", "ans", _EMV),
        ("5F53", "International Bank Account Number (IBAN)", "b", _EMV),
        ("5F54", "Bank Identifier Code (BIC)", "b", _EMV),
        ("5F55", "Issuer Country Code (alpha2 format)", "a", _EMV),
        ("5F56", "Issuer Country Code (alpha3 format)", "a", _EMV),
        ("5F57", "Account Type", "n", _EMV),
        ("61", "Application Template", _T, _EMV),
        ("6F", "File Control Information (FCI) Template", _T, _EMV),
        ("70", "READ RECORD Response Message Template", _T, _EMV),
        ("71", "Issuer Script Template 1", _T, _EMV),
        ("72", "Issuer Script Template 2", _T, _EMV),
        ("73", "Directory Discretionary Template", _T, _EMV),
        ("77", "Response Message Template Format 2", _T, _EMV),
        ("80", "Response Message Template Format 1", "b", _EMV),
        ("81", "Amount, Authorised (Binary)", "b", _EMV),
        ("82", "Application Interchange Profile", "b", _EMV),
        ("83", "Command Template", "b", _EMV),
        ("84", "Dedicated File (DF) Name", "b", _EMV),
        ("86", "Issuer Script Command", "b", _EMV),
        ("87", "Application Priority Indicator", "b", _EMV),
        ("88", "Short File Identifier (SFI)", "b", _EMV),
        ("89", "Authorisation Code", "an", _EMV),
        ("8A", "Authorisation Response Code", "an", _EMV),
        ("8C", "Card Risk Management Data Object List 1 (CDOL1)", "b", _EMV),
        ("8D", "Card Risk Management Data Object List 2 (CDOL2)", "b", _EMV),
        ("8E", "Cardholder Verification Method (CVM) List", "b", _EMV),
        ("8F", "Certification Authority Public Key Index", "b", _EMV),
        ("90", "Issuer Public Key Certificate", "b", _EMV),
        ("91", "Issuer Authentication Data", "b", _EMV),
        ("92", "Issuer Public Key Remainder", "b", _EMV),
        ("93", "Signed Static Application Data", "b", _EMV),
        ("94", "Application File Locator (AFL)", "b", _EMV),
        ("95", "Terminal Verification Results", "b", _EMV),
        ("97", "Transaction Certificate Data Object List (TDOL)", "b", _EMV),
        ("98", "Transaction Certificate (TC) Hash Value", "b", _EMV),
        ("99", "Transaction Personal Identification Number (PIN) Data", "b", _EMV),
        ("9A", "Transaction Date", "n", _EMV),
        ("9B", "Transaction Status Information", "b", _EMV),
        ("9C", "Transaction Type", "n", _EMV),
        ("9D", "Directory Definition File (DDF) Name", "b", _EMV),
        ("9F01", "Acquirer Identifier", "n", _EMV),
        ("9F02", "Amount, Authorised (Numeric)", "n", _EMV),
        ("9F03", "Amount, Other (Numeric)", "n", _EMV),
        ("9F04", "Amount, Other (Binary)", "b", _EMV),
        ("9F05", "Application Discretionary Data", "b", _EMV),
        ("9F06", "Application Identifier (AID) - terminal", "b", _EMV),
        ("9F07", "Application Usage Control", "b", _EMV),
        ("9F08", "Application Version Number (card)", "b", _EMV),
        ("9F09", "Application Version Number (terminal)", "b", _EMV),
        ("9F0B", "Cardholder Name Extended", "ans", _EMV),
        ("9F0D", "Issuer Action Code - Default", "b", _EMV),
        ("9F0E", "Issuer Action Code - Denial", "b", _EMV),
        ("9F0F", "Issuer Action Code - Online", "b", _EMV),
        ("9F10", "Issuer Application Data", "b", _EMV),
        ("9F11", "Issuer Code Table Index", "n", _EMV),
        ("9F12", "Application Preferred Name", "ans", _EMV),
        ("9F13", "Last Online Application Transaction Counter (ATC) Register", "b", _EMV),
        ("9F14", "Lower Consecutive Offline Limit", "b", _EMV),
        ("9F15", "Merchant Category Code", "n", _EMV),
        ("9F16", "Merchant Identifier", "ans", _EMV),
        ("9F17", "Personal Identification Number (PIN) Try Counter", "b", _EMV),
        ("9F18", "Issuer Script Identifier", "b", _EMV),
        ("9F19", "Token Requestor ID", "n", _EMV),
        ("9F1A", "Terminal Country Code", "n", _EMV),
        ("9F1B", "Terminal Floor Limit", "b", _EMV),
        ("9F1C", "Terminal Identification", "an", _EMV),
        ("9F1D", "Terminal Risk Management Data", "b", _EMV),
        ("9F1E", "Interface Device (IFD) Serial Number", "an", _EMV),
        ("9F1F", "Track 1 Discretionary Data", "ans", _EMV),
        ("9F20", "Track 2 Discretionary Data", "cn", _EMV),
        ("9F21", "Transaction Time", "n", _EMV),
        ("9F22", "Certification Authority Public Key Index (terminal)", "b", _EMV),
        ("9F23", "Upper Consecutive Offline Limit", "b", _EMV),
        ("9F24", "Payment Account Reference (PAR)", "an", _EMV),
        ("9F25", "Last 4 Digits of PAN", "n", _EMV),
        ("9F26", "Application Cryptogram", "b", _EMV),
        ("9F27", "Cryptogram Information Data", "b", _EMV),
        ("9F2D", "ICC PIN Encipherment Public Key Certificate", "b", _EMV),
        ("9F2E", "ICC PIN Encipherment Public Key Exponent", "b", _EMV),
        ("9F2F", "ICC PIN Encipherment Public Key Remainder", "b", _EMV),
        ("9F32", "Issuer Public Key Exponent", "b", _EMV),
        ("9F33", "Terminal Capabilities", "b", _EMV),
        ("9F34", "Cardholder Verification Method (CVM) Results", "b", _EMV),
        ("9F35", "Terminal Type", "n", _EMV),
        ("9F36", "Application Transaction Counter", "b", _EMV),
        ("9F37", "Unpredictable Number", "b", _EMV),
        ("9F38", "Processing Options Data Object List (PDOL)", "b", _EMV),
        ("9F39", "Point-of-Service (POS) Entry Mode", "n", _EMV),
        ("9F3A", "Amount, Reference Currency", "b", _EMV),
        ("9F3B", "Application Reference Currency", "n", _EMV),
        ("9F3C", "Transaction Reference Currency Code", "n", _EMV),
        ("9F3D", "Transaction Reference Currency Exponent", "n", _EMV),
        ("9F40", "Additional Terminal Capabilities", "b", _EMV),
        ("9F41", "Transaction Sequence Counter", "n", _EMV),
        ("9F42", "Application Currency Code", "n", _EMV),
        ("9F43", "Application Reference Currency Exponent", "n", _EMV),
        ("9F44", "Application Currency Exponent", "n", _EMV),
        ("9F45", "Data Authentication Code", "b", _EMV),
        ("9F46", "ICC Public Key Certificate", "b", _EMV),
        ("9F47", "ICC Public Key Exponent", "b", _EMV),
        ("9F48", "ICC Public Key Remainder", "b", _EMV),
        ("9F49", "Dynamic Data Authentication Data Object List (DDOL)", "b", _EMV),
        ("9F4A", "Static Data Authentication Tag List", "b", _EMV),
        ("9F4B", "Signed Dynamic Application Data", "b", _EMV),
        ("9F4C", "ICC Dynamic Number", "b", _EMV),
        ("9F4D", "Log Entry", "b", _EMV),
        ("9F4E", "Merchant Name and Location", "ans", _EMV),
        ("9F4F", "Log Format", "b", _EMV),
        ("9F53", "Transaction Category Code", "an", _C2),
        ("9F5A", "Application Program Identifier (Program ID)", "b", _C3),
        ("9F5D", "Available Offline Spending Amount (AOSA)", "n", _C3),
        ("9F66", "Terminal Transaction Qualifiers (TTQ)", "b", _C3),
        ("9F69", "Card Authentication Related Data", "b", _C3),
        ("9F6B", "Track 2 Data", "b", _C2),
        ("9F6C", "Card Transaction Qualifiers (CTQ)", "b", _C3),
        ("9F6D", "Mag-stripe Application Version Number (Reader)", "b", _C2),
        ("9F6E", "Form Factor Indicator (FFI) / Third Party Data", "b", _C3),
        ("9F7C", "Customer Exclusive Data (CED)", "b", _C3),
        ("A5", "File Control Information (FCI) Proprietary Template", _T, _EMV),
        ("BF0C", "File Control Information (FCI) Issuer Discretionary Data", _T, _EMV),
    ],
    "pboc": [
        ("9F51", "Application Currency Code (card risk management)", "n", _PBOC),
        ("9F52", "Application Default Action (ADA)", "b", _PBOC),
        ("9F53", "Consecutive Transaction Limit (International)", "b", _PBOC),
        ("9F54", "Cumulative Total Transaction Amount Limit", "n", _PBOC),
        ("9F56", "Issuer Authentication Indicator", "b", _PBOC),
        ("9F57", "Issuer Country Code (card risk management)", "n", _PBOC),
        ("9F58", "Lower Consecutive Offline Limit (card risk management)", "b", _PBOC),
        ("9F59", "Upper Consecutive Offline Limit (card risk management)", "b", _PBOC),
        ("9F5C", "Cumulative Total Transaction Amount Upper Limit", "n", _PBOC),
        ("9F5D", "Available Offline Spending Amount", "n", _PBOC),
        ("9F61", "Cardholder ID Number", "an", _PBOC),
        ("9F62", "Cardholder ID Type", "cn", _PBOC),
        ("9F63", "Card Product Identification Information", "b", _PBOC),
        ("9F6D", "Electronic Cash Reset Threshold", "n", _PBOC),
        ("9F72", "Consecutive Transaction Limit (International-Country)", "b", _PBOC),
        ("9F74", "Electronic Cash Issuer Authorisation Code", "a", _PBOC),
        ("9F75", "Cumulative Total Transaction Amount Limit (Dual Currency)", "n", _PBOC),
        ("9F76", "Secondary Application Currency Code", "n", _PBOC),
        ("9F77", "Electronic Cash Balance Upper Limit", "n", _PBOC),
        ("9F78", "Electronic Cash Single Transaction Limit", "n", _PBOC),
        ("9F79", "Electronic Cash Balance", "n", _PBOC),
        ("9F7A", "Electronic Cash Terminal Support Indicator", "b", _PBOC),
        ("9F7B", "Electronic Cash Terminal Transaction Limit", "n", _PBOC),
        ("DF31", "Issuer Script Results", "b", _PBOC),
        ("DF4D", "Load Log Entry", "b", _PBOC),
        ("DF4F", "Load Log Format", "b", _PBOC),
        ("DF69", "SM Algorithm Support Indicator", "b", _PBOC),
    ],
    "gp": [
        ("06", "Object Identifier", "b", _GP),
        ("42", "Issuer Identification Number", "b", _GP),
        ("45", "Card Image Number (CIN)", "b", _GP),
        ("4F", "Application / Executable Load File AID", "b", _GP),
        ("60", "Card Management Type and Version (OID)", _T, _GP),
        ("63", "Card Identification Scheme (OID)", _T, _GP),
        ("64", "Secure Channel Protocol and Options (OID)", _T, _GP),
        ("65", "Card Configuration Details", _T, _GP),
        ("66", "Card Data", _T, _GP),
        ("67", "Card / Chip Details", _T, _GP),
        ("68", "Issuer Security Domain Trust Point Certificate Information", _T, _GP),
        ("69", "Issuer Security Domain Certificate Information", _T, _GP),
        ("73", "Card Recognition Data / Security Domain Management Data", _T, _GP),
        ("84", "Executable Module AID (GET STATUS) / Security Domain AID (FCI)", "b", _GP),
        ("9F65", "Maximum Length of Data Field in Command Message", "b", _GP),
        ("9F6E", "Application Production Life Cycle Data", "b", _GP),
        ("9F70", "Life Cycle State", "b", _GP),
        ("9F7F", "Card Production Life Cycle Data (CPLC)", "b", _GP),
        ("C0", "Key Information Data", "b", _GP),
        ("C1", "Sequence Counter of the Default Key Version Number", "b", _GP),
        ("C2", "Confirmation Counter", "b", _GP),
        ("C4", "Executable Load File AID", "b", _GP),
        ("C5", "Privileges", "b", _GP),
        ("CC", "Associated Security Domain AID", "b", _GP),
        ("CE", "Executable Load File Version Number", "b", _GP),
        ("CF", "Key Diversification Data", "b", _GP),
        ("E0", "Key Information Template", _T, _GP),
        ("E3", "GlobalPlatform Registry Entry (GET STATUS)", _T, _GP),
    ],
    "icao": [
        ("02", "Number of Biometric Instances", "b", _ICAO10),
        ("5C", "Tag List", "b", _ICAO10),
        ("5F01", "LDS Version Number", "an", _ICAO10),
        ("5F0E", "Full Name of Holder", "ans", _ICAO10),
        ("5F0F", "Other Name(s)", "ans", _ICAO10),
        ("5F10", "Personal Number", "ans", _ICAO10),
        ("5F11", "Place of Birth", "ans", _ICAO10),
        ("5F12", "Telephone", "ans", _ICAO10),
        ("5F13", "Profession", "ans", _ICAO10),
        ("5F14", "Title", "ans", _ICAO10),
        ("5F15", "Personal Summary", "ans", _ICAO10),
        ("5F16", "Proof of Citizenship (image)", "b", _ICAO10),
        ("5F17", "Other Valid Travel Document Numbers", "ans", _ICAO10),
        ("5F18", "Custody Information", "ans", _ICAO10),
        ("5F19", "Issuing Authority", "ans", _ICAO10),
        ("5F1A", "Name of Other Person", "ans", _ICAO10),
        ("5F1B", "Endorsements and Observations", "ans", _ICAO10),
        ("5F1C", "Tax or Exit Requirements", "ans", _ICAO10),
        ("5F1D", "Image of Front of Document", "b", _ICAO10),
        ("5F1E", "Image of Rear of Document", "b", _ICAO10),
        ("5F1F", "MRZ Data Elements", "ans", _ICAO10),
        ("5F26", "Date of Issue", "n", _ICAO10),
        ("5F2B", "Full Date of Birth", "n", _ICAO10),
        ("5F2E", "Biometric Data Block", "b", _ICAO10),
        ("5F36", "Unicode Version Number", "an", _ICAO10),
        ("5F42", "Permanent Address", "ans", _ICAO10),
        ("5F55", "Date and Time of Document Personalization", "n", _ICAO10),
        ("5F56", "Serial Number of Personalization System", "ans", _ICAO10),
        ("60", "EF.COM (common data)", _T, _ICAO10),
        ("61", "DG1 (MRZ data group)", _T, _ICAO10),
        ("63", "DG3 (fingerprints)", _T, _ICAO10),
        ("65", "DG5 (displayed portrait)", _T, _ICAO10),
        ("66", "DG6 (reserved)", _T, _ICAO10),
        ("67", "DG7 (displayed signature or usual mark)", _T, _ICAO10),
        ("68", "DG8 (data features)", _T, _ICAO10),
        ("69", "DG9 (structure features)", _T, _ICAO10),
        ("6A", "DG10 (substance features)", _T, _ICAO10),
        ("6B", "DG11 (additional personal details)", _T, _ICAO10),
        ("6C", "DG12 (additional document details)", _T, _ICAO10),
        ("6D", "DG13 (optional details)", _T, _ICAO10),
        ("6E", "DG14 (security options)", _T, _ICAO10),
        ("6F", "DG15 (active authentication public key info)", _T, _ICAO10),
        ("70", "DG16 (persons to notify)", _T, _ICAO10),
        ("75", "DG2 (encoded face)", _T, _ICAO10),
        ("76", "DG4 (iris)", _T, _ICAO10),
        ("77", "EF.SOD (document security object)", _T, _ICAO10),
        ("7C", "Dynamic Authentication Data (PACE GENERAL AUTHENTICATE)", _T, _ICAO11),
        ("7F2E", "Biometric Data Block (constructed, enciphered)", _T, _ICAO10),
        ("7F60", "Biometric Information Template", _T, _ICAO10),
        ("7F61", "Biometric Information Group Template", _T, _ICAO10),
        ("A1", "Biometric Header Template (BHT)", _T, _ICAO10),
        ("85", "Secure messaging: cryptogram (plain value not BER-TLV)", "b", _ICAO11),
        ("87", "Secure messaging: padding-content indicator and cryptogram", "b", _ICAO11),
        ("8E", "Secure messaging: cryptographic checksum", "b", _ICAO11),
        ("97", "Secure messaging: Le (expected length)", "b", _ICAO11),
        ("99", "Secure messaging: processing status (SW1-SW2)", "b", _ICAO11),
    ],
    # File control parameters inside 62 / 64 / 6F (what SELECT of a file answers). Outside these
    # templates the EMV meanings win: 82 is the AIP in a GPO answer, 8A an authorisation code.
    # 84 (DF name), 88 (SFI) and A5 mean the same in both, so they fall back to the EMV entries.
    "iso7816": [
        ("62", "File Control Parameters (FCP) template", _T, _ISO4),
        ("64", "File Management Data (FMD) template", _T, _ISO4),
        ("6F", "File Control Information (FCI) template", _T, _ISO4),
        ("80", "Number of data bytes in the file", "b", _ISO4),
        ("81", "Number of data bytes including structural information", "b", _ISO4),
        ("82", "File descriptor", "b", _ISO4),
        ("83", "File identifier", "b", _ISO4),
        ("85", "Proprietary information, not BER-TLV", "b", _ISO4),
        ("86", "Security attribute, proprietary format", "b", _ISO4),
        ("87", "Identifier of an EF with an FCI extension", "b", _ISO4),
        ("8A", "Life cycle status", "b", _ISO4),
        ("8B", "Security attribute, expanded format reference", "b", _ISO4),
        ("8C", "Security attribute, compact format", "b", _ISO4),
        ("8D", "Identifier of an EF with security environment templates", "b", _ISO4),
        ("8E", "Channel security attribute", "b", _ISO4),
        ("A0", "Security attribute template for data objects", _T, _ISO4),
        ("A1", "Security attribute template, proprietary format", _T, _ISO4),
        ("A2", "Short EF identifier / path pairs", _T, _ISO4),
        ("AB", "Security attribute template, expanded format", _T, _ISO4),
        ("AC", "Cryptographic mechanism identifier template", _T, _ISO4),
    ],
}

# Which tables answer, in order, for each context. ICAO data groups do not fall back to EMV
# names: an unknown tag inside DG11 is not a payment data element.
_ORDER: dict[str | None, tuple[str, ...]] = {
    None: ("emv", "pboc", "gp", "icao"),
    "emv": ("emv", "pboc", "gp"),
    "pboc": ("pboc", "emv", "gp"),
    "gp": ("gp", "emv"),
    "icao": ("icao",),
    "iso7816": ("iso7816", "emv"),
}

_BY_CONTEXT: dict[str, dict[bytes, TagInfo]] = {}
for _ctx, _rows in _TABLES.items():
    _table: dict[bytes, TagInfo] = {}
    for _hex, _name, _fmt, _src in _rows:
        _tag = bytes.fromhex(_hex)
        if _tag in _table:  # pragma: no cover  (guarded by tests/test_tags.py)
            raise ValueError(f"tag {_hex} listed twice in context {_ctx}")
        _table[_tag] = TagInfo(_tag, _name, _fmt, _src)
    _BY_CONTEXT[_ctx] = _table

# Flattened per order, so that lookup() is one dict access on the hot path (format_tlv).
_RESOLVED: dict[str | None, dict[bytes, TagInfo]] = {}
for _ctx_key, _order in _ORDER.items():
    _merged: dict[bytes, TagInfo] = {}
    for _name_ctx in reversed(_order):
        _merged.update(_BY_CONTEXT[_name_ctx])
    _RESOLVED[_ctx_key] = _merged


def _as_tag(tag: bytes | int | str) -> bytes:
    if isinstance(tag, bytes):
        return tag
    if isinstance(tag, int):
        return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")
    if isinstance(tag, str):
        return bytes.fromhex(tag)
    return bytes(tag)


def lookup(tag: bytes | int | str, context: str | None = None) -> TagInfo | None:
    """What ``tag`` means.

    Args:
        tag: raw tag bytes (``b"\\x9f\\x36"``), an int (``0x9F36``) or hex (``"9F36"``).
        context: ``None`` (EMV first, then PBOC, GlobalPlatform, ICAO), or one of
            ``"emv"``, ``"pboc"``, ``"gp"``, ``"icao"``, ``"iso7816"`` (file control parameters)
            to prefer that meaning. ``"pboc"``, ``"gp"`` and ``"iso7816"`` fall back to EMV;
            ``"icao"`` does not.

    Returns:
        The entry, or ``None`` for an unknown tag.

    Raises:
        ValueError: an unknown context.
    """
    try:
        table = _RESOLVED[context]
    except KeyError:
        raise ValueError(f"unknown tag context {context!r}; use one of {CONTEXTS}") from None
    return table.get(tag if type(tag) is bytes else _as_tag(tag))


def lookup_all(tag: bytes | int | str) -> list[TagInfo]:
    """Every meaning of ``tag``, EMV first (e.g. ``61``: EMV Application Template, ICAO DG1)."""
    t = _as_tag(tag)
    return [table[t] for ctx in CONTEXTS if t in (table := _BY_CONTEXT[ctx])]


def name_of(tag: bytes | int | str, context: str | None = None) -> str:
    """The tag's name, or ``"unknown tag 9F7E"`` style text for a tag not in the dictionary."""
    info = lookup(tag, context)
    return info.name if info is not None else f"unknown tag {_as_tag(tag).hex().upper()}"


def entries(context: str | None = None) -> list[TagInfo]:
    """All entries of one context (or of every context when ``None``), in table order."""
    ctxs = CONTEXTS if context is None else (context,)
    return [info for ctx in ctxs for info in _BY_CONTEXT[ctx].values()]
