"""Clock domains and crossings of every top, as the table in ``docs/architecture.md``.

Runs :func:`rtl.common.crossings.check_crossings` on each synthesis top (``SYNTH_TOPS`` of
``rtl/<area>/tops.py``) and on the simulation tops of ``make sim`` and ``make sim-tx``; fails
with one line per offending signal if a signal crosses domains without a synchroniser, else
prints the table of domains and allowed crossings::

    python -m sim.crossings            # the table (Markdown)
    python -m sim.crossings --check    # exit status only
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable

from amaranth.lib import wiring

from rtl.common.crossings import ClockCrossingError, check_crossings, domains_of
from rtl.e2e.top import E2eTop
from rtl.simonly.tx_cosim_top import TxCosimTop
from sim.synth import discover_tops

HEADER = ("| top | clock domains (`a` = `b`: one clock) | synchroniser | from | to | instances |\n"
          "|---|---|---|---|---|---|")


def all_tops() -> dict[str, Callable[[], wiring.Component]]:
    """Synthesis tops and the two co-simulation tops, by name."""
    return {**discover_tops(), "e2e (make sim)": E2eTop, "tx_cosim (make sim-tx)": TxCosimTop}


def table_rows(name: str, top: wiring.Component) -> list[str]:
    """Markdown rows of one top: its domains and its allowed crossings, grouped by kind."""
    domains = ", ".join(" = ".join(f"`{d}`" for d in group) for group in domains_of(top))
    groups = Counter((c.via, c.source_domains, c.target_domain) for c in check_crossings(top, name))
    if not groups:
        return [f"| `{name}` | {domains} | none | | | |"]
    return [f"| `{name}` | {domains} | `{via}` | {', '.join(f'`{s}`' for s in sources)} | "
            f"`{target}` | {count} |" for (via, sources, target), count in sorted(groups.items())]


def crossing_table() -> str:
    """The whole table; raises :class:`ClockCrossingError` on a direct crossing."""
    rows = [HEADER]
    for name, make in all_tops().items():
        rows.extend(table_rows(name, make()))
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.crossings",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="no table, exit status only")
    args = parser.parse_args(argv)
    try:
        table = crossing_table()
    except ClockCrossingError as exc:
        print(f"crossings: {exc}", file=sys.stderr)
        return 1
    if not args.check:
        print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
