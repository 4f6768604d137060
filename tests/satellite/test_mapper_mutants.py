"""SymbolMapper behaviour that the scoreboard test does not see: the stage's handshake."""

from rtl.satellite.mapper import SymbolMapper
from tb.stage import check_register_stage


def test_input_ready_follows_the_output_register_at_full_rate():
    dut = SymbolMapper(2)
    accepted = check_register_stage(dut, dut.i, dut.o, 0x1_2345)
    assert accepted > 100  # about half of 300 cycles with 30 % idle and 30 % stall
