"""PhyRx (aligner and deframer) at its lock counts (``models.link.receiver``): ``lock_good``
valid sync headers in a row lock, the ``lock_bad``-th invalid header inside one ``window`` of
locked blocks loses the lock, a re-lock at another offset counts as a slip. Each count is put
exactly on its limit, one below and one above; every case states the lock status, offset and
counters, the golden model and the RTL must both give them (``tb.link.bodies.rx_edges``). All
cases in one run per back end: one Verilator and one Icarus build (case ``rx_edges``)."""

import numpy as np
import pytest

from models.link import channel
from models.link.line_code import BLOCK_BITS
from models.link.receiver import RxConfig
from rtl.link.rx import PhyRx
from tb.dual import backend_params, run_body
from tb.link import bodies
from tb.link.stimulus import break_headers, line_bits

CONFIG = RxConfig(lock_good=8, lock_bad=4, window=16)
# One junk bit in front: the first word (against the reset-zero window, an invalid header) moves
# the offset 0 -> 1, then block b is judged by word b + 1 at offset 1.
SKEW = 1
FIRST = CONFIG.lock_good  # the first locked block; its window is blocks FIRST .. FIRST + 15


def case(name: str, bits: np.ndarray, judged: int, **want: int) -> dict:
    """The stream up to the word that judges block ``judged``."""
    words = judged + 2
    assert len(bits) >= words * BLOCK_BITS
    return {"name": name, "bits": "".join(map(str, bits[:words * BLOCK_BITS].tolist())),
            "want": want}


def idle(blocks: int) -> np.ndarray:
    return line_bits([], lead=blocks, skew=SKEW)


def broken(blocks: list[int], length: int = 40) -> np.ndarray:
    return break_headers(idle(length), blocks, SKEW)


LOCK_GOOD = [case(f"good_{n}", idle(20), n - 1, locked=int(n >= CONFIG.lock_good),
                  locks=int(n >= CONFIG.lock_good), offset=SKEW)
             for n in (CONFIG.lock_good - 1, CONFIG.lock_good, CONFIG.lock_good + 1)]
# bad headers two blocks apart inside the first window; the case ends on the last of them
LOCK_BAD = [case(f"bad_{n}", broken([FIRST + 2 * k for k in range(n)]), FIRST + 2 * (n - 1),
                 locked=int(n < CONFIG.lock_bad), bad_headers=min(n, CONFIG.lock_bad),
                 lock_losses=int(n >= CONFIG.lock_bad),
                 offset=SKEW + (n > CONFIG.lock_bad))  # the 5th: judged hunting, slips
            for n in (CONFIG.lock_bad - 1, CONFIG.lock_bad, CONFIG.lock_bad + 1)]
END = FIRST + CONFIG.window  # the first block of the second window
WINDOW = [
    case("window_last_four", broken(list(range(END - 4, END))), END + 1,
         locked=0, lock_losses=1, bad_headers=4),
    case("window_three_then_one", broken([END - 3, END - 2, END - 1, END]), END + 1,
         locked=1, lock_losses=0, bad_headers=4),
    case("window_two_then_two", broken([END - 2, END - 1, END, END + 1]), END + 2,
         locked=1, lock_losses=0, bad_headers=4),
]
# a lock lost on a burst and taken again at the same offset is not a slip; after a bit slip it is
RELOCK = [case("burst_relock_same_offset", broken([10, 11, 12, 13]), 21,
               locked=1, locks=2, lock_losses=1, slips=0, offset=SKEW)]
SLIP_AT = SKEW + 12 * BLOCK_BITS + 5  # inside block 12, locked since block 7
# the case ends two blocks after the re-lock: a dropped bit (-1) takes the hunt once around
for way, relocked in ((1, 35), (-1, 92)):
    RELOCK.append(case(
        f"slip_{way}", channel.apply(idle(120), channel.Faults(slips=((SLIP_AT, way),))),
        relocked + 1,
        locked=1, locks=2, lock_losses=1, slips=1, offset=(SKEW + way) % BLOCK_BITS))
CASES = LOCK_GOOD + LOCK_BAD + WINDOW + RELOCK


@pytest.mark.parametrize("backend", backend_params())
def test_rx_lock_counts_on_below_and_above_their_limits(backend):
    run_body(backend, PhyRx(CONFIG), bodies.rx_edges, case="rx_edges",
             params={"seed": 5, "idle": 0.2, "stall": 0.3, "cases": CASES,
                     "config": {"lock_good": CONFIG.lock_good, "lock_bad": CONFIG.lock_bad,
                                "window": CONFIG.window}})

