"""`make waves` of the end-to-end top: the default window holds the whole chain (sync lock,
detections, reports, an uplink frame, RND cache lookups, sift entries, both sides' key bits),
its view opens in GTKWave with every signal and those events on screen, and it matches the
shipped save file."""

import pytest

from models.constants import FABRIC_CLOCK_PS
from sim.wave_views import E2E, SCOPE, high_cycles, signal_changes
from sim.waves import PNG_DIR, check_view, main, wave_file

CLOCK_PS = FABRIC_CLOCK_PS
STREAMS = {
    "detections": "ground.detections__valid", "reports": "gnd.report.report__valid",
    "uplinked reports": "up_rx.report__valid", "cache answers": "tx.answer__valid",
    "sift entries": "sat_sift.entry__valid", "satellite key bits": "sat_sift.key__valid",
    "downlinked entries": "gnd.rx.entry__valid", "ground key bits": "gnd.sift.key__valid",
}


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
    # cycles with valid high: a report, its lookup and its entry each, plus the few cycles the
    # sift-message builder's 4-entry FIFO holds the satellite sifting
    chain = [beats[name] for name in ("uplinked reports", "cache answers", "sift entries")]
    assert max(chain) - min(chain) <= 4, chain
    assert beats["satellite key bits"] <= beats["sift entries"]

    check = check_view(E2E, dump)
    assert check.as_shipped, "stale sim/gtkw/e2e.gtkw: python -m sim.waves --e2e --update-shipped"
    assert check.shown.displayed == check.listed and not check.left_out
    times = list(check.rises.values())
    assert None not in times
    assert check.shown.start <= min(times) and max(times) <= check.shown.end
    assert check.shown.start > 0  # the view starts near the lock, not at time 0
    png = (PNG_DIR / f"{E2E.name}.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
