"""PhaseHistogram's clear, which the calibration test uses only on an empty memory: every bin
back to zero, busy for exactly BINS cycles."""

from models.ground.calibration import BIN_PS, BINS
from models.ground.timing import Record, Status
from rtl.ground.histogram import PhaseHistogram
from tb import pysim
from tb.ground.host import read_bins
from tb.packing import record_payloads


def test_clear_zeroes_every_filled_bin_in_bins_cycles():
    # one ACCEPTED record in the middle of every bin (r16: residual in 1/16 ps)
    records = [Record(n, 0, (b * BIN_PS + BIN_PS // 2) * 16, Status.ACCEPTED)
               for n, b in enumerate(range(BINS))]
    dut = PhaseHistogram()
    seen = {}

    async def host(ctx):
        for item in record_payloads(records):
            await pysim.stream_put(ctx, dut.records, int(item))
        await ctx.tick().repeat(6)
        seen["filled"] = await read_bins(ctx, dut.addr, dut.data)
        ctx.set(dut.clear, 1)
        await ctx.tick()
        ctx.set(dut.clear, 0)
        busy = 0
        while ctx.get(dut.busy):
            busy += 1
            await ctx.tick()
        seen["busy"] = busy
        seen["cleared"] = await read_bins(ctx, dut.addr, dut.data)

    pysim.run(dut, host)
    assert seen["filled"] == [1] * BINS
    assert seen["busy"] == BINS
    assert seen["cleared"] == [0] * BINS
