"""Sifter packet boundaries (SPEC 5: "a packet closes at exactly 100,000 bits"): 99,999, 100,000
and 100,001 sifted bits give no packet, one packet with ``last`` on bit 99,999, and one packet
plus one bit in the next; other detections (sampled, dropped, missing, bases differ) between the
key bits never count. The stated boundaries are checked on the golden model (``Packetizer``,
``key_beats``) and the RTL key stream (``tb.sifting.bodies.sifter_packets``).

``make test`` runs the body on a 16-bit packet (here and, in Verilog, ``test_harness_edges.py``)
(the same compare, ``position == packet_bits - 1``, on a 4-bit counter instead of a 17-bit one);
the real 100,000-bit packet runs in Verilator under ``slow``, and on the models here."""

import pytest

from models.sifting.packets import PACKET_BITS
from rtl.sifting.sifter import Sifter
from tb.dual import run_body
from tb.sifting import bodies, edge_cases


def test_packet_bits_is_one_hundred_thousand():
    assert PACKET_BITS == 100_000


@pytest.mark.parametrize("case", edge_cases.packet_cases(PACKET_BITS),
                         ids=["99999", "100000", "100001"])
def test_model_packet_closes_at_exactly_100000_bits(case):
    """The golden model at the real length (``Packetizer``, ``key_beats``)."""
    bodies.check_packet_model(case, PACKET_BITS, seed=9)


def test_packet_closes_at_exactly_packet_bits_sifted_bits():
    """A 16-bit packet: 15 / 16 / 17 key bits, and 33 (two boundaries); Verilog:
    ``test_harness_edges.py``."""
    edge_cases.run_pysim("sifter")


@pytest.mark.slow
@pytest.mark.cocotb
def test_packet_closes_at_exactly_100000_sifted_bits_verilator():
    """The real packet length in Verilator: 99,999 / 100,000 / 100,001 key bits (400,000
    detections, one Python wake per cycle: 92 s on 2 shared cores at load 9, ``slow``)."""
    run_body("verilator", Sifter(PACKET_BITS), bodies.sifter_packets,
             case=f"sifter_edges_{PACKET_BITS}",
             params={"packet_bits": PACKET_BITS, "seed": 9, "idle": 0.1, "stall": 0.1,
                     "cases": edge_cases.packet_cases(PACKET_BITS)})
