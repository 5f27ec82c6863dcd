"""The ID application, terminal side: BAC, secure messaging, the data groups, passive and active
authentication (ICAO Doc 9303 parts 10 and 11).

A reader embeds it like this::

    from cardkit.eid import EidReader, load_trust

    reader = EidReader(channel)                       # a cardkit.readers.CardChannel
    reader.open("E12345678", "900307", "340101")      # document number, birth, expiry (BAC)
    identity = reader.read()                          # MRZ, Chinese name, address, citizen ID, photo
    verdict = reader.verify(load_trust(csca_pem))     # active + passive authentication (+ CSCA)
    if verdict.genuine and verdict.unaltered and verdict.trusted: ...

or in one call: ``identity, verdict = read_id(channel, number, birth, expiry, trust=cscas)``.

Modules: ``reader`` (:class:`EidReader`, :class:`Verdict`), ``lds`` (files, data groups, MRZ),
``sod`` (EF.SOD, passive authentication), ``active`` (active authentication), ``commands``,
``errors``. See docs/eid.md.
"""

from cardkit.eid.errors import AccessDenied, EidError, SecureMessagingError
from cardkit.eid.lds import EID_AID, DataGroup, File, Identity, Mrz, PersonalDetails, mask_citizen_id
from cardkit.eid.reader import ActiveResult, EidReader, Verdict, read_id
from cardkit.eid.sod import PassiveResult, SecurityObject, load_trust, parse_sod

__all__ = [
    "EID_AID",
    "AccessDenied",
    "ActiveResult",
    "DataGroup",
    "EidError",
    "EidReader",
    "File",
    "Identity",
    "Mrz",
    "PassiveResult",
    "PersonalDetails",
    "SecureMessagingError",
    "SecurityObject",
    "Verdict",
    "load_trust",
    "mask_citizen_id",
    "parse_sod",
    "read_id",
]
