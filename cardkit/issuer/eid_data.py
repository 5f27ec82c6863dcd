"""Data preparation for the ID application: one holder in, the personalization DGIs out.

The output is the DGI map of docs/eid-card.md "Personalization", which
:meth:`applets.eid.EidApplet.personalize` validates and stores: the LDS files (ICAO 9303-10) EF.COM,
DG1 (TD1 MRZ), DG2 (ISO 19794-5 face + JPEG), DG11 (Chinese name, address, citizen ID number),
DG15 (the active authentication public key) and EF.SOD (signed here by the document signer,
:mod:`cardkit.issuer.eid_sod`), plus the BAC keys derived from the MRZ and the AA private key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cardkit.crypto.hazmat.keys import kcv
from cardkit.crypto.icao import check_digit, derive_bac_keys, mrz_information
from cardkit.errors import ProfileError
from cardkit.issuer.eid_photo import PLACEHOLDER_FACE_JPEG
from cardkit.issuer.eid_sod import DocumentSigner, build_sod
from cardkit.tlv import build

__all__ = ["IdHolder", "citizen_id_check_digit", "prepare_eid", "td1_mrz"]

# DGIs of docs/eid-card.md (the card's parser is applets.eid.profile)
_DGI_COM, _DGI_DG1, _DGI_DG2, _DGI_DG11, _DGI_DG15, _DGI_SOD = 0x1E00, 0x0100, 0x0200, 0x0B00, 0x0F00, 0x1D00
_DGI_BAC_KEYS, _DGI_BAC_KCVS, _DGI_AA_KEY = 0x8000, 0x9000, 0x8101

_LDS_VERSION = b"0107"  # EF.COM 5F01: LDS 1.7
_UNICODE_VERSION = b"040000"  # EF.COM 5F36: Unicode 4.0.0
_DG_TAGS = bytes((0x61, 0x75, 0x6B, 0x6F))  # EF.COM 5C: DG1, DG2, DG11, DG15
_MRZ_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")
_GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_GB11643_CHECK = "10X98765432"
_SEX = {"M": 1, "F": 2, "<": 0}  # MRZ sex → ISO 19794-5 gender (0 unspecified)


def citizen_id_check_digit(first17: str) -> str:
    """GB 11643-1999 check character of a citizen ID number: ISO 7064 MOD 11-2 over 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ProfileError("citizen ID number: the first 17 characters must be digits")
    return _GB11643_CHECK[sum(int(c) * w for c, w in zip(first17, _GB11643_WEIGHTS, strict=True)) % 11]


def _mrz_name(value: str, what: str) -> str:
    text = value.upper().replace(" ", "<").replace("-", "<")
    if not text or set(text) - _MRZ_CHARS or any(c.isdigit() for c in text):
        raise ProfileError(f"{what} must be Latin letters (A-Z), spaces or hyphens")
    return text


@dataclass(frozen=True, slots=True)
class IdHolder:
    """One ID card's holder and document. Dates are :class:`datetime.date`.

    Raises (at construction):
        ProfileError: naming the field that is wrong.
    """

    document_number: str  # 1..9 of A-Z 0-9 (MRZ-padded with '<' to 9)
    surname: str  # Latin, as in the MRZ ("ZHANG")
    given_names: str  # Latin ("SAN")
    chinese_name: str  # full name in Chinese, DG11 (UTF-8)
    sex: str  # "M", "F" or "<" (unspecified)
    birth_date: date
    expiry_date: date
    citizen_id: str = field(repr=False)  # 18 characters, GB 11643 check character last
    address: str = field(default="", repr=False)
    nationality: str = "CHN"
    issuing_state: str = "CHN"
    document_code: str = "ID"
    photo: bytes | None = field(default=None, repr=False)  # JPEG; None = the placeholder face

    def __post_init__(self) -> None:
        if not 1 <= len(self.document_number) <= 9 or set(self.document_number) - (_MRZ_CHARS - {"<"}):
            raise ProfileError("document_number must be 1..9 characters A-Z / 0-9")
        _mrz_name(self.surname, "surname")
        _mrz_name(self.given_names, "given_names")
        if not self.chinese_name:
            raise ProfileError("chinese_name must not be empty")
        if self.sex not in _SEX:
            raise ProfileError("sex must be 'M', 'F' or '<'")
        if self.expiry_date <= self.birth_date:
            raise ProfileError("expiry_date must be after birth_date")
        cid = self.citizen_id
        if len(cid) != 18 or citizen_id_check_digit(cid[:17]) != cid[17]:
            raise ProfileError("citizen_id must be 18 characters with a correct GB 11643 check character")
        for name in ("nationality", "issuing_state"):
            value = getattr(self, name)
            if len(value) != 3 or set(value) - _MRZ_CHARS:
                raise ProfileError(f"{name} must be a 3-letter code (ICAO 9303-3)")
        if not 1 <= len(self.document_code) <= 2 or set(self.document_code) - _MRZ_CHARS:
            raise ProfileError("document_code must be 1..2 MRZ characters (\"ID\", \"I<\")")
        if self.photo is not None and _jpeg_size(self.photo) is None:
            raise ProfileError("photo must be a baseline or progressive JPEG")

    @property
    def mrz_birth(self) -> str:
        return self.birth_date.strftime("%y%m%d")

    @property
    def mrz_expiry(self) -> str:
        return self.expiry_date.strftime("%y%m%d")

    @property
    def mrz_information(self) -> str:
        """What BAC keys are derived from (9303-11 §9.7.2)."""
        return mrz_information(self.document_number, self.mrz_birth, self.mrz_expiry)


def td1_mrz(holder: IdHolder) -> str:
    """The 3 x 30 character TD1 MRZ (9303-5 §4.2), lines concatenated (90 characters).

    Line 1: document code, issuing state, document number + check digit, optional data 1 = citizen
    ID characters 1-15. Line 2: birth + cd, sex, expiry + cd, nationality, optional data 2 = citizen
    ID characters 16-18 then '<', composite check digit. Line 3: SURNAME<<GIVEN<NAMES (cut at 30).
    """
    number = holder.document_number.ljust(9, "<")
    line1 = holder.document_code.ljust(2, "<") + holder.issuing_state + number + check_digit(number)
    line1 += holder.citizen_id[:15]
    birth, expiry = holder.mrz_birth, holder.mrz_expiry
    line2 = birth + check_digit(birth) + holder.sex + expiry + check_digit(expiry) + holder.nationality
    line2 += holder.citizen_id[15:].ljust(11, "<")
    line2 += check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
    name = (_mrz_name(holder.surname, "surname") + "<<" + _mrz_name(holder.given_names, "given_names"))
    line3 = name[:30].ljust(30, "<")
    return line1 + line2 + line3


def _jpeg_size(jpeg: bytes) -> tuple[int, int] | None:
    """(width, height) from the first SOFn marker of a JPEG (ITU T.81 §B.2.2), or None."""
    if jpeg[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 <= len(jpeg):
        if jpeg[i] != 0xFF:
            return None
        marker, length = jpeg[i + 1], int.from_bytes(jpeg[i + 2 : i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(jpeg[i + 7 : i + 9], "big"), int.from_bytes(jpeg[i + 5 : i + 7], "big")
        i += 2 + length
    return None


def _face_record(jpeg: bytes, sex: str) -> bytes:
    """ISO/IEC 19794-5:2005 facial record: header, facial information, image information, JPEG."""
    size = _jpeg_size(jpeg)
    if size is None:
        raise ProfileError("photo must be a baseline or progressive JPEG")
    width, height = size
    facial_info = ((20 + 12 + len(jpeg)).to_bytes(4, "big")  # block length
                   + b"\x00\x00"  # number of feature points
                   + bytes((_SEX[sex], 0, 0)) + bytes(3)  # gender, eye colour, hair colour, feature mask
                   + bytes(2) + bytes(3) + bytes(3))  # expression, pose angle, its uncertainty
    image_info = (bytes((0x01, 0x00))  # full frontal, JPEG
                  + width.to_bytes(2, "big") + height.to_bytes(2, "big")
                  + bytes((0x01, 0x02)) + bytes(4))  # 24-bit RGB, digital still camera; device type, quality
    body = facial_info + image_info + jpeg
    header = b"FAC\x00" + b"010\x00" + (14 + len(body)).to_bytes(4, "big") + b"\x00\x01"
    return header + body


def _dg2(holder: IdHolder) -> bytes:
    bht = (build(0x80, b"\x01\x01") + build(0x81, b"\x02") + build(0x87, b"\x01\x01") + build(0x88, b"\x00\x08"))
    face = build(0xA1, bht) + build(0x5F2E, _face_record(holder.photo or PLACEHOLDER_FACE_JPEG, holder.sex))
    return build(0x75, build(0x7F61, build(0x02, b"\x01") + build(0x7F60, face)))


def _dg11(holder: IdHolder) -> bytes:
    items = [(0x5F0E, holder.chinese_name.encode()), (0x5F10, holder.citizen_id.encode("ascii"))]
    if holder.address:
        items.append((0x5F42, holder.address.encode()))
    tag_list = b"".join(tag.to_bytes(2, "big") for tag, _ in items)
    return build(0x6B, build(0x5C, tag_list) + b"".join(build(tag, value) for tag, value in items))


def prepare_eid(holder: IdHolder, *, document_signer: DocumentSigner,
                aa_key: ec.EllipticCurvePrivateKey | None = None) -> dict[int, bytes]:
    """The ID application's personalization DGIs for ``holder`` (docs/eid-card.md).

    Args:
        holder: the holder and document.
        document_signer: (private key, certificate) that signs EF.SOD — e.g.
            :func:`cardkit.issuer.demo_keys.demo_document_signer` (TEST only).
        aa_key: the card's active authentication key (P-256); a fresh one is made when ``None``.
            It goes to the card in DGI 8101 and nowhere else.

    Raises:
        ProfileError: the AA key is not P-256, or the document signer is unusable.
    """
    if aa_key is None:
        aa_key = ec.generate_private_key(ec.SECP256R1())
    if not isinstance(aa_key.curve, ec.SECP256R1):
        raise ProfileError("the active authentication key must be on P-256")
    com = build(0x60, build(0x5F01, _LDS_VERSION) + build(0x5F36, _UNICODE_VERSION) + build(0x5C, _DG_TAGS))
    dg1 = build(0x61, build(0x5F1F, td1_mrz(holder).encode("ascii")))
    dg2 = _dg2(holder)
    dg11 = _dg11(holder)
    spki = aa_key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    dg15 = build(0x6F, spki)
    sod = build_sod({1: dg1, 2: dg2, 11: dg11, 15: dg15}, document_signer)
    bac = derive_bac_keys(holder.mrz_information)
    scalar = aa_key.private_numbers().private_value.to_bytes(32, "big")
    return {
        _DGI_COM: com, _DGI_DG1: dg1, _DGI_DG2: dg2, _DGI_DG11: dg11, _DGI_DG15: dg15, _DGI_SOD: sod,
        _DGI_BAC_KEYS: bac.k_enc + bac.k_mac,
        _DGI_BAC_KCVS: kcv(bac.k_enc, 3) + kcv(bac.k_mac, 3),
        _DGI_AA_KEY: scalar,
    }
