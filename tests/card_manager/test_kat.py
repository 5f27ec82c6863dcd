"""Known answers through the card manager: pySim's SCP03 and SCP02 transcripts, byte for byte.

Vectors: tests/vectors/crypto_gp.txt, each with its source line — osmocom/pysim
tests/unittests/test_globalplatform.py (classes SCP03_Test_AES{128,192,256}_{11,03,33}, SCP02_Auth_Test,
SCP02_Test). pySim's SCP03 card is an eUICC: its pseudo-random card challenge
KDF(K-ENC, 02, counter || SD AID) comes out only with the ISD-R AID A0000005591010FFFFFFFF8900000100
(SGP.22 §4.1) and the counter the answer carries (000001/2/3) — so the card under test is a
CardManager with that AID, diversification data 00*10 and the vector's keys; the counter is brought
to the vector's value with throw-away INITIALIZE UPDATEs, as a card that opened sessions before.
"""

from __future__ import annotations

import pytest

from applets.card_manager import CardManager, Cplc, KeySet, KeyType
from applets.card_manager._scp import scp03_initialize
from applets.runtime import SimulatedCard
from cardkit import tlv
from cardkit.apdu import CommandAPDU, ResponseAPDU
from cardkit.crypto import gp

from .kit import H, Scp02Host, Scp03Host, fixed_random, load_vectors, send

ISD_R = H("A0000005591010FFFFFFFF8900000100")  # GSMA SGP.22 §4.1: the eUICC's ISD-R
ZERO_CPLC = Cplc(ic_fabricator=bytes(2), ic_type=bytes(2))  # diversification data 00*10, as pySim's card
VECTORS = load_vectors()
SCP03 = [v for v in VECTORS if v["scp"] == "03"]
(SCP02,) = [v for v in VECTORS if v["scp"] == "02"]
EID_PLAIN = H("bf3e125a1089882119900000000000000000000005")  # the GET EID answer pySim's vectors carry
PLAIN = [H("80E2910006BF3E035C015A00"), H("80F22002"), H("80ca006600"), H("80F220020a4f0212345c054f9f70c5"),
         H("80f28002024f0000")]


def _kvn_card(v: dict[str, str], kvn: int, aid: bytes, random: object = None) -> SimulatedCard:
    enc, mac = H(v["k_enc"]), H(v["k_mac"])
    dek = bytes(b ^ 0x20 for b in enc)  # pySim's DEK pattern 20 21 ..; the transcripts never use it
    key_type = KeyType.AES if v["scp"] == "03" else KeyType.DES
    cm = CardManager(aid, cplc=ZERO_CPLC, key_sets=[KeySet(kvn, key_type, enc, mac, dek)],
                     random=random)  # type: ignore[arg-type]
    card = SimulatedCard(applets=[cm], default_aid=aid, strict=True)
    card.power_on()
    return card


@pytest.mark.parametrize("v", SCP03, ids=[v["name"] for v in SCP03])
def test_scp03_transcript_through_the_card(v: dict[str, str]) -> None:
    iu_cmd, iu_rsp = H(v["init_upd_cmd"]), H(v["init_upd_rsp"])
    kvn, host_challenge, counter = iu_cmd[2], iu_cmd[5:13], int.from_bytes(iu_rsp[-3:], "big")
    card = _kvn_card(v, kvn, ISD_R)
    for _ in range(counter - 1):  # sessions opened before: the card's sequence counter moves on
        assert send(card, iu_cmd)[1] == 0x9000
    assert card.transmit(iu_cmd) == iu_rsp + H("9000")  # card challenge, cryptogram, counter: all exact
    ext = H(v["ext_auth_cmd"])
    assert card.transmit(ext) == H("9000")
    level = ext[2]
    sk = gp.derive_scp03_session_keys(H(v["k_enc"]), H(v["k_mac"]), host_challenge, iu_rsp[13:21])
    host_cryptogram = gp.scp03_host_cryptogram(sk.s_mac, host_challenge, iu_rsp[13:21])
    _, mcv = gp.scp03_command_mac(sk.s_mac, bytes(16), ext[:4], host_cryptogram)
    host = Scp03Host(card, level, sk, b"", mcv=mcv)
    expected = [H(v["get_eid_cmd"])] + [H(v[f"case_{n}"]) for n in range(1, 5)]
    answers = []
    for plain, want in zip(PLAIN, expected, strict=True):
        wrapped = host.wrap(plain)
        assert wrapped == want  # our host helper agrees with pySim byte for byte
        answers.append(host.unwrap(card.transmit(wrapped)))  # and the card verified every C-MAC
    # STORE DATA BF3E (an eUICC's GET EID) is not this card's data: refused, but not for the MAC;
    # GET STATUS without its 4F criterion is malformed, and so is pySim's case 3 (5C 05 followed by
    # 4 bytes); GET DATA 0066 and the ISD's GET STATUS answer.
    assert [sw for _, sw in answers] == [0x6A88, 0x6A80, 0x9000, 0x6A80, 0x9000]
    assert answers[2][0][:2] == H("663d")  # card recognition data, through R-MAC / R-ENC
    (isd,) = tlv.decode(answers[4][0])
    assert tlv.find(isd.children, 0x4F).value == ISD_R  # type: ignore[union-attr]
    assert tlv.find(isd.children, 0x9F70).value == b"\x01"  # type: ignore[union-attr]  # OP_READY


@pytest.mark.parametrize("v", SCP03, ids=[v["name"] for v in SCP03])
def test_scp03_card_side_wrapping_of_the_get_eid_answer(v: dict[str, str]) -> None:
    """The card's own channel code: unwrap pySim's GET EID command, wrap the EID answer, compare."""
    iu_cmd, iu_rsp = H(v["init_upd_cmd"]), H(v["init_upd_rsp"])
    ks = KeySet(iu_cmd[2], KeyType.AES, H(v["k_enc"]), H(v["k_mac"]), H(v["k_enc"]))
    answer, handshake = scp03_initialize(ks, iu_cmd[5:13], int.from_bytes(iu_rsp[-3:], "big"), ISD_R, bytes(10))
    assert answer == iu_rsp
    channel = handshake.authenticate(CommandAPDU.parse(H(v["ext_auth_cmd"])))
    plain = channel.unwrap(CommandAPDU.parse(H(v["get_eid_cmd"])))
    assert plain.to_bytes() == PLAIN[0]
    assert channel.wrap(ResponseAPDU(EID_PLAIN, 0x9000)).to_bytes() == H(v["get_eid_rsp"]) + H("9000")


def test_scp02_transcript_through_the_card() -> None:
    """pySim's SCP02 card answers KVN 70 (a sysmocom special) while pySim asks KVN 20: the card here
    holds the keys as KVN 70 and is asked for KVN 00 (the first set); the answer is then pySim's."""
    v = SCP02
    host_challenge, iu_rsp = H(v["host_challenge"]), H(v["init_upd_rsp"])
    card = _kvn_card(v, 0x70, H("A000000151000000"), random=fixed_random(bytes(6), iu_rsp[14:20]))
    # one session opened before brings the counter to 0001, as in the transcript
    warm = H("0000000000000000")
    rsp, sw = send(card, b"\x80\x50\x00\x00\x08" + warm + b"\x00")
    assert sw == 0x9000 and rsp[12:14] == H("0000")
    s_enc = gp.scp02_session_key(H(v["k_enc"]), gp.SCP02_S_ENC, rsp[12:14])
    s_mac = gp.scp02_session_key(H(v["k_mac"]), gp.SCP02_C_MAC, rsp[12:14])
    cryptogram = gp.scp02_host_cryptogram(s_enc, warm, rsp[12:14], rsp[14:20])
    mac = gp.scp02_command_mac(s_mac, bytes(8), H("84820100"), cryptogram)
    assert send(card, H("8482010010") + cryptogram + mac)[1] == 0x9000
    assert card.transmit(b"\x80\x50\x00\x00\x08" + host_challenge + b"\x00") == iu_rsp + H("9000")
    ext = H(v["ext_auth_cmd"])
    assert card.transmit(ext) == H("9000")
    seq = iu_rsp[12:14]
    host = Scp02Host(card, 0x01, gp.scp02_session_key(H(v["k_enc"]), gp.SCP02_S_ENC, seq),
                     gp.scp02_session_key(H(v["k_mac"]), gp.SCP02_C_MAC, seq), b"", ext[-8:])
    sws = []
    for n, plain in enumerate(PLAIN[1:], 1):
        wrapped = host.wrap(plain)
        assert wrapped == H(v[f"case_{n}"])
        sws.append(send(card, wrapped)[1])
    assert sws == [0x6A80, 0x9000, 0x6A80, 0x9000]  # every C-MAC (ICV-encrypted chain) accepted
