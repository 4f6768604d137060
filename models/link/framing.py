"""Link PHY framing (golden): link messages and sync words as a block sequence, and back.

A message of link words goes on the line as ``START``, one data block per word, ``END``;
``IDLE`` fills every block with nothing to send (the line never pauses); a ``SYNC`` block may sit
anywhere, also inside a message (its place on the line is the ground's time reference, so it is
never delayed behind a message). :func:`frame` is the model transmitter used by model tests and
benchmarks; :func:`items` reads a block sequence back into what it carries, which is how the
RTL transmitter's output is checked against its input.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from models.link.line_code import (
    ARG_BITS,
    HEADER_CONTROL,
    HEADER_DATA,
    TYPE_BITS,
    Control,
    control_body,
)


class FramingError(ValueError):
    """A block sequence breaks the transmitter's grammar."""


def frame(messages: Sequence[Sequence[int]], sync_every: int = 0, gap: int = 0,
          first_sync: int = 0, lead: int = 0, tail: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Blocks ``(headers, bodies)`` of ``messages``: ``lead`` IDLE blocks, then each message with
    ``gap`` IDLE blocks after it, then ``tail`` IDLE blocks; with ``sync_every``, every block
    whose index in the output is a multiple of ``sync_every`` is a SYNC block carrying the next
    counter (from ``first_sync``), wherever it falls (also inside a message)."""
    base: list[tuple[int, int]] = [(HEADER_CONTROL, control_body(Control.IDLE))] * lead
    for words in messages:
        if not words:
            raise FramingError("a link message has at least one word")
        base.append((HEADER_CONTROL, control_body(Control.START)))
        base += [(HEADER_DATA, int(w)) for w in words]
        base.append((HEADER_CONTROL, control_body(Control.END)))
        base += [(HEADER_CONTROL, control_body(Control.IDLE))] * gap
    base += [(HEADER_CONTROL, control_body(Control.IDLE))] * tail
    blocks: list[tuple[int, int]] = []
    k = first_sync
    for block in base:
        if sync_every and len(blocks) % sync_every == 0:
            blocks.append((HEADER_CONTROL, control_body(Control.SYNC, k % (1 << ARG_BITS))))
            k += 1
        blocks.append(block)
    headers = np.array([h for h, _ in blocks], dtype=np.uint8)
    bodies = np.array([b for _, b in blocks], dtype=np.uint64)
    return headers, bodies


def items(headers: np.ndarray, bodies: np.ndarray) -> tuple[list[list[int]], list[int]]:
    """``(messages, sync counters)`` that a block sequence from a transmitter carries; raises
    :class:`FramingError` on anything a transmitter never sends (invalid header or type, data
    outside a message, START inside one, END without data). A message still open at the end is
    left out."""
    messages: list[list[int]] = []
    syncs: list[int] = []
    current: list[int] | None = None
    for n, (h, b) in enumerate(zip(headers.tolist(), bodies.tolist(), strict=True)):
        if h == HEADER_DATA:
            if current is None:
                raise FramingError(f"block {n}: data outside a message")
            current.append(b)
            continue
        kind, arg = b & ((1 << TYPE_BITS) - 1), b >> TYPE_BITS
        if h != HEADER_CONTROL or kind not in Control._value2member_map_ or (
                arg and kind != Control.SYNC):
            raise FramingError(f"block {n}: invalid block (header {h}, body {b:#010x})")
        if kind == Control.SYNC:
            syncs.append(arg)
        elif kind == Control.START:
            if current is not None:
                raise FramingError(f"block {n}: START inside a message")
            current = []
        elif kind == Control.END:
            if not current:
                raise FramingError(f"block {n}: END without a message")
            messages.append(current)
            current = None
    return messages, syncs
