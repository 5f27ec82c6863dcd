"""The client's wire bytes against whole published sessions.

Every pySim SCP03 session of tests/vectors/crypto_gp.txt (source: osmocom/pysim
tests/unittests/test_globalplatform.py, classes SCP03_Test_AES{128,192,256}_{11,03,33}; listed in
REFERENCE.md) and its SCP02 session (classes SCP02_Auth_Test and SCP02_Test) run through
``open_secure_channel`` and ``GpSession.transmit`` against a scripted card: INITIALIZE UPDATE,
EXTERNAL AUTHENTICATE and each wrapped command must match byte for byte, and the GET EID answer
(R-MAC, and R-ENC at level 33) must verify and decipher to pySim's plain EID.
"""

from __future__ import annotations

import pytest

from cardkit.apdu import CommandAPDU
from cardkit.gp import GpError, SecurityLevel, StaticKeys, open_secure_channel
from cardkit.readers import CardChannel, VirtualReader
from tests.crypto.vectors import Vector, ids, load

from .fakecard import ScriptedCard

H = bytes.fromhex
VECTORS = load("crypto_gp.txt")
# pySim's plain commands, in the order of its transcript
GET_EID = H("80E2910006BF3E035C015A00")
PLAIN = [H("80F22002"), H("80ca006600"), H("80F220020a4f0212345c054f9f70c5"), H("80f28002024f0000")]
EID_PLAIN = H("bf3e125a1089882119900000000000000000000005")
OK = H("9000")
NOT_FOUND = H("6A88")  # an error SW: no R-MAC to check (Amendment D §6.2.5)


def channel_on(card: ScriptedCard) -> CardChannel:
    return CardChannel(VirtualReader(card).connect())  # type: ignore[arg-type]


@pytest.mark.parametrize("v", [v for v in VECTORS if v["scp"] == "03"], ids=ids)
def test_pysim_scp03_session_byte_for_byte(v: Vector) -> None:
    iu_cmd, ext = v.h("init_upd_cmd"), v.h("ext_auth_cmd")
    script = [(iu_cmd, v.h("init_upd_rsp") + OK), (ext, OK), (v.h("get_eid_cmd"), v.h("get_eid_rsp") + OK)]
    script += [(v.h(f"case_{n}"), NOT_FOUND) for n in range(1, 5)]
    card = ScriptedCard(script)
    keys = StaticKeys(v.h("k_enc"), v.h("k_mac"), bytes(len(v.h("k_enc"))), kvn=iu_cmd[2])
    session = open_secure_channel(channel_on(card), keys, level=SecurityLevel(ext[2]), select=None,
                                  host_challenge=iu_cmd[5:13])
    assert session.scp == 3 and session.kvn == iu_cmd[2] and session.i == 0x70
    assert session.key_information == v.h("init_upd_rsp")[10:13]
    assert session.sequence_counter == v.h("init_upd_rsp")[29:32]
    eid = session.transmit(CommandAPDU.parse(GET_EID))
    assert eid.sw == 0x9000 and eid.data == EID_PLAIN  # R-MAC checked; at level 33 R-ENC deciphered
    for plain in PLAIN:  # case 1 (no data) also moves the C-DEC counter: the next ones prove it
        assert session.transmit(CommandAPDU.parse(plain)).sw == 0x6A88
    assert not card.script


def test_reference_md_aes128_session() -> None:
    """REFERENCE.md, byte for byte: INITIALIZE UPDATE 8050300008 b13e5f938fc108c4 00, EXTERNAL
    AUTHENTICATE 8482110010 7d5f5826a993ebc8 9eea24957fa0b3ce, and 80E2910006BF3E035C015A00 sent as
    84e291000e bf3e035c015a 558d036518a28297 00."""
    (v,) = [v for v in VECTORS if v.name == "scp03_aes128_11"]
    card = ScriptedCard([
        (H("8050300008b13e5f938fc108c400"), H("000000000000000000003003703eb51047495b249f66c484c1d2ef1948000002") + OK),
        (H("84821100107d5f5826a993ebc89eea24957fa0b3ce"), OK),
        (H("84e291000ebf3e035c015a558d036518a2829700"), v.h("get_eid_rsp") + OK),
    ])
    keys = StaticKeys(H("000102030405060708090a0b0c0d0e0f"), H("101112131415161718191a1b1c1d1e1f"),
                      H("202122232425262728292a2b2c2d2e2f"), kvn=0x30)
    session = open_secure_channel(channel_on(card), keys, level=SecurityLevel.C_MAC | SecurityLevel.R_MAC,
                                  select=None, host_challenge=H("b13e5f938fc108c4"))
    assert session.send(CommandAPDU.parse(GET_EID)) == EID_PLAIN
    assert not card.script


def test_pysim_scp02_session_byte_for_byte() -> None:
    (v,) = [v for v in VECTORS if v["scp"] == "02"]
    host = v.h("host_challenge")
    rsp = v.h("init_upd_rsp")
    kvn = rsp[10]
    script = [(H("8050") + bytes((kvn,)) + H("0008") + host + H("00"), rsp + OK), (v.h("ext_auth_cmd"), OK)]
    script += [(v.h(f"case_{n}"), NOT_FOUND) for n in range(1, 5)]
    card = ScriptedCard(script)
    dek = H("102102030405060708090a0b0c0d0e0f")  # REFERENCE.md: K-DEK 10 21 02 .. 0F
    keys = StaticKeys(v.h("k_enc"), v.h("k_mac"), dek, kvn=kvn)
    session = open_secure_channel(channel_on(card), keys, level=SecurityLevel.C_MAC, select=None, host_challenge=host)
    assert (session.scp, session.sequence_counter, session.key_information) == (2, rsp[12:14], rsp[10:12])
    for plain in PLAIN:
        assert session.transmit(CommandAPDU.parse(plain)).sw == 0x6A88
    assert not card.script


def test_wrong_keys_stop_before_external_authenticate() -> None:
    """A wrong card cryptogram ends the attempt before EXTERNAL AUTHENTICATE, which real cards count."""
    (v,) = [v for v in VECTORS if v.name == "scp03_aes128_11"]
    card = ScriptedCard([(v.h("init_upd_cmd"), v.h("init_upd_rsp") + OK)])
    with pytest.raises(GpError, match=r"card cryptogram wrong: the card does not hold these keys \(KVN 30\)"):
        open_secure_channel(channel_on(card), StaticKeys.default(0x30), select=None,
                            host_challenge=v.h("init_upd_cmd")[5:13])
    assert len(card.sent) == 1


def test_external_authenticate_6300_is_named() -> None:
    (v,) = [v for v in VECTORS if v.name == "scp03_aes128_11"]
    card = ScriptedCard([(v.h("init_upd_cmd"), v.h("init_upd_rsp") + OK), (v.h("ext_auth_cmd"), H("6300"))])
    keys = StaticKeys(v.h("k_enc"), v.h("k_mac"), bytes(16), 0x30)
    with pytest.raises(GpError, match="EXTERNAL AUTHENTICATE: the card rejected the host cryptogram") as err:
        open_secure_channel(channel_on(card), keys, level=SecurityLevel(0x11), select=None,
                            host_challenge=v.h("init_upd_cmd")[5:13])
    assert err.value.sw == 0x6300


def test_a_tampered_r_mac_closes_the_channel() -> None:
    (v,) = [v for v in VECTORS if v.name == "scp03_aes128_11"]
    bad = bytearray(v.h("get_eid_rsp"))
    bad[-1] ^= 0x01
    card = ScriptedCard([(v.h("init_upd_cmd"), v.h("init_upd_rsp") + OK), (v.h("ext_auth_cmd"), OK),
                         (v.h("get_eid_cmd"), bytes(bad) + OK)])
    keys = StaticKeys(v.h("k_enc"), v.h("k_mac"), bytes(16), 0x30)
    session = open_secure_channel(channel_on(card), keys, level=SecurityLevel(0x11), select=None,
                                  host_challenge=v.h("init_upd_cmd")[5:13])
    with pytest.raises(GpError, match="R-MAC .* does not verify"):
        session.transmit(CommandAPDU.parse(GET_EID))
    with pytest.raises(GpError, match="closed"):
        session.transmit(CommandAPDU.parse(PLAIN[0]))


@pytest.mark.parametrize(("rsp", "message"), [
    (H("6A88"), "no key set with KVN 30"),
    (H("0000000000000000000030"), "too short"),
    (H("00000000000000000000300371") + bytes(32), "S16"),
    (H("00000000000000000000300470") + bytes(16), "SCP04"),
])
def test_bad_initialize_update_answers(rsp: bytes, message: str) -> None:
    (v,) = [v for v in VECTORS if v.name == "scp03_aes128_11"]
    answer = rsp if rsp == H("6A88") else rsp + OK
    card = ScriptedCard([(v.h("init_upd_cmd"), answer)])
    with pytest.raises(GpError, match=message):
        open_secure_channel(channel_on(card), StaticKeys.default(0x30), select=None,
                            host_challenge=v.h("init_upd_cmd")[5:13])


def test_levels_that_make_no_sense_are_refused_before_anything_is_sent() -> None:
    card = ScriptedCard([])
    for level in (SecurityLevel.C_DEC, SecurityLevel.C_MAC | SecurityLevel.R_ENC, SecurityLevel(0x40)):
        with pytest.raises(GpError, match="security level"):
            open_secure_channel(channel_on(card), StaticKeys.default(), level=level, select=None)
    assert card.sent == []
