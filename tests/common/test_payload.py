"""rtl.common.payload against every layout of rtl/: scalar and vectorised pack/unpack round
trips on seeded random values (signed and enum fields included), agreement with Amaranth's own
layout views, and the errors."""

import enum as py_enum
import importlib
import inspect
import pkgutil
import random

import numpy as np
import pytest
from amaranth.hdl import signed
from amaranth.lib import data, enum

import rtl
from rtl.common.payload import (
    PayloadError,
    leaves,
    pack,
    pack_array,
    pack_bits,
    pack_bytes,
    unpack,
    unpack_array,
    unpack_bits,
)
from rtl.ground.layouts import Tag, TimingRecord
from rtl.ground.sync import FrameEvent
from rtl.satellite.layouts import CacheAnswer
from rtl.sifting.layouts import DetectionRecord, Report

LANE_COUNTS = (1, 2, 4, 7)


def _rtl_modules() -> list:
    return [importlib.import_module(m.name)
            for m in pkgutil.walk_packages(rtl.__path__, prefix="rtl.")]


def _lanes_functions(module) -> list:
    """Module-level functions of ``module`` whose only parameter is ``lanes``."""
    out = []
    for name, fn in vars(module).items():
        if (inspect.isfunction(fn) and fn.__module__ == module.__name__
                and not name.startswith("_")
                and list(inspect.signature(fn).parameters) == ["lanes"]):
            out.append(fn)
    return out


def discover_layouts() -> dict[str, data.Layout]:
    """Every layout that rtl/ defines at module level: layout objects, Struct/Union view
    classes, and what the ``lanes``-only functions return for a few lane counts."""
    found: dict[str, data.Layout] = {}
    names: dict[int, list[str]] = {}  # a layout imported into several modules: one entry
    for module in _rtl_modules():
        for name, obj in vars(module).items():
            where = f"{module.__name__}.{name}"
            if isinstance(obj, data.Layout) or (
                    isinstance(obj, type) and issubclass(obj, data.View)
                    and obj not in (data.View, data.Struct, data.Union)):
                names.setdefault(id(obj), []).append(where)
                found[where] = data.Layout.cast(obj)
        for fn in _lanes_functions(module):
            for lanes in LANE_COUNTS:
                layout = fn(lanes)
                if isinstance(layout, data.Layout):
                    found[f"{module.__name__}.{fn.__name__}({lanes})"] = layout
    for aliases in names.values():  # keep the name in a layouts module, else the first
        keep = min(aliases, key=lambda n: ("layouts" not in n, aliases.index(n)))
        for name in aliases:
            if name != keep:
                del found[name]
    return found


LAYOUTS = discover_layouts()


def test_discovery_finds_the_stream_payloads():
    for expected in (CacheAnswer, TimingRecord, Tag, Report, DetectionRecord, FrameEvent):
        assert any(layout is expected for layout in LAYOUTS.values())
    assert "rtl.satellite.layouts.symbol_beat(4)" in LAYOUTS
    assert "rtl.satellite.layouts.qrng_beat(2)" in LAYOUTS
    assert len(LAYOUTS) > 25


def random_value(layout: data.Layout, rng: random.Random):
    """A random value of every field, as :func:`unpack` returns them (edges of the range often)."""
    value: dict | list = [] if isinstance(layout, data.ArrayLayout) else {}
    for leaf in leaves(layout):
        low = -(1 << (leaf.width - 1)) if leaf.signed else 0
        high = (1 << (leaf.width - 1)) - 1 if leaf.signed else (1 << leaf.width) - 1
        if leaf.enum is not None:
            v = rng.choice([m.value for m in leaf.enum])
        else:
            v = rng.choice([low, high, rng.randint(low, high), rng.randint(low, high)])
        node = value
        for key, nxt in zip(leaf.path, leaf.path[1:], strict=False):
            if isinstance(node, list):
                while len(node) <= key:
                    node.append([] if isinstance(nxt, int) else {})
                node = node[key]
            else:
                node = node.setdefault(key, [] if isinstance(nxt, int) else {})
        if isinstance(node, list):
            node.append(v)
        else:
            node[leaf.path[-1]] = v
    return value


def random_batch(layout: data.Layout, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random flat payloads, every bit random."""
    raw = rng.integers(0, 256, (n, max(1, -(-layout.size // 8))), dtype=np.uint8)
    if layout.size % 8:
        raw[:, -1] &= (1 << (layout.size % 8)) - 1
    ints = [int.from_bytes(row.tobytes(), "little") for row in raw]
    return np.array(ints, dtype=np.uint64 if layout.size <= 64 else object)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_scalar_round_trip_and_amaranth_agree(name):
    layout = LAYOUTS[name]
    rng = random.Random(name)
    for _ in range(20):
        value = random_value(layout, rng)
        flat = pack(layout, value)
        assert 0 <= flat < 1 << layout.size
        assert unpack(layout, flat) == value
        # Amaranth's own constant of the same bits reads every leaf alike
        const = layout.from_bits(flat)
        unpacked = unpack(layout, flat)
        for leaf in leaves(layout):
            want, got = const, unpacked
            for key in leaf.path:
                want, got = want[key], got[key]
            assert got == (want.value if isinstance(want, py_enum.Enum) else want), leaf.name


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_vectorised_round_trip_matches_scalar(name):
    layout = LAYOUTS[name]
    payloads = random_batch(layout, np.random.default_rng(abs(hash(name)) % 2**32), 64)
    fields = unpack_array(layout, payloads)
    assert pack_array(layout, fields).tolist() == payloads.tolist()
    # the vectorised leaves are the scalar ones
    scalar = [unpack(layout, int(v)) for v in payloads]
    for leaf in leaves(layout):
        node = fields
        columns = []
        for key in leaf.path:
            if isinstance(key, int):
                columns.append(key)
            else:
                node = node[key]
        column = np.asarray(node)[(slice(None), *columns)]
        want = []
        for value in scalar:
            for key in leaf.path:
                value = value[key]
            want.append(value)
        assert [int(v) for v in column] == want, leaf.name
    # and a bit matrix (as batch captures give them) decodes alike
    bits = np.array([[(int(v) >> k) & 1 for k in range(layout.size)] for v in payloads],
                    dtype=np.uint8).reshape(len(payloads), layout.size)
    again = unpack_bits(layout, bits)
    assert pack_array(layout, again).tolist() == payloads.tolist()
    assert np.array_equal(pack_bits(layout, fields), bits)
    assert np.array_equal(pack_bytes(layout, fields), np.packbits(bits, axis=1, bitorder="little"))


class Mode(enum.Enum, shape=signed(3)):
    LOW = -4
    ZERO = 0
    HIGH = 3


MIXED = data.StructLayout({
    "tag": Mode,
    "delta": signed(9),
    "wide": 70,
    "pairs": data.ArrayLayout(data.StructLayout({"a": signed(5), "b": 3}), 3),
    "grid": data.ArrayLayout(data.ArrayLayout(2, 3), 2),
    "empty": 0,
})


def test_signed_enum_wide_and_nested_fields():
    rng = random.Random(1)
    for _ in range(50):
        value = random_value(MIXED, rng)
        flat = pack(MIXED, value)
        assert unpack(MIXED, flat) == value
    value["tag"] = Mode.LOW
    assert unpack(MIXED, pack(MIXED, value))["tag"] == -4
    batch = random_batch(MIXED, np.random.default_rng(2), 40)
    fields = unpack_array(MIXED, batch)
    assert fields["pairs"]["a"].shape == (40, 3) and fields["grid"].shape == (40, 2, 3)
    assert fields["delta"].dtype == np.int64 and fields["wide"].dtype == object
    assert fields["delta"].min() < 0
    assert pack_array(MIXED, fields).tolist() == batch.tolist()


def test_pack_array_broadcasts_scalars_and_takes_enums():
    layout = data.StructLayout({"mode": Mode, "x": 8})
    out = pack_array(layout, {"mode": Mode.HIGH, "x": np.arange(3)})
    assert [unpack(layout, int(v)) for v in out] == [{"mode": 3, "x": x} for x in range(3)]


@pytest.mark.parametrize(("value", "match"), [
    ({"tag": 0, "delta": 0, "wide": 0, "pairs": [{"a": 0, "b": 0}] * 3, "grid": [[0] * 3] * 2,
      "empty": 0, "extra": 1}, r"unknown field\(s\) \['extra'\]"),
    ({"tag": 0, "delta": 256, "wide": 0, "pairs": [{"a": 0, "b": 0}] * 3,
      "grid": [[0] * 3] * 2, "empty": 0}, r"field delta=256 does not fit in 9 bits \(signed\)"),
    ({"tag": 0, "delta": 0, "wide": 0, "pairs": [{"a": 0, "b": 8}] * 3,
      "grid": [[0] * 3] * 2, "empty": 0}, r"field pairs.0.b=8 does not fit in 3 bits"),
    ({"tag": 0, "delta": 0, "wide": 0, "pairs": [{"a": 0, "b": 0}] * 2,
      "grid": [[0] * 3] * 2, "empty": 0}, "array pairs has 2 elements, layout has 3"),
    ({"tag": 0, "delta": 0, "wide": 0, "pairs": [{"a": 0, "b": 0}] * 3, "grid": [[0] * 3] * 2},
     "payload has no field empty"),
])
def test_pack_errors(value, match):
    with pytest.raises(PayloadError, match=match):
        pack(MIXED, value)


def test_unpack_and_array_errors():
    layout = data.StructLayout({"a": 4, "b": signed(4)})
    with pytest.raises(PayloadError, match="wider than the layout's 8 bits"):
        unpack(layout, 1 << 8)
    with pytest.raises(PayloadError, match="wider than the layout's 8 bits"):
        unpack(layout, -1)
    with pytest.raises(PayloadError, match="wider than the layout's 8 bits"):
        unpack_array(layout, np.array([1, 256], dtype=np.uint64))
    with pytest.raises(PayloadError, match=f"wider than the layout's {MIXED.size} bits"):
        unpack_array(MIXED, [1 << MIXED.size])
    with pytest.raises(PayloadError, match="bit matrix has 9 columns, layout has 8 bits"):
        unpack_bits(layout, np.zeros((2, 9), dtype=np.uint8))
    with pytest.raises(PayloadError, match="unknown field"):
        pack_array(layout, {"a": np.arange(2), "c": np.arange(2)})
    with pytest.raises(PayloadError, match="field b has values outside 4 bits"):
        pack_array(layout, {"a": np.arange(2), "b": np.array([0, 8])})
    with pytest.raises(PayloadError, match="different lengths"):
        pack_array(layout, {"a": np.arange(2), "b": np.arange(3)})
    with pytest.raises(PayloadError, match="at least one field given as an array"):
        pack_array(layout, {"a": 1, "b": 2})
    with pytest.raises(PayloadError, match="must be integers"):
        unpack_array(layout, np.array([1.5]))
