"""The card side of the bank application: EMV / PBOC debit-credit, PSE and PPSE (docs/bank.md).

* :class:`BankApplet` (type ``"bank"``): personalize with the DGIs of docs/bank.md, then it runs
  contact EMV (GPO, records, offline PIN, DDA/CDA, GENERATE AC with card risk management, issuer
  authentication and scripts) and qPBOC (electronic cash offline approval with fDDA).
* :class:`PseApplet` / :class:`PpseApplet` (types ``"pse"`` / ``"ppse"``): the directories.
* :func:`install_bank`: all of it on a card in one call.
"""

from applets.bank.applet import CREDIT_AID, DEBIT_AID, BankApplet
from applets.bank.directory import PPSE_NAME, PSE_NAME, DirectoryEntry, PpseApplet, PseApplet
from applets.bank.install import install_bank
from applets.bank.profile import Profile, parse_dgis
from applets.bank.state import CardState

__all__ = [
    "CREDIT_AID",
    "DEBIT_AID",
    "PPSE_NAME",
    "PSE_NAME",
    "BankApplet",
    "CardState",
    "DirectoryEntry",
    "PpseApplet",
    "Profile",
    "PseApplet",
    "install_bank",
    "parse_dgis",
]
