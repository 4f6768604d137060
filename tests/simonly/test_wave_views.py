"""sim.wave_views without a simulator: the save file text made from a view and a dump's signals
(ranges, escaped names, radix, aliases, zoom and markers) and the beat count of a valid signal."""

import re

import pytest

from sim.wave_views import (
    MARKER_LETTERS,
    DumpSignal,
    Event,
    Group,
    View,
    ViewError,
    bit,
    dec,
    displayed_names,
    gtkwave_name,
    hexa,
    high_cycles,
    save_file_text,
    zoom_for,
)

VIEW = View(
    name="demo", design="demo", title="demo view",
    groups=(Group("Stream", (bit("s.o__valid", "s valid"), dec("now", "cycle"),
                             hexa("s.o__payload.field", "field"))),),
    events=(Event("s.o__valid", "first beat"), Event("other", "never")),
    marker="s.o__valid",
)


def signals(vcd: bool = False, escaped: bool = False) -> dict[str, DumpSignal]:
    field = "\\o__payload.field" if escaped else "o__payload.field"
    return {
        "top.s.o__valid": DumpSignal(1, "o__valid", vcd),
        "top.now": DumpSignal(48, "now", vcd),
        f"top.s.{field}": DumpSignal(3, field, vcd),
        "top.other": DumpSignal(1, "other", vcd),
    }


def text(sigs, rises=None, end=1_000_000) -> str:
    rises = {"s.o__valid": 100_000, "other": 900_000} if rises is None else rises
    return save_file_text(VIEW, sigs, rises, "/d/x.fst", "/d/x.gtkw", end)


def test_vectors_carry_their_range_and_aliases_their_label():
    out = text(signals())
    assert "+{cycle} top.now[47:0]" in out and "+{s valid} top.s.o__valid" in out
    assert displayed_names(out) == ["top.s.o__valid", "top.now[47:0]",
                                    "top.s.o__payload.field[2:0]"]
    flags = re.findall(r"^@(\w+)\n\+\{(.*?)\}", out, re.M)
    assert flags == [("28", "s valid"), ("24", "cycle"), ("22", "field")]


@pytest.mark.parametrize(("vcd", "escaped", "name"), [
    (False, False, "top.s.o__payload.field[2:0]"),     # Verilator FST
    (True, False, "top.s.\\o__payload.field[2:0]"),    # Verilator VCD: GTKWave escapes it
    (True, True, "top.s.\\o__payload.field[2:0]"),     # Icarus writes the backslash itself
])
def test_payload_fields_are_named_as_gtkwave_reads_each_dump(vcd, escaped, name):
    assert gtkwave_name("s.o__payload.field", signals(vcd, escaped)) == name


def test_a_signal_missing_from_the_dump_is_an_error():
    sigs = signals()
    del sigs["top.now"]
    with pytest.raises(ViewError, match=r"top\.now"):
        text(sigs)


def test_zoom_and_markers_cover_the_events():
    out = text(signals())
    start = int(re.search(r"^\[timestart\] (\d+)", out, re.M)[1])
    zoom, marker, *named = re.search(r"^\*(.*)$", out, re.M)[1].split()
    assert int(marker) == 100_000 and [int(n) for n in named[:2]] == [100_000, 900_000]
    assert len(named) == MARKER_LETTERS and set(named[2:]) == {"-1"}
    assert start < 100_000 and float(zoom) == pytest.approx(zoom_for(800_000 * 1.08), abs=0.01)


def test_events_missing_from_a_short_window_show_the_whole_window():
    out = text(signals(), rises={"s.o__valid": 100_000, "other": None}, end=500_000)
    assert "[timestart] 0" in out and "never (other): not in this window" in out
    assert float(re.search(r"^\*(\S+)", out, re.M)[1]) == pytest.approx(
        zoom_for(500_000 * 1.04), abs=0.01)


def test_high_cycles_counts_cycles_with_valid_high():
    period = 10
    changes = [(0, 0), (20, 1), (50, 0), (70, 1)]
    assert high_cycles(changes, 100, period) == 3 + 3
    assert high_cycles([(0, 0)], 100, period) == 0
