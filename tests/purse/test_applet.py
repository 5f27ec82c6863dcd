"""PurseClient against the real transit applet (applets/transit) on the demo card, via VirtualReader.

The demo card's purse is personalized from the published demo master keys
(cardkit.issuer.demo_keys DEMO_PURSE_MLK/MPK/MTK), so the PSAM and the host here hold exactly what
a demo validator and the demo host hold. A lost answer is simulated by a card wrapper that lets
the card process the command and then loses power before the answer; a tear before the commit by
the runtime's own tear injection.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from applets.runtime import SimulatedCard
from applets.transit import TransitApplet
from cardkit.crypto.purse import PurseAlgorithm, TransactionType
from cardkit.errors import CardTornError
from cardkit.issuer.demo_keys import DEMO_PURSE_MLK, DEMO_PURSE_MPK, DEMO_PURSE_MTK
from cardkit.purse import (
    TRANSIT_AID,
    BalanceLimitExceeded,
    InsufficientBalance,
    LoadInit,
    MacInvalid,
    Psam,
    PurseClient,
    PurseInfo,
)
from cardkit.purse import TransactionInterrupted as Interrupted
from cardkit.purse import issuer as host
from cardkit.purse import psam as psam_module
from cardkit.readers import CardChannel, VirtualReader
from pos_sim.demo_card import DEMO_TRANSIT_SERIAL, make_demo_card
from tests.transit import kit

TERMINAL = bytes.fromhex("010203040506")
WHEN = datetime(2026, 5, 4, 8, 30, 15)


class LosingCard:
    """The card processes every command; the answer to ``lose`` (an INS) never reaches the terminal."""

    def __init__(self, card: SimulatedCard) -> None:
        self.card = card
        self.lose: int | None = None

    @property
    def atr(self) -> bytes:
        return self.card.atr

    @property
    def powered(self) -> bool:
        return bool(getattr(self.card, "powered", True))

    def power_on(self) -> bytes:
        return self.card.power_on()

    def reset(self) -> bytes:
        return self.card.reset()

    def power_off(self) -> None:
        self.card.power_off()

    def transmit(self, capdu: bytes) -> bytes:
        answer = self.card.transmit(capdu)
        if len(capdu) > 1 and capdu[1] == self.lose:
            self.lose = None
            self.card.power_off()
            raise CardTornError("the answer was lost (injected)")
        return answer


def transit(card: SimulatedCard) -> TransitApplet:
    applet = card.applet(TRANSIT_AID)
    assert isinstance(applet, TransitApplet)
    return applet


@pytest.fixture
def card() -> LosingCard:
    return LosingCard(make_demo_card())


@pytest.fixture
def client(card: LosingCard) -> PurseClient:
    return PurseClient(CardChannel(VirtualReader(card).connect()))  # type: ignore[arg-type]


@pytest.fixture
def psam() -> Psam:
    return Psam(DEMO_PURSE_MPK, DEMO_PURSE_MTK, terminal_id=TERMINAL)


def demo_host(info: PurseInfo, init: LoadInit, when: datetime) -> bytes:
    return host.load_mac2(DEMO_PURSE_MLK, info, init, when)


def test_select_the_demo_purse(client: PurseClient) -> None:
    info = client.select()
    assert info.serial == DEMO_TRANSIT_SERIAL and info.diversifier == bytes.fromhex(DEMO_TRANSIT_SERIAL)[2:]
    assert info.balance == 5000 and info.holder_name == "ZHANG/SAN"
    assert info.id_number == "110101199003070000" and "110101199003070000" not in repr(info)
    assert info.valid_on(date.today()) and info.app_type == 0x03


def test_load_purchase_and_log(client: PurseClient, card: LosingCard, psam: Psam) -> None:
    info = client.select()
    loaded = client.load(1000, TERMINAL, demo_host, WHEN)
    assert (loaded.balance_before, loaded.balance_after) == (5000, 6000)
    host.verify_load_tac(DEMO_PURSE_MTK, info, loaded)
    paid = client.purchase(250, psam, datetime(2026, 5, 4, 8, 31, 0))  # MAC2 and TAC checked by the PSAM
    assert paid.balance_after == 5750 == client.balance() == transit(card.card).state().balance
    assert (loaded.counter, paid.counter) == (0, 0)  # online and offline counters start at 0 on the demo card
    newest, oldest = client.log()
    assert (newest.type, newest.amount, newest.counter, newest.terminal_id) == (TransactionType.EP_PURCHASE, 250, 0,
                                                                                TERMINAL)
    assert (oldest.type, oldest.amount, oldest.when) == (TransactionType.EP_LOAD, 1000, WHEN)
    assert client.prove(paid.counter, TransactionType.EP_PURCHASE) == (paid.mac2, paid.tac)


def test_compound_purchase_writes_the_record(client: PurseClient, card: LosingCard, psam: Psam) -> None:
    client.select()
    old = client.read_capp_record()
    assert len(old) == 48 and old[0] == 0x01
    new = old[:1] + bytes.fromhex("0101") + old[3:]
    result = client.compound_purchase(200, psam, WHEN, update=lambda record: new)
    assert result.kind == "capp" and result.balance_after == 4800
    assert client.read_capp_record() == new == transit(card.card).capp_records()[0]


def test_insufficient_balance(client: PurseClient, psam: Psam) -> None:
    client.select()
    with pytest.raises(InsufficientBalance) as err:
        client.purchase(5001, psam, WHEN)
    assert err.value.sw == 0x9401 and client.balance() == 5000


def test_wrong_purchase_key_debits_nothing(client: PurseClient, card: LosingCard) -> None:
    client.select()
    with pytest.raises(MacInvalid) as err:
        client.purchase(100, Psam(DEMO_PURSE_MLK, DEMO_PURSE_MTK, terminal_id=TERMINAL), WHEN)
    assert err.value.sw == 0x9302
    assert client.balance() == 5000 and transit(card.card).state().offline_counter == 0


def test_wrong_mac2_from_the_host(client: PurseClient) -> None:
    client.select()
    with pytest.raises(MacInvalid) as err:
        client.load(100, TERMINAL, lambda info, init, when: bytes(4), WHEN)
    assert err.value.sw == 0x9302 and client.balance() == 5000


def test_wrong_tac_key_is_caught(client: PurseClient) -> None:
    client.select()
    with pytest.raises(MacInvalid, match="as done"):
        client.purchase(100, Psam(DEMO_PURSE_MPK, DEMO_PURSE_MLK, terminal_id=TERMINAL), WHEN)


def test_load_over_the_maximum(client: PurseClient) -> None:
    client.select()
    with pytest.raises(BalanceLimitExceeded) as err:
        client.load(95_001, TERMINAL, demo_host, WHEN)
    assert err.value.sw == 0x6985 and client.balance() == 5000


def test_lost_debit_answer_is_recovered_once(client: PurseClient, card: LosingCard, psam: Psam) -> None:
    client.select()
    card.lose = 0x54
    with pytest.raises(Interrupted) as err:
        client.purchase(300, psam, WHEN)
    client.channel.connection.reconnect()  # the card is presented again
    result = client.recover(err.value.init, psam)
    assert result is not None and result.recovered and result.balance_after == 4700
    assert client.balance() == 4700 and len(client.log()) == 1  # debited once
    again = client.recover(err.value.init, psam, terminal_txn_no=err.value.terminal_txn_no, when=WHEN)
    assert again == result  # asking again (from the journal) changes nothing
    assert client.balance() == 4700


def test_tear_before_the_debit_commits(client: PurseClient, card: LosingCard, psam: Psam) -> None:
    client.select()
    init = client.initialize_purchase(300, TERMINAL)
    card.card.arm_tear(1)  # the DEBIT's first persistent write loses power: all rolled back
    with pytest.raises(Interrupted):
        client.debit_for_purchase(init, psam, WHEN)
    client.channel.connection.reconnect()
    assert client.recover(init, psam) is None
    assert client.balance() == 5000
    retry = client.purchase(300, psam, WHEN)
    assert retry.counter == init.counter and retry.balance_after == 4700


def test_lost_credit_answer_is_recovered(client: PurseClient, card: LosingCard) -> None:
    info = client.select()
    card.lose = 0x52
    with pytest.raises(Interrupted) as err:
        client.load(700, TERMINAL, demo_host, WHEN)
    client.channel.connection.reconnect()
    result = client.recover(err.value.init)
    assert result is not None and result.kind == "load" and result.balance_after == 5700 == client.balance()
    host.verify_load_tac(DEMO_PURSE_MTK, info, result)


def test_sm4_purse(monkeypatch: pytest.MonkeyPatch) -> None:
    """An SM4 card (applet personalized by tests.transit.kit) and an SM4 PSAM."""
    card = kit.make_card(kit.make_dgis(algorithm=PurseAlgorithm.SM4, keys=_sm4_card_keys()))
    client = PurseClient(CardChannel(VirtualReader(card).connect()))
    client.select()
    psam = Psam(SM4_MPK, SM4_MTK, terminal_id=kit.TERMINAL, algorithm=PurseAlgorithm.SM4)
    result = client.purchase(10, psam, WHEN)
    assert result.balance_after == 990
    with pytest.raises(Exception, match="sm4"):
        client.purchase(10, Psam(SM4_MPK, SM4_MTK, terminal_id=kit.TERMINAL), WHEN)  # a 3DES PSAM


SM4_MLK, SM4_MPK, SM4_MTK = bytes(range(16)), bytes(range(16, 32)), bytes(range(32, 48))


def _sm4_card_keys() -> tuple[bytes, bytes, bytes]:
    x = bytes.fromhex(kit.SERIAL)[-8:]
    return tuple(psam_module.diversify_card_key(k, x, PurseAlgorithm.SM4)  # type: ignore[return-value]
                 for k in (SM4_MLK, SM4_MPK, SM4_MTK))


def test_regression_vector_through_the_applet(monkeypatch: pytest.MonkeyPatch) -> None:
    """REFERENCE.md's self-computed regression vector, client <-> applet (card keys, random fixed)."""
    from tests.purse.test_vectors import BUY, CARD_KEYS, LOAD, MLK, MPK, MTK

    def card_key(master: bytes, x: bytes, algorithm: PurseAlgorithm = PurseAlgorithm.TDES) -> bytes:
        return CARD_KEYS[master]

    monkeypatch.setattr(psam_module, "diversify_card_key", card_key)
    monkeypatch.setattr(host.keymath, "diversify_card_key", card_key)
    when = datetime(2023, 3, 8, 11, 22, 33)
    client = PurseClient(CardChannel(VirtualReader(kit.make_card()).connect()))
    info = client.select()
    loaded = client.load(0x64, kit.TERMINAL, lambda i, init, w: host.load_mac2(MLK, i, init, w), when)
    assert (loaded.mac2, loaded.tac, loaded.balance_after) == (LOAD.h("mac2"), LOAD.h("tac"), 0x44C)
    host.verify_load_tac(MTK, info, loaded)
    # the vector's purchase starts from balance 000003E8: a fresh card
    client = PurseClient(CardChannel(VirtualReader(kit.make_card()).connect()))
    client.select()
    paid = client.purchase(0x64, Psam(MPK, MTK, terminal_id=kit.TERMINAL), when)
    assert (paid.mac2, paid.tac, paid.counter) == (BUY.h("mac2"), BUY.h("tac"), 0x12)


def test_tap_in_of_zero_writes_the_record_only(client: PurseClient, psam: Psam) -> None:
    client.select()
    new = bytes((0x01, 0x01)) + bytes(46)
    result = client.compound_purchase(0, psam, WHEN, update=lambda old: new)
    assert (result.amount, result.balance_after) == (0, 5000) and client.read_capp_record() == new
