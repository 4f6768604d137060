"""Wrappers that expose an inner component's ports as their own."""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In


def forward_member(m: Module, outer: wiring.Component, inner: wiring.Component,
                   name: str, outer_name: str | None = None) -> None:
    """Connect member ``name`` of ``inner`` to the member ``outer_name`` (default the same
    name) of ``outer``: streams and other interfaces by :func:`amaranth.lib.wiring.connect`,
    inputs driven from ``outer``, outputs driving ``outer``."""
    ours, theirs = getattr(outer, outer_name or name), getattr(inner, name)
    member = inner.signature.members[name]
    if member.is_signature:
        wiring.connect(m, wiring.flipped(ours), theirs)
    elif member.flow == In:
        m.d.comb += theirs.eq(ours)
    else:
        m.d.comb += ours.eq(theirs)
