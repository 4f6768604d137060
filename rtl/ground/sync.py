r"""Sync-word detector (SPEC 4.1), bit-exact with :func:`models.ground.sync.detect`.

Overview
--------
``bits`` carries the recovered downlink, one bit per beat (one per fabric cycle on the real
link), any alignment; it is always ready (a link cannot be held off). A 128-bit shift register
holds the newest header-sized window; every position ``p`` is scored in a five-stage pipeline
(XOR with the marker and 8-bit partial popcounts + the counter's CRC-16; pair sums; quad sums;
total distance and compare; FSM).
The FSM (SEARCH / VERIFY / LOCKED with a flywheel over missed markers) is documented in
:mod:`models.ground.sync`; it emits one ``frames`` beat per frame while locked:
``(frame k, position p of the frame's first bit, flywheel)``.

Latency, throughput, stream contract
------------------------------------
A frame event leaves 5 cycles after the last bit of its 128-bit header. Events come one per
``frame_bits`` bits; if ``frames`` is still full when the next event is due, the event is
dropped and counted in ``dropped`` (the consumer has a whole frame time to take it)::

    bits      ... b(p+126) b(p+127) .  .  .
    frames                          ......(k, p, fly)
"""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from models.framing import COUNTER_BITS, MARKER_BITS, SYNC_MARKER
from models.ground.sync import HEADER_BITS, SyncConfig
from rtl.common.crc import crc_msb_first

FrameEvent = data.StructLayout({"frame": COUNTER_BITS, "position": 64, "flywheel": 1})


class SyncDetector(wiring.Component):
    """Sync-word detector on the recovered downlink bit stream.

    Latency: a frame event 5 cycles after the last bit of its 128-bit header; one bit per cycle,
    ``bits`` always ready; one event per frame while locked.

    Members
    -------
    bits : In(stream.Signature(1))
        The recovered downlink, one bit per beat.
    frames : Out(stream.Signature(FrameEvent))
        Frame counter, position of the frame's first bit, flywheel flag.
    locked : Out(1)
        Locked on the sync word.
    losses, dropped : Out(16)
        Lock losses; events dropped because ``frames`` was still full.
    """

    bits: In(stream.Signature(1))
    frames: Out(stream.Signature(FrameEvent))
    locked: Out(1)
    losses: Out(16)
    dropped: Out(16)

    def __init__(self, cfg: SyncConfig | None = None) -> None:
        self._cfg = cfg or SyncConfig()
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        cfg = self._cfg
        m.d.comb += self.bits.ready.eq(1)

        window = Signal(HEADER_BITS)
        count = Signal(64)
        full = Signal()
        w_valid = Signal()
        m.d.sync += w_valid.eq(0)
        with m.If(self.bits.valid):
            m.d.sync += [
                window.eq(Cat(self.bits.payload, window[:-1])),
                count.eq(count + 1),
                w_valid.eq(full | (count == HEADER_BITS - 1)),
            ]
            with m.If(count == HEADER_BITS - 1):
                m.d.sync += full.eq(1)

        # stage B: XOR and partial popcounts, counter CRC
        diff = Signal(MARKER_BITS)
        m.d.comb += diff.eq(window[HEADER_BITS - MARKER_BITS:] ^ SYNC_MARKER)
        parts = [Signal(4, name=f"part{i}") for i in range(MARKER_BITS // 8)]
        b_valid, b_crc_ok = Signal(), Signal()
        b_counter, b_pos = Signal(COUNTER_BITS), Signal(64)
        counter = window[16:16 + COUNTER_BITS]
        crc = crc_msb_first(counter, poly=0x1021, width=16, init=0xFFFF)
        m.d.sync += [
            b_valid.eq(w_valid),
            b_crc_ok.eq(crc == window[:16]),
            b_counter.eq(counter),
            b_pos.eq(count - HEADER_BITS),
            *(part.eq(sum(diff[8 * i + j] for j in range(8))) for i, part in enumerate(parts)),
        ]
        # stage B2: pair sums (the 64-bit popcount as a registered tree)
        pairs = [Signal(5, name=f"pair{i}") for i in range(len(parts) // 2)]
        b2_valid, b2_crc_ok = Signal(), Signal()
        b2_counter, b2_pos = Signal(COUNTER_BITS), Signal(64)
        m.d.sync += [
            b2_valid.eq(b_valid), b2_crc_ok.eq(b_crc_ok), b2_counter.eq(b_counter),
            b2_pos.eq(b_pos),
            *(pair.eq(parts[2 * i] + parts[2 * i + 1]) for i, pair in enumerate(pairs)),
        ]
        # stage B3: quad sums
        quads = [Signal(6, name=f"quad{i}") for i in range(2)]
        b3_valid, b3_crc_ok = Signal(), Signal()
        b3_counter, b3_pos = Signal(COUNTER_BITS), Signal(64)
        m.d.sync += [
            b3_valid.eq(b2_valid), b3_crc_ok.eq(b2_crc_ok), b3_counter.eq(b2_counter),
            b3_pos.eq(b2_pos),
            quads[0].eq(pairs[0] + pairs[1]), quads[1].eq(pairs[2] + pairs[3]),
        ]
        # stage C: distance and hit
        c_valid, c_hit, c_crc_ok = Signal(), Signal(), Signal()
        c_counter, c_pos = Signal(COUNTER_BITS), Signal(64)
        c_at_expected, c_k_match = Signal(), Signal()
        # FSM registers, compared one stage early (the 64- and 48-bit equalities get a cycle of
        # their own). Safe because expected/k change only at stage C, at a position that is
        # 16384 (>= 128) bits before the next expected one, and expected is set to all ones
        # (never reached) whenever the FSM returns to SEARCH.
        expected = Signal(64, init=(1 << 64) - 1)
        k = Signal(COUNTER_BITS)
        m.d.sync += [
            c_at_expected.eq(b3_pos == expected),
            c_k_match.eq(b3_counter == k),
            c_valid.eq(b3_valid),
            c_hit.eq(quads[0] + quads[1] <= cfg.tolerance),
            c_crc_ok.eq(b3_crc_ok),
            c_counter.eq(b3_counter),
            c_pos.eq(b3_pos),
        ]

        # FSM
        hits = Signal(4)
        misses = Signal(8)
        out = self.frames
        with m.If(out.valid & out.ready):
            m.d.sync += out.valid.eq(0)

        def emit(frame, flywheel):
            return [out.payload.frame.eq(frame), out.payload.position.eq(c_pos),
                    out.payload.flywheel.eq(flywheel), out.valid.eq(1)]

        def emit_or_drop(frame, flywheel):
            with m.If(out.valid & ~out.ready):
                m.d.sync += self.dropped.eq(self.dropped + 1)
            with m.Else():
                m.d.sync += emit(frame, flywheel)

        at_expected = c_valid & c_at_expected
        never = expected.eq((1 << 64) - 1)
        advance = [expected.eq(c_pos + cfg.frame_bits), k.eq(k + 1)]
        with m.FSM():
            with m.State("SEARCH"), m.If(c_valid & c_hit & c_crc_ok):
                m.d.sync += [k.eq(c_counter + 1), hits.eq(1),
                             expected.eq(c_pos + cfg.frame_bits)]
                if cfg.lock_hits <= 1:
                    m.d.sync += misses.eq(0)
                    emit_or_drop(c_counter, 0)
                    m.next = "LOCKED"
                else:
                    m.next = "VERIFY"
            with m.State("VERIFY"), m.If(at_expected):
                m.d.sync += advance
                with m.If(c_hit & c_crc_ok & c_k_match):
                    m.d.sync += hits.eq(hits + 1)
                    with m.If(hits + 1 >= cfg.lock_hits):
                        m.d.sync += misses.eq(0)
                        emit_or_drop(k, 0)
                        m.next = "LOCKED"
                with m.Else():
                    m.d.sync += never
                    m.next = "SEARCH"
            with m.State("LOCKED"):
                m.d.comb += self.locked.eq(1)
                with m.If(at_expected):
                    m.d.sync += advance
                    with m.If(c_hit & c_crc_ok & ~c_k_match):
                        m.d.sync += [self.losses.eq(self.losses + 1), never]
                        m.next = "SEARCH"
                    with m.Elif(c_hit):
                        m.d.sync += misses.eq(0)
                        emit_or_drop(k, 0)
                    with m.Elif(misses >= cfg.max_misses):
                        m.d.sync += [self.losses.eq(self.losses + 1), never]
                        m.next = "SEARCH"
                    with m.Else():
                        m.d.sync += misses.eq(misses + 1)
                        emit_or_drop(k, 1)
        return m
