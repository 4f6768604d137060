"""``make bench`` plug-in: mutation scores of the RTL and of the golden models.

Entries ``mutation_score_rtl`` and ``mutation_score_models`` (unit ``%``): killed (timeouts
included) over the non-equivalent mutants run, pooled over the blocks of ``rtl/`` and of
``models/`` in the latest ``build/mutate/summary.json`` (``make mutate``). Context: blocks,
mutants run, the weakest block and its score, the command of each block's run. Without a summary
the plug-in runs a small seeded sample itself (:data:`OWN_SAMPLE` mutants of each block of
:data:`OWN_BLOCKS`, one worker, in a temporary directory) and says so in ``source``.
"""

from __future__ import annotations

import json
import pathlib
import tempfile
from typing import Any

from sim.mutate import (
    BLOCKS,
    OUT,
    SUMMARY,
    load_equivalents,
    local_executor,
    run_block,
    write_outputs,
)

OWN_BLOCKS = ("rtl/satellite/mapper", "models/rnd_cache")
OWN_SAMPLE = 6
OWN_SEED = 1


def rows(summary: dict[str, Any], source: str) -> list[dict]:
    """The two entries from a summary."""
    entries = []
    for kind in ("rtl", "models"):
        blocks = {n: b for n, b in summary["blocks"].items() if b["kind"] == kind}
        scored = {n: b for n, b in blocks.items() if b["score"] is not None}
        value = summary[f"mutation_score_{kind}"]
        weakest = min(scored, key=lambda n: scored[n]["score"]) if scored else None
        entries.append({
            "name": f"mutation_score_{kind}",
            "value": float("nan") if value is None else round(100 * value, 1), "unit": "%",
            "blocks": len(blocks),
            "mutants_run": sum(b["sampled"] - b["equivalent"] for b in blocks.values()),
            "mutants_eligible": sum(b["eligible"] for b in blocks.values()),
            "survived": sum(b["survived"] for b in blocks.values()),
            "equivalent": sum(b["equivalent"] for b in blocks.values()),
            "weakest_block": weakest,
            "weakest_score": None if weakest is None else scored[weakest]["score"],
            "commands": sorted({b["command"] for b in blocks.values()}),
            "source": source,
        })
    return entries


def run(out_dir: pathlib.Path) -> list[dict]:
    path = OUT / SUMMARY
    if path.exists():
        return rows(json.loads(path.read_text()), str(path.relative_to(OUT.parent.parent)))
    with tempfile.TemporaryDirectory(prefix="bench-mutate-", dir=out_dir) as tmp:
        out = pathlib.Path(tmp)
        equivalents = load_equivalents()
        results = {name: run_block(BLOCKS[name], sample=OWN_SAMPLE, seed=OWN_SEED,
                                   execute=local_executor(1), equivalents=equivalents, out=out)
                   for name in OWN_BLOCKS}
        summary = write_outputs(results, "sim.bench_mutate", out)
    return rows(summary, f"no build/mutate/summary.json: own sample of {OWN_SAMPLE} mutants "
                         f"of {', '.join(OWN_BLOCKS)}, seed {OWN_SEED}")
