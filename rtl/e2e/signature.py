r"""Per-batch signature of the symbol stream: a cheap, complete scoreboard for 4 x 625 MS/s.

Shipping every symbol to Python costs more than simulating it, so the e2e top reduces each run
of ``beats`` symbol beats to a Fletcher-style signature that the scoreboard recomputes from the
golden model (:func:`models.symbols.map_symbols` of :func:`models.qrng.qrng_words`):

* word of a beat ``w = symbols | fold(drive) << 4 * lanes``: the 4-bit symbols of all lanes (as
  stored in the RND cache) and the 16-bit drive words of all lanes XOR-folded to 32 bits;
* ``s1 = sum(w)``, ``s2 = sum of the running s1`` (both mod 2**64), so a single wrong beat, a
  swap of two beats or a missing beat changes the signature;
* ``pulse``: the pulse index of the batch's first beat.

Latency, throughput: one beat per cycle in; one signature beat one cycle after the batch's last
beat. ``o`` must be taken before the next batch completes (the e2e top's capture always is).
"""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from rtl.satellite.layouts import PULSE_INDEX_BITS, symbol_beat

FOLD_BITS = 32

SignatureRecord = data.StructLayout({"pulse": PULSE_INDEX_BITS, "s1": 64, "s2": 64})


def beat_word_bits(lanes: int) -> int:
    return 4 * lanes + FOLD_BITS


class SymbolSignature(wiring.Component):
    """Fletcher-style signature of each batch of ``beats`` symbol beats.

    Latency: one signature beat one cycle after the batch's last beat; one beat per cycle in.

    Members
    -------
    i : In(stream.Signature(symbol_beat(lanes)))
        Symbol beats.
    o : Out(stream.Signature(SignatureRecord))
        ``s1``, ``s2`` and the first pulse of each batch; taken before the next batch completes.
    """

    def __init__(self, lanes: int, beats: int) -> None:
        if beat_word_bits(lanes) > 64 or beats < 1:
            raise ValueError(f"SymbolSignature: lanes={lanes} (at most 8), beats={beats} >= 1")
        self._lanes = lanes
        self._beats = beats
        super().__init__({
            "i": In(stream.Signature(symbol_beat(lanes))),
            "o": Out(stream.Signature(SignatureRecord)),
        })

    def elaborate(self, platform):
        m = Module()
        beat = self.i.payload
        drive = beat.drive.as_value()
        fold = 0
        for chunk in range(0, len(drive), FOLD_BITS):
            fold = fold ^ drive[chunk:chunk + FOLD_BITS]
        word = Signal(64)
        m.d.comb += [word.eq(Cat(beat.symbol.as_value(), fold)), self.i.ready.eq(1)]

        s1, s2 = Signal(64), Signal(64)
        first = Signal(PULSE_INDEX_BITS)
        position = Signal(range(self._beats))
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        with m.If(self.i.valid):
            new_s1 = (s1 + word)[:64]
            m.d.sync += [s1.eq(new_s1), s2.eq(s2 + new_s1), position.eq(position + 1)]
            with m.If(position == 0):
                m.d.sync += first.eq(beat.pulse)
            with m.If(position == self._beats - 1):
                m.d.sync += [
                    position.eq(0), s1.eq(0), s2.eq(0), self.o.valid.eq(1),
                    self.o.payload.s1.eq(new_s1), self.o.payload.s2.eq(s2 + new_s1),
                    self.o.payload.pulse.eq(beat.pulse if self._beats == 1 else first),
                ]
        return m
