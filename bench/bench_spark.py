"""kece on Spark local[2] against the single-process path, on the same generated CSV.

    python bench/bench_spark.py [--rows 1000000] [--master local[2]] [--executors 10,50,200]

Prints, side by side from one run: rows/s of `evaluate_file` (one process, chunks of 250,000) and of
`evaluate_source` on Spark (read, number rows, screen repeated ids, evaluate, write results and
rejects as Parquet, count and check), both on a messy 1M-row CSV (bench/synthetic.messy_table). Then
the throughput of one partition's work (`evaluate_pieces`, what each executor core runs) measured
in this process, and from it a projection on paper for N executors of 4 cores each; the projection
assumes the local[2] run's measured efficiency (Spark rows/s per core ÷ one partition's rows/s)
holds on a cluster, and ignores the cluster's storage and network: it is labelled as a projection.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from bench.synthetic import messy_table  # noqa: E402
from engine.bundled import bundled_dir  # noqa: E402
from engine.evaluation.batch import evaluate_file  # noqa: E402
from engine.rules.loader import load_rulebook  # noqa: E402

PACKS = ["bank_tier", "dealer_class", "parent_attitude"]
CORES_PER_EXECUTOR = 4


def write_csv(path: Path, rows: int, schemes) -> None:
    step = 250_000
    for start in range(0, rows, step):
        part = messy_table(schemes, min(step, rows - start), seed=11 + start)
        # ids unique across the pieces, repeated ids and 合计 rows kept
        part["id"] = part["id"].where(~part["id"].str.startswith("C"), f"P{start}-" + part["id"])
        part.to_csv(path, mode="a" if start else "w", header=not start, index=False)


def partition_throughput(rulebook, path: Path, rows: int = 200_000) -> float:
    """Rows/s of one partition's work (what an executor core runs per piece), without Spark around it."""
    from engine.spark.evaluate import Plan, evaluate_pieces
    from engine.spark.frames import ROW

    table = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=rows)
    table[ROW] = range(2, 2 + len(table))
    schemes = [rulebook.by_id[p] for p in PACKS]
    plan = Plan(schemes, "id", list(table.columns[:-1]), frozenset(table.columns[:-1]), "zh", None, False)
    start = time.perf_counter()
    for _ in evaluate_pieces(plan, iter([table[i:i + 10_000] for i in range(0, len(table), 10_000)])):
        pass
    return len(table) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--executors", default="10,50,200")
    args = parser.parse_args()
    rulebook = load_rulebook(bundled_dir("rules"))
    schemes = [rulebook.by_id[p] for p in PACKS]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "customers.csv"
        write_csv(source, args.rows, schemes)
        size_mb = source.stat().st_size / 2**20

        start = time.perf_counter()
        local = evaluate_file(rulebook, source, folder / "local.parquet", schemes=PACKS)
        local_s = time.perf_counter() - start

        from engine.spark.evaluate import evaluate_source
        from engine.spark.session import spark_session

        start = time.perf_counter()
        spark = spark_session(args.master)
        session_s = time.perf_counter() - start
        cores = spark.sparkContext.defaultParallelism
        start = time.perf_counter()
        run = evaluate_source(rulebook, str(source), str(folder / "spark.parquet"), master=args.master, schemes=PACKS)
        spark_s = time.perf_counter() - start
        same = pd.read_parquet(folder / "spark.parquet").equals(pd.read_parquet(folder / "local.parquet")) and \
            pd.read_parquet(folder / "spark.rejects.parquet").equals(pd.read_parquet(folder / "local.rejects.parquet"))
        per_partition = partition_throughput(rulebook, source)
    spark_rate = args.rows / spark_s
    efficiency = spark_rate / cores / per_partition
    print(f"kece on Spark: {args.rows:,} rows ({size_mb:,.0f} MB CSV, messy cells), packs: {', '.join(PACKS)}")
    print(f"  {'path':<44}{'seconds':>9}{'rows/s':>12}")
    print(f"  {'single process (evaluate_file, CSV -> Parquet)':<44}{local_s:>9.1f}{args.rows / local_s:>12,.0f}")
    print(f"  {f'Spark {args.master} ({cores} cores), same file':<44}{spark_s:>9.1f}{spark_rate:>12,.0f}"
          f"   (+{session_s:.1f} s to start the session)")
    print(f"  {'one partition, evaluate_pieces in-process':<44}{'':>9}{per_partition:>12,.0f}   per core")
    print(f"  rows: {run.rows_in:,} in = {run.rows_out:,} out + {run.rows_rejected:,} rejected "
          f"(file run: {local.rows_out:,} + {local.rows_rejected:,}); identical results and rejects: "
          f"{'yes' if same else 'NO'}")
    print(f"  measured efficiency on {args.master}: {efficiency:.0%} of {cores} x one partition's rows/s")
    print(f"  PROJECTION on paper (not measured): N executors x {CORES_PER_EXECUTOR} cores x "
          f"{per_partition:,.0f} rows/s x {efficiency:.0%}")
    for executors in (int(n) for n in args.executors.split(",")):
        rate = executors * CORES_PER_EXECUTOR * per_partition * efficiency
        print(f"    {executors:>4} executors: {rate:>14,.0f} rows/s; 10^8 rows in {1e8 / rate / 60:,.1f} min")
    return 0 if same and run.rows_in == run.rows_out + run.rows_rejected == args.rows else 1


if __name__ == "__main__":
    raise SystemExit(main())
