"""UplinkFramer at its frame, close-time and repetition edges (SPEC 4.4, ``docs/sifting.md``):
the reports at pulses P - 1 and P fall in frames 0 and 1 (offsets P - 1 and 0); a report of a
later frame closes the open one; frame j closes when ``now`` reaches ``(j+1) P + close_lag``
exactly, not one pulse before; each closed frame is sent exactly ``max_repeats`` times while no
newer frame closes; an empty frame is sent too; a report older than the open frame is ``late``,
neither sent nor recorded. The copies are stated in ``tb.sifting.edge_cases`` and checked
against the golden encoder (``tb.sifting.bodies.uplink_framer_edges``).

The 32-bit sequence number would wrap after 2**32 frames (160 days at P = 2**21): unreachable in
a pass, not simulated (the receivers compare without wrap-around, ``docs/sifting.md``)."""

from tb.sifting import edge_cases


def test_uplink_framer_closes_at_exact_time_and_repeats_max_times():
    """Cases: ``tb.sifting.edge_cases.uplink_framer``; Verilog: ``test_harness_edges.py``."""
    edge_cases.run_pysim("uf")
