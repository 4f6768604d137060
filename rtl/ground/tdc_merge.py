"""Time-ordered merge of the TDC tag streams (SPEC 4.0), bit-exact with
:func:`models.ground.tdc_merge.run_merge`.

Overview
--------
N tag streams (the four detector channels and the joined sync stream, each in time order) ->
one stream in non-decreasing time, ties in input order, as the pulse indexer needs (it takes
tags strictly in input order and gives ``ORDER`` to an older one). Each input has a FIFO; a
tournament over the FIFO heads finds the smallest ``(time, input)``; it leaves only when no later
tag can come before it, which the per-input maximum lag decides: a tag arrives at most
``max_lag_ps[i]`` after its time, so an empty input ``j`` stands for a virtual head
``(now - max_lag_ps[j], j)`` in the tournament. A virtual winner means: wait.
"""

import operator
from collections.abc import Sequence
from functools import reduce

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from models.constants import TDC_CHANNELS
from models.ground.tdc_merge import round_cycles
from rtl.common.streams import output_register
from rtl.ground.layouts import Tag

LAG_BITS = 32
"""Width of a maximum-lag register (ps): up to 4.29 ms."""

COUNTER_BITS = 32


def before(a: Signal, b: Signal) -> Signal:
    """``a`` is earlier than ``b`` modulo 2**64 (the sign of the 64-bit difference)."""
    return (a - b)[63]


class TimeOrderedMerge(wiring.Component):
    """N tag streams -> one stream in ``(time, input)`` order, late and overflowing tags dropped
    and counted per input.

    Latency: a tag arriving at cycle ``a`` is in its FIFO at ``a + 3``; a round of
    ``R = round_cycles(N)`` cycles (6 for N = 5: snapshot, three tournament levels, decision,
    pop) releases it, so it leaves ``R + 1`` to ``2 R`` cycles after it is *safe*: the bounds
    ``now - max_lag_ps[j]`` of the empty inputs have passed its time. In steady flow the latency
    is therefore the largest ``max_lag_ps`` of an idle input plus up to 15 cycles. Throughput:
    one tag per ``R`` cycles (26.04 Mtags/s at 156.25 MHz for N = 5, above the pulse indexer's
    9.2 Mtags/s); each input takes one tag per cycle into its FIFO. The decision registers a
    one-hot grant and the FIFO moves a cycle later (the FIFOs sit far from the tournament), so
    the next snapshot sees the popped FIFO.

    ::

        cycle    a    a+1         a+2        a+3 ... s         s+1 s+2 s+3 d=s+4  d+1  d+2
        i<k>     tag  late/order  write/ovf  in FIFO snapshot  L1  L2  L3  grant  pop  o.valid
                                                     heads, now(s-2)-max_lag

    Stream contract: every input is always ready (a TDC cannot wait): a tag that arrives more than
    ``max_lag_ps[i]`` after its time, or before the latest in-order tag of its input, is
    ``late``; one that finds the FIFO (``depth`` entries) full is ``overflow``; both are dropped
    and counted at arrival, so these decisions never depend on ``o``'s backpressure. ``o`` holds
    its tag until read (a stalled ``o`` stalls the release, never the inputs). Times compare
    modulo 2**64 (the coarse counter may wrap; tags within 2**63 ps of each other and of
    ``now_ps``).

    Members
    -------
    i0 .. i<N-1> : In(stream.Signature(Tag))
        The input tag streams, each in non-decreasing time; lower index wins ties.
    o : Out(stream.Signature(Tag))
        The merged stream.
    now_ps : In(64)
        The coarse time of this cycle (the TDC's picosecond cycle counter).
    max_lag_ps : In(ArrayLayout(32, N))
        Per input, the largest ``now - time`` a tag may have when it arrives.
    late, overflow : Out(ArrayLayout(32, N))
        Per input, tags dropped (counters wrap at 2**32).

    Parameters
    ----------
    inputs, depth :
        Number of inputs; FIFO entries per input (a power of two; distributed RAM).
    frame_inputs :
        The inputs whose ``frame`` field is stored (default all); the others leave with frame 0
        (the detector channels' tags have no frame: 48 bits less per FIFO entry).
    """

    def __init__(self, inputs: int = TDC_CHANNELS, depth: int = 32,
                 frame_inputs: Sequence[int] | None = None) -> None:
        if inputs < 2:
            raise ValueError(f"a merge needs at least 2 inputs, not {inputs}")
        if depth < 2 or depth & (depth - 1):
            raise ValueError(f"merge FIFO depth {depth} must be a power of two >= 2")
        self._n = inputs
        self._depth = depth
        self._frames = set(range(inputs) if frame_inputs is None else frame_inputs)
        members = {f"i{i}": In(stream.Signature(Tag)) for i in range(inputs)}
        members.update({
            "o": Out(stream.Signature(Tag)),
            "now_ps": In(64),
            "max_lag_ps": In(data.ArrayLayout(LAG_BITS, inputs)),
            "late": Out(data.ArrayLayout(COUNTER_BITS, inputs)),
            "overflow": Out(data.ArrayLayout(COUNTER_BITS, inputs)),
        })
        super().__init__(members)

    @property
    def inputs(self) -> list[stream.Interface]:
        return [getattr(self, f"i{i}") for i in range(self._n)]

    def elaborate(self, platform):
        m = Module()
        n, depth = self._n, self._depth
        rounds = round_cycles(n)
        abits = (depth - 1).bit_length()

        phase = Signal(range(rounds))
        m.d.sync += phase.eq(phase + 1)
        with m.If(phase == rounds - 1):
            m.d.sync += phase.eq(0)
        decide = phase == rounds - 2
        # The grant of the decision cycle, one-hot, as a register: it alone enables the FIFO
        # pointers, the level counters and the output register, which sit far from the
        # tournament, in the round's last cycle.
        pop = Signal(n)

        heads, keys = [], []
        for i, port in enumerate(self.inputs):
            # An input whose tags all have frame 0 (the detectors) stores no frame field.
            entry = Tag if i in self._frames else data.StructLayout(
                {"time": Tag["time"].shape, "channel": Tag["channel"].shape})
            mem = Memory(shape=entry, depth=depth, init=[])
            m.submodules[f"fifo{i}"] = mem
            wr = mem.write_port()
            rd = mem.read_port(domain="comb")
            wp = Signal(abits, name=f"wp{i}")
            rp = Signal(abits, name=f"rp{i}")
            count = Signal(range(depth + 1), name=f"count{i}")
            last = Signal(64, name=f"last{i}")
            has_last = Signal(name=f"has_last{i}")
            # Stage 0: the tag and its lag now(a) - time. Stage 1 (a + 1): the lag and order
            # compares, each into a register; ``last`` follows every tag in order (late or not),
            # so no compare feeds another. Stage 2 (a + 2): FIFO write, late or overflow.
            sv = Signal(name=f"sv{i}")
            st = Signal(Tag, name=f"st{i}")
            slag = Signal(signed(64), name=f"slag{i}")
            m.d.comb += port.ready.eq(1)
            m.d.sync += [sv.eq(port.valid), st.eq(port.payload),
                         slag.eq(self.now_ps - port.payload.time)]
            order = has_last & before(st.time, last)
            sv2 = Signal(name=f"sv2_{i}")
            old = Signal(name=f"old{i}")
            st2 = Signal(Tag, name=f"st2_{i}")
            m.d.sync += [sv2.eq(sv), old.eq((slag > self.max_lag_ps[i]) | order), st2.eq(st)]
            with m.If(sv & ~order):
                m.d.sync += [last.eq(st.time), has_last.eq(1)]
            with m.If(sv2 & old):
                m.d.sync += self.late[i].eq(self.late[i] + 1)
            ok = sv2 & ~old
            full = count == depth
            write = ok & ~full
            m.d.comb += [wr.addr.eq(wp), wr.en.eq(write), rd.addr.eq(rp)]
            with m.If(ok & full):
                m.d.sync += self.overflow[i].eq(self.overflow[i] + 1)
            with m.If(write):
                m.d.sync += wp.eq(wp + 1)
            with m.If(pop[i]):
                m.d.sync += rp.eq(rp + 1)
            m.d.sync += count.eq(count + write - pop[i])
            # Snapshot key: the head, or for an empty input the bound of any later tag of it,
            # now(s - 2) - max_lag (tags arriving from s - 2 on are not in the snapshot at s).
            lb = Signal(64, name=f"lb{i}")
            lb2 = Signal(64, name=f"lb2_{i}")
            m.d.sync += [lb.eq(self.now_ps - self.max_lag_ps[i]), lb2.eq(lb)]
            kt = Signal(64, name=f"key{i}")
            kr = Signal(name=f"real{i}")
            m.d.sync += [kt.eq(Mux(count.any(), rd.data.time, lb2)), kr.eq(count.any())]
            head = Signal(Tag, name=f"head{i}")
            for field in entry.members:
                m.d.comb += [getattr(wr.data, field).eq(getattr(st2, field)),
                             getattr(head, field).eq(getattr(rd.data, field))]
            heads.append(head)
            keys.append((kt, Signal(range(n), init=i, name=f"idx{i}"), kr))

        # Tournament, one registered level per cycle; the left operand has the lower inputs and
        # wins ties. Odd operands pass through a register to stay aligned.
        level = 0
        while len(keys) > 1:
            level += 1
            nxt = []
            for k in range(0, len(keys), 2):
                t = Signal(64, name=f"t_l{level}_{k // 2}")
                x = Signal(range(n), name=f"x_l{level}_{k // 2}")
                r = Signal(name=f"r_l{level}_{k // 2}")
                if k + 1 < len(keys):
                    (lt, lx, lr), (rt, rx, rr) = keys[k], keys[k + 1]
                    right = before(rt, lt)
                    m.d.sync += [t.eq(Mux(right, rt, lt)), x.eq(Mux(right, rx, lx)),
                                 r.eq(Mux(right, rr, lr))]
                else:
                    m.d.sync += [t.eq(keys[k][0]), x.eq(keys[k][1]), r.eq(keys[k][2])]
                nxt.append((t, x, r))
            keys = nxt
        _wt, win, real = keys[0]

        # An output register that is free in the decision cycle is still free in the next one:
        # only the grant loads it.
        free = output_register(m, self.o)
        m.d.sync += pop.eq(Mux(decide & real & free, 1 << win, 0))
        with m.If(pop.any()):
            m.d.sync += [self.o.payload.eq(reduce(operator.or_, (
                             Mux(pop[i], head.as_value(), 0) for i, head in enumerate(heads)))),
                         self.o.valid.eq(1)]
        return m

