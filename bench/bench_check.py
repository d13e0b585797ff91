"""How long `kece check` takes on the bundled packs: loading, examples on both backends, analysis.

    python bench/bench_check.py [--repeat 3]

Target (issue: kece check analysis): checking every bundled pack takes under 2 seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.analysis.examples import run_examples  # noqa: E402
from engine.analysis.regions import analyse  # noqa: E402
from engine.bundled import bundled_dir  # noqa: E402
from engine.evaluation.evaluate import BACKENDS  # noqa: E402
from engine.rules.loader import load_rulebook  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    best = {"load": float("inf"), "examples": float("inf"), "analysis": float("inf")}
    for _ in range(args.repeat):
        start = time.perf_counter()
        rulebook = load_rulebook(bundled_dir("rules"))
        loaded = time.perf_counter()
        for scheme in rulebook.schemes:
            for backend in BACKENDS:
                run_examples(scheme, backend)
        examined = time.perf_counter()
        analyses = [analyse(scheme) for scheme in rulebook.schemes]
        done = time.perf_counter()
        best = {"load": min(best["load"], loaded - start), "examples": min(best["examples"], examined - loaded),
                "analysis": min(best["analysis"], done - examined)}
    total = sum(best.values())
    cells = sum(a.cells for a in analyses)
    print(f"kece check on {len(rulebook.schemes)} bundled packs ({cells:,} analysed cells), best of {args.repeat}:")
    for name, seconds in best.items():
        print(f"  {name:<10} {seconds:7.3f} s")
    print(f"  {'PASS' if total < 2 else 'FAIL'}  total {total:.3f} s  target < 2 s")
    return 0 if total < 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
