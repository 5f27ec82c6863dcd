"""Air-interface timing model: what a recorded APDU sequence would cost over ISO 14443-4 type A.

A bench run times APDUs through whatever reader was plugged in (often a contact reader). This model
replays the same byte counts and the card's processing time over an ISO 14443 type A link at 106,
212, 424 and 848 kbit/s and predicts the card-in-field time, to hold it against the budgets of
REFERENCE.md "Timing budgets" (EMV contactless ~500 ms, transit gate ~300 ms: yardsticks, not specs).

Figures and sources (clause numbers from the 2008/2011 editions; those marked *check* could not be
verified against the text here):

- Carrier fc = 13.56 MHz (ISO/IEC 14443-2, 6). Bit rates fc/128, fc/64, fc/32, fc/16 = 106, 212, 424,
  848 kbit/s (14443-2, 8.1 and 9.1): one elementary time unit (etu) = 128/(D·fc), D = 1, 2, 4, 8.
- Standard frame (14443-3, 6.2.3.2 *check*): every byte is 8 data bits + 1 odd parity bit = 9 etu,
  plus a start of communication (1 etu) and an end of communication — PCD: logic 0 + sequence Y
  (2 etu), PICC: no subcarrier for 1 etu (14443-2, 8.1.3 and 8.2.5 *check*). At 106 kbit/s a byte
  costs 9·128/fc = 84.96 µs (REFERENCE.md: ~85 µs). The same framing is assumed at the higher bit
  rates (*check*: 14443-2 Amd 1 / 2016 changes the PICC's coding to BPSK above 106 kbit/s).
- Short frame (REQA): SOF + 7 data bits + EOF, no parity (14443-3, 6.2.3.1).
- Frame delay time PCD→PICC (14443-3, 6.2.1.1): (n·128 + 84)/fc when the last bit is 1, (n·128 + 20)/fc
  when it is 0, n = 9 → 1236/fc = 91.2 µs or 1172/fc = 86.4 µs. The model takes 1236/fc (the longer)
  after every PCD frame and adds the card's processing time on top for the last block of a command.
  The same figure is used at every bit rate (*check*).
- Frame delay time PICC→PCD (14443-3, 6.2.1.2 *check*): at least 1172/fc = 86.4 µs; real readers take
  longer, so this is a lower bound.
- Block format (14443-4, 7.1): PCB (1) + optional CID (1) + optional NAD (1) + INF + CRC_A (2).
  I-blocks carry the APDU; a frame holds at most FSC bytes towards the card and FSD bytes towards
  the reader (FSCI/FSDI coding, 14443-4 5.1 and 5.2.3: 16…256 bytes; without T0 in the ATS FSCI = 2,
  32 bytes). Longer APDUs chain (7.5.2): every chained block but the last is acknowledged by an
  R(ACK) block of PCB (+ CID) + CRC = 3 bytes.
- Frame waiting time (14443-4, 7.2): FWT = (256·16/fc)·2^FWI, FWI 0…14, default 4 (4.83 ms). A card
  that needs longer sends S(WTX) before FWT runs out and the reader answers S(WTX) with the same
  WTXM (7.3); each grant lasts FWT·WTXM. Each round trip is two 4-byte S-blocks (PCB, WTXM, CRC) and
  two frame delays, added to the processing time.
- Activation once per transaction, at 106 kbit/s (14443-3, 6.3–6.5; 14443-4, 5): power-up (a card
  accepts a request within 5 ms of the field, 14443-3 clause 5 *check*), REQA / ATQA (2 bytes), per
  cascade level (1, 2 or 3 for a 4, 7 or 10 byte UID) ANTICOLLISION (93 20) / UID CLn + BCC (5),
  SELECT (93 70 + 5 + CRC, 9 bytes) / SAK + CRC (3); RATS (E0 xx + CRC, 4) / ATS (its length + CRC);
  above 106 kbit/s PPS (PPSS PPS0 PPS1 + CRC, 5) / PPS response (PPSS + CRC, 3) (14443-4, 5.3).

The card's processing time is the measured time minus a host/transport overhead the caller gives
(``overhead_s`` per APDU, ``per_byte_s`` per byte moved); with both 0 the whole measured time counts as
the card's, so the prediction is an upper bound.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cardkit.bench.model import ApduTiming, BenchRun

__all__ = [
    "BIT_RATES",
    "EMV_BUDGET_S",
    "FC",
    "TRANSIT_BUDGET_S",
    "AirApdu",
    "BudgetRow",
    "Prediction",
    "activation_time",
    "budget_table",
    "card_apdus",
    "etu",
    "fwt",
    "predict",
    "slowest_transactions",
]

FC = 13.56e6
BIT_RATES = (106, 212, 424, 848)
EMV_BUDGET_S = 0.500
TRANSIT_BUDGET_S = 0.300
FDT_PCD_PICC_S = 1236 / FC
FDT_PICC_PCD_S = 1172 / FC
POWER_UP_S = 5e-3
_CRC, _PCB = 2, 1
_PCD_FRAMING, _PICC_FRAMING = 3, 2  # SOF + EOF etu
_FSC_RANGE = (16, 24, 32, 40, 48, 64, 96, 128, 256)


@dataclass(frozen=True, slots=True)
class AirApdu:
    """One APDU for the model: bytes each way (response including SW) and the card's processing time."""

    command: int
    response: int
    processing_s: float
    name: str = ""

    def __post_init__(self) -> None:
        if self.command < 4 or self.response < 2 or self.processing_s < 0:
            raise ValueError(f"impossible APDU: {self.command} bytes out, {self.response} back, "
                             f"{self.processing_s} s")


@dataclass(frozen=True, slots=True)
class Prediction:
    """Predicted card-interaction time of one APDU sequence at one bit rate.

    ``total_s`` = ``activation_s`` + ``air_s`` (frames on air) + ``gap_s`` (frame delay times) +
    ``card_s`` (processing, including WTX round trips' waiting). ``frames`` counts every frame of the
    APDU exchanges (I, R and S blocks), ``chained`` the I-blocks beyond the first of each direction,
    ``wtx`` the S(WTX) round trips.
    """

    bit_rate: int
    total_s: float
    activation_s: float
    air_s: float
    gap_s: float
    card_s: float
    frames: int
    chained: int
    wtx: int


def etu(bit_rate: int) -> float:
    """Return one elementary time unit (s) at ``bit_rate`` kbit/s (ISO/IEC 14443-2, 8.1).

    Raises:
        ValueError: ``bit_rate`` is not one of 106, 212, 424, 848.
    """
    if bit_rate not in BIT_RATES:
        raise ValueError(f"ISO 14443 bit rates are {BIT_RATES} kbit/s, not {bit_rate}")
    return 128 / (bit_rate // 106 * FC)


def fwt(fwi: int) -> float:
    """Return the frame waiting time (s) for ``fwi`` (ISO/IEC 14443-4, 7.2).

    Raises:
        ValueError: ``fwi`` is outside 0…14.
    """
    if not 0 <= fwi <= 14:
        raise ValueError(f"FWI is 0…14, not {fwi}")
    return 256 * 16 / FC * (1 << fwi)


def _pcd(nbytes: int, unit: float) -> float:
    return (9 * nbytes + _PCD_FRAMING) * unit


def _picc(nbytes: int, unit: float) -> float:
    return (9 * nbytes + _PICC_FRAMING) * unit


def activation_time(bit_rate: int, *, uid_size: int = 4, ats_len: int = 10,
                    power_up_s: float = POWER_UP_S) -> float:
    """Return the time (s) to power, select and activate a type A card (ISO/IEC 14443-3, 6; -4, 5).

    Args:
        bit_rate: the rate the APDUs will use; above 106 kbit/s a PPS exchange is added.
        uid_size: 4, 7 or 10 bytes (1, 2 or 3 cascade levels).
        ats_len: the ATS length without CRC (its TL byte counts).
        power_up_s: wait between field on and REQA.

    Raises:
        ValueError: an unknown UID size or bit rate.
    """
    etu(bit_rate)
    levels = {4: 1, 7: 2, 10: 3}.get(uid_size)
    if levels is None:
        raise ValueError(f"a type A UID is 4, 7 or 10 bytes, not {uid_size}")
    unit = etu(106)
    reqa = (1 + 7 + 2) * unit + _picc(2, unit)
    cascade = _pcd(2, unit) + _picc(5, unit) + _pcd(9, unit) + _picc(3, unit)
    rats = _pcd(4, unit) + _picc(ats_len + _CRC, unit)
    pps = _pcd(5, unit) + _picc(3, unit) if bit_rate > 106 else 0.0
    exchanges = 1 + 2 * levels + 1 + (1 if pps else 0)
    return power_up_s + reqa + levels * cascade + rats + pps + exchanges * (FDT_PCD_PICC_S + FDT_PICC_PCD_S)


def predict(apdus: Iterable[AirApdu], bit_rate: int, *, fsc: int = 256, fsd: int = 256, fwi: int = 4,
            cid: bool = False, nad: bool = False, wtxm: int = 1, activation: bool = True,
            uid_size: int = 4, ats_len: int = 10) -> Prediction:
    """Predict the card-interaction time of ``apdus`` over ISO 14443-4 type A at ``bit_rate`` kbit/s.

    Args:
        apdus: the sequence, in order (see :func:`card_apdus` to build it from a recording).
        bit_rate: 106, 212, 424 or 848.
        fsc: the largest frame the card accepts (from the ATS FSCI), fsd the largest the reader does.
        fwi: the card's FWI (ATS TB(1)); processing above FWT costs S(WTX) round trips of WTXM ``wtxm``.
        cid, nad: whether blocks carry a CID and a NAD byte.
        activation: add one activation (:func:`activation_time`) for the sequence.

    Returns:
        The :class:`Prediction`.

    Raises:
        ValueError: a bit rate, FSC/FSD, FWI or WTXM out of range.
    """
    unit = etu(bit_rate)
    for size in (fsc, fsd):
        if size not in _FSC_RANGE:
            raise ValueError(f"FSC/FSD is one of {_FSC_RANGE}, not {size}")
    if not 1 <= wtxm <= 59:
        raise ValueError(f"WTXM is 1…59, not {wtxm}")
    prologue = _PCB + int(cid) + int(nad)
    ack = _PCB + int(cid) + _CRC
    s_wtx = _PCB + int(cid) + 1 + _CRC
    window = fwt(fwi)
    air = card = 0.0
    pcd_frames = picc_frames = chained = wtx = 0
    for apdu in apdus:
        for total, size, sender, receiver in ((apdu.command, fsc, _pcd, _picc),
                                              (apdu.response, fsd, _picc, _pcd)):
            room = size - prologue - _CRC
            blocks = max(1, math.ceil(total / room))
            air += sum(sender(min(room, total - i * room) + prologue + _CRC, unit) for i in range(blocks))
            air += (blocks - 1) * receiver(ack, unit)  # an R(ACK) for every chained block
            chained += blocks - 1
            pcd_frames += blocks if sender is _pcd else blocks - 1
            picc_frames += blocks - 1 if sender is _pcd else blocks
        rounds = 0 if apdu.processing_s <= window else math.ceil((apdu.processing_s - window) / (window * wtxm))
        card += apdu.processing_s
        air += rounds * (_picc(s_wtx, unit) + _pcd(s_wtx, unit))
        pcd_frames += rounds
        picc_frames += rounds
        wtx += rounds
    # every frame is followed by the other side's frame delay time
    gap = pcd_frames * FDT_PCD_PICC_S + picc_frames * FDT_PICC_PCD_S
    frames = pcd_frames + picc_frames
    act = activation_time(bit_rate, uid_size=uid_size, ats_len=ats_len) if activation else 0.0
    return Prediction(bit_rate=bit_rate, total_s=act + air + gap + card, activation_s=act, air_s=air,
                      gap_s=gap, card_s=card, frames=frames, chained=chained, wtx=wtx)


def card_apdus(apdus: Iterable[ApduTiming], *, overhead_s: float = 0.0, per_byte_s: float = 0.0) -> list[AirApdu]:
    """Turn recorded APDUs into model input: processing = measured − overhead − bytes·per_byte (≥ 0).

    Args:
        apdus: recorded APDUs (``ApduTiming``).
        overhead_s: the host/reader cost of one APDU, measured elsewhere (e.g. a virtual card's round trip).
        per_byte_s: the recording transport's cost per byte moved (e.g. ~1.04 ms per byte for T=0 at 9,600 bps).
    """
    return [AirApdu(command=a.command, response=a.response, name=a.name,
                    processing_s=max(0.0, a.seconds - overhead_s - per_byte_s * (a.command + a.response)))
            for a in apdus]


def slowest_transactions(run: BenchRun) -> dict[str, tuple[ApduTiming, ...]]:
    """Return, per transaction name, the APDUs of its slowest recorded instance (sum of APDU times).

    Checks without a ``transaction`` are ignored; when no check names one, the check with the largest
    APDU time stands in, named ``suite/name``.
    """
    best: dict[str, tuple[float, tuple[ApduTiming, ...]]] = {}
    for check in run.checks:
        if check.transaction is None or not check.apdus:
            continue
        spent = sum(a.seconds for a in check.apdus)
        if check.transaction not in best or spent > best[check.transaction][0]:
            best[check.transaction] = (spent, check.apdus)
    if not best:
        timed = [c for c in run.checks if c.apdus]
        if timed:
            check = max(timed, key=lambda c: sum(a.seconds for a in c.apdus))
            best[f"{check.suite}/{check.name}"] = (0.0, check.apdus)
    return {name: apdus for name, (_, apdus) in best.items()}


@dataclass(frozen=True, slots=True)
class BudgetRow:
    """One transaction at one bit rate against the EMV (500 ms) and transit gate (300 ms) budgets."""

    transaction: str
    apdus: int
    measured_s: float
    prediction: Prediction

    @property
    def emv_ok(self) -> bool:
        return self.prediction.total_s <= EMV_BUDGET_S

    @property
    def transit_ok(self) -> bool:
        return self.prediction.total_s <= TRANSIT_BUDGET_S


def budget_table(run: BenchRun, *, bit_rates: Sequence[int] = BIT_RATES, overhead_s: float = 0.0,
                 per_byte_s: float = 0.0, fsc: int = 256, fsd: int = 256, fwi: int = 4) -> list[BudgetRow]:
    """Predict every transaction of ``run`` (its slowest instance) at each bit rate, activation included.

    Args:
        run: the bench run.
        bit_rates: the rates to predict.
        overhead_s, per_byte_s: passed to :func:`card_apdus`.
        fsc, fsd, fwi: passed to :func:`predict`.

    Returns:
        Rows ordered by transaction, then bit rate.
    """
    rows = []
    for name, recorded in slowest_transactions(run).items():
        model = card_apdus(recorded, overhead_s=overhead_s, per_byte_s=per_byte_s)
        measured = sum(a.seconds for a in recorded)
        for rate in bit_rates:
            rows.append(BudgetRow(transaction=name, apdus=len(model), measured_s=measured,
                                  prediction=predict(model, rate, fsc=fsc, fsd=fsd, fwi=fwi)))
    return rows
