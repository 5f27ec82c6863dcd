"""Fixtures shared by the kernel's tests against the real bank applet."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def icc_key():  # type: ignore[no-untyped-def]
    """One ICC RSA key per module: making a key per card would dominate the run time."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=3, key_size=1024)
