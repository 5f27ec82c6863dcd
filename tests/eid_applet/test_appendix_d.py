"""ICAO Doc 9303 part 11 Appendix D worked example, through the applet (tests/vectors/crypto_icao.txt).

The card is personalized from the appendix's MRZ data (L898902C<, 690806, 940623) and its random
source is fixed to the appendix's RND.IC and K.IC; the terminal's side (E_IFD || M_IFD, the
protected SELECT and READ BINARY of D.4) is the appendix's bytes. EF.COM is the appendix's
(60 14 ...: DG1 and DG2 listed), so the card's protected answers must be the appendix's too.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from applets.runtime import SimulatedCard
from cardkit.crypto import icao
from cardkit.issuer.demo_keys import demo_document_signer
from cardkit.issuer.eid_data import prepare_eid
from tests.crypto.vectors import load

from .kit import AA_KEY, HOLDER, SELECT_AID, make_card, sw

V = {v.name: v for v in load("crypto_icao.txt")}
# 9303-11 Appendix D.4 reads the first 4 bytes of an EF.COM of 0x14 bytes (LDS 1.7, Unicode 4.0.0, DG1 + DG2)
APPENDIX_EF_COM = bytes.fromhex("60145F0104303130375F36063034303030305C026175")
# 9303-11 Appendix D.3, step 2 of the IC's side: E_IC and M_IC of R = RND.IC || RND.IFD || K.IC
E_IC = bytes.fromhex("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F")
M_IC = bytes.fromhex("2F2D235D074D7449")


def _appendix_card() -> SimulatedCard:
    d2, d3 = V["keys_d2"], V["auth_d3"]
    holder = replace(HOLDER, document_number=d2["doc"].rstrip("<"), birth_date=date(1969, 8, 6),
                     expiry_date=date(1994, 6, 23))
    assert holder.mrz_information == d2["mrz"]
    dgis = prepare_eid(holder, document_signer=demo_document_signer(), aa_key=AA_KEY)
    dgis[0x1E00] = APPENDIX_EF_COM
    fixed = {8: d3.h("rnd_ic"), 16: d3.h("k_ic")}
    return make_card(dgis, random=lambda n: fixed[n])


def test_bac_and_secure_messaging_appendix_d() -> None:
    d3, d4 = V["auth_d3"], V["sm_d4"]
    card = _appendix_card()
    assert sw(card.transmit(SELECT_AID)) == 0x9000
    assert card.transmit(bytes.fromhex("0084000008")) == d3.h("rnd_ic") + b"\x90\x00"
    r = card.transmit(bytes.fromhex("0082000028") + d3.h("e_ifd") + d3.h("m_ifd") + b"\x28")
    assert r == E_IC + M_IC + b"\x90\x00"
    keys = icao.BacKeys(d3.h("k_enc"), d3.h("k_mac"))
    assert icao.open_ic_response(keys, r[:-2], d3.h("rnd_ifd")) == d3.h("k_ic")
    # D.4: the appendix's protected commands get the appendix's protected answers
    assert card.transmit(d4.h("pcmd1")) == d4.h("rsp1")
    assert card.transmit(d4.h("pcmd2")) == d4.h("rsp2")
    ks = icao.BacKeys(d4.h("ks_enc"), d4.h("ks_mac"))
    assert (ks.k_enc, ks.k_mac) == (d3.h("ks_enc"), d3.h("ks_mac"))
    data, status, _ = icao.unprotect_response(ks, int(d4["ssc"], 16) + 3, d4.h("rsp2"))
    assert (data, status) == (d4.h("data2"), b"\x90\x00")


def test_appendix_mrz_with_a_wrong_birth_date_is_refused() -> None:
    d3 = V["auth_d3"]
    card = _appendix_card()
    card.transmit(SELECT_AID)
    card.transmit(bytes.fromhex("0084000008"))
    wrong = icao.derive_bac_keys(icao.mrz_information("L898902C", "690807", "940623"))
    cmd = icao.ifd_authenticate(wrong, d3.h("rnd_ic"), d3.h("rnd_ifd"), d3.h("k_ifd"))
    assert card.transmit(bytes.fromhex("0082000028") + cmd + b"\x28") == b"\x63\x00"
    assert sw(card.transmit(bytes.fromhex("00A4020C02011E"))) == 0x9000  # SELECT works, reading does not
    assert sw(card.transmit(bytes.fromhex("00B0000004"))) == 0x6982
    assert sw(card.transmit(V["sm_d4"].h("pcmd1"))) == 0x6988  # no session keys
