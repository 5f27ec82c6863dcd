"""Writing the issuer's files: whole or not at all, durable, with the mode they need."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["write_atomically"]


def write_atomically(path: str | Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to a temporary file created with ``mode`` (0600 for anything secret, so it is
    never readable by others even for a moment), fsync it, then rename it over ``path``."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)
