"""ModulatorGearbox at its edges, in Amaranth's simulator (fabric and 312.5 MHz ECLK clocks, the
ODDRX2F and DELAYF behavioural models): the fine-delay registers walked from 0 to the largest
code 127 and back to 0 (one step per two cycles, no wrap of the 7-bit code, every DELAYF at its
end stop and not past it), and the 4:1 word boundaries: a trigger on the last lane of one beat
then on the first lane of the next, lane order kept, a cycle without a beat driving zeros, and
drive codes 0 and 255 on neighbouring unit intervals.

The golden sequence of whole windows is ``test_gearbox.py``'s; the cocotb runs of the satellite
tops carry the gearbox's Verilog (two clocks and the primitive models, no ``tb.dual`` body)."""

from amaranth.hdl import ClockDomain, Module, Value

from models.constants import LANES, PULSE_PERIOD_PS
from models.symbols import Intensity
from rtl.common.payload import pack
from rtl.satellite.gearbox import CHANNEL_PINS, PIN_LATENCY_PS, ModulatorGearbox
from rtl.satellite.layouts import DELAY_BITS, symbol_beat
from tb.satellite.gearbox_sim import PS, run_gearbox

MAX_CODE = (1 << DELAY_BITS) - 1
#: Sample index of lane 0 of the beat set in cycle 0 (samples mid-UI from just after an edge).
LANE0 = LANES + PIN_LATENCY_PS // PULSE_PERIOD_PS
OFF, SIGNAL = int(Intensity.OFF), int(Intensity.SIGNAL)


def beat(intensities: list[int], im: list[int]) -> int:
    return pack(symbol_beat(LANES), {
        "pulse": 0,
        "symbol": [{"intensity": i, "basis": 0, "bit": 0} for i in intensities],
        "drive": [{"im": v, "pm": 255 - v} for v in im]})


#: Beats per cycle (None: no beat in that cycle).
BEATS = [
    beat([OFF, OFF, OFF, SIGNAL], [0, 0, 0, 255]),  # trigger on the last lane ...
    beat([SIGNAL, OFF, OFF, OFF], [255, 0, 255, 0]),  # ... then on the first of the next
    None,
    beat([SIGNAL, SIGNAL, SIGNAL, SIGNAL], [1, 2, 3, 4]),
]
WANT = {
    "trigger": [0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1],
    "im": [0, 0, 0, 255, 255, 0, 255, 0, 0, 0, 0, 0, 1, 2, 3, 4],
    "pm": [255, 255, 255, 0, 0, 255, 0, 255, 0, 0, 0, 0, 254, 253, 252, 251],
}


def simulate(cycles: int, delays: dict[int, dict[str, int]]) -> dict:
    """``cycles`` fabric cycles with :data:`BEATS` from cycle 0 and the delay registers set at
    the cycles of ``delays``; pins sampled mid-UI, ``applied`` after every cycle, the DELAYF
    taps before each register change and at the end."""
    top = Module()
    top.domains.sync = sync = ClockDomain("sync")
    top.domains.eclk = eclk = ClockDomain("eclk")
    top.d.comb += eclk.rst.eq(sync.rst)
    top.submodules.gearbox = dut = ModulatorGearbox()
    out = {"pins": {name: [] for name in CHANNEL_PINS},
           "applied": {name: [] for name in CHANNEL_PINS}, "taps": {}}

    async def bench(ctx):
        ctx.set(sync.rst, 1)
        for _ in range(2):
            await ctx.tick("sync")
        ctx.set(sync.rst, 0)
        await ctx.tick("sync")
        for cycle in range(cycles):  # just after a fabric edge
            if cycle in delays:
                out["taps"][cycle] = {k: ctx.get(line.taps) for k, line in dut.delay_lines.items()}
            for name, value in delays.get(cycle, {}).items():
                ctx.set(getattr(dut.delay, name), value)
            payload = BEATS[cycle] if cycle < len(BEATS) else None
            ctx.set(dut.i.valid, payload is not None)
            ctx.set(Value.cast(dut.i.payload), payload or 0)
            for ui in range(LANES):
                await ctx.delay(PULSE_PERIOD_PS * PS / 2 if ui == 0 else PULSE_PERIOD_PS * PS)
                for name in CHANNEL_PINS:
                    out["pins"][name].append(ctx.get(getattr(dut, name)))
            await ctx.tick("sync")
            for name in CHANNEL_PINS:
                out["applied"][name].append(ctx.get(getattr(dut.applied, name)))
        out["taps"][cycles] = {k: ctx.get(line.taps) for k, line in dut.delay_lines.items()}

    run_gearbox(top, bench)
    return out


def test_word_boundaries_and_fine_delay_walked_to_its_ends():
    up, down = 260, 520  # 2 * 127 cycles walk a register across its whole range
    out = simulate(down, {0: {"im": MAX_CODE, "pm": MAX_CODE - 1, "trigger": 1},
                          up: {"im": 0, "pm": MAX_CODE, "trigger": 0}})
    for name, want in WANT.items():
        got = out["pins"][name][LANE0:LANE0 + len(want)]
        assert got == want, f"{name} pins {got}"
    # one step per two cycles: the cycle the register is set in takes the first
    applied = out["applied"]
    for name, target in (("im", MAX_CODE), ("pm", MAX_CODE - 1), ("trigger", 1)):
        assert applied[name][:up] == [min(n // 2 + 1, target) for n in range(up)], name
    assert applied["im"][up:] == [max(MAX_CODE - n // 2 - 1, 0) for n in range(down - up)]
    assert applied["pm"][up:] == [MAX_CODE] * (down - up)  # 126 -> 127: one step
    assert applied["trigger"][up:] == [0] * (down - up)
    # every delay line at its register's code: at the largest, one below, back at 0
    for cycle, codes in ((up, {"im": MAX_CODE, "pm": MAX_CODE - 1, "trigger": 1}),
                         (down, {"im": 0, "pm": MAX_CODE, "trigger": 0})):
        taps = out["taps"][cycle]
        assert taps == {(name, pin): codes[name] for name, pin in taps}, cycle
