"""The air-interface model against hand computations (figures in cardkit/bench/air.py's docstring)."""

from __future__ import annotations

import math

import pytest

from cardkit.bench.air import (
    BIT_RATES,
    AirApdu,
    activation_time,
    budget_table,
    card_apdus,
    fwt,
    predict,
)
from cardkit.bench.model import BenchRun

FC = 13.56e6
ETU_106 = 128 / FC
FDT = (1236 + 1172) / FC  # PCD->PICC (last bit 1) + PICC->PCD


def test_one_short_apdu_at_106() -> None:
    # 5-byte command in one I-block: PCB + 5 + CRC = 8 bytes = 9*8 + SOF + EOF(2) = 75 etu
    # SW-only answer: PCB + 2 + CRC = 5 bytes = 9*5 + SOF + EOF(1) = 47 etu; then 1 ms in the card
    p = predict([AirApdu(5, 2, 1e-3)], 106, activation=False)
    assert p.air_s == pytest.approx(122 * ETU_106)
    assert p.gap_s == pytest.approx(FDT)
    assert p.card_s == 1e-3
    assert p.total_s == pytest.approx(18024 / FC + 1e-3)  # 2.329 ms
    assert (p.frames, p.chained, p.wtx) == (2, 0, 0)
    assert 9 * ETU_106 == pytest.approx(84.96e-6, abs=1e-8)  # REFERENCE.md: ~85 us per byte


def test_chained_long_response() -> None:
    # 300 bytes back with FSD 256: 253 INF bytes per block -> 253 + 47; the reader acks the first
    p = predict([AirApdu(5, 300, 0.0)], 106, activation=False)
    command = 9 * 8 + 3
    blocks = (9 * 256 + 2) + (9 * 50 + 2)
    ack = 9 * 3 + 3  # R(ACK): PCB + CRC from the reader
    assert p.air_s == pytest.approx((command + blocks + ack) * ETU_106)
    assert p.gap_s == pytest.approx(2 * FDT)
    assert (p.frames, p.chained) == (4, 1)


def test_chained_long_command_with_small_fsc() -> None:
    # 40 bytes out with FSC 32 (ISO default FSCI 2): 29 + 11, the card acks the first block
    p = predict([AirApdu(40, 2, 0.0)], 106, fsc=32, activation=False)
    assert p.air_s == pytest.approx(((9 * 32 + 3) + (9 * 14 + 3) + (9 * 3 + 2) + (9 * 5 + 2)) * ETU_106)
    assert (p.frames, p.chained) == (4, 1)


def test_cid_and_nad_add_a_byte_each_per_block() -> None:
    plain = predict([AirApdu(5, 2, 0.0)], 106, activation=False)
    both = predict([AirApdu(5, 2, 0.0)], 106, cid=True, nad=True, activation=False)
    assert both.air_s - plain.air_s == pytest.approx(4 * 9 * ETU_106)


def test_bit_rate_scales_frames_not_delays_or_card() -> None:
    seq = [AirApdu(20, 62, 0.008), AirApdu(5, 250, 0.013)]
    base = predict(seq, 106, activation=False)
    for rate in BIT_RATES[1:]:
        p = predict(seq, rate, activation=False)
        assert p.air_s == pytest.approx(base.air_s * 106 / rate)
        assert (p.gap_s, p.card_s, p.frames) == (pytest.approx(base.gap_s), base.card_s, base.frames)
    assert predict(seq, 848, activation=False).total_s < base.total_s


def test_fwt_and_wtx_when_processing_exceeds_it() -> None:
    assert fwt(4) == pytest.approx(4.833e-3, rel=1e-3)  # the default FWI
    assert fwt(0) == pytest.approx(4096 / FC)
    window = fwt(0)  # 302 us
    inside = predict([AirApdu(5, 2, window)], 106, fwi=0, activation=False)
    assert inside.wtx == 0
    slow = predict([AirApdu(5, 2, 1e-3)], 106, fwi=0, activation=False)
    rounds = math.ceil((1e-3 - window) / window)
    assert slow.wtx == rounds == 3
    # each round trip: S(WTX) request (PCB + WTXM + CRC, from the card) and response, and two delays
    assert slow.air_s - inside.air_s == pytest.approx(rounds * ((9 * 4 + 2) + (9 * 4 + 3)) * ETU_106)
    assert slow.gap_s - inside.gap_s == pytest.approx(rounds * FDT)
    assert slow.frames == 2 + 2 * rounds
    assert predict([AirApdu(5, 2, 1e-3)], 106, fwi=0, wtxm=4, activation=False).wtx == 1


def test_activation_at_106_and_pps_above() -> None:
    etus = (10 + 20) + (21 + 47 + 84 + 29) + (39 + 9 * 12 + 2)  # REQA/ATQA, cascade 1, RATS/ATS (10 + CRC)
    assert activation_time(106) == pytest.approx(5e-3 + etus * ETU_106 + 4 * FDT)
    pps = (9 * 5 + 3) + (9 * 3 + 2)
    assert activation_time(424) - activation_time(106) == pytest.approx(pps * ETU_106 + FDT)
    assert activation_time(106, uid_size=7) - activation_time(106) == pytest.approx((21 + 47 + 84 + 29) * ETU_106
                                                                                   + 2 * FDT)
    p = predict([AirApdu(5, 2, 0.0)], 106)
    assert p.activation_s == activation_time(106)
    assert p.total_s == pytest.approx(p.activation_s + p.air_s + p.gap_s + p.card_s)


@pytest.mark.parametrize("kwargs", [{"bit_rate": 100}, {"fsc": 300}, {"fsd": 20}, {"fwi": 15}, {"wtxm": 60}])
def test_out_of_range_parameters(kwargs: dict[str, int]) -> None:
    args = {"bit_rate": 106} | kwargs
    with pytest.raises(ValueError):
        predict([AirApdu(5, 2, 0.0)], **args)  # type: ignore[arg-type]


def test_card_apdus_subtracts_overheads_and_never_goes_negative(run: BenchRun) -> None:
    recorded = run.checks[0].apdus
    model = card_apdus(recorded, overhead_s=0.001, per_byte_s=1e-5)
    first = recorded[0]
    assert model[0].processing_s == pytest.approx(first.seconds - 0.001 - 1e-5 * (first.command + first.response))
    assert all(a.processing_s == 0.0 for a in card_apdus(recorded, overhead_s=10.0))


def test_budget_table_takes_the_slowest_instance_at_every_rate(run: BenchRun) -> None:
    rows = budget_table(run)
    assert [(r.transaction, r.prediction.bit_rate) for r in rows] == [
        (t, rate) for t in ("emv-contactless", "transit-tap") for rate in BIT_RATES]
    emv = rows[0]
    assert emv.apdus == 7
    assert emv.measured_s == pytest.approx(0.225 * 1.3)  # the 1.3x purchase
    assert emv.prediction.total_s > emv.measured_s  # processing is the whole measured time + air
    assert emv.emv_ok and not emv.transit_ok  # 292 ms card + ~17 ms air/activation at 106 kbit/s
    assert all(r.transit_ok for r in rows if r.transaction == "transit-tap")
