"""A thin, strict reader of the ASN.1 DER that EF.SOD carries (ITU-T X.690 §8, §10; RFC 5652).

Just enough for passive authentication: walk a tree of (tag, value, raw bytes), read OIDs,
INTEGERs and OCTET STRINGs. The raw encoding of every element is kept, because the signed
attributes and the certificates are verified over their bytes as received. BER indefinite
lengths (some issuers' SODs use them on the outer layers) are accepted on constructed elements.
"""

from __future__ import annotations

from dataclasses import dataclass

from cardkit.eid.errors import EidError

__all__ = [
    "BOOLEAN", "CONTEXT_0", "CONTEXT_1", "Der", "INTEGER", "NULL", "OCTET_STRING", "OID", "SEQUENCE", "SET",
    "decode", "decode_all", "oid_text",
]

BOOLEAN, INTEGER, OCTET_STRING, NULL, OID, SEQUENCE, SET = 0x01, 0x02, 0x04, 0x05, 0x06, 0x30, 0x31
CONTEXT_0, CONTEXT_1 = 0xA0, 0xA1  # [0] / [1] constructed
_MAX_DEPTH = 24


@dataclass(frozen=True, slots=True)
class Der:
    """One element: ``tag`` (the identifier octet), ``value`` (content octets), ``raw`` (all of it)."""

    tag: int
    value: bytes
    raw: bytes

    @property
    def constructed(self) -> bool:
        return bool(self.tag & 0x20)

    def children(self) -> list[Der]:
        """The elements inside a constructed element."""
        if not self.constructed:
            raise EidError(f"ASN.1: element {self.tag:02X} is primitive, a constructed one was expected")
        return decode_all(self.value)

    def expect(self, tag: int, what: str) -> Der:
        """``self`` if its tag is ``tag``; else :class:`EidError` naming ``what``."""
        if self.tag != tag:
            raise EidError(f"ASN.1: {what} has tag {self.tag:02X}, expected {tag:02X}")
        return self

    def integer(self) -> int:
        self.expect(INTEGER, "INTEGER")
        if not self.value:
            raise EidError("ASN.1: empty INTEGER")
        return int.from_bytes(self.value, "big", signed=True)

    def oid(self) -> str:
        return oid_text(self.expect(OID, "OBJECT IDENTIFIER").value)


def oid_text(value: bytes) -> str:
    """Dotted text of the content octets of an OBJECT IDENTIFIER (X.690 §8.19)."""
    if not value or value[-1] & 0x80:
        raise EidError("ASN.1: malformed OBJECT IDENTIFIER")
    arcs: list[int] = []
    n = 0
    for b in value:
        n = (n << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(n)
            n = 0
    first = arcs[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(a) for a in head + arcs[1:])


def _length(data: bytes, pos: int) -> tuple[int | None, int]:
    if pos >= len(data):
        raise EidError("ASN.1: truncated length")
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    if first == 0x80:
        return None, pos + 1  # indefinite (BER)
    count = first & 0x7F
    if count > 4 or pos + 1 + count > len(data):
        raise EidError("ASN.1: truncated or oversized length")
    return int.from_bytes(data[pos + 1 : pos + 1 + count], "big"), pos + 1 + count


def _element(data: bytes, pos: int, depth: int) -> tuple[Der, int]:
    if depth > _MAX_DEPTH:
        raise EidError("ASN.1: nested too deeply")
    start = pos
    if pos >= len(data):
        raise EidError("ASN.1: truncated tag")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise EidError(f"ASN.1: multi-byte tag {tag:02X}.. is not used by EF.SOD")
    n, pos = _length(data, pos + 1)
    if n is None:
        if not tag & 0x20:
            raise EidError("ASN.1: indefinite length on a primitive element")
        inner = pos
        while True:
            if data[pos : pos + 2] == b"\x00\x00":
                content = data[inner:pos]
                pos += 2
                break
            _, pos = _element(data, pos, depth + 1)
        return Der(tag, bytes(content), bytes(data[start:pos])), pos
    end = pos + n
    if end > len(data):
        raise EidError(f"ASN.1: element {tag:02X} of {n} bytes overruns its container")
    return Der(tag, bytes(data[pos:end]), bytes(data[start:end])), end


def decode_all(data: bytes) -> list[Der]:
    """Every element of ``data``, in order (trailing garbage is an error)."""
    out: list[Der] = []
    pos = 0
    while pos < len(data):
        element, pos = _element(data, pos, 0)
        out.append(element)
    return out


def decode(data: bytes) -> Der:
    """Exactly one element filling ``data``."""
    element, end = _element(data, 0, 0)
    if end != len(data):
        raise EidError(f"ASN.1: {len(data) - end} bytes after the element")
    return element
