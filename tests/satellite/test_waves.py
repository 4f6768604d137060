"""`make waves` of the transmitter top: the FST view opens in GTKWave with every signal and the
window's events on screen, matches the shipped save file, and the VCD records the same run."""

from pathlib import Path

import pytest
import vcdvcd

from models.constants import FABRIC_CLOCK_PS
from sim.wave_views import SCOPE, TX, high_cycles, signal_changes
from sim.waves import PNG_DIR, check_view, main, wave_file

CLOCK_PS = FABRIC_CLOCK_PS
VCD_PULSES = 1024
# Streams whose valid beats both dumps must agree on (ready is high or irrelevant for the count).
STREAMS = ("tx.symbols__valid", "tx.query__valid", "tx.answer__valid", "tx.downlink__ready")


@pytest.mark.cocotb
def test_tx_views_in_gtkwave_and_the_vcd_agrees_with_the_fst(monkeypatch):
    # One test, not two sharing a fixture: under pytest-xdist two workers would each record the
    # FST window while the other reads it.
    monkeypatch.setenv("WAVES", "0")  # sim.waves sets the format itself
    assert main(["--simulator", "verilator"]) == 0
    fst_dump = wave_file("verilator", "tx")
    check_fst_view(fst_dump)
    check_vcd_against(fst_dump)


def check_fst_view(fst_dump: Path) -> None:
    """The default window's view: every signal shown, the events on screen, as shipped."""
    check = check_view(TX, fst_dump)
    assert check.as_shipped, "stale sim/gtkw/tx_cosim.gtkw: python -m sim.waves --update-shipped"
    assert check.shown.displayed == check.listed and not check.left_out
    assert None not in check.rises.values()
    first, last = min(check.rises.values()), max(check.rises.values())
    assert check.shown.start <= first and last <= check.shown.end
    # zoomed on the events, not on the whole window
    assert check.shown.end - check.shown.start < 2 * (last - first)
    png = (PNG_DIR / f"{TX.name}.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000


def check_vcd_against(fst_dump: Path) -> None:
    """A shorter VCD window: every signal of its view shown, read by vcdvcd, and the same valid
    beats as the FST window over the same cycles."""
    assert main(["--simulator", "verilator", "--format", "vcd", "--pulses", str(VCD_PULSES),
                 "--no-png"]) == 0
    dump = wave_file("verilator", "tx", "vcd")
    check = check_view(TX, dump)
    assert check.shown.displayed == check.listed
    vcd = vcdvcd.VCDVCD(str(dump))
    # GTKWave escapes dotted names ("\\answer__payload.status") where vcdvcd keeps them as written
    assert {name.replace(".\\", ".") for name in check.listed} <= set(vcd.signals)
    end = vcd.endtime
    assert vcd.timescale["unit"] == "ps" and end > VCD_PULSES // 4 * CLOCK_PS
    fst = signal_changes(fst_dump, [f"{SCOPE}.{s}" for s in STREAMS])
    for stream in STREAMS:
        from_vcd = [(t, int(v == "1")) for t, v in vcd[f"{SCOPE}.{stream}"].tv]
        from_fst = [(t, v) for t, v in fst[f"{SCOPE}.{stream}"] if t < end]
        beats = high_cycles(from_vcd, end, CLOCK_PS)
        assert beats > 0
        assert beats == high_cycles(from_fst, end, CLOCK_PS), stream
