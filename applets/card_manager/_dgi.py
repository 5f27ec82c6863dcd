"""The DGI stream of STORE DATA in DGI format (GP 2.3 §11.11.2.2, EMV CPS §4.3).

Each data grouping: DGI (2 bytes) || length (1 byte, or ``FF`` and 2 bytes for 255 and more) ||
value. The host may cut the stream anywhere between two blocks, so the card buffers the blocks and
parses the whole stream on the last one.
"""

from __future__ import annotations

__all__ = ["parse_dgi_stream"]


def parse_dgi_stream(data: bytes) -> dict[int, bytes]:
    """DGI → value, in stream order.

    Raises:
        ValueError: a truncated header or value, or a DGI given twice (naming the DGI).
    """
    out: dict[int, bytes] = {}
    pos, end = 0, len(data)
    while pos < end:
        if pos + 3 > end:
            raise ValueError(f"truncated DGI header at offset {pos}")
        dgi, length = int.from_bytes(data[pos : pos + 2], "big"), data[pos + 2]
        pos += 3
        if length == 0xFF:
            if pos + 2 > end:
                raise ValueError(f"DGI {dgi:04X}: truncated 3-byte length")
            length = int.from_bytes(data[pos : pos + 2], "big")
            pos += 2
        if pos + length > end:
            raise ValueError(f"DGI {dgi:04X}: value of {length} bytes is truncated")
        if dgi in out:
            raise ValueError(f"DGI {dgi:04X} appears twice")
        out[dgi] = bytes(data[pos : pos + length])
        pos += length
    return out
