"""Lost answers to DEBIT / CREDIT: recover() tells committed from not committed and never charges twice."""

from __future__ import annotations

from datetime import datetime

import pytest

from cardkit.apdu import SW, ResponseAPDU
from cardkit.crypto.purse import TransactionType
from cardkit.errors import TransportError
from cardkit.purse import MacInvalid, Psam, PurchaseInit, PurseClient, PurseError, PurseUsageError
from cardkit.purse import TransactionInterrupted as Interrupted
from cardkit.purse import issuer as host
from cardkit.readers import CardChannel, VirtualReader

from .conftest import WHEN, Authorize
from .fakecard import MLK, MPK, MTK, TERMINAL, FakeTransitCard, capp_record


def interrupted_purchase(client: PurseClient, psam: Psam, *, amount: int = 100) -> Interrupted:
    with pytest.raises(Interrupted) as err:
        client.purchase(amount, psam, WHEN)
    return err.value


def lost_debit(client: PurseClient, card: FakeTransitCard, psam: Psam) -> Interrupted:
    """A purchase whose DEBIT the card committed but whose answer was lost; the card presented again."""
    client.select()
    card.lose_answer_to = 0x54
    exc = interrupted_purchase(client, psam)
    client.channel.connection.reconnect()
    return exc


def test_lost_debit_answer_card_committed(client: PurseClient, card: FakeTransitCard, psam: Psam) -> None:
    client.select()
    card.lose_answer_to = 0x54
    exc = interrupted_purchase(client, psam)
    assert isinstance(exc, TransportError) and exc.terminal_txn_no == 1 and exc.when == WHEN
    assert isinstance(exc.init, PurchaseInit) and client.pending == [exc.init]
    assert card.balance == 900  # the card did commit
    client.channel.connection.reconnect()  # the card is presented again
    result = client.recover(exc.init, psam)
    assert result is not None and result.recovered
    assert (result.balance_before, result.balance_after, result.counter) == (1000, 900, 0x12)
    assert (result.mac2, result.tac) == card.proofs[(TransactionType.EP_PURCHASE, 0x12)]
    assert client.balance() == 900 and card.balance == 900  # debited once
    assert client.pending == []
    prove = card.sent(0x5A)[-1]
    assert prove.to_bytes() == bytes.fromhex("805A000602001208")


def test_lost_debit_card_did_not_commit(client: PurseClient, card: FakeTransitCard, psam: Psam) -> None:
    client.select()
    card.tear_before = 0x54
    exc = interrupted_purchase(client, psam)
    client.channel.connection.reconnect()
    assert client.recover(exc.init, psam) is None
    assert card.balance == 1000 and client.pending == []
    retry = client.purchase(100, psam, WHEN)  # safe: the same counter is used again
    assert retry.counter == 0x12 and retry.terminal_txn_no == 2 and card.balance == 900


def test_lost_compound_debit_recovers_record_and_balance(client: PurseClient, card: FakeTransitCard,
                                                         psam: Psam) -> None:
    client.select()
    card.lose_answer_to = 0x54
    with pytest.raises(Interrupted) as err:
        client.compound_purchase(200, psam, WHEN, update=lambda old: capp_record(station=9, flag=1))
    client.channel.connection.reconnect()
    result = client.recover(err.value.init, psam)
    assert result is not None and result.kind == "capp" and result.recovered
    assert card.sent(0x5A)[-1].p2 == TransactionType.CAPP_PURCHASE
    assert card.capp[1] == capp_record(station=9, flag=1) and card.balance == 800


def test_lost_credit_answer(client: PurseClient, card: FakeTransitCard, authorize: Authorize) -> None:
    info = client.select()
    card.lose_answer_to = 0x52
    with pytest.raises(Interrupted) as err:
        client.load(300, TERMINAL, authorize, WHEN)
    assert err.value.terminal_txn_no is None
    client.channel.connection.reconnect()
    result = client.recover(err.value.init)
    assert result is not None and result.kind == "load" and result.balance_after == 1300 == card.balance
    host.verify_load_tac(MTK, info, result)
    assert card.sent(0x5A)[-1].to_bytes() == bytes.fromhex("805A000202000508")


def test_lost_credit_not_committed(client: PurseClient, card: FakeTransitCard, authorize: Authorize) -> None:
    client.select()
    card.tear_before = 0x52
    with pytest.raises(Interrupted) as err:
        client.load(300, TERMINAL, authorize, WHEN)
    client.channel.connection.reconnect()
    assert client.recover(err.value.init) is None and card.balance == 1000


def test_recover_on_another_card_is_refused(card: FakeTransitCard, psam: Psam) -> None:
    reader = VirtualReader(card)  # type: ignore[arg-type]
    client = PurseClient(CardChannel(reader.connect()))
    exc = lost_debit(client, card, psam)
    other = FakeTransitCard(serial="31050000000000099999")
    reader.insert(other)  # type: ignore[arg-type]
    client.channel = CardChannel(reader.connect())
    with pytest.raises(PurseError, match="was on card"):
        client.recover(exc.init, psam)
    assert not other.sent(0x5A) and client.pending == [exc.init]


def test_recover_after_a_restart_from_the_journal(card: FakeTransitCard, psam: Psam) -> None:
    reader = VirtualReader(card)  # type: ignore[arg-type]
    exc = lost_debit(PurseClient(CardChannel(reader.connect())), card, psam)
    fresh = PurseClient(CardChannel(reader.connect()))  # the terminal restarted; the journal kept these
    with pytest.raises(PurseUsageError):
        fresh.recover(exc.init, psam)
    result = fresh.recover(exc.init, psam, terminal_txn_no=exc.terminal_txn_no, when=exc.when)
    assert result is not None and result.balance_after == 900


def test_recover_checks_the_proof(client: PurseClient, card: FakeTransitCard, psam: Psam) -> None:
    exc = lost_debit(client, card, psam)
    card.proofs = {k: (bytes(4), tac) for k, (_, tac) in card.proofs.items()}  # a card lying about MAC2
    with pytest.raises(MacInvalid, match="as done"):
        client.recover(exc.init, psam)


def test_recover_when_the_card_cannot_say(client: PurseClient, card: FakeTransitCard, psam: Psam,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    exc = lost_debit(client, card, psam)
    monkeypatch.setattr(card, "_prove", lambda c: ResponseAPDU.status(SW.NO_PRECISE_DIAGNOSIS))
    with pytest.raises(PurseError) as err:  # neither "done" nor "not done": no None, no retry
        client.recover(exc.init, psam)
    assert err.value.sw == 0x6F00 and client.pending == [exc.init]


def test_prove(client: PurseClient, card: FakeTransitCard, psam: Psam) -> None:
    client.select()
    result = client.purchase(5, psam, datetime(2024, 1, 2, 3, 4, 5))
    assert client.prove(result.counter, TransactionType.EP_PURCHASE) == (result.mac2, result.tac)
    with pytest.raises(PurseError) as err:
        client.prove(result.counter + 1, TransactionType.EP_PURCHASE)
    assert err.value.sw == 0x9406


def test_wrong_keys_never_reach_a_retry_loop(client: PurseClient, card: FakeTransitCard) -> None:
    """A refusal (9302) is final: nothing is pending, nothing to recover."""
    client.select()
    with pytest.raises(MacInvalid):
        client.purchase(1, Psam(MLK, MPK, terminal_id=TERMINAL), WHEN)
    assert client.pending == [] and card.balance == 1000


def test_recover_after_a_refused_credit(client: PurseClient, card: FakeTransitCard) -> None:
    """A POS that asks anyway after a 9302 learns "not done" (the host then reverses)."""
    client.select()
    init = client.initialize_load(300, TERMINAL)
    with pytest.raises(MacInvalid):
        client.credit_for_load(init, bytes(4), WHEN)
    assert client.pending == [] and client.recover(init) is None and card.balance == 1000


def test_recover_twice_gives_the_same_result(client: PurseClient, card: FakeTransitCard, psam: Psam) -> None:
    exc = lost_debit(client, card, psam)
    first = client.recover(exc.init, psam)
    assert first is not None and client.recover(exc.init, psam) == first and card.balance == 900
