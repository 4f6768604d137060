"""`make waves` of the end-to-end top: every signal of the e2e save file is in the FST."""

import pytest
import pywellen

from sim.waves import E2E_CASE, E2E_GTKW_DIR, SCOPE, gtkw_signals, main, wave_file


@pytest.mark.cocotb
def test_e2e_save_file_signals_are_in_the_fst(monkeypatch):
    monkeypatch.setenv("WAVES", "1")
    assert main(["--simulator", "icarus", "--e2e", "--cycles", "600"]) == 0
    dump = wave_file("icarus", E2E_CASE)
    names = {var.full_name for var in pywellen.Waveform(str(dump)).all_vars()}
    templates = sorted(E2E_GTKW_DIR.glob("*.gtkw"))
    assert templates
    for template in templates:
        saved = dump.parent / template.name
        signals = gtkw_signals(saved)
        assert signals and all(s.startswith(f"{SCOPE}.") for s in signals)
        assert [s for s in signals if s not in names] == []
        assert str(dump) in saved.read_text()
