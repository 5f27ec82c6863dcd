"""Data preparation for the bank application: one account in, the personalization DGIs out.

The output is exactly the DGI map of docs/bank.md (EMV CPS style), so the same bytes can be
handed to a simulated card directly or sent with STORE DATA to a card in a reader. Every key the
card gets is derived here from the issuer's master keys; nothing random is reused across cards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from cryptography.hazmat.primitives.asymmetric import rsa

from cardkit.crypto.emv import derive_icc_master_key
from cardkit.crypto.hazmat.keys import kcv
from cardkit.crypto.oda import make_icc_certificate, sign_static_data, static_data_to_authenticate
from cardkit.crypto.pin import encode_pin_block
from cardkit.issuer.keys import IssuerKeys
from cardkit.tlv import build

__all__ = [
    "CREDIT_AID",
    "DEBIT_AID",
    "BankAccount",
    "BankProduct",
    "prepare_bank_dgis",
    "describe_dgis",
    "track2",
]

DEBIT_AID = bytes.fromhex("A000000333010101")
CREDIT_AID = bytes.fromhex("A000000333010102")


@dataclass(frozen=True, slots=True)
class BankProduct:
    """What the issuer decides per product, not per card (docs/bank.md lists the defaults)."""

    aid: bytes = DEBIT_AID
    label: str = "PBOC DEBIT"
    priority: int = 1
    # Terminal-facing risk data (Book 3 Annex A): see docs/bank.md "Demo profile" for why.
    iac_default: bytes = bytes.fromhex("DC40A40000")
    iac_denial: bytes = bytes.fromhex("0050000000")
    iac_online: bytes = bytes.fromhex("DC40A4F800")
    auc: bytes = bytes.fromhex("FF00")
    app_version: bytes = bytes.fromhex("0030")
    # Card risk management (DGI 0D01)
    lower_offline_limit: int = 3
    upper_offline_limit: int = 5
    ada: bytes = bytes.fromhex("8800")
    ec_balance_limit: int = 100_000  # fen
    ec_single_limit: int = 50_000
    aip: bytes = bytes.fromhex("7D00")  # SDA, DDA, CVM, TRM, issuer authentication, CDA
    dki: int = 0x01
    cvn: int = 0x01


@dataclass(frozen=True)
class BankAccount:
    """One cardholder's bank application. Amounts are integers in minor units (fen)."""

    pan: str
    holder_name: str
    expiry: date
    effective: date
    psn: int = 1
    pin: str = field(default="123456", repr=False)
    pin_tries: int = 3
    ec_balance: int = 0
    service_code: str = "220"

    def __post_init__(self) -> None:
        if not (self.pan.isdigit() and 12 <= len(self.pan) <= 19):
            raise ValueError("PAN must be 12 to 19 digits")
        if not 0 <= self.psn <= 99:
            raise ValueError("PAN sequence number is 0..99")
        if not (len(self.service_code) == 3 and self.service_code.isdigit()):
            raise ValueError("service code is 3 digits")
        if not 1 <= self.pin_tries <= 15:
            raise ValueError("PIN try limit is 1..15")
        if self.ec_balance < 0:
            raise ValueError("electronic cash balance cannot be negative")


PDOL = bytes.fromhex("9F6604 9F0206 9F0306 9F1A02 9505 5F2A02 9A03 9C01 9F3704".replace(" ", ""))
CDOL1 = bytes.fromhex("9F0206 9F0306 9F1A02 9505 5F2A02 9A03 9C01 9F3704 9F2103 9F4E14".replace(" ", ""))
CDOL2 = bytes.fromhex("8A02 9505 9F3704".replace(" ", ""))
DDOL = bytes.fromhex("9F3704")
# CVM list (Book 3 §10.5, Annex C3): X = Y = 0; offline plaintext PIN, then online PIN, then
# signature, then no CVM, each "if the terminal supports the CVM" and "apply the next if it fails".
CVM_LIST = bytes(8) + bytes.fromhex("4103 4203 5E03 1F03".replace(" ", ""))
LOG_SFI, LOG_RECORDS = 0x0B, 10
AFL_CONTACT = bytes.fromhex("08010100 10010101 18010300".replace(" ", ""))
AFL_CONTACTLESS = bytes.fromhex("10010101 18010300".replace(" ", ""))
DAC = bytes.fromhex("DAC1")


def _n(value: int, length: int) -> bytes:
    """Numeric (format n) as BCD, right-aligned."""
    return bytes.fromhex(f"{value:0{2 * length}d}")


def _yymmdd(d: date) -> bytes:
    return bytes.fromhex(d.strftime("%y%m%d"))


def track2(account: BankAccount) -> bytes:
    """Track 2 equivalent data (57): PAN 'D' YYMM service code discretionary, F-padded."""
    digits = f"{account.pan}D{account.expiry:%y%m}{account.service_code}00000"
    return bytes.fromhex(digits + ("F" if len(digits) % 2 else ""))


def _fixed(value: int, length: int) -> bytes:
    return value.to_bytes(length, "big")


def prepare_bank_dgis(
    account: BankAccount,
    issuer: IssuerKeys,
    *,
    product: BankProduct | None = None,
    icc_key: rsa.RSAPrivateKey | None = None,
) -> dict[int, bytes]:
    """Personalization data for one bank application, as a DGI → bytes map (docs/bank.md).

    ``icc_key`` is the card's own RSA key (1024 bits, exponent 3, made here when not given); its
    certificate comes from ``issuer``. The card's 3DES keys are derived with option A from the
    issuer master keys and the PAN and PAN sequence number.
    """
    p = product or BankProduct()
    if icc_key is None:
        icc_key = rsa.generate_private_key(public_exponent=3, key_size=1024)
    pan_bcd = bytes.fromhex(account.pan + ("F" if len(account.pan) % 2 else ""))
    psn = _n(account.psn, 1)

    cardholder = build(0x70, build(0x57, track2(account)) + build(0x5F20, account.holder_name.encode("ascii")))
    application = build(
        0x70,
        b"".join(
            build(tag, value)
            for tag, value in (
                (0x5A, pan_bcd),
                (0x5F24, _yymmdd(account.expiry)),
                (0x5F25, _yymmdd(account.effective)),
                (0x5F28, bytes.fromhex("0156")),
                (0x5F34, psn),
                (0x5F30, bytes.fromhex("0" + account.service_code)),
                (0x9F42, bytes.fromhex("0156")),
                (0x9F07, p.auc),
                (0x9F08, p.app_version),
                (0x8E, CVM_LIST),
                (0x9F0D, p.iac_default),
                (0x9F0E, p.iac_denial),
                (0x9F0F, p.iac_online),
                (0x8C, CDOL1),
                (0x8D, CDOL2),
                (0x9F49, DDOL),
                (0x9F4A, b"\x82"),
            )
        ),
    )
    static_data = static_data_to_authenticate([(2, application)], aip=p.aip, sda_tag_list=b"\x82")
    expiry_mmyy = f"{account.expiry:%m%y}"
    issuer_cert = build(0x8F, bytes((issuer.capk.index,))) + issuer.certificate.tlvs()
    ssad = build(0x93, sign_static_data(issuer.rsa_key, static_data, DAC))
    icc_cert = make_icc_certificate(
        issuer.rsa_key, icc_key, pan=account.pan, expiry=expiry_mmyy, serial=b"\x00\x00\x01", static_data=static_data
    )

    imks = (issuer.imk_ac, issuer.imk_smi, issuer.imk_smc)
    mk = [derive_icc_master_key(imk, account.pan, account.psn) for imk in imks]
    numbers = icc_key.private_numbers()
    half = (icc_key.key_size + 15) // 16  # bytes in p and q
    pin = encode_pin_block(account.pin, format=2).reveal()

    fci = b"".join(
        build(tag, value)
        for tag, value in (
            (0x50, p.label.encode("ascii")),
            (0x87, bytes((p.priority,))),
            (0x9F38, PDOL),
            (0x5F2D, b"zhen"),
            (0x9F11, b"\x01"),
            (0x9F12, p.label.encode("ascii")),
            (0xBF0C, build(0x9F4D, bytes((LOG_SFI, LOG_RECORDS)))),
        )
    )
    risk = b"".join(
        build(tag, value)
        for tag, value in (
            (0x9F10, bytes((0x07, p.dki, p.cvn))),
            (0x9F14, bytes((p.lower_offline_limit,))),
            (0x9F23, bytes((p.upper_offline_limit,))),
            (0x9F52, p.ada),
            (0x9F56, b"\x80"),
            (0x9F4D, bytes((LOG_SFI, LOG_RECORDS))),
            (0x9F77, _n(p.ec_balance_limit, 6)),
            (0x9F78, _n(p.ec_single_limit, 6)),
            (0x9F6D, _n(0, 6)),
            (0x9F51, bytes.fromhex("0156")),
        )
    )
    counters = build(0x9F36, b"\x00\x00") + build(0x9F13, b"\x00\x00") + build(0x9F79, _n(account.ec_balance, 6))

    dgis: dict[int, bytes] = {
        0x0101: cardholder,
        0x0201: application,
        0x0301: build(0x70, issuer_cert),
        0x0302: build(0x70, ssad),
        0x0303: build(0x70, icc_cert.tlvs()),
        0x9102: fci,
        0x9104: p.aip + AFL_CONTACT,
        0x9105: p.aip + AFL_CONTACTLESS,
        0x8000: b"".join(mk),
        0x9000: b"".join(kcv(k) for k in mk),
        0x8010: pin,
        0x9010: bytes((account.pin_tries, account.pin_tries)),
        0x8201: _fixed(numbers.iqmp, half),
        0x8202: _fixed(numbers.dmq1, half),
        0x8203: _fixed(numbers.dmp1, half),
        0x8204: _fixed(numbers.q, half),
        0x8205: _fixed(numbers.p, half),
        0x0D01: risk,
        0x0E01: counters,
    }
    return dgis


def describe_dgis(dgis: Mapping[int, bytes]) -> list[str]:
    """One line per DGI with its length only — safe to log (no key, PIN or private key bytes)."""
    return [f"DGI {dgi:04X}: {len(value)} bytes" for dgi, value in sorted(dgis.items())]
