r"""Sifting back end shared by both sides (SPEC 5): sift entries to key beats and counters.

Overview
--------
Per detection (:data:`~rtl.sifting.layouts.SiftItem`), exactly as ``models.sifting.entries``:

* entry ``missing`` (ground only: its uplink frame never reached the satellite): ``missing`` + 1;
* else intensity 3 (RND cache lookup expired or pending): ``dropped`` + 1;
* else bases differ: discarded;
* else sampled: ``detected[3 basis + intensity]`` + 1, and with ``count_errors`` (satellite)
  ``errors[...]`` + 1 if the reported bit differs from the symbol bit;
* else a key beat (bit, basis, intensity); ``last`` marks the beat that closes a packet of
  ``packet_bits`` bits (``packets`` + 1 with it).

Latency, throughput
-------------------
One detection per cycle; a key beat leaves one cycle after its detection is taken. ``i.ready``
is low only while a key beat waits for ``key.ready``::

    clk      _/‾\_/‾\_/‾\_/‾\_
    i.valid  ‾‾‾‾‾‾‾‾‾‾‾‾\____
    i          d0  d1  d2
    key.valid ___/‾‾‾‾‾‾‾‾‾‾‾\_
    key            k0  k1  k2
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from models.sifting.entries import DROPPED_INTENSITY
from models.sifting.packets import PACKET_BITS
from rtl.sifting.layouts import COUNTER_BITS, Counters, KeyBeat, SiftItem


def counter_ports(*, errors: bool, missing: bool) -> dict:
    """The counter outputs of a sifting block (the satellite counts errors, the ground missing)."""
    ports = {
        "detected": Out(Counters),
        "dropped": Out(COUNTER_BITS),
        "packets": Out(COUNTER_BITS),
    }
    if errors:
        ports["errors"] = Out(Counters)
    if missing:
        ports["missing"] = Out(COUNTER_BITS)
    return ports


def forward_counters(m: Module, outer: wiring.Component, inner: wiring.Component) -> None:
    """Drive ``outer``'s counter outputs from the same-named outputs of ``inner``."""
    for name in ("detected", "errors", "dropped", "missing", "packets"):
        if name in outer.signature.members:
            m.d.comb += getattr(outer, name).eq(getattr(inner, name))


class Sifter(wiring.Component):
    """Sift entries to key beats and counters, shared by both sides.

    Latency one cycle, one detection per cycle (``i.ready`` low only while a key beat waits).

    Members
    -------
    i : In(stream.Signature(SiftItem))
        One detection with its sift entry, key bit and reference bit.
    key : Out(stream.Signature(KeyBeat))
        Key beats; ``last`` closes each packet of ``packet_bits``.
    detected, dropped, packets, errors, missing : Out
        Counters (:func:`counter_ports`: ``errors`` with ``count_errors``).
    """

    def __init__(self, packet_bits: int = PACKET_BITS, count_errors: bool = True) -> None:
        if packet_bits < 1:
            raise ValueError(f"Sifter: packet_bits={packet_bits} must be positive")
        self._packet_bits = packet_bits
        self._count_errors = count_errors
        super().__init__({
            "i": In(stream.Signature(SiftItem)),
            "key": Out(stream.Signature(KeyBeat)),
            **counter_ports(errors=count_errors, missing=True),
        })

    def elaborate(self, platform):
        m = Module()
        item = self.i.payload
        entry = item.entry
        basis_bit = item.basis.as_value()
        position = Signal(range(self._packet_bits))
        last = position == self._packet_bits - 1

        can_take = ~self.key.valid | self.key.ready
        m.d.comb += self.i.ready.eq(can_take)
        with m.If(self.key.valid & self.key.ready):
            m.d.sync += self.key.valid.eq(0)

        with m.If(self.i.valid & can_take):
            with m.If(entry.missing):
                m.d.sync += self.missing.eq(self.missing + 1)
            with m.Elif(entry.intensity == DROPPED_INTENSITY):
                m.d.sync += self.dropped.eq(self.dropped + 1)
            with m.Elif(entry.match & item.sampled):
                for basis in range(2):
                    for intensity in range(3):
                        index = 3 * basis + intensity
                        with m.If((basis_bit == basis) & (entry.intensity == intensity)):
                            m.d.sync += self.detected[index].eq(self.detected[index] + 1)
                            if self._count_errors:
                                with m.If(item.key_bit != item.ref_bit):
                                    m.d.sync += self.errors[index].eq(self.errors[index] + 1)
            with m.Elif(entry.match):
                m.d.sync += [
                    self.key.valid.eq(1),
                    self.key.payload.bit.eq(item.key_bit),
                    self.key.payload.basis.eq(item.basis),
                    self.key.payload.intensity.eq(entry.intensity),
                    self.key.payload.last.eq(last),
                    position.eq(0 if self._packet_bits == 1 else position + 1),
                ]
                with m.If(last):
                    m.d.sync += [position.eq(0), self.packets.eq(self.packets + 1)]
        return m
