"""BER-TLV as EMV uses it: decode, encode, tag paths, DOLs and a pretty-printer.

EMV Book 3 Annex B defines the coding: tags are kept as the raw bytes received (never re-encoded
as X.690 class/number pairs, so ``9F10`` stays ``9F10`` and ``BF0C`` stays ``BF0C``), lengths are
``xx``, ``81 xx``, ``82 xx xx`` or ``83 xx xx xx``, and ``00`` bytes (and ISO 7816-4 ``FF`` padding)
may sit before, between and after data objects. Order and duplicates are kept: a kernel reading six
records gets six ``70`` templates.

The decoder is strict. A truncated tag, length or value, a value that overruns its parent, the
indefinite length ``80`` or a length field longer than three bytes raise
:class:`cardkit.errors.TlvError` naming what broke and where, as an offset from the start of the
buffer handed to :func:`decode`.

It is also on every transaction's hot path, so it walks offsets over ``bytes`` and builds as few
objects as it can: :func:`decode` validates the whole tree up front but creates the ``Tlv`` objects
of a constructed value's ``children`` only when they are first read (see :class:`Tlv`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cardkit.errors import TlvError

__all__ = [
    "Tlv",
    "decode",
    "encode",
    "build",
    "build_constructed",
    "find",
    "find_all",
    "flatten",
    "walk",
    "parse_dol",
    "build_dol_data",
    "format_tlv",
    "tag_bytes",
    "encode_length",
]

_MAX_TAG_LEN = 3  # ISO/IEC 7816-4 §5.2.2.1: one, two or three bytes
_MAX_LEN_BYTES = 3  # EMV Book 3 Annex B: 81 xx, 82 xx xx; 83 xx xx xx kept for ISO 7816-4 extended


@dataclass(frozen=True, slots=True)
class Tlv:
    """One BER-TLV data object.

    ``tag`` is the raw tag bytes. ``value`` is the raw value; for a constructed object it is the
    encoded inner objects (filler bytes included) and ``children`` holds them decoded.

    Building one by hand: ``Tlv(b"\\x9f\\x36", b"\\x00\\x01")``; an ``int`` tag such as ``0x9F36`` is
    accepted and stored as bytes. For a constructed tag give either ``children`` (``value`` is
    then encoded from them) or ``value`` (``children`` is then decoded from it). If both are
    given they are kept as they are; ``to_bytes`` always writes ``value``.

    Objects made by :func:`decode` skip ``__init__`` and leave ``children`` to be decoded on first
    read from the already-validated ``value``; the result is stored, so later reads are plain
    attribute reads. Equality, hashing, ``repr`` and pickling see the same fields either way.

    Raises:
        TlvError: a malformed tag, or a constructed ``value`` that is not BER-TLV.
        ValueError: ``children`` given for a primitive tag.
    """

    tag: bytes
    value: bytes
    children: tuple[Tlv, ...] = ()

    def __post_init__(self) -> None:
        tag = self.tag
        if not isinstance(tag, bytes):
            tag = tag_bytes(tag)
            object.__setattr__(self, "tag", tag)
        else:
            _check_tag(tag)
        if not isinstance(self.value, bytes):
            object.__setattr__(self, "value", bytes(self.value))
        children = self.children
        if tag[0] & 0x20:
            if children:
                children = tuple(children)
                object.__setattr__(self, "children", children)
                if not self.value:
                    object.__setattr__(self, "value", encode(children))
            elif self.value:
                object.__setattr__(self, "children", tuple(decode(self.value)))
        elif children:
            raise ValueError(f"primitive tag {tag.hex().upper()} cannot have children")

    def __getattr__(self, name: str) -> tuple[Tlv, ...]:
        # Only reached for a slot left unset by decode(): decode the children now, keep them.
        if name != "children":
            raise AttributeError(name)
        value = self.value
        kids: tuple[Tlv, ...] = tuple(_objects(value, 0, len(value))) if self.tag[0] & 0x20 else ()
        _set_children(self, kids)
        return kids

    @property
    def constructed(self) -> bool:
        """True when bit 6 of the first tag byte is set (ISO/IEC 8825-1 §8.1.2.5)."""
        return bool(self.tag[0] & 0x20)

    def to_bytes(self) -> bytes:
        """Tag, minimal length and value."""
        n = len(self.value)
        if n < 0x80:
            return self.tag + bytes((n,)) + self.value
        return self.tag + encode_length(n) + self.value

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    def find(self, path: bytes | int | Sequence[bytes | int]) -> Tlv | None:
        """``find(self.children, path)``."""
        return find(self.children, path)


_new = object.__new__
_set_tag = Tlv.tag.__set__  # type: ignore[attr-defined]  # slot descriptors: no __init__ frame
_set_value = Tlv.value.__set__  # type: ignore[attr-defined]
_set_children = Tlv.children.__set__  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------
# decoding


def decode(data: bytes | bytearray | memoryview) -> list[Tlv]:
    """Decode every top-level data object in ``data``.

    Args:
        data: zero or more BER-TLV data objects, optionally with ``00``/``FF`` filler between them.

    Returns:
        The top-level objects in order, duplicates kept. Constructed objects carry their decoded
        ``children`` (materialised on first read; the whole tree is validated here).

    Raises:
        TlvError: truncated tag/length/value, a value overrunning its parent, indefinite length
            (``80``), a length field over three bytes or a tag over three bytes; the offset is
            counted from the start of ``data``.
    """
    if type(data) is not bytes:
        data = bytes(data)
    return _decode(data, 0, len(data))


def _decode(data: bytes, pos: int, end: int) -> list[Tlv]:
    """Top level: build objects, validate (but do not build) what constructed values hold."""
    out: list[Tlv] = []
    append = out.append
    while pos < end:
        start = pos
        b = data[pos]
        pos += 1
        if b & 0x1F != 0x1F:
            if not b:
                continue  # 00 filler
        else:
            if b == 0xFF:
                continue  # FF padding
            pos = _long_tag(data, pos, end, start)
        tag_end = pos
        if pos >= end:
            raise TlvError(f"truncated length of tag {data[start:tag_end].hex().upper()}", pos)
        n = data[pos]
        pos += 1
        if n & 0x80:
            pos, n = _long_length(data, pos, end, n, start, tag_end)
        v_end = pos + n
        if v_end > end:
            raise TlvError(
                f"value of tag {data[start:tag_end].hex().upper()} needs {n} bytes, "
                f"{end - pos} left",
                pos,
            )
        obj = _new(Tlv)
        _set_tag(obj, data[start:tag_end])
        _set_value(obj, data[pos:v_end])
        if b & 0x20:
            _check(data, pos, v_end)
        else:
            _set_children(obj, ())
        append(obj)
        pos = v_end
    return out


def _check(data: bytes, pos: int, end: int) -> None:
    """Validate the objects in ``data[pos:end]`` and everything inside them; build nothing."""
    while pos < end:
        start = pos
        b = data[pos]
        pos += 1
        if b & 0x1F != 0x1F:
            if not b:
                continue
        else:
            if b == 0xFF:
                continue
            pos = _long_tag(data, pos, end, start)
        if pos >= end:
            raise TlvError(f"truncated length of tag {data[start:pos].hex().upper()}", pos)
        n = data[pos]
        if n & 0x80:
            tag_end = pos
            pos, n = _long_length(data, pos + 1, end, n, start, tag_end)
        else:
            pos += 1
        v_end = pos + n
        if v_end > end:
            raise TlvError(
                f"value of tag {_tag_hex(data, start)} needs {n} bytes, overruns its parent "
                f"({end - pos} left)",
                pos,
            )
        if b & 0x20:
            _check(data, pos, v_end)
        pos = v_end


def _objects(data: bytes, pos: int, end: int) -> list[Tlv]:
    """Build the objects of an already-validated region (used for lazy ``children``)."""
    out: list[Tlv] = []
    append = out.append
    while pos < end:
        start = pos
        b = data[pos]
        pos += 1
        if b & 0x1F != 0x1F:
            if not b:
                continue
        else:
            if b == 0xFF:
                continue
            while data[pos] & 0x80:
                pos += 1
            pos += 1
        tag_end = pos
        n = data[pos]
        pos += 1
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(data[pos : pos + k], "big")
            pos += k
        v_end = pos + n
        obj = _new(Tlv)
        _set_tag(obj, data[start:tag_end])
        _set_value(obj, data[pos:v_end])
        if not b & 0x20:
            _set_children(obj, ())
        append(obj)
        pos = v_end
    return out


def _long_tag(data: bytes, pos: int, end: int, start: int) -> int:
    """Skip the subsequent tag bytes (b8 set = another follows); return the offset after the tag."""
    while True:
        if pos >= end:
            raise TlvError(f"truncated tag {data[start:pos].hex().upper()}", pos)
        if pos - start >= _MAX_TAG_LEN:
            raise TlvError(f"tag {data[start:pos + 1].hex().upper()}.. longer than 3 bytes", start)
        b = data[pos]
        pos += 1
        if not b & 0x80:
            return pos


def _long_length(
    data: bytes, pos: int, end: int, first: int, start: int, tag_end: int
) -> tuple[int, int]:
    """Read the ``8k`` long-form length whose first byte (at ``pos - 1``) is ``first``."""
    k = first & 0x7F
    where = pos - 1
    tag = data[start:tag_end].hex().upper()
    if k == 0:
        raise TlvError(f"indefinite length (80) for tag {tag}", where)
    if k > _MAX_LEN_BYTES:
        raise TlvError(f"length field of {k + 1} bytes for tag {tag} (at most 4)", where)
    if pos + k > end:
        raise TlvError(f"truncated length of tag {tag}", where)
    return pos + k, int.from_bytes(data[pos : pos + k], "big")


def _tag_hex(data: bytes, start: int) -> str:
    pos = start + 1
    if data[start] & 0x1F == 0x1F:
        while pos < len(data) and data[pos] & 0x80:
            pos += 1
        pos += 1
    return data[start:pos].hex().upper()


# --------------------------------------------------------------------------------------------
# encoding


def tag_bytes(tag: bytes | int) -> bytes:
    """Return ``tag`` as raw bytes (``0x9F36`` -> ``b"\\x9f\\x36"``), checking it is one well-formed tag.

    Raises:
        TlvError: not a single EMV/BER tag of one to three bytes.
    """
    if isinstance(tag, int):
        if tag <= 0:
            raise TlvError(f"tag {tag:#x} is not a tag")
        tag = tag.to_bytes((tag.bit_length() + 7) // 8, "big")
    elif not isinstance(tag, bytes):
        tag = bytes(tag)
    _check_tag(tag)
    return tag


def _check_tag(tag: bytes) -> None:
    n = len(tag)
    if not 1 <= n <= _MAX_TAG_LEN:
        raise TlvError(f"tag {tag.hex().upper()!r} must be 1 to 3 bytes")
    first = tag[0]
    if first == 0x00 or first == 0xFF:
        raise TlvError(f"tag {tag.hex().upper()} starts with a filler byte")
    if first & 0x1F != 0x1F:
        if n != 1:
            raise TlvError(f"tag {tag.hex().upper()}: first byte says one-byte tag")
        return
    if n == 1:
        raise TlvError(f"tag {tag.hex().upper()}: first byte says more bytes follow")
    for i in range(1, n):
        more = tag[i] & 0x80
        if bool(more) != (i < n - 1):
            raise TlvError(f"tag {tag.hex().upper()}: bad continuation bit in byte {i + 1}")


def encode_length(n: int) -> bytes:
    """Minimal BER length field for a value of ``n`` bytes (EMV Book 3 Annex B)."""
    if n < 0x80:
        if n < 0:
            raise TlvError(f"negative length {n}")
        return bytes((n,))
    if n <= 0xFF:
        return bytes((0x81, n))
    if n <= 0xFFFF:
        return bytes((0x82, n >> 8, n & 0xFF))
    if n <= 0xFFFFFF:
        return bytes((0x83, n >> 16, (n >> 8) & 0xFF, n & 0xFF))
    raise TlvError(f"value of {n} bytes is too long for a 3-byte length")


def build(tag: bytes | int, value: bytes) -> bytes:
    """Encode one data object: tag, minimal length, value.

    >>> build(0x9F36, b"\\x00\\x01").hex()
    '9f36020001'
    """
    if type(tag) is not bytes:
        tag = tag_bytes(tag)
    n = len(value)
    if n < 0x80:
        return tag + bytes((n,)) + value
    return tag + encode_length(n) + value


def build_constructed(tag: bytes | int, *children: bytes | Tlv) -> bytes:
    """Encode a constructed object whose value is ``children`` (encoded bytes or ``Tlv``) in order.

    Raises:
        TlvError: ``tag`` is not a constructed tag.
    """
    tag = tag_bytes(tag)
    if not tag[0] & 0x20:
        raise TlvError(f"tag {tag.hex().upper()} is primitive")
    return build(tag, b"".join(c.to_bytes() if isinstance(c, Tlv) else c for c in children))


def encode(objs: Iterable[Tlv]) -> bytes:
    """Concatenate the encodings of ``objs`` (the inverse of :func:`decode` for minimal lengths)."""
    parts: list[bytes] = []
    append = parts.append
    for o in objs:
        v = o.value
        n = len(v)
        append(o.tag)
        append(bytes((n,)) if n < 0x80 else encode_length(n))
        append(v)
    return b"".join(parts)


# --------------------------------------------------------------------------------------------
# searching


def walk(objs: Iterable[Tlv]) -> Iterable[Tlv]:
    """Every object in ``objs`` and below, depth first, in encoding order."""
    for o in objs:
        yield o
        if o.tag[0] & 0x20:
            yield from walk(o.children)


def find(objs: Sequence[Tlv], path: bytes | int | Sequence[bytes | int]) -> Tlv | None:
    """Find one object.

    Args:
        objs: decoded objects (e.g. the result of :func:`decode`).
        path: a single tag (``b"\\x9f\\x36"`` or ``0x9F36``): the first object with that tag,
            searched depth first; or a sequence of tags (``[b"\\x6f", b"\\xa5", b"\\x50"]``):
            each step looks only at the direct children of the previous match (the first step
            at ``objs`` itself), taking the first match.

    Returns:
        The object, or ``None``.
    """
    if isinstance(path, (bytes, int)):
        want = path if type(path) is bytes else tag_bytes(path)
        for o in walk(objs):
            if o.tag == want:
                return o
        return None
    level: Sequence[Tlv] = objs
    found: Tlv | None = None
    for step in path:
        want = step if type(step) is bytes else tag_bytes(step)
        for o in level:
            if o.tag == want:
                found = o
                break
        else:
            return None
        level = found.children
    return found


def find_all(objs: Sequence[Tlv], tag: bytes | int) -> list[Tlv]:
    """Every object with ``tag`` anywhere in the tree, depth first, in encoding order."""
    want = tag if type(tag) is bytes else tag_bytes(tag)
    return [o for o in walk(objs) if o.tag == want]


def flatten(objs: Iterable[Tlv]) -> dict[bytes, bytes]:
    """Map every primitive tag in the tree to its value; the first occurrence wins.

    Constructed objects are descended into, not listed. Handy for a kernel's data store.
    """
    out: dict[bytes, bytes] = {}
    for o in walk(objs):
        if not o.tag[0] & 0x20 and o.tag not in out:
            out[o.tag] = o.value
    return out


# --------------------------------------------------------------------------------------------
# data object lists (EMV Book 3 §5.4)


def parse_dol(dol: bytes) -> list[tuple[bytes, int]]:
    """Split a DOL (PDOL, CDOL1/2, DDOL, TDOL) into ``(tag, length)`` pairs, in order.

    Raises:
        TlvError: a truncated tag or length, or a malformed length field.
    """
    dol = bytes(dol)
    out: list[tuple[bytes, int]] = []
    pos, end = 0, len(dol)
    while pos < end:
        start = pos
        b = dol[pos]
        pos += 1
        if b & 0x1F == 0x1F:
            pos = _long_tag(dol, pos, end, start)
        elif b == 0:
            raise TlvError("tag 00 in DOL", start)
        tag_end = pos
        if pos >= end:
            raise TlvError(f"truncated length of DOL entry {dol[start:tag_end].hex().upper()}", pos)
        n = dol[pos]
        pos += 1
        if n & 0x80:
            pos, n = _long_length(dol, pos, end, n, start, tag_end)
        out.append((dol[start:tag_end], n))
    return out


def build_dol_data(
    dol: bytes | Sequence[tuple[bytes, int]],
    values: Mapping[bytes, bytes],
    *,
    formats: Mapping[bytes, str] | None = None,
) -> bytes:
    """Build the data a DOL asks for, by the rules of EMV Book 3 §5.4.

    For each ``(tag, length)`` entry: a tag with no value in ``values``, or a constructed tag,
    gives ``length`` zero bytes. A longer value is cut to ``length``: numeric (``n``) values keep
    their rightmost bytes, all others their leftmost. A shorter value is padded: ``n`` with
    leading ``00``, compressed numeric (``cn``) with trailing ``FF``, everything else with
    trailing ``00``.

    Args:
        dol: the raw DOL or the output of :func:`parse_dol`.
        values: the terminal's data, by raw tag.
        formats: per-tag format overrides; otherwise :mod:`cardkit.tags` is asked.

    Returns:
        The concatenated values, exactly as long as the DOL's lengths add up to.
    """
    from cardkit.tags import lookup  # local: tags imports this module

    entries = parse_dol(dol) if isinstance(dol, (bytes, bytearray, memoryview)) else dol
    parts: list[bytes] = []
    for tag, length in entries:
        value = values.get(tag)
        if value is None or tag[0] & 0x20:
            parts.append(bytes(length))
            continue
        fmt = formats.get(tag) if formats else None
        if fmt is None:
            info = lookup(tag)
            fmt = info.fmt if info is not None else "b"
        have = len(value)
        if have == length:
            parts.append(value)
        elif have > length:
            parts.append(value[have - length :] if fmt == "n" else value[:length])
        elif fmt == "n":
            parts.append(bytes(length - have) + value)
        elif fmt == "cn":
            parts.append(value + b"\xff" * (length - have))
        else:
            parts.append(value + bytes(length - have))
    return b"".join(parts)


# --------------------------------------------------------------------------------------------
# pretty-printing


def format_tlv(data: bytes | Sequence[Tlv], *, context: str | None = None, indent: str = "  ") -> list[str]:
    """Render TLV as indented lines: ``9F36 (Application Transaction Counter) 0001``.

    Constructed objects get a header line and their children one level deeper. Values in
    ``a``/``an``/``ans`` format that are printable also show as text: ``50 (Application Label)
    56495341 "VISA"``. Unknown tags show ``(unknown)``.

    Args:
        data: raw bytes (decoded here) or already-decoded objects.
        context: passed to :func:`cardkit.tags.lookup` (``"emv"``, ``"pboc"``, ``"gp"``,
            ``"icao"``) where a tag means different things in different applications.
        indent: one level of indentation.

    Raises:
        TlvError: ``data`` is not BER-TLV (callers fall back to hex).
    """
    from cardkit.tags import lookup

    objs = decode(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
    lines: list[str] = []

    def emit(items: Sequence[Tlv], depth: int) -> None:
        for o in items:
            info = lookup(o.tag, context=context)
            name = info.name if info is not None else "unknown"
            head = f"{indent * depth}{o.tag.hex().upper()} ({name})"
            if o.tag[0] & 0x20:
                lines.append(head)
                emit(o.children, depth + 1)
                continue
            text = o.value.hex().upper()
            if info is not None and info.fmt in ("a", "an", "ans") and o.value:
                try:
                    s = o.value.decode("ascii")
                except UnicodeDecodeError:
                    s = ""
                if s and s.isprintable():
                    text += f' "{s}"'
            lines.append(f"{head} {text}" if text else head)

    emit(objs, 0)
    return lines
