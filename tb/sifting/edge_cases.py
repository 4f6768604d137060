"""The directed edge cases of the sifting blocks with their stated outputs: one parameter set
per block for the bodies of :mod:`tb.sifting.bodies`. The per-block pytests run each in
Amaranth's simulator; ``tests/sifting/test_harness_edges.py`` runs all of them in one cocotb
simulation per simulator (:func:`run_cocotb`). What each case pins down is in the table
"Edge cases" of ``docs/testing.md``.
"""

from __future__ import annotations

import numpy as np

from models.sifting.entries import SiftCode
from models.sifting.messages import crc32_words, encode_sift, encode_uplink
from tb.dual import body_name, run_body
from tb.sifting import bodies
from tb.sifting.stimulus import report_values

P = bodies.EDGE_FRAME_PULSES  # 64


def recount(words: list[int], count: int) -> list[int]:
    """A message with header count ``count`` and a valid CRC (its body unchanged)."""
    out = np.array(words, dtype=np.uint32)
    out[0] = (out[0] & np.uint32(0xFF00_0000)) | np.uint32(count)
    out[-1] = crc32_words(out[:-1])
    return out.tolist()


def packet_cases(packet_bits: int) -> list[dict]:
    """``packet_bits`` - 1, ``packet_bits`` and ``packet_bits`` + 1 key bits: the ``last``
    flags, packets closed and bits left open."""
    last = packet_bits - 1
    return [
        {"key_bits": packet_bits - 1, "want": [[], 0, packet_bits - 1]},
        {"key_bits": packet_bits, "want": [[last], 1, 0]},
        {"key_bits": packet_bits + 1, "want": [[last], 1, 1]},
    ]


def sifter() -> dict:
    """16-bit packets: 15 / 16 / 17 key bits, and 33 (two boundaries)."""
    bits = bodies.EDGE_PACKET_BITS
    return {"packet_bits": bits, "seed": 9, "idle": 0.1, "stall": 0.1,
            "cases": [*packet_cases(bits), {"key_bits": 2 * bits + 1, "want": [[15, 31], 2, 1]}]}


def uplink_frame(seq: int, count: int) -> list[int]:
    """Uplink frame ``seq`` with ``count`` reports at offsets 0, 3, 6, ..."""
    offset = np.arange(count, dtype=np.uint64) * np.uint64(3)
    ones = np.ones(count, dtype=np.uint8)
    return encode_uplink(seq, 0, offset, ones, ones * 0, ones * 0, (P - 1).bit_length()).tolist()


def _counters(**values: int) -> dict:
    names = ("corrupted", "duplicates", "missing", "timeouts", "stale")
    return {name: values.get(name, 0) for name in names}


def uplink_receiver() -> dict:
    """Sequence, length and deadline edges (deadline = (k+1) P + cache life = 192 for k = 0)."""
    depth, cache = bodies.EDGE_UR_DEPTH, bodies.EDGE_UR_CACHE
    f = uplink_frame
    sequence = {
        "head": 0,
        # 0 accepted; 0 again (next - 1); 2 (gap of one: 1 missing); 1 late, below the accepted
        # end (duplicate); one full bank; one report more (corrupted, an RTL limit: not fed to
        # the model); count one above / below the body (corrupted); empty 4; gap to 6.
        "copies": [f(0, 2), f(0, 2), f(2, 3), f(1, 1), f(3, depth), f(4, depth + 1),
                   recount(f(4, 2), 3), recount(f(4, 3), 2), f(4, 0), f(6, 1)],
        "model": [True, True, True, True, True, False, True, True, True, True],
        "beats": [(0, 2, 0), (1, 0, 1), (2, 3, 0), (3, depth, 0), (4, 0, 0), (5, 0, 1),
                  (6, 1, 0)],
        "reports": 2 + 3 + depth + 1,
        "counters": _counters(corrupted=3, duplicates=2, missing=2),
    }
    # Head exactly at frame 0's deadline: missing on the satellite's clock, its late copy stale
    # (above the accepted end), frame 1 accepted, its repeat a duplicate.
    at_deadline = {"head": P + cache, "copies": [f(0, 2), f(1, 2), f(1, 2)],
                   "model": [True] * 3, "beats": [(0, 0, 1), (1, 2, 0)], "reports": 2,
                   "counters": _counters(duplicates=1, missing=1, timeouts=1, stale=1)}
    before = {"head": P + cache - 1, "copies": [f(0, 2)], "model": [True],
              "beats": [(0, 2, 0)], "reports": 2, "counters": _counters()}
    past = {"head": P + cache + 1, "copies": [f(1, 1)], "model": [True],
            "beats": [(0, 0, 1), (1, 1, 0)], "reports": 1,
            "counters": _counters(missing=1, timeouts=1)}
    return {"frame_pulses": P, "cache_pulses": cache, "seed": 2, "idle": 0.2, "stall": 0.3,
            "runs": [sequence, at_deadline, before, past]}


def sift_message(seq: int, count: int | None) -> list[int]:
    """Sift message ``seq`` with entries 0, 1, ..., 7, 0, ... (``None``: frame missing)."""
    code = None if count is None else (np.arange(count) % 8).astype(np.uint8)
    return encode_sift(seq, code).tolist()


def _records(seq: int, count: int) -> list[int]:
    pulse = seq * P + 2 * np.arange(count, dtype=np.uint64)
    ones = np.ones(count, dtype=np.uint8)
    return report_values(pulse, ones, ones * 0, ones)


def sift_receiver() -> dict:
    """Window 4, slots of 4 words (32 entries)."""
    full = 8 * bodies.EDGE_SR_SLOT_WORDS
    m = sift_message
    copies = [
        (m(0, 0), True),          # ack 0 -> 1
        (m(0, 0), True),          # ack - 1: duplicate
        (m(5, 0), True),          # ack + window: outside
        (m(4, 0), True),          # ack + window - 1: kept, in slot 0 again
        (m(4, 0), True),          # already buffered: duplicate
        (m(1, 0), True), (m(2, 0), True), (m(3, 0), True),  # ack -> 5
        (m(5, full), True),       # exactly a full slot: sifted, ack 6
        (m(6, full + 1), False),  # one entry more: corrupted (an RTL limit, not modelled)
        (recount(m(6, 8), 9), True),  # count needs 2 words, the body has 1: corrupted
        (m(6, None), True),       # frame 6 missing: its 2 records become missing entries
        (m(7, 0), True),          # ack 8
    ]
    return {"frame_pulses": P, "window": bodies.EDGE_SR_WINDOW, "frames": 8, "closed": 100,
            "seed": 3, "idle": 0.2, "stall": 0.3,
            "copies": [c for c, _ in copies], "model": [use for _, use in copies],
            "records": _records(5, full) + _records(6, 2),
            "entries": [i % 8 for i in range(full)] + [int(SiftCode.MISSING)] * 2,
            "ack": 8, "counters": {"corrupted": 2, "duplicates": 2, "outside": 1, "mismatch": 0}}


def uplink_framer() -> dict:
    """P = 64, close lag 8, 3 copies per frame."""
    lag, repeats = bodies.EDGE_UF_LAG, bodies.EDGE_UF_REPEATS

    def copies(seq: int, offsets: list[int]) -> list:
        return [[seq, offsets]] * repeats

    first = [[0, 1, 1, 1], [P - 1, 0, 0, 0], [P, 1, 0, 0]]
    phases = [
        # now = 0: frame 0 gets pulses 0 and P - 1; the report at P (frame 1) closes frame 0.
        {"now": 0, "reports": first, "copies": copies(0, [0, P - 1]), "late": 0,
         "records": first},
        # One pulse before frame 1's close time: nothing more is sent.
        {"now": 2 * P + lag - 1, "reports": [], "copies": [], "late": 0, "records": []},
        # Exactly at the close time: frame 1 (the report at P, offset 0) closes.
        {"now": 2 * P + lag, "reports": [], "copies": copies(1, [0]), "late": 0,
         "records": []},
        # Frame 2 closes empty and is sent; a report of frame 1 now is late.
        {"now": 3 * P + lag, "reports": [[P + 5, 1, 1, 0]], "copies": copies(2, []),
         "late": 1, "records": []},
    ]
    return {"frame_pulses": P, "max_repeats": repeats, "ack": 7, "seed": 5, "idle": 0.2,
            "stall": 0.3, "phases": phases}


def sift_sender() -> dict:
    """Window 4: at most 3 unacknowledged messages kept."""
    phases = [
        {"ack": 0, "messages": [[0, [1, 2, 3]], [1, None], [2, list(range(9))]], "words": 80,
         "built": 3, "seqs": [0, 1, 2]},
        # The table is full (window - 1 messages unacknowledged): frame 3 is not taken.
        {"ack": 0, "messages": [[3, []]], "blocked": True, "words": 40, "built": 3,
         "seqs": [0, 1, 2]},
        # ack = 3 = built - 1 once message 3 is built: only the newest message is resent.
        {"ack": 3, "messages": [[3, []]], "words": 30, "built": 4, "seqs": [3]},
        # ack = built: silence after the copy under way.
        {"ack": 4, "messages": [], "words": 0, "built": 4, "seqs": []},
        # ack beyond built: message 4 is acknowledged as soon as it is built.
        {"ack": 9, "messages": [[4, [5]]], "words": 0, "built": 5, "seqs": []},
    ]
    return {"seed": 4, "idle": 0.2, "stall": 0.3, "phases": phases}


CASES = {
    "sifter": (bodies.sifter_packets, sifter),
    "ur": (bodies.uplink_receiver_edges, uplink_receiver),
    "sr": (bodies.sift_receiver_edges, sift_receiver),
    "uf": (bodies.uplink_framer_edges, uplink_framer),
    "ss": (bodies.sift_sender_edges, sift_sender),
}
"""Block (its port prefix in :class:`tb.sifting.bodies.SiftingEdgeHarness`) -> (body, its
parameters)."""


def run_pysim(block: str) -> None:
    """The cases of ``block`` on the block alone in Amaranth's simulator."""
    body, params = CASES[block]
    run_body("pysim", bodies.edge_blocks()[block], body, case="sifting_edges", params=params())


def run_cocotb(simulator: str) -> None:
    """Every block's cases in one cocotb run of :class:`tb.sifting.bodies.SiftingEdgeHarness`
    (:func:`tb.sifting.bodies.all_edges`); the harness has one configuration, so its Verilog
    is converted once (``verilog_key``)."""
    params = {"seed": 1, "blocks": [[block, body_name(body), make()]
                                    for block, (body, make) in CASES.items()]}
    run_body(simulator, bodies.SiftingEdgeHarness(), bodies.all_edges, case="sifting_edges",
             params=params, verilog_key="sifting_edges")
