"""The symbol mapper's thresholds through the whole transmitter (``SatelliteTx``: health intake,
mapper, laser timebase, RND cache): QRNG draws exactly on each threshold, one below and one
above, at the default and at uneven thresholds; the fired symbols and the RND cache's copy of
each are stated here, the golden model and the RTL must both give them
(``tb.satellite.bodies.tx_threshold_edges``), in Amaranth's simulator. The mapper alone runs
the same points on every back end in ``test_mapper_edges.py``, and the transmitter's Verilog
runs on both simulators in ``test_tx_cosim.py``. Through cocotb this body sees every fired
beat safe (QRNG underflow: the directed beats never reach the timebase; cause not found), so it
has no cocotb case."""

from models.symbols import Basis, Intensity
from rtl.satellite.transmitter import SatelliteTx
from tb.dual import run_body
from tb.satellite import bodies
from tb.satellite.bodies import mapper_case

S, D, V = Intensity.SIGNAL, Intensity.DECOY, Intensity.VACUUM
Z, X = Basis.Z, Basis.X
LANES = 4

# Each threshold on, one below, one above, the draws varied so that no health test trips.
DEFAULT = mapper_case((128, 192, 128), [
    (127, 127, 0, S, Z), (128, 128, 1, D, X), (129, 129, 0, D, X), (191, 0, 1, D, Z),
    (192, 255, 0, V, X), (193, 1, 1, V, Z), (0, 126, 1, S, Z), (255, 130, 0, V, X),
])
UNEVEN = mapper_case((77, 200, 31), [
    (76, 30, 0, S, Z), (77, 31, 1, D, X), (78, 32, 0, D, X), (199, 30, 1, D, Z),
    (200, 31, 0, V, X), (201, 32, 1, V, X), (5, 29, 1, S, Z), (250, 33, 0, V, X),
])


def test_transmitter_fires_and_caches_the_class_of_each_threshold_edge():
    run_body("pysim", SatelliteTx(LANES, cache_rows=64), bodies.tx_threshold_edges, case="tx_edges",
             params={"lanes": LANES, "seed": 3, "cases": [DEFAULT, UNEVEN]})
