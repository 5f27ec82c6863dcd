"""SoftHSM2 tokens for tests: a private token directory, its softhsm2.conf and an initialised token.

Reusable by any test that needs a PKCS#11 token (the keystore tests, the issuance tests)::

    token = make_token(tmp_path / "hsm")           # SoftHsmToken(module, label, pin, env)
    monkeypatch.setenv("SOFTHSM2_CONF", token.env["SOFTHSM2_CONF"])
    ks = Pkcs11Keystore.open(token.module, token.label, token.pin)

SoftHSM2 reads SOFTHSM2_CONF when the module is initialised (in this process, and in every child
that inherits the environment); Pkcs11Keystore re-initialises the module once when a label is not
found and none of its sessions are open, so a token made later in the same process is found.
When SoftHSM2 is missing the test fails (never skips) and says how to install it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest

from cardkit.issuer.keystore import Pkcs11Keystore, default_pkcs11_module

TOKEN_LABEL = "cardkit-test"
TOKEN_PIN = "1234"
SO_PIN = "12345678"
CONF_NAME = "softhsm2.conf"


class SoftHsmToken(NamedTuple):
    """One initialised SoftHSM2 token; ``env`` holds SOFTHSM2_CONF for this process and children."""

    module: str
    label: str
    pin: str
    env: dict[str, str]


def require_softhsm() -> tuple[str, str]:
    """(module path, softhsm2-util path), or fail the test with what to install."""
    module = default_pkcs11_module()
    util = shutil.which("softhsm2-util")
    if module is None or util is None:
        missing = " and ".join(n for n, ok in (("libsofthsm2.so", module), ("softhsm2-util", util)) if not ok)
        pytest.fail(
            f"SoftHSM2 is not installed ({missing} not found): run `make test`, which installs the Debian "
            "package softhsm2 (or apt-get install softhsm2)",
            pytrace=False,
        )
    return module, util


def make_token(directory: Path, label: str = TOKEN_LABEL, pin: str = TOKEN_PIN, so_pin: str = SO_PIN) -> SoftHsmToken:
    """Initialise a token labelled ``label`` in ``directory`` (created; its softhsm2.conf and
    tokens/ are reused when several tokens share the directory)."""
    module, util = require_softhsm()
    directory = Path(directory).absolute()
    tokens = directory / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = directory / CONF_NAME
    if not conf.exists():
        conf.write_text(
            f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
        )
    env = {"SOFTHSM2_CONF": str(conf)}
    done = subprocess.run(
        [util, "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", so_pin],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        output = done.stderr.strip() or done.stdout.strip()
        pytest.fail(f"softhsm2-util --init-token failed ({done.returncode}): {output}")
    return SoftHsmToken(module, label, pin, env)


def wipe_token(token: SoftHsmToken) -> None:
    """Destroy every object on the token (between tests that share one token). Logs in through a
    Pkcs11Keystore, which re-initialises SoftHSM2 when SOFTHSM2_CONF pointed elsewhere meanwhile."""
    import pkcs11

    saved = {key: os.environ.get(key) for key in token.env}
    os.environ.update(token.env)
    try:
        with Pkcs11Keystore.open(token.module, token.label, token.pin):  # holds the login meanwhile
            session = pkcs11.lib(token.module).get_token(token_label=token.label).open(rw=True)
            try:
                for obj in list(session.get_objects()):
                    obj.destroy()
            finally:
                session.close()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
