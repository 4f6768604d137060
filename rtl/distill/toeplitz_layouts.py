"""Payloads and memory port of the Toeplitz privacy-amplification engine
(:mod:`rtl.distill.toeplitz`).

Bit words carry bit ``k`` of a block at bit ``k % width`` of word ``k // width`` (index 0
first, as the numpy bit arrays of :mod:`models.postprocess.toeplitz`). The word port has the
shape of LiteDRAM's native user port (:mod:`rtl.memory.layouts`): at a width of 128 bits it is
that port, so the engine connects to a DRAM port or to on-chip block RAM alike.
"""

from amaranth.lib import data, enum, stream, wiring
from amaranth.lib.wiring import In, Out


class PaStatus(enum.Enum, shape=2):
    """Outcome of one block: a key (``OK``) or why the block was abandoned without one."""

    OK = 0
    BAD_SIZE = 1  # n or m outside the engine's range (n = 0, m = 0, above n_max or m_max)
    INPUT_LENGTH = 2  # the input stream's ``last`` came at another word than ceil(n / width)
    SEED_LENGTH = 3  # the seed stream's ``last`` came at another word than ceil((n+m-1) / width)


PaStatusLayout = data.StructLayout({"status": PaStatus})


def pa_job(n_bits: int, m_bits: int) -> data.StructLayout:
    """One block: input length ``n`` and output length ``m``, in bits."""
    return data.StructLayout({"n": n_bits, "m": m_bits})


def word_cmd(addr_bits: int) -> data.StructLayout:
    """A memory command: ``we`` (write) and the word address."""
    return data.StructLayout({"we": 1, "addr": addr_bits})


def word_wdata(width: int) -> data.StructLayout:
    """Write data with one byte enable per byte."""
    return data.StructLayout({"data": width, "we": width // 8})


def word_rdata(width: int) -> data.StructLayout:
    return data.StructLayout({"data": width})


def word_port(width: int, addr_bits: int) -> wiring.Signature:
    """A word memory port seen from its user: commands and write data out, read data in.

    Rules (those of LiteDRAM's native port): a write command's data is offered with it and both
    are taken together; read data comes back in command order, at any latency, and cannot be
    held back (``rdata.ready`` may be ignored), so a user reserves room before each read.
    """
    return wiring.Signature({
        "cmd": Out(stream.Signature(word_cmd(addr_bits))),
        "wdata": Out(stream.Signature(word_wdata(width))),
        "rdata": In(stream.Signature(word_rdata(width))),
    })
