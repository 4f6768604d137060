"""Link PHY receiver (golden): word alignment, lock, deframing and message delimiting.

Bit-exact with :class:`rtl.link.rx.PhyRx` for every output beat, sync word and counter, given
the received bit stream chopped into 34-bit words (as the deserialiser gives them, at any bit
offset from the blocks) and a consumer that keeps up (the RTL's output FIFO never overruns).

Alignment (one candidate block per received word, at ``offset`` bits into the window of the
previous and the current word):

* hunting: a valid sync header counts one good block; ``lock_good`` in a row lock. An invalid
  one restarts the count and moves ``offset`` one bit on (33 wraps to 0, i.e. the next word: a
  slip of one bit either way). No block is delivered while hunting.
* locked: every block is delivered. Invalid headers are counted in windows of ``window``
  blocks; the ``lock_bad``-th inside one window loses lock (the offset stays: after a burst the
  blocks usually come back where they were).
* A lock at another offset than the previous lock's is a re-alignment (``slips``).
* The CDR's lock pin (``cdr_lock``, as the aligner sees it after its synchroniser; high when
  not given): a word received with the pin low counts as a block with an invalid header
  (delivered with header ``00`` while locked, so that the deframer cuts an open message), and
  loses a lock at once. Nothing locks while the CDR is out of lock.

Deframing of the delivered blocks: see :mod:`models.link.framing`; a data word is held until
the next block tells whether it was the message's last (END) or not. A message cut by an
invalid block (bad header, unknown control, lost lock) or by a START is ended with its held
word flagged ``abort`` (``aborted``; nothing is delivered when no word was held). Data or END
outside a message are dropped (``stray``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.link.line_code import (
    BLOCK_BITS,
    BLOCK_MASK,
    HEADER_BITS,
    HEADER_CONTROL,
    HEADER_DATA,
    TYPE_BITS,
    Control,
    bits_to_words,
    descramble,
)

COUNTERS = ("locks", "lock_losses", "slips", "bad_headers", "bad_controls", "messages",
            "aborted", "stray")
"""Counters of :class:`RxResult` (and registers of the RTL receiver), in this order."""


class RxConfigError(ValueError):
    """Lock parameters out of range."""


@dataclass(frozen=True)
class RxConfig:
    """Lock thresholds: ``lock_good`` valid headers in a row lock (>= 2, so that the
    descrambler has seen 58 bits at the new offset before the first delivered block);
    ``lock_bad`` invalid headers inside one ``window``-block window lose it."""

    lock_good: int = 64
    lock_bad: int = 16
    window: int = 64

    def __post_init__(self) -> None:
        if not 2 <= self.lock_good <= 1024:
            raise RxConfigError(f"lock_good={self.lock_good} must be in 2..1024")
        if not 1 <= self.lock_bad <= self.window <= 1024:
            raise RxConfigError(f"lock_bad={self.lock_bad} and window={self.window} must "
                                "satisfy 1 <= lock_bad <= window <= 1024")


DEFAULT_RX = RxConfig()
"""The lock thresholds of 64b/66b (IEEE 802.3 clause 49): 64 good to lock, 16 bad in 64."""


@dataclass
class RxResult:
    """Everything the receiver puts out: ``beats`` ``(data, last, abort)``, ``syncs`` (SYNC
    arguments), ``counters`` (:data:`COUNTERS`), the final ``locked`` and ``offset``,
    ``lock_trace``: ``locked`` after each received word, and ``blocks``: the descrambled
    ``(header, body)`` the aligner passed to the deframer."""

    beats: list[tuple[int, int, int]] = field(default_factory=list)
    syncs: list[int] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    locked: bool = False
    offset: int = 0
    lock_trace: list[bool] = field(default_factory=list)
    blocks: list[tuple[int, int]] = field(default_factory=list)


def messages(beats: list[tuple[int, int, int]]) -> list[tuple[list[int], bool]]:
    """Beats grouped into ``(words, aborted)`` per message (a trailing open message left out)."""
    out: list[tuple[list[int], bool]] = []
    words: list[int] = []
    for data, last, abort in beats:
        words.append(data)
        if last:
            out.append((words, bool(abort)))
            words = []
    return out


class _Deframer:
    def __init__(self, result: RxResult) -> None:
        self.r = result
        self.c = result.counters
        self.in_msg = False
        self.held: int | None = None

    def _abort(self) -> None:
        if self.in_msg:
            if self.held is not None:
                self.r.beats.append((self.held, 1, 1))
            self.c["aborted"] += 1
        self.in_msg, self.held = False, None

    def block(self, header: int, body: int) -> None:
        kind, arg = body & ((1 << TYPE_BITS) - 1), body >> TYPE_BITS
        if header == HEADER_DATA:
            if not self.in_msg:
                self.c["stray"] += 1
                return
            if self.held is not None:
                self.r.beats.append((self.held, 0, 0))
            self.held = body
        elif header != HEADER_CONTROL:
            self._abort()
        elif kind not in Control._value2member_map_ or (arg and kind != Control.SYNC):
            self.c["bad_controls"] += 1
            self._abort()
        elif kind == Control.SYNC:
            self.r.syncs.append(arg)
        elif kind == Control.START:
            self._abort()
            self.in_msg = True
        elif kind == Control.END:
            if not self.in_msg:
                self.c["stray"] += 1
            elif self.held is None:
                self._abort()
            else:
                self.r.beats.append((self.held, 1, 0))
                self.c["messages"] += 1
                self.in_msg, self.held = False, None


def deframe(blocks: list[tuple[int, int]]) -> RxResult:
    """The deframer alone (:class:`rtl.link.deframer.Deframer`) on descrambled blocks
    ``(header, body)``: its beats, sync counters and counters."""
    result = RxResult()
    deframer = _Deframer(result)
    for header, body in blocks:
        deframer.block(header, body)
    return result


def receive(bits: np.ndarray, config: RxConfig = DEFAULT_RX,
            cdr_lock: np.ndarray | None = None) -> RxResult:
    """Everything :class:`rtl.link.rx.PhyRx` puts out for the received bit stream ``bits``
    (from reset; whole 34-bit words only); ``cdr_lock``: the CDR's lock pin per word as the
    aligner sees it (default high)."""
    words = bits_to_words(bits).tolist()
    pins = [True] * len(words) if cdr_lock is None else [bool(x) for x in cdr_lock]
    if len(pins) != len(words):
        raise RxConfigError(f"receive: {len(pins)} lock pin values for {len(words)} words")
    result = RxResult()
    c = result.counters
    deframer = _Deframer(result)
    prev, history, offset = 0, 0, 0
    locked, good, blocks, bad = False, 0, 0, 0
    last_lock: int | None = None
    for word, pin in zip(words, pins, strict=True):
        block = ((prev | word << BLOCK_BITS) >> offset) & BLOCK_MASK
        prev = word
        header = block & 3 if pin else 0
        body, history = descramble(block >> HEADER_BITS, history)
        valid = header in (HEADER_DATA, HEADER_CONTROL)
        if locked:
            result.blocks.append((header, body))
            deframer.block(header, body)
            c["bad_headers"] += not valid
            if not pin or bad + (not valid) == config.lock_bad:
                locked, blocks, bad = False, 0, 0
                c["lock_losses"] += 1
            elif blocks + 1 == config.window:
                blocks, bad = 0, 0
            else:
                blocks, bad = blocks + 1, bad + (not valid)
        elif not valid:
            good, offset = 0, (offset + 1) % BLOCK_BITS
        elif good + 1 == config.lock_good:
            locked, good = True, 0
            c["locks"] += 1
            c["slips"] += last_lock is not None and offset != last_lock
            last_lock = offset
        else:
            good += 1
        result.lock_trace.append(locked)
    result.locked, result.offset = locked, offset
    return result
