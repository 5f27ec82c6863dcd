"""docs/eid.md's example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "eid.md"


def test_the_example_runs() -> None:
    example = re.search(r"## Example\n\n```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert example is not None
    exec(compile(example.group(1), str(DOC), "exec"), {})  # noqa: S102 (our own document)
