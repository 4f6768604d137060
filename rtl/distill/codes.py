"""Elaboration-time tables of the QC-IRA codes (:mod:`models.postprocess.qc_code`) for the
syndrome encoder (:mod:`rtl.distill.syndrome`), and the controller's rate choice.

A one-way codeword of n key bits and m syndrome bits (:class:`models.postprocess.ec.Plan` with
no padding) is the extended word of N = n + m/2 + fill bits: the first n − m/2 key bits fill the
information columns (then ``fill`` public zeros), the last m/2 key bits the odd staircase
columns (the even ones are the padding slots, zero in one-way mode). Parity column j meets
scalar checks j and j + 1 (mod m), so key bit n − m/2 + i adds to syndrome bits 2i + 1 and
2i + 2 (mod m); an information block c adds, through each circulant (b, s) of its block column,
the block rotated by s to the checks of block row b.

The encoder's ROM holds, per rate, the circulants of the information block columns in column
order: per circulant the accumulator word address of its block row (b · Z / width), the shift
in words (s // width) and bits (s % width), and a flag on the last circulant of a column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models.postprocess import ec, qc_code


class CodeShapeError(ValueError):
    """A code shape the encoder cannot take at this word width."""


@dataclass(frozen=True)
class CodeTable:
    """One rate of the encoder: the code of the one-way (n, m) codeword, laid out for words of
    ``width`` bits."""

    n: int
    m: int
    width: int
    lift: int
    info_blocks: int
    block_rows: int
    row_word: np.ndarray  # accumulator word of each circulant's block row (b * lift / width)
    shift_words: np.ndarray
    shift_bits: np.ndarray
    last: np.ndarray  # 1 on the last circulant of each information block column

    @property
    def words_per_block(self) -> int:
        return self.lift // self.width

    @property
    def info_words(self) -> int:
        """Key words that fill the information columns (the rest go to the staircase)."""
        return (self.n - self.m // 2) // self.width

    @property
    def parity_words(self) -> int:
        return self.m // 2 // self.width

    @property
    def edges(self) -> int:
        return int(self.row_word.size)

    def rom_entries(self, shift_word_bits: int, shift_bit_bits: int, row_bits: int
                    ) -> list[int]:
        """ROM words, LSB first: shift in words, shift in bits, row word, last flag."""
        base = shift_word_bits + shift_bit_bits
        return [int(w) | int(b) << shift_word_bits | int(r) << base | int(f) << (base + row_bits)
                for w, b, r, f in zip(self.shift_words, self.shift_bits, self.row_word,
                                      self.last, strict=True)]


def code_table(n: int, m: int, width: int, code_seed: int = ec.EcConfig.code_seed) -> CodeTable:
    """The table of the one-way (n, m) codeword; :class:`CodeShapeError` if the encoder cannot
    take it at ``width`` (a power of two dividing the lift, n and m/2)."""
    if width < 2 or width & (width - 1):
        raise CodeShapeError(f"word width {width} is not a power of two >= 2")
    plan = ec.Plan(n, m, 0, 1)
    if not 2 <= m < n:
        raise CodeShapeError(f"code (n={n}, m={m}) needs 2 <= m < n")
    code = qc_code.build_code(plan.length, m, code_seed)
    z = code.lift
    if z % width or n % width or (m // 2) % width or m % 2:
        raise CodeShapeError(
            f"code (n={n}, m={m}) has lift {z}: the word width {width} must divide the lift, "
            "n and m/2")
    kb = code.info_blocks
    layer = np.repeat(np.arange(code.block_rows), np.diff(code.layer_ptr))
    info = code.edge_block < kb
    col, row, shift = code.edge_block[info], layer[info], code.edge_shift[info]
    order = np.lexsort((row, col))
    col, row, shift = col[order], row[order], shift[order]
    last = np.append(col[1:] != col[:-1], True).astype(np.int64)
    if np.unique(col).size != kb:
        raise CodeShapeError(f"code (n={n}, m={m}) has an information column without circulant")
    return CodeTable(n, m, width, z, kb, code.block_rows, row * (z // width), shift // width,
                     shift % width, last)


def satellite_shapes(n: int, qber_low: float, qber_high: float,
                     cfg: ec.EcConfig | None = None) -> list[tuple[int, int]]:
    """Every (n, m) the one-way rate choice gives a packet of n bits whose signal QBER upper
    bound lies in [qber_low, qber_high] (all its bits signal-tagged: the ladder's rungs
    between the two fractions, both included)."""
    from models.postprocess.finitekey import binary_entropy

    cfg = cfg or ec.EcConfig()
    low = cfg.f_design[0][1] * binary_entropy(qber_low)
    high = min(cfg.f_design[0][1] * binary_entropy(qber_high), cfg.max_syndrome_fraction)
    shapes = {(n, ec.syndrome_bits_for(n, low, cfg.m_ladder))}
    rungs = math.ceil(math.log(high / low) / math.log(cfg.m_ladder)) + 1
    for k in range(rungs + 1):
        fraction = min(low * cfg.m_ladder ** k, high)
        shapes.add((n, ec.syndrome_bits_for(n, fraction, cfg.m_ladder)))
    return sorted(shapes)


def rate_index(shapes: list[tuple[int, int]], plan: ec.Plan) -> int:
    """The controller's rate register for a codeword planned by
    :func:`models.postprocess.ec.plan_codewords`; one past the table (which the encoder
    refuses with ``BAD_RATE``) when the encoder holds no code of that shape."""
    try:
        return shapes.index((plan.n, plan.m))
    except ValueError:
        return len(shapes)
