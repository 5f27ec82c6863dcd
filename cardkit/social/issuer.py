"""The issuer's half of the PIN unblock (docs/social.md "PIN unblock").

The issuer (its host, or a service counter's issuer SAM) holds the unblock master key; the card
holds DUK = that master diversified by the card number. The card's challenge goes to the issuer,
the MAC comes back, and the card resets the PIN's try counter. The PIN itself is never sent.
"""

from __future__ import annotations

from cardkit.crypto.hazmat.mac import retail_mac
from cardkit.crypto.purse import diversify_card_key
from cardkit.social.client import SocialClient
from cardkit.social.errors import SocialError
from cardkit.social.records import CardInfo

__all__ = ["UNBLOCK_HEADER", "unblock_mac", "unblock_pin"]

UNBLOCK_HEADER = bytes.fromhex("842C0001")  # CLA INS P1 P2 of the unblock, MACed with the challenge


def unblock_mac(unblock_master: bytes, card: CardInfo, challenge: bytes) -> bytes:
    """The 4-byte unblock MAC: retail MAC (ISO 9797-1 alg. 3, padding 2) under DUK over header ‖ challenge.

    Raises:
        SocialError: the master key is not 16 bytes or the challenge not 8 (never quoting the key).
    """
    if len(unblock_master) != 16:
        raise SocialError(f"the unblock master key is {len(unblock_master)} bytes instead of 16", context="issuer")
    if len(challenge) != 8:
        raise SocialError(f"the card's challenge is {len(challenge)} bytes instead of 8", context="issuer")
    duk = diversify_card_key(unblock_master, card.diversifier)
    return retail_mac(duk, UNBLOCK_HEADER + bytes(challenge), padding=2)[:4]


def unblock_pin(client: SocialClient, unblock_master: bytes) -> None:
    """Unblock the selected card's PIN (its try counter back to 3; the PIN stays).

    Raises:
        MacInvalid: the card rejected the MAC (another issuer's key); SocialError otherwise.
    """
    info = client.info or client.select()
    challenge = client.get_challenge()
    client.reset_retry_counter(unblock_mac(unblock_master, info, challenge))
