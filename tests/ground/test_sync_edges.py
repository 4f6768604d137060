"""Sync detector at every edge of its comparisons (SPEC 4.1: lock after consecutive hits, loss
after a configurable number of misses): marker errors exactly at the tolerance and one above,
lock after exactly ``lock_hits`` good words and not after one fewer, loss after exactly
``max_misses + 1`` misses and not after ``max_misses``, a CRC error and a wrong counter while
locked. The events are stated here; the golden model and the RTL (Amaranth simulator,
Verilator, Icarus) must both give them (:func:`tb.ground.bodies.sync_edges`)."""

import pytest

from models.ground.sync import SyncConfig
from rtl.ground.sync import SyncDetector
from tb.dual import backend_params, run_body
from tb.ground import bodies

SHORT = SyncConfig(frame_bits=128, max_misses=3)  # frames of a header only: short runs
TOL, MISS = SHORT.tolerance, SHORT.max_misses
LOST = 16  # marker errors of a lost sync word
assert SHORT.lock_hits == 2

# frame index: (counter, marker errors, CRC ok); events as (counter, frame index, flywheel)
FRAMES: list[tuple[int, int, int]] = []
WANT: list[tuple[int, int, int]] = []


def frame(counter: int, errors: int, crc_ok: int = 1, event: int | None = None) -> None:
    """Append a frame; ``event``: the flywheel flag of the event it must give."""
    if event is not None:
        WANT.append((counter, len(FRAMES), event))
    FRAMES.append((counter, errors, crc_ok))


frame(10, 0)                 # search: a candidate (1 of lock_hits good words)
frame(11, TOL + 1)           # one error too many: verify fails, no lock after 1 good word
frame(12, TOL)               # search: exactly at the tolerance, a candidate
frame(13, TOL, event=0)      # exactly lock_hits good words: locked
frame(14, TOL + 1, event=1)  # locked: one error too many is a miss (flywheel)
frame(15, 0, crc_ok=0, event=0)  # a hit with a CRC error still counts as a hit
for k in range(16, 16 + MISS):
    frame(k, LOST, event=1)  # max_misses misses: still locked
frame(16 + MISS, 0, event=0)
for k in range(17 + MISS, 17 + 2 * MISS):
    frame(k, LOST, event=1)
frame(17 + 2 * MISS, LOST)   # miss max_misses + 1: lock lost (loss 1), no event
frame(100, TOL + 1)          # search: one error too many is no candidate
frame(101, 0)
frame(102, 0, event=0)       # re-acquired
frame(200, 0)                # locked: a clean word with another counter: lock lost (loss 2)
frame(201, 0)
frame(202, 0, event=0)
PARAMS = {"frames": FRAMES, "want": WANT, "losses": 2, "lead": 77, "bits_seed": 5,
          "frame_bits": SHORT.frame_bits, "max_misses": MISS}


@pytest.mark.parametrize("backend", backend_params())
def test_sync_lock_loss_and_tolerance_edges(backend):
    run_body(backend, SyncDetector(SHORT), bodies.sync_edges, case="ground_sync_edges",
             params={**PARAMS, "seed": 2, "idle": 0.2, "stall": 0.3})
