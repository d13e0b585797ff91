"""The script an analyst would write by hand instead of running kece: pyarrow reads the CSV, np.select
applies the rules, pandas writes the results. bench/bench_ingest.py times it beside `kece evaluate`
on the same files and checks that both write the same bytes.

    python bench/handwritten_script.py numeric|bank_tier INPUT OUTPUT

Keep the rules in step with bench_ingest.TIERS_PACK and rules/bank_tier.yaml.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd


def tiers(table: pd.DataFrame) -> tuple[str, np.ndarray, dict[str, str]]:
    assets, credit = table["assets"].to_numpy(), table["credit"].to_numpy()
    levels = range(9, 0, -1)
    conditions = [(assets >= level * 1_000_000) & (credit >= level * 10) for level in levels] + [assets >= 0]
    chosen = np.select(conditions, [f"t{n}" for n in range(1, 11)], default="")
    words = "一级 二级 三级 四级 五级 六级 七级 八级 九级 十级".split()
    labels = {f"t{n}": word for n, word in enumerate(words, start=1)}
    return "tiers", chosen, labels


def bank_tier(table: pd.DataFrame) -> tuple[str, np.ndarray, dict[str, str]]:
    assets = table["assets"].to_numpy()
    credit, statements, risk = (table[name].to_numpy() for name in ("credit_record", "statements", "risk_assessment"))
    a = (assets >= 5_000_000) & (credit == "excellent") & (statements == "complete") & (risk == "complete")
    b = (assets >= 1_000_000) & np.isin(credit, ["excellent", "good"]) & np.isin(statements, ["complete", "good"]) \
        & (risk == "complete")
    c = (assets >= 100_000) & np.isin(credit, ["excellent", "good", "fair"]) \
        & np.isin(statements, ["complete", "good", "partial"]) & np.isin(risk, ["complete", "vague"])
    chosen = np.select([a, b, c], ["A", "B", "C"], default="D")
    return "bank_tier", chosen, {"A": "A类客户", "B": "B类客户", "C": "C类客户", "D": "D类客户"}


def main(kind: str, source: str, output: str) -> None:
    table = pd.read_csv(source, engine="pyarrow")
    scheme, chosen, labels = (tiers if kind == "numeric" else bank_tier)(table)
    result = pd.DataFrame({"id": table["id"], scheme: chosen, f"{scheme}.label": pd.Series(chosen).map(labels)})
    result.to_csv(output, index=False, encoding="utf-8-sig")


if __name__ == "__main__":
    main(*sys.argv[1:4])
