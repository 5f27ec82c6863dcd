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

It is also on every transaction's hot path, so it walks offsets over ``bytes`` with no regex and
no per-byte objects, validates the whole tree in one pass, and builds a constructed object's
``children`` only when they are first read (``benchmarks/bench_tlv.py`` measures it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from cardkit.errors import TlvError

__all__ = [
    "Tlv",
    "build",
    "build_constructed",
    "build_dol_data",
    "decode",
    "encode",
    "encode_length",
    "find",
    "find_all",
    "flatten",
    "format_tlv",
    "parse_dol",
    "tag_bytes",
    "walk",
]

_MAX_TAG_LEN = 3  # ISO/IEC 7816-4 §5.2.2.1: one, two or three bytes
_MAX_LEN_BYTES = 3  # EMV Book 3 Annex B: 81 xx, 82 xx xx; 83 xx xx xx kept for ISO 7816-4 extended
_MAX_DEPTH = 32  # EMV nests 4 deep (6F/A5/BF0C/61); a hostile card must not exhaust the stack


@dataclass(frozen=True, slots=True)
class Tlv:
    """One BER-TLV data object.

    ``tag`` is the raw tag bytes. ``value`` is the raw value; for a constructed object it is the
    encoded inner objects (filler bytes included) and ``children`` holds them decoded.

    Building one by hand: ``Tlv(b"\x9f\x36", b"\x00\x01")``; an ``int`` tag such as ``0x9F36`` is
    accepted and stored as bytes. For a constructed tag give either ``children`` (``value`` is
    then encoded from them) or ``value`` (``children`` is then decoded from it). If both are
    given they are kept as they are (``value`` must still be BER-TLV); ``to_bytes``, ``encode``
    and ``flatten`` read ``value``.

    Objects made by :func:`decode` skip ``__init__``. :func:`decode` validates the whole tree but
    builds only the top level; the first read of a top-level object's ``children`` builds its
    whole subtree from ``value`` and stores it, so later reads are plain slot reads. Equality,
    hashing, ``repr``, ``dataclasses.replace`` and pickling see the same fields either way.

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
                else:
                    decode(self.value)  # both given: the value must at least be BER-TLV
            elif self.value:
                object.__setattr__(self, "children", tuple(decode(self.value)))
        elif children:
            raise ValueError(f"primitive tag {tag.hex().upper()} cannot have children")

    def __getattr__(self, name: str) -> tuple[Tlv, ...]:
        # Reached only when a slot is unset, i.e. the children of an object made by decode().
        if name != "children":
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        value = self.value
        kids = tuple(_tree(value, 0, len(value)))  # validated when decoded; builds the subtree
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


_set_children = Tlv.__dict__["children"].__set__  # the slot itself, past the frozen __setattr__


class _Raw:
    """Same slot layout as ``Tlv`` but mutable: the decoder fills one, then retypes it to ``Tlv``.

    Plain slot stores plus a ``__class__`` assignment cost about half of the frozen dataclass's
    ``__init__`` (which goes through ``object.__setattr__`` per field).
    """

    __slots__ = ("tag", "value", "children")  # noqa: RUF023  (same order as Tlv's: layout must match)
    tag: bytes
    value: bytes
    children: tuple[Tlv, ...]


class _Malformed(Exception):
    """Internal: the fast path saw something wrong; :func:`_diagnose` says what and where."""


_TAG1 = tuple(bytes((i,)) for i in range(256))


# --------------------------------------------------------------------------------------------
# decoding


def decode(data: bytes | bytearray | memoryview) -> list[Tlv]:
    """Decode every top-level data object in ``data`` (EMV Book 3 Annex B).

    Args:
        data: zero or more BER-TLV data objects, optionally with ``00``/``FF`` filler around them.

    Returns:
        The top-level objects in order, duplicates kept. Constructed objects carry their decoded
        ``children``, recursively (built on first read; the whole tree is validated here).

    Raises:
        TlvError: truncated tag, length or value; a value overrunning its parent; indefinite
            length (``80``); a length field over 4 bytes (``84``..); a tag over 3 bytes; nesting
            deeper than 32. The offset is counted from the start of ``data``.
    """
    if type(data) is not bytes:
        data = bytes(data)
    try:
        return _level(data, 0, len(data))
    except (IndexError, _Malformed, TlvError):
        pass
    _diagnose(data, 0, len(data), 0)
    raise TlvError("malformed BER-TLV")  # pragma: no cover  (_diagnose always raises first)


# The fast path. _level() builds the top level and validates everything below it; _check()
# validates without building; _tree() builds a validated subtree when its children are read;
# _flat() (for flatten) validates and collects primitives. All four inline the same tag/length
# walk on purpose (a helper call per object is a large share of decode time on this hot path):
# a change to the header rules goes into each of them, and into _diagnose(). None tests bounds
# byte by byte: a tag or length byte read past ``end`` pushes ``pos`` past ``end`` too, which the
# ``pos > end`` and ``pos != end`` tests catch; reading past the buffer raises IndexError. On any of these,
# decode() hands over to _diagnose(), which walks carefully and raises the precise TlvError.


def _level(data: bytes, pos: int, end: int) -> list[Tlv]:
    """Validate ``data[pos:end]`` entirely; build its top level (children come on first read)."""
    out: list[Tlv] = []
    append = out.append
    while pos < end:
        b = data[pos]
        if b & 0x1F != 0x1F:
            if not b:
                pos += 1  # 00 filler, EMV Book 3 Annex B
                continue
            tag = _TAG1[b]
            n = data[pos + 1]
            v = pos + 2
        elif b == 0xFF:
            pos += 1  # FF padding, ISO/IEC 7816-4 §5.2.2.1
            continue
        elif data[pos + 1] & 0x80:
            v = _long_tag(data, pos + 1, end, pos)
            tag = data[pos:v]
            n = data[v]
            v += 1
        else:
            v = pos + 3
            tag = data[pos : v - 1]
            n = data[v - 1]
        if n & 0x80:
            v, n = _fast_length(data, v, n)
        pos = v + n
        if pos > end:
            raise _Malformed
        obj = _Raw()
        obj.tag = tag
        obj.value = data[v:pos]
        if b & 0x20:
            _check(data, v, pos, 1)  # children slot left unset: Tlv.__getattr__ fills it
        else:
            obj.children = ()
        obj.__class__ = Tlv  # type: ignore[assignment]
        append(obj)  # type: ignore[arg-type]
    return out


def _tree(data: bytes, pos: int, end: int) -> list[Tlv]:
    """Build every object in ``data[pos:end]``, which :func:`_check` has already validated."""
    out: list[Tlv] = []
    append = out.append
    while pos < end:
        b = data[pos]
        if b & 0x1F != 0x1F:
            if not b:
                pos += 1
                continue
            tag = _TAG1[b]
            n = data[pos + 1]
            v = pos + 2
        elif b == 0xFF:
            pos += 1
            continue
        else:
            v = pos + 2
            while data[v - 1] & 0x80:
                v += 1
            tag = data[pos:v]
            n = data[v]
            v += 1
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(data[v : v + k], "big")
            v += k
        pos = v + n
        obj = _Raw()
        obj.tag = tag
        obj.value = data[v:pos]
        obj.children = tuple(_tree(data, v, pos)) if b & 0x20 else ()
        obj.__class__ = Tlv  # type: ignore[assignment]
        append(obj)  # type: ignore[arg-type]
    return out


def _check(data: bytes, pos: int, end: int, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise _Malformed
    while pos < end:
        b = data[pos]
        if b & 0x1F != 0x1F:
            if not b:
                pos += 1
                continue
            n = data[pos + 1]
            v = pos + 2
        elif b == 0xFF:
            pos += 1
            continue
        elif data[pos + 1] & 0x80:
            v = _long_tag(data, pos + 1, end, pos)
            n = data[v]
            v += 1
        else:
            n = data[pos + 2]
            v = pos + 3
        if n & 0x80:
            v, n = _fast_length(data, v, n)
        pos = v + n
        if b & 0x20:
            if pos > end:
                raise _Malformed
            _check(data, v, pos, depth + 1)
    if pos != end:
        raise _Malformed


def _fast_length(data: bytes, v: int, first: int) -> tuple[int, int]:
    k = first & 0x7F
    if not 0 < k <= _MAX_LEN_BYTES or v + k > len(data):
        raise _Malformed
    return v + k, int.from_bytes(data[v : v + k], "big")


def _diagnose(data: bytes, pos: int, end: int, depth: int) -> None:
    """Walk ``data[pos:end]`` checking every bound; raise the first error found, precisely.

    The slow path: only run once the fast path has seen that something is wrong.
    """
    where = "left" if depth == 0 else "left in its parent"
    while pos < end:
        start = pos
        b = data[pos]
        pos += 1
        if b & 0x1F == 0x1F:
            if b == 0xFF:
                continue
            pos = _long_tag(data, pos, end, start)
        elif not b:
            continue
        tag = data[start:pos].hex().upper()
        if pos >= end:
            raise TlvError(f"truncated length of tag {tag}", pos)
        n = data[pos]
        pos += 1
        if n & 0x80:
            pos, n = _long_length(data, pos, end, n, tag)
        v_end = pos + n
        if v_end > end:
            raise TlvError(f"value of tag {tag} needs {n} bytes, {end - pos} {where}", pos)
        if b & 0x20:
            if depth >= _MAX_DEPTH:
                raise TlvError(f"tag {tag} nests deeper than {_MAX_DEPTH} levels", start)
            _diagnose(data, pos, v_end, depth + 1)
        pos = v_end


def _long_tag(data: bytes, pos: int, end: int, start: int) -> int:
    """Skip the subsequent tag bytes (b8 set: another follows); return the offset after the tag."""
    while True:
        if pos >= end:
            raise TlvError(f"truncated tag {data[start:pos].hex().upper()}", pos)
        if pos - start >= _MAX_TAG_LEN:
            raise TlvError(f"tag {data[start:pos + 1].hex().upper()}.. longer than 3 bytes", start)
        b = data[pos]
        pos += 1
        if not b & 0x80:
            return pos


def _long_length(data: bytes, pos: int, end: int, first: int, tag: str) -> tuple[int, int]:
    """Read the ``8k`` long-form length whose first byte (at ``pos - 1``) is ``first``."""
    k = first & 0x7F
    where = pos - 1
    if k == 0:
        raise TlvError(f"indefinite length (80) for tag {tag}", where)
    if k > _MAX_LEN_BYTES:
        raise TlvError(f"length field of {k + 1} bytes for tag {tag} (at most 4)", where)
    if pos + k > end:
        raise TlvError(f"truncated length of tag {tag}", where)
    return pos + k, int.from_bytes(data[pos : pos + k], "big")


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


def walk(objs: Iterable[Tlv]) -> Iterator[Tlv]:
    """Every object in ``objs`` and below, depth first, in encoding order."""
    stack = [iter(objs)]
    while stack:
        for o in stack[-1]:
            yield o
            if o.tag[0] & 0x20:
                stack.append(iter(o.children))
                break
        else:
            stack.pop()


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


def flatten(objs: Iterable[Tlv] | bytes | bytearray | memoryview) -> dict[bytes, bytes]:
    """Map every primitive tag in the tree to its value; the first occurrence wins.

    Constructed objects are descended into, not listed: a kernel's data store in one call.
    Given raw bytes, it validates them like :func:`decode` and reads them without building any
    ``Tlv``; given objects, it reads each constructed object's raw ``value`` the same way.

    Raises:
        TlvError: ``objs`` is bytes that are not BER-TLV (see :func:`decode`).
    """
    out: dict[bytes, bytes] = {}
    if isinstance(objs, (bytes, bytearray, memoryview)):
        data = bytes(objs)
        try:
            _flat(data, 0, len(data), out, 0)
            return out
        except (IndexError, _Malformed, TlvError):
            pass
        _diagnose(data, 0, len(data), 0)
        raise TlvError("malformed BER-TLV")  # pragma: no cover  (_diagnose raises first)
    for o in objs:
        if o.tag[0] & 0x20:
            _flat(o.value, 0, len(o.value), out, 1)  # values are BER-TLV (decode/__post_init__)
        elif o.tag not in out:
            out[o.tag] = o.value
    return out


def _flat(data: bytes, pos: int, end: int, out: dict[bytes, bytes], depth: int) -> None:
    """flatten() in one pass: the walk of :func:`_check`, storing primitives as it goes."""
    if depth > _MAX_DEPTH:
        raise _Malformed
    while pos < end:
        b = data[pos]
        if b & 0x1F != 0x1F:
            if not b:
                pos += 1
                continue
            tag = _TAG1[b]
            n = data[pos + 1]
            v = pos + 2
        elif b == 0xFF:
            pos += 1
            continue
        elif data[pos + 1] & 0x80:
            v = _long_tag(data, pos + 1, end, pos)
            tag = data[pos:v]
            n = data[v]
            v += 1
        else:
            v = pos + 3
            tag = data[pos : v - 1]
            n = data[v - 1]
        if n & 0x80:
            v, n = _fast_length(data, v, n)
        pos = v + n
        if b & 0x20:
            if pos > end:
                raise _Malformed
            _flat(data, v, pos, out, depth + 1)
        elif tag not in out:
            out[tag] = data[v:pos]
    if pos != end:
        raise _Malformed


# --------------------------------------------------------------------------------------------
# data object lists (EMV Book 3 §5.4)


def parse_dol(dol: bytes | bytearray | memoryview) -> list[tuple[bytes, int]]:
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
            pos, n = _long_length(dol, pos, end, n, dol[start:tag_end].hex().upper())
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


def format_tlv(
    data: bytes | Sequence[Tlv],
    *,
    context: str | None = None,
    indent: str = "  ",
    show: Callable[[bytes, bytes], str | None] | None = None,
) -> list[str]:
    """Render TLV as indented lines: ``9F36 (Application Transaction Counter) 0001``.

    Constructed objects get a header line and their children one level deeper. Values in
    ``a``/``an``/``ans`` format that are printable also show as text: ``50 (Application Label)
    56495341 "VISA"``. Unknown tags show ``(unknown)``.

    Args:
        data: raw bytes (decoded here) or already-decoded objects.
        context: passed to :func:`cardkit.tags.lookup` (``"emv"``, ``"pboc"``, ``"gp"``,
            ``"icao"``, ``"iso7816"``) where a tag means different things in different applications.
        indent: one level of indentation.
        show: ``show(tag, value) -> text | None``: the text to print instead of a primitive's
            value (``None`` = the usual hex), e.g. a masked PAN.

    Raises:
        TlvError: ``data`` is not BER-TLV (callers fall back to hex).
    """
    from cardkit.tags import lookup

    objs = decode(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
    lines: list[str] = []
    # The direct children of a file control template (62/64/6F) are ISO 7816-4 file parameters
    # (82 file descriptor, not the EMV AIP); deeper levels (A5's EMV data) go back to `context`.
    file_ctx = context if context == "icao" else "iso7816"

    def emit(items: Sequence[Tlv], depth: int, ctx: str | None) -> None:
        for o in items:
            info = lookup(o.tag, context=ctx)
            name = info.name if info is not None else "unknown"
            head = f"{indent * depth}{o.tag.hex().upper()} ({name})"
            if o.tag[0] & 0x20:
                lines.append(head)
                emit(o.children, depth + 1, file_ctx if o.tag in _FILE_TEMPLATES else context)
                continue
            shown = show(o.tag, o.value) if show is not None else None
            if shown is not None:
                lines.append(f"{head} {shown}")
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

    emit(objs, 0, context)
    return lines


_FILE_TEMPLATES = (b"\x62", b"\x64", b"\x6f")
