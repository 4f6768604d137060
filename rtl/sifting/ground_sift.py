r"""Ground sifting (SPEC 5): the ground's reports plus the satellite's sift entries to key beats.

Overview
--------
``record`` replays the ground's reports (kept with the measured bit) in the order they were sent;
``entry`` carries the sift entries of the same detections, in the same order, from the downlink
sift messages (entries of an uplink frame the satellite never received arrive as ``missing``).
The two streams are joined one to one and sifted by the shared
:class:`~rtl.sifting.sifter.Sifter`, with the measured bit as key bit, so both sides' key beats
carry identical (basis, intensity) tags and packet boundaries
(``models.sifting.entries.ground_sift``).

Latency, throughput
-------------------
One detection per cycle when both inputs are valid; key beat one cycle after the join::

    clk          _/‾\_/‾\_/‾\_/‾\_
    record.valid ‾‾‾‾‾‾‾‾‾‾‾‾\____
    entry.valid  ____/‾‾‾‾‾‾‾‾‾‾‾\   (joined when both are valid)
    key.valid    ________/‾‾‾‾‾‾‾‾
"""

from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from models.sifting.packets import PACKET_BITS
from rtl.sifting.layouts import KeyBeat, Report, SiftEntry
from rtl.sifting.sifter import Sifter, counter_ports, forward_counters


class GroundSift(wiring.Component):
    """Joins the ground's records with the satellite's sift entries and sifts them.

    Latency: a key beat one cycle after the join; one detection per cycle when both inputs are
    valid.

    Members
    -------
    record : In(stream.Signature(Report))
        The ground's reports, in the order they were framed.
    entry : In(stream.Signature(SiftEntry))
        Their sift entries from the downlink messages.
    key : Out(stream.Signature(KeyBeat))
        Sifted key beats (``last`` closes a packet).
    detected, dropped, packets, missing : Out
        Counters of :func:`~rtl.sifting.sifter.counter_ports`.
    """

    def __init__(self, packet_bits: int = PACKET_BITS) -> None:
        self._packet_bits = packet_bits
        super().__init__({
            "record": In(stream.Signature(Report)),
            "entry": In(stream.Signature(SiftEntry)),
            "key": Out(stream.Signature(KeyBeat)),
            **counter_ports(errors=False, missing=True),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.sifter = sifter = Sifter(self._packet_bits, count_errors=False)
        rec = self.record.payload
        m.d.comb += [
            sifter.i.valid.eq(self.record.valid & self.entry.valid),
            self.record.ready.eq(self.entry.valid & sifter.i.ready),
            self.entry.ready.eq(self.record.valid & sifter.i.ready),
            sifter.i.payload.entry.eq(self.entry.payload),
            sifter.i.payload.basis.eq(rec.basis),
            sifter.i.payload.sampled.eq(rec.sampled),
            sifter.i.payload.key_bit.eq(rec.bit),
            sifter.i.payload.ref_bit.eq(rec.bit),
        ]
        wiring.connect(m, sifter.key, wiring.flipped(self.key))
        forward_counters(m, self, sifter)
        return m
