"""Issuer side: issuer keys, data preparation and (later) personalization and batches.

Today: :class:`IssuerKeys`, the bank application's data preparation (:func:`prepare_bank_dgis`),
the issuer's view of CVN 01 cryptograms and scripts (:mod:`cardkit.issuer.authorization`), and
the published demo keys (:mod:`cardkit.issuer.demo_keys`, never for real cards).
"""

from cardkit.issuer.bank_data import CREDIT_AID, DEBIT_AID, BankAccount, BankProduct, prepare_bank_dgis
from cardkit.issuer.keys import IssuerKeys

__all__ = ["CREDIT_AID", "DEBIT_AID", "BankAccount", "BankProduct", "IssuerKeys", "prepare_bank_dgis"]
