"""Clearable status counters and sticky flags, as the blocks' control registers expose them."""

from collections.abc import Iterable

from amaranth.hdl import Module, Signal, Value


def count_events(m: Module, clear: Value, counters: Iterable[tuple[Signal, Value]]) -> None:
    """Each ``(counter, event)``: the counter counts the cycles in which ``event`` is 1 and
    returns to 0 in the cycle after ``clear`` (a clear wins over an event in its cycle).
    Counters wrap at their width: read-out software takes differences."""
    for counter, event in counters:
        with m.If(clear):
            m.d.sync += counter.eq(0)
        with m.Elif(event):
            m.d.sync += counter.eq(counter + 1)


def latch_events(m: Module, clear: Value, flags: Iterable[tuple[Signal, Value]]) -> None:
    """Each ``(flag, event)``: the flag goes to 1 in the cycle after ``event`` and stays there
    until ``clear`` (a clear wins over an event in its cycle)."""
    for flag, event in flags:
        with m.If(clear):
            m.d.sync += flag.eq(0)
        with m.Elif(event):
            m.d.sync += flag.eq(1)
