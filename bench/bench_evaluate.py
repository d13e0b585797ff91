"""Benchmark: vectorized backend vs durable backend vs hand-written np.select, one run, side by side.

    python bench/bench_evaluate.py [--rows 1000000] [--durable-rows 20000] [--repeat 3]

Targets (issue: engine core), on the three design-card packs:
  - vectorized throughput >= 300x the durable backend's (durable timed on a subset);
  - vectorized time <= 3x the hand-written np.select over the same rules;
  - identical results wherever two paths evaluated the same customers.
Times are the best of --repeat runs, taken alternately so both sides see the same machine load;
only ratios from one run mean anything on a shared machine.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import handwritten  # noqa: E402
from bench.synthetic import synthetic_table  # noqa: E402
from engine.bundled import bundled_dir  # noqa: E402
from engine.evaluation.evaluate import evaluate_prepared  # noqa: E402
from engine.io.coerce import prepare  # noqa: E402
from engine.rules.loader import load_rulebook  # noqa: E402

PACKS = ["bank_tier", "dealer_class", "parent_attitude"]


def best_of(repeat: int, *jobs):
    """Run each job `repeat` times, alternating; return (best seconds per job, last results)."""
    best = [float("inf")] * len(jobs)
    results = [None] * len(jobs)
    for _ in range(repeat):
        for i, job in enumerate(jobs):
            start = time.perf_counter()
            results[i] = job()
            best[i] = min(best[i], time.perf_counter() - start)
    return best, results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--durable-rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rulebook = load_rulebook(bundled_dir("rules"))
    schemes = [rulebook.by_id[p] for p in PACKS]
    print(f"kece benchmark: {args.rows:,} generated customers (seed {args.seed}), packs: {', '.join(PACKS)}")

    start = time.perf_counter()
    table = synthetic_table(schemes, args.rows, args.seed)
    prepared = prepare(table, schemes, "id")
    typing_seconds = time.perf_counter() - start
    assert len(prepared.rejects) == 0, prepared.rejects.head()
    del table

    def vectorized():
        return {sid: col.display for sid, col in evaluate_prepared(prepared, schemes, "vectorized").items()}

    def by_hand():
        return handwritten.evaluate(prepared, schemes)

    (vec_s, hand_s), (vec_out, hand_out) = best_of(args.repeat, vectorized, by_hand)

    subset = prepare(synthetic_table(schemes, args.durable_rows, args.seed), schemes, "id")
    start = time.perf_counter()
    durable_out = {sid: col.display for sid, col in evaluate_prepared(subset, schemes, "durable").items()}
    durable_s = time.perf_counter() - start
    vec_subset = {sid: col.display for sid, col in evaluate_prepared(subset, schemes, "vectorized").items()}

    same_hand = all(np.array_equal(vec_out[s].astype(str), hand_out[s].astype(str)) for s in PACKS)
    same_durable = all(np.array_equal(vec_subset[s], durable_out[s]) for s in PACKS)
    vec_rate, durable_rate = args.rows / vec_s, args.durable_rows / durable_s
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    rows = [
        ("generate + read/type cells", f"{typing_seconds:8.3f} s", f"{args.rows / typing_seconds:12,.0f} rows/s"),
        ("vectorized (3 packs)", f"{vec_s:8.3f} s", f"{vec_rate:12,.0f} rows/s"),
        ("hand-written np.select", f"{hand_s:8.3f} s", f"{args.rows / hand_s:12,.0f} rows/s"),
        (f"durable ({args.durable_rows:,} rows)", f"{durable_s:8.3f} s", f"{durable_rate:12,.0f} rows/s"),
    ]
    for name, seconds, rate in rows:
        print(f"  {name:<28} {seconds} {rate}")
    speedup, overhead = vec_rate / durable_rate, vec_s / hand_s
    checks = [
        (f"vectorized / durable throughput = {speedup:,.0f}x", "target >= 300x", speedup >= 300),
        (f"vectorized / hand-written time  = {overhead:.2f}x", "target <= 3x", overhead <= 3),
        (f"identical to hand-written on {args.rows:,} rows", "", same_hand),
        (f"identical to durable on {args.durable_rows:,} rows", "", same_durable),
    ]
    for text, target, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}  {target}")
    print(f"  peak memory (max RSS): {peak_mb:,.0f} MB")
    return 0 if all(ok for _, _, ok in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
