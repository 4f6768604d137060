"""`make waves` of the transmitter top: the FST view opens in GTKWave with every signal and the
window's events on screen, matches the shipped save file, and the VCD records the same run."""

import re
from pathlib import Path

import pytest
import vcdvcd

from sim.gtkwave_headless import open_headless
from sim.wave_views import SCOPE, TX, displayed_names, first_rises, high_cycles, signal_changes
from sim.waves import GTKW_DIR, PNG_DIR, main, wave_file

CLOCK_PS = 6400
VCD_PULSES = 1024
# Streams whose valid beats both dumps must agree on (ready is high or irrelevant for the count).
STREAMS = ("tx.symbols__valid", "tx.query__valid", "tx.answer__valid", "tx.downlink__ready")


def without_paths(text: str) -> str:
    return re.sub(r'^\[(dumpfile|savefile)\] .*$', "", text, flags=re.M)


@pytest.fixture(scope="module")
def fst_dump() -> Path:
    """The default transmitter window on Verilator with FST, save file and PNG written."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WAVES", "0")  # sim.waves sets the format itself
        assert main(["--simulator", "verilator"]) == 0
    return wave_file("verilator", "tx")


@pytest.mark.cocotb
def test_tx_view_opens_in_gtkwave_with_its_events_on_screen(fst_dump):
    saved = fst_dump.parent / f"{TX.name}.gtkw"
    text = saved.read_text()
    assert without_paths(text) == without_paths((GTKW_DIR / saved.name).read_text())
    shown = open_headless(saved)
    assert shown.displayed == displayed_names(text)
    rises = first_rises(fst_dump, TX.event_paths())
    assert None not in rises.values()
    first, last = min(rises.values()), max(rises.values())
    assert shown.start <= first and last <= shown.end
    assert shown.end - shown.start < 2 * (last - first)  # zoomed on them, not the whole window
    png = (PNG_DIR / f"{TX.name}.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000


@pytest.mark.cocotb
def test_tx_vcd_holds_the_same_run_as_the_fst(fst_dump):
    assert main(["--simulator", "verilator", "--format", "vcd", "--pulses", str(VCD_PULSES),
                 "--no-png"]) == 0
    dump = wave_file("verilator", "tx", "vcd")
    vcd = vcdvcd.VCDVCD(str(dump))
    saved = dump.parent / f"{TX.name}.gtkw"
    # GTKWave escapes dotted names ("\\answer__payload.status") where vcdvcd keeps them as written
    assert {name.replace(".\\", ".") for name in displayed_names(saved.read_text())} <= set(
        vcd.signals)
    end = vcd.endtime
    assert vcd.timescale["unit"] == "ps" and end > VCD_PULSES // 4 * CLOCK_PS
    fst = signal_changes(fst_dump, [f"{SCOPE}.{s}" for s in STREAMS])
    for stream in STREAMS:
        from_vcd = [(t, int(v == "1")) for t, v in vcd[f"{SCOPE}.{stream}"].tv]
        from_fst = [(t, v) for t, v in fst[f"{SCOPE}.{stream}"] if t < end]
        beats = high_cycles(from_vcd, end, CLOCK_PS)
        assert beats > 0
        assert beats == high_cycles(from_fst, end, CLOCK_PS), stream
    shown = open_headless(saved)
    assert shown.displayed == displayed_names(saved.read_text())
