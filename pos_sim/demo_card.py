"""The demo citizen card: every application that exists, personalized from the published demo keys.

``cardkit card new --demo``, ``cardkit demo`` and the scenario tests all start from this card.
Its keys are public (docs/issuer.md): a demo card is for demos and tests, never for real use.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from applets.runtime import SimulatedCard
from cardkit.issuer import BankAccount, BankProduct, IssuerKeys, prepare_bank_dgis
from cardkit.issuer.demo_keys import (
    DEMO_CARD_MANAGER_KMC,
    DEMO_PAN,
    DEMO_PURSE_MLK,
    DEMO_PURSE_MPK,
    DEMO_PURSE_MTK,
    DEMO_SOCIAL_MAK,
    DEMO_SOCIAL_MPK,
    DEMO_SOCIAL_MTK,
    DEMO_SOCIAL_MUK,
    demo_document_signer,
    demo_issuer,
)
from cardkit.issuer.eid_data import IdHolder, prepare_eid
from cardkit.issuer.issue import issue_virtual
from cardkit.issuer.prepare import PRODUCTS, CardPlan, application, bank_applications
from cardkit.issuer.social_data import SocialAccount, prepare_social
from cardkit.issuer.transit_data import TransitAccount, prepare_transit

__all__ = [
    "DEMO_BIRTH",
    "DEMO_CREDIT_PAN",
    "DEMO_DOCUMENT_NUMBER",
    "DEMO_EXPIRY",
    "DEMO_HOLDER",
    "DEMO_PIN",
    "DEMO_SOCIAL_CARD_NUMBER",
    "DEMO_TRANSIT_SERIAL",
    "demo_accounts",
    "demo_card_plan",
    "demo_id_holder",
    "demo_social_account",
    "demo_transit_account",
    "make_demo_card",
]

DEMO_HOLDER = "ZHANG/SAN"
DEMO_PIN = "123456"
DEMO_CREDIT_PAN = "6228480000000000026"
DEMO_SERIAL = "8986000000000000018"
DEMO_TRANSIT_SERIAL = "31000000000000000018"  # 20 digits; the last 16 diversify the purse keys
# The ID application: BAC keys come from document number, birth and expiry (YYMMDD, as in the MRZ)
DEMO_DOCUMENT_NUMBER = "E12345678"
DEMO_BIRTH = "900101"
DEMO_EXPIRY = date(date.today().year + 4, 12, 31).strftime("%y%m%d")  # like the bank accounts
DEMO_CITIZEN_ID = "110105199001010010"  # GB 11643 check character 0
DEMO_SOCIAL_CARD_NUMBER = "1101050000000018"  # 16 digits; diversifies the social insurance keys


def demo_accounts(today: date | None = None) -> tuple[BankAccount, BankAccount]:
    """The demo debit and credit accounts: valid from last year for five years, PIN 123456."""
    today = today or date.today()
    effective = date(today.year - 1, 1, 1)
    expiry = date(today.year + 4, 12, 31)
    debit = BankAccount(DEMO_PAN, DEMO_HOLDER, expiry, effective, pin=DEMO_PIN, ec_balance=50_000)
    return debit, replace(debit, pan=DEMO_CREDIT_PAN, ec_balance=0)


def demo_transit_account(today: date | None = None) -> TransitAccount:
    """The demo transit purse: 50.00 CNY on it, at most 1000.00, valid like the bank accounts."""
    today = today or date.today()
    return TransitAccount(DEMO_TRANSIT_SERIAL, DEMO_HOLDER, "110101199003070000", date(today.year - 1, 1, 1),
                          date(today.year + 4, 12, 31), initial_balance=5_000, max_balance=100_000)



def demo_social_account(today: date | None = None) -> SocialAccount:
    """The demo social insurance card: 张三 (ZHANG/SAN), all five schemes enrolled, 800.00 CNY medical."""
    today = today or date.today()
    return SocialAccount(DEMO_SOCIAL_CARD_NUMBER, "110105", date(today.year - 1, 1, 1), date(today.year + 9, 12, 31),
                         "张三", DEMO_HOLDER, "1", "01", date(1990, 1, 1), DEMO_CITIZEN_ID, pin=DEMO_PIN,
                         initial_balance=80_000)


def demo_id_holder(today: date | None = None) -> IdHolder:
    """The demo ID document: 张三 (ZHANG/SAN), born 1990-01-01, valid like the bank accounts."""
    today = today or date.today()
    return IdHolder(DEMO_DOCUMENT_NUMBER, "ZHANG", "SAN", "张三", "M", date(1990, 1, 1), date(today.year + 4, 12, 31),
                    DEMO_CITIZEN_ID, address="北京市东城区景山前街4号")


def demo_card_plan(
    *,
    issuer: IssuerKeys | None = None,
    accounts: tuple[BankAccount, ...] | None = None,
    products: tuple[BankProduct, ...] | None = None,
    serial: str = DEMO_SERIAL,
) -> CardPlan:
    """The demo card's data preparation: every application's DGIs from the published demo keys."""
    issuer = issuer or demo_issuer()
    accounts = accounts or demo_accounts()
    products = products or (PRODUCTS["debit"], PRODUCTS["credit"])
    apps = bank_applications([(product.label, product, prepare_bank_dgis(account, issuer, product=product))
                              for account, product in zip(accounts, products, strict=True)])
    apps.append(application("transit", prepare_transit(demo_transit_account(), mlk=DEMO_PURSE_MLK,
                                                       mpk=DEMO_PURSE_MPK, mtk=DEMO_PURSE_MTK)))
    apps.append(application("social", prepare_social(demo_social_account(), terminal_auth_master=DEMO_SOCIAL_MAK,
                                                     purchase_master=DEMO_SOCIAL_MPK, tac_master=DEMO_SOCIAL_MTK,
                                                     unblock_master=DEMO_SOCIAL_MUK)))
    apps.append(application("id", prepare_eid(demo_id_holder(), document_signer=demo_document_signer())))
    numbers = {"card": serial, **{f"pan.{p.label}": a.pan for a, p in zip(accounts, products, strict=True)},
               "transit": DEMO_TRANSIT_SERIAL, "social": DEMO_SOCIAL_CARD_NUMBER, "document": DEMO_DOCUMENT_NUMBER}
    return CardPlan("demo", serial, tuple(apps), numbers, {"bank": DEMO_PIN, "social": DEMO_PIN})


def make_demo_card(
    *,
    issuer: IssuerKeys | None = None,
    accounts: tuple[BankAccount, ...] | None = None,
    products: tuple[BankProduct, ...] | None = None,
    serial: str = DEMO_SERIAL,
) -> SimulatedCard:
    """A blank card personalized through its card manager, exactly as ``cardkit issue`` does (SCP03,
    INSTALL, STORE DATA, PUT KEY, SECURED), from the published demo keys:

    * bank debit (priority 1) and credit (priority 2), listed in PSE and PPSE;
    * the transit purse (:data:`DEMO_TRANSIT_SERIAL`, 50.00 CNY, from the demo purse master keys);
    * social insurance (:data:`DEMO_SOCIAL_CARD_NUMBER`, 800.00 CNY medical, PIN 123456);
    * the ID application (ICAO 9303: BAC with :data:`DEMO_DOCUMENT_NUMBER`, :data:`DEMO_BIRTH`,
      :data:`DEMO_EXPIRY`; EF.SOD signed by the TEST document signer).

    The card manager's own keys are diversified from :data:`DEMO_CARD_MANAGER_KMC`.
    ``accounts`` and ``products`` replace the demo ones pairwise (tests use them to make an
    expired card, a card with other limits ...).
    """
    plan = demo_card_plan(issuer=issuer, accounts=accounts, products=products, serial=serial)
    card: SimulatedCard = issue_virtual(plan, DEMO_CARD_MANAGER_KMC).card
    return card
