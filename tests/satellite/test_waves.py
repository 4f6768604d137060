"""`make waves`: the FST holds every signal that the shipped GTKWave save files show."""

import pytest
import pywellen

from sim.waves import GTKW_DIR, SCOPE, gtkw_signals, main, wave_file


@pytest.mark.cocotb
def test_waves_save_files_match_the_fst(monkeypatch):
    monkeypatch.setenv("WAVES", "1")
    assert main(["--simulator", "icarus", "--pulses", "256"]) == 0
    dump = wave_file("icarus")
    names = {var.full_name for var in pywellen.Waveform(str(dump)).all_vars()}
    for template in GTKW_DIR.glob("*.gtkw"):
        saved = dump.parent / template.name
        signals = gtkw_signals(saved)
        assert signals and all(s.startswith(f"{SCOPE}.") for s in signals)
        assert [s for s in signals if s not in names] == []
        assert str(dump) in saved.read_text()
