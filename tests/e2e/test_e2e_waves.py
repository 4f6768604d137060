"""`make waves` of the end-to-end top: the default window holds the whole chain (sync lock,
detections, reports, an uplink frame, RND cache lookups, sift entries, both sides' key bits),
its view opens in GTKWave with every signal and those events on screen, and it matches the
shipped save file."""

import re

import pytest

from sim.gtkwave_headless import open_headless
from sim.wave_views import E2E, SCOPE, displayed_names, first_rises, high_cycles, signal_changes
from sim.waves import GTKW_DIR, PNG_DIR, main, wave_file

CLOCK_PS = 6400
STREAMS = {
    "detections": "ground.detections__valid", "reports": "report.report__valid",
    "uplinked reports": "replay_up.o__valid", "cache answers": "tx.answer__valid",
    "sift entries": "sat_sift.entry__valid", "satellite key bits": "sat_sift.key__valid",
    "downlinked entries": "replay_dn.o__valid", "ground key bits": "gnd_sift.key__valid",
}


def without_paths(text: str) -> str:
    return re.sub(r'^\[(dumpfile|savefile)\] .*$', "", text, flags=re.M)


@pytest.mark.cocotb
def test_e2e_default_window_shows_the_chain_in_gtkwave(monkeypatch):
    monkeypatch.setenv("WAVES", "0")  # sim.waves sets the format itself
    assert main(["--simulator", "verilator", "--e2e"]) == 0
    dump = wave_file("verilator", "e2e")
    changes = signal_changes(dump, [f"{SCOPE}.{p}" for p in ("clk", "ground.locked",
                                                             *STREAMS.values())])
    end = changes[f"{SCOPE}.clk"][-1][0]
    beats = {name: high_cycles(changes[f"{SCOPE}.{path}"], end, CLOCK_PS)
             for name, path in STREAMS.items()}
    assert [value for _, value in changes[f"{SCOPE}.ground.locked"]] == [0, 1]
    assert all(count > 0 for count in beats.values()), beats
    assert beats["reports"] == beats["detections"]
    assert beats["sift entries"] == beats["uplinked reports"] == beats["cache answers"]
    assert beats["satellite key bits"] <= beats["sift entries"]

    saved = dump.parent / f"{E2E.name}.gtkw"
    text = saved.read_text()
    assert without_paths(text) == without_paths((GTKW_DIR / saved.name).read_text())
    shown = open_headless(saved)
    assert shown.displayed == displayed_names(text)
    rises = first_rises(dump, E2E.event_paths())
    assert shown.start <= min(rises.values()) and max(rises.values()) <= shown.end
    assert shown.start > 0  # the view starts near the lock, not at time 0
    png = (PNG_DIR / f"{E2E.name}.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
