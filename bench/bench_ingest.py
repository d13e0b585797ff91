"""Benchmark: `kece evaluate` end to end against the script an analyst would write by hand.

    python bench/bench_ingest.py [--rows 1000000] [--repeat 3]

Target (issue 15): on 1,000,000-row CSV files, kece's whole process (start, read, type, evaluate,
write) takes at most 1.5x the hand-written pyarrow + np.select + to_csv script's
(bench/handwritten_script.py), and both write the same bytes. Two files: `numeric` (id, assets,
credit; a 10-rule `first` table) and `bank_tier` (assets and three text enum columns; the bundled
pack). Each side runs as its own process, alternately, best of --repeat: only ratios from one run
mean anything on a shared machine.
"""

from __future__ import annotations

import argparse
import filecmp
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.5
TIERS_PACK = """\
id: tiers
title: {zh: 分层, en: Tiers}
hit_policy: first
inputs:
  assets: {type: number, title: {zh: 资产, en: Assets}}
  credit: {type: integer, title: {zh: 信用分, en: Credit}}
rules:
""" + "".join(f"  - {{id: t{10 - level}, label: {{zh: {word}级, en: T{10 - level}}}, "
              f"when: {{assets: \">= {level * 1_000_000}\", credit: \">= {level * 10}\"}}}}\n"
              for level, word in zip(range(9, 0, -1), "一二三四五六七八九", strict=True)) + \
    "  - {id: t10, label: {zh: 十级, en: T10}, when: {assets: \">= 0\"}}\n"


def write_files(folder: Path, rows: int, seed: int) -> dict[str, tuple[Path, list[str]]]:
    """(input file, kece's rule options) per kind."""
    rng = np.random.default_rng(seed)
    ids = np.char.add("C", np.arange(rows).astype(str))
    numeric = folder / "numeric.csv"
    pd.DataFrame({"id": ids, "assets": np.round(rng.uniform(0, 1e7, rows), 2),
                  "credit": rng.integers(0, 101, rows)}).to_csv(numeric, index=False)
    enums = folder / "bank_tier.csv"
    pd.DataFrame({"id": ids, "assets": np.round(rng.uniform(0, 8e6, rows), 2),
                  "credit_record": rng.choice(["excellent", "good", "fair", "poor"], rows),
                  "statements": rng.choice(["complete", "good", "partial", "incomplete"], rows),
                  "risk_assessment": rng.choice(["complete", "vague", "insufficient"], rows)})\
        .to_csv(enums, index=False)
    rules = folder / "rules"
    rules.mkdir()
    (rules / "tiers.yaml").write_text(TIERS_PACK, encoding="utf-8")
    return {"numeric": (numeric, ["--rules", str(rules)]), "bank_tier": (enums, ["--scheme", "bank_tier"])}


def kece_command() -> list[str]:
    installed = Path(sys.executable).parent / "kece"
    return [str(installed)] if installed.exists() else [sys.executable, str(ROOT / "cli.py")]


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"kece ingest benchmark: {args.rows:,} rows per file, best of {args.repeat}, each side its own process")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for kind, (source, rule_options) in write_files(folder, args.rows, args.seed).items():
            ours, theirs = folder / f"{kind}.kece.csv", folder / f"{kind}.hand.csv"
            kece = [*kece_command(), "evaluate", str(source), *rule_options, "--id-column", "id", "-q", "-o", str(ours)]
            hand = [sys.executable, str(ROOT / "bench" / "handwritten_script.py"), kind, str(source), str(theirs)]
            best = {"kece": float("inf"), "hand": float("inf")}
            for _ in range(args.repeat):
                best["kece"] = min(best["kece"], timed(kece))
                best["hand"] = min(best["hand"], timed(hand))
            ratio = best["kece"] / best["hand"]
            same = filecmp.cmp(ours, theirs, shallow=False)
            rejected = sum(1 for _ in (folder / f"{kind}.kece.rejects.csv").open(encoding="utf-8-sig")) - 1
            print(f"  {kind:<10} kece {best['kece']:6.2f} s ({args.rows / best['kece']:10,.0f} rows/s)   "
                  f"hand-written {best['hand']:6.2f} s   ratio {ratio:.2f}x")
            checks = ((f"ratio {ratio:.2f}x <= {TARGET}x", ratio <= TARGET),
                      ("identical output, byte for byte", same), (f"{rejected} rows rejected", rejected == 0))
            for text, passed in checks:
                print(f"    {'PASS' if passed else 'FAIL'}  {text}")
                ok &= passed
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
