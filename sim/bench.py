"""``make bench``: run every ``sim/bench_<area>.py`` and collect ``build/bench/bench.json``.

Each module has ``run(out_dir) -> list[dict]`` returning SPEC 8 entries
(``{"name", "value", "unit"}`` plus context). A module that fails is reported and the others
still run; the exit status is non-zero if any failed::

    python -m sim.bench [AREA ...]      # e.g. python -m sim.bench tx ground
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench"


def discover() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in (ROOT / "sim").glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    areas = discover()
    parser = argparse.ArgumentParser(prog="python -m sim.bench",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("areas", nargs="*", metavar="AREA", help=f"default: all of {areas}")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.areas) - set(areas))
    if unknown:
        parser.error(f"unknown benchmark area(s) {', '.join(unknown)}; known: {', '.join(areas)}")
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "bench.json"
    # Keep entries of areas not re-run, so `python -m sim.bench tx` refreshes only its own.
    previous = json.loads(path.read_text()) if path.exists() else []
    selected = args.areas or areas
    entries = [e for e in previous if e.get("area") not in selected]
    failed = []
    for area in selected:
        start = time.perf_counter()
        print(f"bench: {area} ...", flush=True)
        try:
            module = importlib.import_module(f"sim.bench_{area}")
            rows = module.run(OUT)
        except Exception as exc:  # one broken benchmark must not hide the others' results
            traceback.print_exc()
            print(f"bench: {area} failed: {exc}", file=sys.stderr)
            failed.append(area)
            continue
        for row in rows:
            row.setdefault("area", area)
            print(f"bench:   {row['name']} = {row['value']:.6g} {row['unit']}")
        entries.extend(rows)
        print(f"bench: {area} done in {time.perf_counter() - start:.1f} s", flush=True)
    path.write_text(json.dumps(entries, indent=2) + "\n")
    print(f"bench: wrote {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
