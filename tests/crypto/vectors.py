"""Loader for tests/vectors/crypto_*.txt.

Format: every vector is one line ``name field=value field=value ...`` (values are hex unless a
test says otherwise), and must be preceded by its own ``# source:`` line (document and
section/table, or repository and file); further ``#`` lines continue the source. Other comment
lines start with ``##``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

VECTOR_DIR = Path(__file__).resolve().parents[1] / "vectors"


@dataclass(frozen=True)
class Vector:
    name: str
    source: str
    fields: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> str:
        return self.fields[key]

    def __contains__(self, key: object) -> bool:
        return key in self.fields

    def h(self, key: str) -> bytes:
        """Field as bytes (hex)."""
        return bytes.fromhex(self.fields[key])

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.fields.get(key, default)


def load(filename: str) -> list[Vector]:
    """All vectors of one file; raises if a vector has no source line of its own."""
    out: list[Vector] = []
    source: list[str] = []
    for lineno, raw in enumerate((VECTOR_DIR / filename).read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("##"):
            continue
        if line.startswith("# source:"):
            source = [line.removeprefix("# source:").strip()]
            continue
        if line.startswith("#"):
            if source:
                source.append(line.lstrip("#").strip())
            continue
        if not source:
            raise ValueError(f"{filename}:{lineno}: vector without its own '# source:' line")
        name, *pairs = line.split()
        fields = dict(p.split("=", 1) for p in pairs)
        out.append(Vector(name, " ".join(source), fields))
        source = []
    return out


def ids(v: Vector) -> str:
    return v.name
