"""rtl.satellite.gearbox: ``i`` is always ready, and a cycle without a beat drives zeros on every
pin (no trigger, DAC codes 0), before and after a beat that does reach the pins."""

from amaranth.hdl import ClockDomain, Module, Value

from models.constants import LANES, PULSE_PERIOD_PS
from rtl.common.payload import pack
from rtl.satellite.gearbox import CHANNEL_PINS, ModulatorGearbox
from rtl.satellite.layouts import symbol_beat
from tb.satellite.gearbox_sim import PS, run_gearbox

BEAT = pack(symbol_beat(LANES), {
    "pulse": 0,
    "symbol": [{"intensity": 0, "basis": 0, "bit": 0}] * LANES,
    "drive": [{"im": 0xA5, "pm": 0x3C}] * LANES,
})


def test_idle_cycles_drive_zeros_and_input_is_always_ready():
    top = Module()
    top.domains.sync = sync = ClockDomain("sync")
    top.domains.eclk = eclk = ClockDomain("eclk")
    top.d.comb += eclk.rst.eq(sync.rst)
    top.submodules.gearbox = gearbox = ModulatorGearbox()
    pins: list[tuple[int, ...]] = []  # per cycle: (valid, im, pm, trigger) sampled mid-UI
    ready = []

    async def bench(ctx):
        ctx.set(sync.rst, 1)
        await ctx.tick("sync")
        ctx.set(sync.rst, 0)
        for cycle in range(12):
            valid = cycle == 5
            ctx.set(gearbox.i.valid, valid)
            ctx.set(Value.cast(gearbox.i.payload), BEAT if valid else 0)
            ready.append(ctx.get(gearbox.i.ready))
            for ui in range(LANES):
                await ctx.delay((PULSE_PERIOD_PS // 2 if ui == 0 else PULSE_PERIOD_PS) * PS)
                pins.append(tuple(ctx.get(getattr(gearbox, name)) for name in CHANNEL_PINS))
            await ctx.tick("sync")

    run_gearbox(top, bench)
    assert ready == [1] * 12
    beat = [k for k, p in enumerate(pins) if p == (0xA5, 0x3C, 1)]
    assert len(beat) == LANES and beat == list(range(beat[0], beat[0] + LANES))
    assert all(p == (0, 0, 0) for k, p in enumerate(pins) if k not in beat), pins
