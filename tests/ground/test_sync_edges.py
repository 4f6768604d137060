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
TOL = SHORT.tolerance
LOST = 16  # marker errors of a lost sync word


def scenario(lock_hits: int, max_misses: int) -> dict:
    """Frames ``[counter, marker errors, CRC ok]`` and the events they must give
    ``[counter, frame index, flywheel]`` under ``lock_hits`` and ``max_misses``."""
    frames: list[list[int]] = []
    want: list[list[int]] = []
    counter = 10

    def frame(errors: int, crc_ok: int = 1, event: int | None = None, jump: int = 0) -> None:
        nonlocal counter
        counter += jump
        if event is not None:
            want.append([counter, len(frames), event])
        frames.append([counter, errors, crc_ok])
        counter += 1

    def lock(errors: int = 0) -> None:
        """Exactly lock_hits good words: the last one locks."""
        for j in range(lock_hits):
            frame(errors, event=0 if j == lock_hits - 1 else None)

    for _ in range(lock_hits - 1):
        frame(0)              # lock_hits - 1 good words ...
    frame(TOL + 1)            # ... then one error too many: no lock
    lock(TOL)                 # words exactly at the tolerance lock
    frame(0, crc_ok=0, event=0)  # locked: a hit with a CRC error still counts as a hit
    for _ in range(max_misses):
        frame(TOL + 1, event=1)   # max_misses misses (one error too many): still locked
    frame(0, event=0)
    for _ in range(max_misses):
        frame(LOST, event=1)
    frame(LOST)               # miss max_misses + 1: lock lost (loss 1), no event
    frame(TOL + 1)            # search: one error too many is no candidate
    lock()
    frame(0, jump=100)        # locked: a clean word with another counter: lock lost (loss 2)
    lock()
    return {"frames": frames, "want": want, "losses": 2, "lead": 77, "bits_seed": 5}


def run(cfg: SyncConfig, backend: str, case: str) -> None:
    params = {**scenario(cfg.lock_hits, cfg.max_misses), "frame_bits": cfg.frame_bits,
              "max_misses": cfg.max_misses, "lock_hits": cfg.lock_hits}
    run_body(backend, SyncDetector(cfg), bodies.sync_edges, case=case,
             params={**params, "seed": 2, "idle": 0.2, "stall": 0.3})


@pytest.mark.parametrize("backend", backend_params())
def test_sync_lock_loss_and_tolerance_edges(backend):
    run(SHORT, backend, "ground_sync_edges")


@pytest.mark.parametrize("lock_hits, max_misses", [(1, 0), (3, 1)])
def test_sync_edges_at_other_lock_and_miss_limits(lock_hits, max_misses):
    """Lock on the first word and loss at the first miss; lock on the third word."""
    run(SyncConfig(frame_bits=128, lock_hits=lock_hits, max_misses=max_misses), "pysim",
        "ground_sync_edges")
