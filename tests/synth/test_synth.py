"""``make synth`` bookkeeping that needs no synthesis tools: report rows (SPEC 8 fields), the
part of each top, the Yosys script that keeps the TDC carry chains, and bad requests."""

import pytest

from models.constants import FABRIC_CLOCK_HZ
from sim import synth

SPEC8 = {"top", "device", "luts", "ffs", "brams", "fmax_mhz", "target_mhz"}

NEXTPNR_REPORT = {
    "utilization": {"TRELLIS_COMB": {"used": 1200, "available": 43848},
                    "TRELLIS_FF": {"used": 900, "available": 43848},
                    "DP16KD": {"used": 7, "available": 108},
                    "MULT18X18D": {"used": 5, "available": 72}},
    "fmax": {"clk": {"achieved": 161.234, "constraint": 156.25},
             "osc_clk": {"achieved": 850.0, "constraint": 103.34}},
    "critical_paths": [],
}


def test_report_row_has_the_spec8_fields_and_the_dsps():
    row = synth.report_row("ground_timing", "LFE5U-45F-8", NEXTPNR_REPORT)
    assert set(row) >= SPEC8
    assert row == {"top": "ground_timing", "device": "LFE5U-45F-8", "luts": 1200, "ffs": 900,
                   "brams": 7, "dsps": 5, "fmax_mhz": 161.23,
                   "target_mhz": FABRIC_CLOCK_HZ / 1e6, "meets_target": True}


def test_report_row_takes_the_slowest_clock_and_flags_a_miss():
    report = NEXTPNR_REPORT | {"fmax": {"clk": {"achieved": 150.0}, "tdc": {"achieved": 900.0}}}
    row = synth.report_row("t", synth.DEVICE, report)
    assert row["fmax_mhz"] == 150.0 and row["meets_target"] is False
    empty = synth.report_row("t", synth.DEVICE, NEXTPNR_REPORT | {"fmax": {}})
    assert empty["fmax_mhz"] is None and empty["meets_target"] is False


def test_parts_of_the_tops():
    tops = synth.discover_tops()
    assert {"ground_rx", "ground_timing"} <= set(tops)
    assert synth.device_of("ground_timing") == "LFE5U-45F-8"
    assert synth.device_of("ground_rx") == synth.DEVICE == "LFE5U-25F-8"


def test_yosys_hides_the_rtl_carry_cells_during_synthesis(tmp_path):
    script = synth.yosys_script(tmp_path / "t.v", "t", tmp_path / "t.json", tmp_path / "bb.v",
                                ["t.lines.line0", "t.lines.line1"])
    steps = [s.strip() for s in script.split(";")]
    assert steps[1:3] == [f"setattr -mod -set keep_hierarchy 1 t.lines.line{i}" for i in (0, 1)]
    hide = steps.index(f"chtype -map CCU2C {synth._OPAQUE}")
    run = next(i for i, s in enumerate(steps) if s.startswith("synth_ecp5"))
    restore = steps.index(f"chtype -map {synth._OPAQUE} CCU2C")
    assert steps[0].startswith("read_verilog") and hide < run < restore < len(steps) - 1
    assert f"module {synth._OPAQUE}(" in synth._OPAQUE_BLACKBOX
    assert "(* blackbox *)" in synth._OPAQUE_BLACKBOX


def test_fpga_tops_read_the_litedram_core_with_their_own_verilog(tmp_path):
    """The FPGA tops instantiate the generated LiteDRAM core: ``SYNTH_SOURCES`` gives its
    Verilog (the ECP5 PHY with its tristates as TRELLIS_IO, as nextpnr needs them), and Yosys
    reads it before synthesis."""
    for top in ("satellite_fpga", "ground_fpga"):
        (core,) = synth.sources_of(top)
        text = core.read_text()
        assert "module litedram_ecp5(" in text and "TRELLIS_IO" in text and "1'bz" not in text
    assert synth.sources_of("ground_rx") == []
    script = synth.yosys_script(tmp_path / "t.v", "t", tmp_path / "t.json", tmp_path / "bb.v",
                                extra=[core])
    steps = [s.strip() for s in script.split(";")]
    assert steps[:2] == [f"read_verilog {tmp_path / 't.v'}", f"read_verilog {core}"]
    assert steps.index(f"read_verilog {core}") < next(
        i for i, s in enumerate(steps) if s.startswith("synth_ecp5"))


def test_modules_with_carry_cells_are_the_lines():
    from amaranth.back import verilog

    from rtl.ground.carry_chain import CarryLines

    text = verilog.convert(CarryLines(taps=4), name="lines", emit_src=False)
    assert synth.modules_with_carry_cells(text) == [f"lines.line{i}" for i in range(5)]
    assert synth.modules_with_carry_cells("module top(a);\nendmodule\n") == []


def test_unknown_device_is_one_error():
    with pytest.raises(synth.SynthError, match="unknown device LFE5U-12F"):
        synth.synthesise("ground_rx", synth.discover_tops()["ground_rx"], device="LFE5U-12F")


def test_unknown_top_exits_with_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        synth.main(["no_such_top"])
    assert exc.value.code == 2
    assert "unknown top(s) no_such_top" in capsys.readouterr().err


def _line(prefix: str, x0: int, y: int, cells: int, z0: int = 1) -> dict[str, str]:
    """Cell -> BEL of one delay line placed as nextpnr places it: launch then cells in
    consecutive slices from slice ``z0`` of PFU ``x0``, each sampler in its cell's slice."""
    out = {}
    for k in range(cells + 1):
        pos = z0 + k
        bel = f"X{x0 + pos // 4}/Y{y}/SLICE{'ABCD'[pos % 4]}"
        name = "launch" if k == 0 else f"cell{k - 1}"
        out[f"{prefix}{name}$CCU2_COMB0"] = bel + ".K0"
        out[f"{prefix}{name}$CCU2_COMB1"] = bel + ".K1"
        if k:
            out[f"{prefix}sample{k - 1}"] = bel + ".FF1"
    return out


def test_carry_line_placement_counts_whole_lines_and_samplers_in_their_slices():
    cells = _line("lines.line0.", 6, 2, 12) | _line("lines.line1.", 6, 3, 12, z0=3)
    cells["lines.line0.second$x"] = "X9/Y9/SLICEA.FF0"
    assert synth.carry_line_placement(cells) == {
        "lines": 2, "split": 0, "samplers": 24, "samplers_in_slice": 24}


def test_carry_line_placement_sees_a_split_line_and_a_stray_sampler():
    cells = _line("", 6, 2, 12)
    cells["cell7$CCU2_COMB0"] = "X40/Y9/SLICEA.K0"  # a piece of the line elsewhere
    cells["sample3"] = "X30/Y2/SLICEB.FF1"
    assert synth.carry_line_placement(cells) == {
        "lines": 1, "split": 1, "samplers": 12, "samplers_in_slice": 10}
    assert synth.carry_line_placement({"x$CCU2_COMB0": "X1/Y1/SLICEA.K0"}) is None
