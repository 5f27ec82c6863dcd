"""Data preparation: one holder profile + the issuer → everything one card will be personalized with.

:func:`prepare_card` allocates the card's numbers (card serial, PANs, transit serial, social card
number, ID document number) from the issuer's registry, derives every card key from the issuer's
master keys, makes the ICC RSA keys and their certificates, signs the ID data, and returns a
:class:`CardPlan`: per application, the load file and module to instantiate and the DGIs to send by
STORE DATA. Nothing here talks to a card; :mod:`cardkit.issuer.personalize` does.
"""

from __future__ import annotations

import calendar
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from cryptography.hazmat.primitives.asymmetric import rsa

from cardkit import cardaids, tlv
from cardkit.eid import EID_AID
from cardkit.emv.outcome import mask_pan
from cardkit.emv.selection import PPSE, PSE
from cardkit.issuer.bank_data import CREDIT_AID, DEBIT_AID, BankAccount, BankProduct, prepare_bank_dgis
from cardkit.issuer.eid_data import IdHolder, prepare_eid
from cardkit.issuer.holder import HolderProfile, luhn_valid
from cardkit.issuer.issuer import Issuer
from cardkit.issuer.social_data import SocialAccount, prepare_social
from cardkit.issuer.transit_data import TransitAccount, prepare_transit
from cardkit.purse import TRANSIT_AID
from cardkit.social import SOCIAL_AID

__all__ = ["PRODUCTS", "AppPlan", "CardNumbers", "CardPlan", "allocate_numbers", "application",
           "bank_applications", "luhn_digit", "prepare_card", "years_later"]

#: the bank products a holder profile names
PRODUCTS = {
    "debit": BankProduct(aid=DEBIT_AID, label="PBOC DEBIT", priority=1),
    "credit": BankProduct(aid=CREDIT_AID, label="PBOC CREDIT", priority=2),
}
ICC_KEY_BITS = 1024  # the ICC key fits under the 1152-bit issuer key with room for the certificate
ICC_KEY_EXPONENT = 3
#: kind -> (load file, module, instance AID) of the applications a card has at most one of
_SINGLE = {
    "transit": (cardaids.TRANSIT_LOAD_FILE, cardaids.TRANSIT_MODULE, TRANSIT_AID),
    "id": (cardaids.EID_LOAD_FILE, cardaids.EID_MODULE, EID_AID),
    "social": (cardaids.SOCIAL_LOAD_FILE, cardaids.SOCIAL_MODULE, SOCIAL_AID),
}
_SOCIAL_SEX = {"M": "1", "F": "2", "X": "9"}
_MRZ_SEX = {"M": "M", "F": "F", "X": "<"}


@dataclass(frozen=True, slots=True)
class AppPlan:
    """One application of the card: what INSTALL instantiates and what STORE DATA sends."""

    name: str  # "bank debit", "transit", "id", "social", "PSE", "PPSE"
    load_file: bytes
    module: bytes
    instance: bytes
    dgis: Mapping[int, bytes] = field(repr=False)


@dataclass(frozen=True, slots=True)
class CardPlan:
    """Everything one card gets. ``numbers`` are public identifiers (PANs appear masked in ``repr``
    through :meth:`describe`); ``pins`` are the holder's PINs for the PIN mailer, never logged."""

    holder_id: str
    card_serial: str
    applications: tuple[AppPlan, ...]
    numbers: Mapping[str, str] = field(repr=False)
    pins: Mapping[str, str] = field(repr=False)
    rsa_keys_made: int = 0
    rsa_seconds: float = 0.0  # spent generating those keys

    def describe(self) -> str:
        shown = ", ".join(f"{k} {mask_pan(v) if k.startswith('pan') else v}" for k, v in self.numbers.items())
        return f"card {self.card_serial} for {self.holder_id}: {', '.join(a.name for a in self.applications)} ({shown})"


def luhn_digit(digits: str) -> str:
    """The Luhn (ISO/IEC 7812-1 Annex B) check digit to append to ``digits``: the one that
    :func:`~cardkit.issuer.holder.luhn_valid` accepts."""
    return next(d for d in "0123456789" if luhn_valid(digits + d))


def years_later(today: date, years: int) -> date:
    """The last day of ``today``'s month, ``years`` later (cards expire at a month's end)."""
    year = today.year + years
    return date(year, today.month, calendar.monthrange(year, today.month)[1])


def _pin() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(6))


def _directory_dgis(products: Sequence[BankProduct]) -> dict[int, bytes]:
    """DGI 9102 of the PSE/PPSE: their directory entries ``61 {4F, 50, 87}``, as EMV CPS puts the FCI there."""
    body = b"".join(tlv.build(0x61, tlv.build(0x4F, p.aid) + tlv.build(0x50, p.label.encode("latin-1"))
                              + tlv.build(0x87, bytes((p.priority,)))) for p in products)
    return {0x9102: body}


def bank_applications(banks: Sequence[tuple[str, BankProduct, Mapping[int, bytes]]]) -> list[AppPlan]:
    """The bank applications ``(name, product, DGIs)``, then the PSE and PPSE that list them."""
    apps = [AppPlan(name, cardaids.BANK_LOAD_FILE, cardaids.BANK_MODULE, product.aid, dgis)
            for name, product, dgis in banks]
    directory = _directory_dgis([product for _, product, _ in banks])
    return [*apps, AppPlan("PSE", cardaids.PSE_LOAD_FILE, cardaids.PSE_MODULE, PSE, directory),
            AppPlan("PPSE", cardaids.PPSE_LOAD_FILE, cardaids.PPSE_MODULE, PPSE, directory)]


def application(kind: str, dgis: Mapping[int, bytes]) -> AppPlan:
    """The plan of the card's ``"transit"``, ``"id"`` or ``"social"`` application."""
    load_file, module, instance = _SINGLE[kind]
    return AppPlan(kind, load_file, module, instance, dgis)


@dataclass(frozen=True, slots=True)
class CardNumbers:
    """The public numbers one card carries, claimed for its holder in the issuer's registry."""

    card_serial: str
    pans: Mapping[str, str] = field(default_factory=dict)  # product ("debit", "credit") -> PAN
    transit: str | None = None
    social: str | None = None
    document: str | None = None

    def as_dict(self) -> dict[str, str]:
        """Kind -> number: ``card``, ``pan.<product>``, ``transit``, ``social``, ``document``."""
        out = {"card": self.card_serial, **{f"pan.{product}": pan for product, pan in self.pans.items()}}
        for kind in ("transit", "social", "document"):
            value = getattr(self, kind)
            if value is not None:
                out[kind] = value
        return out


def allocate_numbers(profile: HolderProfile, issuer: Issuer) -> CardNumbers:
    """Claim the card's numbers for ``profile.holder_id``: the ones the profile names, the next free
    ones otherwise. Claiming again for the same holder returns the same numbers (resumable batches).

    Raises:
        ProfileError: a number the profile names belongs to another holder.
    """
    with issuer.numbers.transaction():
        return _allocate(profile, issuer)


def _allocate(profile: HolderProfile, issuer: Issuer) -> CardNumbers:
    s = issuer.settings
    reg = issuer.numbers
    owner = profile.holder_id
    prefix = s.card_serial_prefix
    card_serial = reg.allocate("card", owner, lambda n: (b := f"{prefix}{n:0{18 - len(prefix)}d}") + luhn_digit(b))
    pans: dict[str, str] = {}
    if profile.bank is not None:
        seq_digits = s.pan_length - 1 - len(s.bin)
        for i, product in enumerate(profile.bank.products):
            # one PAN space for every product: the claim's owner is the holder's product
            product_owner = f"{owner}/{product}"
            if i == 0 and profile.bank.pan:
                pans[product] = reg.claim("pan", profile.bank.pan, product_owner)
            else:
                pans[product] = reg.allocate("pan", product_owner,
                                             lambda n: (b := f"{s.bin}{n:0{seq_digits}d}") + luhn_digit(b))
    transit = social = document = None
    if profile.transit is not None:
        tp = s.transit_serial_prefix
        transit = (reg.claim("transit", profile.transit.serial, owner) if profile.transit.serial
                   else reg.allocate("transit", owner, lambda n: f"{tp}{n:0{20 - len(tp)}d}"))
    if profile.social is not None:
        region = profile.social.region or s.social_region
        social = (reg.claim("social", profile.social.card_number, owner) if profile.social.card_number
                  else reg.allocate("social", owner, lambda n: f"{region}{n:010d}"))
    if profile.id is not None:
        dp = s.id_document_prefix
        document = (reg.claim("document", profile.id.document_number, owner) if profile.id.document_number
                    else reg.allocate("document", owner, lambda n: f"{dp}{n:0{9 - len(dp)}d}"))
    return CardNumbers(card_serial, pans, transit, social, document)


def prepare_card(profile: HolderProfile, issuer: Issuer, *, numbers: CardNumbers | None = None,
                 today: date | None = None, icc_keys: Mapping[str, rsa.RSAPrivateKey] | None = None) -> CardPlan:
    """Prepare one card for ``profile``.

    Args:
        numbers: the card's numbers, claimed beforehand (a batch claims them in its coordinator, so
            workers never touch the registry); :func:`allocate_numbers` is called when omitted.
        today: the issue date (validity periods start here).
        icc_keys: ICC RSA keys to use per bank product instead of generating them (tests, benchmarks).

    Raises:
        ProfileError: a number the profile names is taken by another holder, or a value the
            application data rejects (named).
    """
    today = today or date.today()
    s = issuer.settings
    numbers = numbers or allocate_numbers(profile, issuer)
    pins: dict[str, str] = {}
    apps: list[AppPlan] = []
    rsa_made = 0
    rsa_seconds = 0.0
    latin = profile.latin_name

    if profile.bank is not None:
        bank = profile.bank
        pin = bank.pin or _pin()
        pins["bank"] = pin
        expiry = bank.expiry or years_later(today, s.bank_validity_years)
        banks = []
        for i, product_name in enumerate(bank.products):
            product = PRODUCTS[product_name]
            account = BankAccount(numbers.pans[product_name], latin, expiry, date(today.year, today.month, 1),
                                  pin=pin, ec_balance=bank.ec_balance if i == 0 else 0)
            key = (icc_keys or {}).get(product_name)
            if key is None:  # timed apart: RSA key generation is most of a card's preparation
                t = time.perf_counter()
                key = rsa.generate_private_key(public_exponent=ICC_KEY_EXPONENT, key_size=ICC_KEY_BITS)
                rsa_seconds += time.perf_counter() - t
                rsa_made += 1
            banks.append((f"bank {product_name}", product,
                          prepare_bank_dgis(account, issuer.bank_keys, product=product, icc_key=key)))
        apps += bank_applications(banks)

    if profile.transit is not None and numbers.transit is not None:
        tr = profile.transit
        account_t = TransitAccount(numbers.transit, latin[:20], profile.citizen_id, today,  # the file holds 20 bytes
                                   years_later(today, s.transit_validity_years), initial_balance=tr.initial_balance,
                                   max_balance=tr.max_balance, issuer_id=s.transit_issuer_id, card_type=tr.card_type)
        mlk, mpk, mtk = issuer.purse_masters()
        apps.append(application("transit", prepare_transit(account_t, mlk=mlk, mpk=mpk, mtk=mtk)))

    if profile.id is not None and numbers.document is not None:
        holder = IdHolder(numbers.document, profile.surname, profile.given_names, profile.name, _MRZ_SEX[profile.sex],
                          profile.birth_date, profile.id.expiry or years_later(today, s.id_validity_years),
                          profile.citizen_id, address=profile.address, photo=profile.photo)
        apps.append(application("id", prepare_eid(holder, document_signer=issuer.document_signer())))

    if profile.social is not None and numbers.social is not None:
        so = profile.social
        pin = so.pin or _pin()
        pins["social"] = pin
        account_s = SocialAccount(numbers.social, so.region or s.social_region, today,
                                  years_later(today, s.social_validity_years), profile.name, latin,
                                  _SOCIAL_SEX[profile.sex], so.ethnicity, profile.birth_date, profile.citizen_id,
                                  pin=pin, initial_balance=so.medical_balance)
        mak, mpk_s, mtk_s, muk = issuer.social_masters()
        apps.append(application("social", prepare_social(account_s, terminal_auth_master=mak, purchase_master=mpk_s,
                                                          tac_master=mtk_s, unblock_master=muk)))

    return CardPlan(profile.holder_id, numbers.card_serial, tuple(apps), numbers.as_dict(), pins, rsa_made,
                    rsa_seconds)
