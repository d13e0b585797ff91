"""Large files: a customer CSV bigger than is comfortable in memory, evaluated in chunks.

    python bench/bench_large.py [--rows 10000000] [--check-rows 1000000] [--keep]

Targets: a 10,000,000-row CSV evaluated at 500,000 rows/s or more end to end (issue 15), with peak
RSS under 1.5 GB, and results identical to an in-memory (single-chunk) run on the same file. The identity check runs on
the first --check-rows rows (an in-memory run of all 10M rows needs many GB itself).
"""

from __future__ import annotations

import argparse
import filecmp
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthetic import synthetic_table  # noqa: E402
from engine.bundled import bundled_dir  # noqa: E402
from engine.rules.loader import load_rulebook  # noqa: E402

PACKS = ["bank_tier", "dealer_class", "parent_attitude"]
CHILD = """
import sys
from pathlib import Path
from engine.evaluation.batch import evaluate_file
from engine.bundled import bundled_dir
from engine.rules.loader import load_rulebook
run = evaluate_file(load_rulebook(bundled_dir("rules")), Path(sys.argv[1]), Path(sys.argv[2]),
                    chunk_rows=int(sys.argv[3]))
print(run.rows_in, run.rows_out, run.rows_rejected, run.chunks)
"""


def write_csv(path: Path, rows: int, seed: int) -> None:
    schemes = [load_rulebook(bundled_dir("rules")).by_id[p] for p in PACKS]
    step = 1_000_000
    for start in range(0, rows, step):
        part = synthetic_table(schemes, min(step, rows - start), seed + start)
        part["id"] = "C" + (part.index + start).astype(str)
        part.to_csv(path, mode="a" if start else "w", header=not start, index=False)


def run_child(source: Path, out: Path, chunk_rows: int) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, what it printed), measured on a fresh process."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, str(source), str(out), str(chunk_rows)], check=True,
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, peak, done.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--check-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        small, big = folder / "small.csv", folder / "big.csv"
        write_csv(big, args.rows, args.seed)
        size_mb = big.stat().st_size / 2**20
        # RUSAGE_CHILDREN reports the largest child so far: measure the chunked big run first.
        seconds, peak, printed = run_child(big, folder / "big.out.csv", 250_000)
        big.unlink()
        write_csv(small, args.check_rows, args.seed)
        chunked_s, _, _ = run_child(small, folder / "chunked.csv", args.check_rows // 7 + 1)
        whole_s, _, _ = run_child(small, folder / "whole.csv", args.check_rows + 1)
        same = (filecmp.cmp(folder / "chunked.csv", folder / "whole.csv", shallow=False)
                and filecmp.cmp(folder / "chunked.rejects.csv", folder / "whole.rejects.csv", shallow=False))
    rows_in, rows_out, rejected, chunks = map(int, printed.split())
    print(f"kece large-file benchmark: {args.rows:,} rows ({size_mb:,.0f} MB CSV), packs: {', '.join(PACKS)}")
    print(f"  chunked run: {seconds:.1f} s, {args.rows / seconds:,.0f} rows/s, {chunks} chunks; "
          f"{rows_in:,} in = {rows_out:,} out + {rejected:,} rejected")
    rate = args.rows / seconds
    print(f"  {'PASS' if rate >= 500_000 else 'FAIL'}  {rate:,.0f} rows/s end to end  target >= 500,000 rows/s")
    print(f"  {'PASS' if peak < 1536 else 'FAIL'}  peak RSS {peak:,.0f} MB  target < 1,536 MB")
    print(f"  {'PASS' if same else 'FAIL'}  chunked = in-memory on {args.check_rows:,} rows "
          f"({chunked_s:.1f} s vs {whole_s:.1f} s), byte for byte")
    ok = rate >= 500_000 and peak < 1536 and same and rows_in == rows_out + rejected == args.rows
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
