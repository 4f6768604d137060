"""Pack and unpack stream payloads to and from integers and numpy arrays, by their layout.

An Amaranth ``data.StructLayout`` / ``data.ArrayLayout`` fixes where every field of a payload sits
(LSB first); in the generated Verilog, in a cocotb handle and in a batch capture the payload is one
flat integer or bit vector. This module is the only place that converts between the two: it reads
every offset and width from the layout itself, so no testbench, scoreboard, replay or capture path
retypes a shift, and a layout change reaches all of them at once.

Values mirror the layout's nesting:

* a struct is a ``dict`` of its fields, an array a ``list`` of its elements (scalar functions);
* the vectorised functions take and give one numpy array per leaf, with the batch axis first and
  one more axis per enclosing ``ArrayLayout`` (``symbol_beat(4)``'s ``symbol.intensity`` is
  ``[n, 4]``), in nested ``dict``\\ s (an array of structs is a struct of arrays);
* a leaf is an integer: enum fields give their value, signed fields are sign-extended.

Leaves up to 64 bits come back as ``uint64`` (``int64`` when signed) arrays, wider ones as object
arrays of Python integers; a packed batch is ``uint64`` when the layout fits in 64 bits, else an
object array.

Example::

    >>> from rtl.sifting.layouts import Report
    >>> value = pack(Report, {"pulse": 5, "basis": 1, "sampled": 0, "bit": 1})
    >>> unpack(Report, value)
    {'pulse': 5, 'basis': 1, 'sampled': 0, 'bit': 1}
"""

from __future__ import annotations

import enum as py_enum
import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from amaranth.hdl import Shape
from amaranth.lib import data

__all__ = [
    "Leaf", "PayloadError", "leaves", "pack", "pack_array", "pack_bits", "pack_bytes", "unpack",
    "unpack_array", "unpack_bits",
]


class PayloadError(ValueError):
    """A value does not fit the layout (missing or unknown field, out-of-range leaf, bad shape)."""


@dataclass(frozen=True)
class Leaf:
    """One scalar field of a layout: its path from the top, bit offset, width, signedness and
    its enum class (``None`` for a plain integer field)."""

    path: tuple[str | int, ...]
    offset: int
    width: int
    signed: bool
    enum: type[py_enum.Enum] | None = None

    @property
    def name(self) -> str:
        return ".".join(str(p) for p in self.path)


def _sub_layout(shape: Any) -> data.Layout | None:
    if isinstance(shape, data.Layout):
        return shape
    if isinstance(shape, type) and issubclass(shape, data.View):
        return data.Layout.cast(shape)
    return None


def leaves(layout: data.Layout) -> tuple[Leaf, ...]:
    """Every scalar field of ``layout`` in offset order, nested layouts flattened.

    Computed once per layout: batch scoreboards unpack the same layouts thousands of times, and
    walking a layout through Amaranth's shape casts costs more than unpacking a small batch."""
    return _leaves(layout)


@functools.cache
def _size(layout: data.Layout) -> int:
    """``layout.size`` (Amaranth recomputes it from the fields on every access)."""
    return layout.size


@functools.cache
def _leaves(layout: data.Layout) -> tuple[Leaf, ...]:
    return tuple(_walk(layout, (), 0))


def _walk(layout: data.Layout, path: tuple, offset: int) -> Iterator[Leaf]:
    for key, field in layout:
        sub = _sub_layout(field.shape)
        if sub is not None:
            yield from _walk(sub, (*path, key), offset + field.offset)
        else:
            shape = Shape.cast(field.shape)
            is_enum = isinstance(field.shape, type) and issubclass(field.shape, py_enum.Enum)
            yield Leaf((*path, key), offset + field.offset, shape.width, shape.signed,
                       field.shape if is_enum else None)


def _leaf_int(leaf: Leaf, value: Any) -> int:
    if isinstance(value, py_enum.Enum):
        value = value.value
    v = int(value)
    low = -(1 << (leaf.width - 1)) if leaf.signed else 0
    high = 1 << (leaf.width - 1) if leaf.signed else 1 << leaf.width
    if not low <= v < high:
        raise PayloadError(f"field {leaf.name}={v} does not fit in {leaf.width} bits"
                           f"{' (signed)' if leaf.signed else ''}")
    return v & ((1 << leaf.width) - 1)


def _lookup(value: Any, path: tuple) -> Any:
    for key in path:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            raise PayloadError(f"payload has no field {'.'.join(map(str, path))}") from None
    return value


def _check_keys(layout: data.Layout, value: Any, where: str = "", batched: bool = False) -> None:
    """Unknown struct fields are an error, not silently dropped bits; so is an array of the
    wrong length (``batched``: arrays carry the batch axis first, checked per leaf)."""
    if isinstance(layout, data.StructLayout) and isinstance(value, Mapping):
        known = set(layout.members)
        extra = set(value) - known
        if extra:
            raise PayloadError(f"unknown field(s) {sorted(extra)} for layout {where or 'payload'}"
                               f" (fields: {sorted(known)})")
        for key, field in layout:
            sub = _sub_layout(field.shape)
            if sub is not None and key in value:
                _check_keys(sub, value[key], f"{where}.{key}" if where else key, batched)
    elif isinstance(layout, data.ArrayLayout) and isinstance(value, Mapping):
        sub = _sub_layout(layout.elem_shape)
        if sub is not None:  # an array of structs given as a struct of [n, length] arrays
            _check_keys(sub, value, where, batched)
    elif (isinstance(layout, data.ArrayLayout) and isinstance(value, Sequence | np.ndarray)
          and not batched):
        if len(value) != layout.length:
            raise PayloadError(f"array {where or 'payload'} has {len(value)} elements, layout has "
                               f"{layout.length}")
        sub = _sub_layout(layout.elem_shape)
        if sub is not None:
            for i, element in enumerate(value):
                _check_keys(sub, element, f"{where}.{i}" if where else str(i))


def pack(layout: data.Layout, value: Any) -> int:
    """The flat integer of one payload given as nested dicts / lists of leaf values."""
    _check_keys(layout, value)
    out = 0
    for leaf in leaves(layout):
        out |= _leaf_int(leaf, _lookup(value, leaf.path)) << leaf.offset
    return out


def _signed(v: int, width: int) -> int:
    return v - (1 << width) if v >> (width - 1) else v


def _insert(tree: dict, path: tuple, value: Any) -> None:
    """Set ``value`` at ``path`` in nested dicts; array indices become a list at their level."""
    node: Any = tree
    for depth, key in enumerate(path[:-1]):
        nxt = path[depth + 1]
        default: Any = [] if isinstance(nxt, int) else {}
        if isinstance(node, list):
            while len(node) <= key:
                node.append([] if isinstance(nxt, int) else {})
            node = node[key]
        else:
            node = node.setdefault(key, default)
    last = path[-1]
    if isinstance(node, list):
        while len(node) <= last:
            node.append(None)
        node[last] = value
    else:
        node[last] = value


def unpack(layout: data.Layout, value: int) -> Any:
    """One flat payload integer as nested dicts (structs) and lists (arrays) of integers."""
    value = int(value)
    if value < 0 or value >> _size(layout):
        raise PayloadError(f"payload {value:#x} is wider than the layout's {layout.size} bits")
    tree: dict = {}
    for leaf in leaves(layout):
        v = (value >> leaf.offset) & ((1 << leaf.width) - 1)
        _insert(tree, ("root", *leaf.path), _signed(v, leaf.width) if leaf.signed else v)
    return tree["root"]


def _wider(size: int) -> PayloadError:
    return PayloadError(f"payload wider than the layout's {size} bits (or negative)")


def _as_bytes(values: np.ndarray | Sequence[int], size: int) -> np.ndarray:
    """``[n, max(1, ceil(size / 8))]`` uint8 matrix (byte 0 first) of flat payload integers,
    or of a ``[n, size]`` bit matrix (bit 0 first)."""
    arr = np.asarray(values)
    nbytes = max(1, -(-size // 8))
    if arr.ndim == 2:
        if arr.shape[1] != size:
            raise PayloadError(f"bit matrix has {arr.shape[1]} columns, layout has {size} bits")
        raw = np.packbits(arr.astype(np.uint8, copy=False), axis=1, bitorder="little")
        return raw if size else np.zeros((len(arr), 1), dtype=np.uint8)
    if len(arr) and arr.dtype.kind not in "iubO":
        raise PayloadError(f"payloads must be integers, got {arr.dtype}")
    if arr.dtype != object and size <= 64:
        if arr.dtype.kind == "i" and len(arr) and arr.min() < 0:
            raise _wider(size)
        words = arr.astype("<u8")
        if size < 64 and np.any(words >> np.uint64(size)):
            raise _wider(size)
        return words.reshape(-1, 1).view(np.uint8)[:, :nbytes]
    try:
        raw = b"".join(int(v).to_bytes(nbytes, "little") for v in arr.ravel())
    except OverflowError:
        raise _wider(size) from None
    out = np.frombuffer(raw, dtype=np.uint8).reshape(-1, nbytes)
    if size % 8 and np.any(out[:, -1] >> (size % 8)):
        raise _wider(size)
    return out


def _words(raw: np.ndarray) -> np.ndarray:
    """``[words, n]`` uint64 of a little-endian byte matrix (word-major: each field reads
    contiguous rows), with a spare zero word so that a field may always read the word after its
    first."""
    n, nbytes = raw.shape
    padded = np.zeros((n, 8 * (nbytes // 8 + 2)), dtype=np.uint8)
    padded[:, :nbytes] = raw
    return np.ascontiguousarray(padded.view("<u8").T, dtype=np.uint64)


def _piece(words: np.ndarray, offset: int, width: int) -> np.ndarray:
    """Bits ``[offset, offset + width)`` (width <= 64) of every beat, as uint64."""
    k, shift = divmod(offset, 64)
    v = words[k] >> np.uint64(shift)
    if shift and shift + width > 64:
        v |= words[k + 1] << np.uint64(64 - shift)
    return v & np.uint64((1 << width) - 1) if width < 64 else v


def _leaf_of_words(words: np.ndarray, leaf: Leaf) -> np.ndarray:
    """One leaf of every row: uint64 (int64 when signed) up to 64 bits, else Python ints."""
    if leaf.width <= 64:
        v = (_piece(words, leaf.offset, leaf.width) if leaf.width
             else np.zeros(words.shape[1], np.uint64))
        if leaf.signed:
            v = v.view(np.int64)
            if leaf.width < 64:
                v = v - (((v >> (leaf.width - 1)) & 1) << leaf.width)
        return v
    out = np.zeros(words.shape[1], dtype=object)
    for lsb in range(0, leaf.width, 64):
        width = min(64, leaf.width - lsb)
        out = out | _piece(words, leaf.offset + lsb, width).astype(object) << lsb
    if leaf.signed:
        out = np.array([_signed(int(v), leaf.width) for v in out], dtype=object)
    return out


def _gather(layout: data.Layout, per_leaf: Mapping[tuple, np.ndarray]) -> Any:
    """Nested dicts of arrays, array layouts stacked on a new axis 1 (struct of arrays)."""
    if isinstance(layout, data.ArrayLayout):
        sub = _sub_layout(layout.elem_shape)
        parts = [
            _gather(sub, {p[1:]: a for p, a in per_leaf.items() if p[0] == i})
            if sub is not None else per_leaf[(i,)]
            for i in range(layout.length)
        ]
        return _stack(parts)
    out = {}
    for key, sub in _members(layout):
        if sub is not None:
            out[key] = _gather(sub, {p[1:]: a for p, a in per_leaf.items() if p[0] == key})
        else:
            out[key] = per_leaf[(key,)]
    return out


@functools.cache
def _members(layout: data.Layout) -> tuple[tuple[str | int, data.Layout | None], ...]:
    """``(key, nested layout or None)`` of each field (cached, like :func:`leaves`)."""
    return tuple((key, _sub_layout(field.shape)) for key, field in layout)


def _stack(parts: list) -> Any:
    if isinstance(parts[0], dict):
        return {k: _stack([p[k] for p in parts]) for k in parts[0]}
    # Stacked on a leading axis (contiguous copies), moved behind the batch axis as a view.
    return np.moveaxis(np.stack(parts), 0, 1)


def unpack_bits(layout: data.Layout, bits: np.ndarray) -> Any:
    """Vectorised :func:`unpack` of a ``[n, layout.size]`` bit matrix (as
    :mod:`tb.capture` reads batches): nested dicts of leaf arrays."""
    bits = np.asarray(bits)
    if bits.ndim != 2:
        raise PayloadError(f"bit matrix must be [n, {layout.size}], got shape {bits.shape}")
    return _unpack_bytes(layout, _as_bytes(bits, _size(layout)))


def _unpack_bytes(layout: data.Layout, raw: np.ndarray) -> Any:
    words = _words(raw)
    return _gather(layout, {leaf.path: _leaf_of_words(words, leaf) for leaf in leaves(layout)})


def unpack_array(layout: data.Layout, values: np.ndarray | Sequence[int]) -> Any:
    """Vectorised :func:`unpack` of flat payloads (``uint64`` or object array, or a list of
    integers): nested dicts of leaf arrays."""
    arr = np.asarray(values) if not isinstance(values, np.ndarray) else values
    if arr.ndim != 1:
        raise PayloadError(f"payloads must be one integer per beat, got shape {arr.shape}")
    return _unpack_bytes(layout, _as_bytes(arr, _size(layout)))


def _leaf_values(leaf: Leaf, value: Any, n: int | None) -> np.ndarray:
    """The leaf's values over the batch (broadcast scalars), folded to its unsigned bits.

    Array indices met inside a dict (an array of structs given as a struct of arrays) or below
    a leaf array select columns after the batch axis."""
    node = value
    columns: list[int] = []
    for key in leaf.path:
        if isinstance(key, int):
            columns.append(key)
        elif isinstance(node, Mapping) and key in node:
            node = node[key]
        else:
            raise PayloadError(f"payload has no field {leaf.name}")
    if isinstance(node, py_enum.Enum):
        node = node.value
    arr = np.asarray(node)
    if columns:
        if arr.ndim != 1 + len(columns):
            raise PayloadError(f"field {leaf.name} needs a batch axis and {len(columns)} array "
                               f"axis(es), got shape {arr.shape}")
        arr = arr[(slice(None), *columns)]
    if arr.dtype.kind not in "iuOb":
        raise PayloadError(f"field {leaf.name} has non-integer values ({arr.dtype})")
    if arr.ndim == 0 and n is not None:
        arr = np.full(n, arr.item(), dtype=object if arr.dtype == object else arr.dtype)
    if arr.ndim != 1:
        raise PayloadError(f"field {leaf.name} has shape {arr.shape}, expected one value per beat")
    if arr.dtype.kind in "ub" and arr.dtype.itemsize * 8 <= leaf.width - leaf.signed:
        return arr.astype(np.uint64)  # fits by its type: no range check (the hot path)
    low = -(1 << (leaf.width - 1)) if leaf.signed else 0
    high = (1 << (leaf.width - 1)) if leaf.signed else 1 << leaf.width
    unsigned = arr.dtype.kind in "ub"  # an unsigned array cannot be below 0
    if len(arr) and ((not unsigned and int(arr.min()) < low) or int(arr.max()) >= high):
        raise PayloadError(f"field {leaf.name} has values outside {leaf.width} bits"
                           f"{' (signed)' if leaf.signed else ''}")
    if leaf.width > 63 or arr.dtype == object:
        return arr.astype(object) & ((1 << leaf.width) - 1)
    return arr.astype(np.int64).astype(np.uint64) & np.uint64((1 << leaf.width) - 1)


def _batch_size(value: Any) -> int | None:
    if isinstance(value, Mapping):
        sizes = [_batch_size(v) for v in value.values()]
        sizes = [s for s in sizes if s is not None]
        if sizes and any(s != sizes[0] for s in sizes):
            raise PayloadError(f"fields have different lengths {sorted(set(sizes))}")
        return sizes[0] if sizes else None
    arr = np.asarray(value)
    return None if arr.ndim == 0 else len(arr)


_MASK64 = (1 << 64) - 1


def _pack_words(layout: data.Layout, value: Mapping[str, Any]) -> np.ndarray:
    """``[n, words]`` uint64 (word 0 = bits 0..63) of nested dicts of leaf arrays."""
    _check_keys(layout, value, batched=True)
    n = _batch_size(value)
    if n is None:
        raise PayloadError("payload arrays need at least one field given as an array")
    words = np.zeros((_size(layout) // 64 + 2, n), dtype=np.uint64)  # word-major: contiguous ORs
    for leaf in leaves(layout):
        values = _leaf_values(leaf, value, n)
        if leaf.width > 64:
            values = values.astype(object)
        for lsb in range(0, leaf.width, 64):
            # a fresh uint64 copy per piece, shifted in place (no temporaries on the hot path)
            piece = (values if leaf.width <= 64 else (values >> lsb) & _MASK64).astype(np.uint64)
            k, shift = divmod(leaf.offset + lsb, 64)
            if shift + min(64, leaf.width - lsb) > 64:
                words[k + 1] |= piece >> np.uint64(64 - shift)
            words[k] |= np.left_shift(piece, np.uint64(shift), out=piece)
    return words.T


def pack_array(layout: data.Layout, value: Mapping[str, Any]) -> np.ndarray:
    """Vectorised :func:`pack`: nested dicts of leaf arrays (scalars broadcast; an array of
    leaves as one ``[n, length]`` array) to the flat payloads, ``uint64`` when the layout fits in
    64 bits, else an object array of Python integers."""
    words = _pack_words(layout, value)
    if _size(layout) <= 64:
        return words[:, 0].copy()
    out = np.zeros(len(words), dtype=object)
    for k in range(-(-_size(layout) // 64)):
        out = out | words[:, k].astype(object) << (64 * k)
    return out


def pack_bytes(layout: data.Layout, value: Mapping[str, Any]) -> np.ndarray:
    """:func:`pack_array` as a ``[n, ceil(size / 8)]`` uint8 matrix (byte 0 first): compare it
    with ``np.packbits(bits, axis=1, bitorder="little")`` of a captured bit matrix, no Python
    integers on the way (the fast path of batch scoreboards)."""
    words = np.ascontiguousarray(_pack_words(layout, value), dtype="<u8")
    return words.view(np.uint8)[:, :max(1, -(-_size(layout) // 8))]


def pack_bits(layout: data.Layout, value: Mapping[str, Any]) -> np.ndarray:
    """:func:`pack_array` as a ``[n, layout.size]`` uint8 bit matrix (bit 0 first), the form
    in which :mod:`tb.capture` reads batches."""
    bits = np.unpackbits(pack_bytes(layout, value), axis=1, bitorder="little")
    return bits[:, :_size(layout)]
