"""One row, one answer: `kece evaluate` (its results file), `explain` (explain_customer), `plan --id` /
`--customer` (plan_for_customer) and `plan --all` (the plans write_plans builds) choose the same
schemes and give the same results for every row, over the bundled sample file and over a CRM-style
export with Chinese headers (tests/test_one_path.py's generator)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from engine.analysis.explain import explain_customer
from engine.evaluation.batch import evaluate_file
from engine.evaluation.evaluate import DOMAINS, alias_schemes, customer_from_file
from engine.io.tables import apply_aliases, iter_table
from engine.plans import files
from engine.plans.compose import plan_for_customer
from engine.plans.playbook import format_number, load_catalog
from engine.rules.literals import EPOCH
from engine.rules.loader import load_rulebook
from engine.rules.model import Input, Rulebook

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "data" / "samples" / "customers.csv"
PLAYBOOKS = REPO / "playbooks"
AS_OF = dt.date(2026, 3, 2)
CRM_ROWS = 3_000
ONE_CUSTOMER_ROWS = 25


@pytest.fixture(scope="module")
def rulebook() -> Rulebook:
    return load_rulebook(REPO / "rules")


def _cut_points(rulebook: Rulebook) -> dict[str, list[float]]:
    """Every bound a rule or scope tests per input: values on, just below and just above them
    reach every rule's edge."""
    found: dict[str, set[float]] = {}
    for scheme in rulebook.schemes:
        tests = [t for rule in scheme.rules for t in (*rule.when, *(x for b in rule.any for x in b))]
        for test in (*tests, *scheme.scope.tests):
            for interval in test.intervals:
                found.setdefault(test.input, set()).update(b for b in (interval.lo, interval.hi) if b is not None)
    return {name: sorted(points) for name, points in found.items()}


def _cell(decl: Input, points: list[float], rng: random.Random) -> str:
    if rng.random() < 0.04:  # a CRM export leaves a few cells empty
        return ""
    if decl.type == "enum":
        return rng.choice(decl.values or ("",))
    if decl.type == "boolean":
        return rng.choice(["true", "false", "是", "否"])
    if decl.type == "string":
        return rng.choice(["甲", "乙", "丙"])
    point = rng.choice(points) if points and rng.random() < 0.7 else None
    if decl.type == "date":
        day = int(point if point is not None else rng.randint(18_000, 21_000)) + rng.choice([-1, 0, 0, 1])
        return (EPOCH + dt.timedelta(days=day)).isoformat()
    if decl.type == "integer":
        base = int(point) if point is not None else rng.randint(0, 400)
        value = max(base + rng.choice([-1, 0, 0, 1]), int(decl.min) if decl.min is not None else -10**9)
        return str(min(value, int(decl.max)) if decl.max is not None else value)
    base = float(point) if point is not None else rng.uniform(0, 200_000)
    value = base + rng.choice([-0.01, 0, 0, 0.01, 1, -1])
    value = max(value, decl.min) if decl.min is not None else value
    value = min(value, decl.max) if decl.max is not None else value
    return f"{value:.2f}"


def crm_file(rulebook: Rulebook, path: Path, rows: int = CRM_ROWS, seed: int = 12) -> Path:
    """A CRM-style export (seeded): 客户编号 KH000001.., 客户名称, 客户领域, and a column for every
    input of every bundled pack under its first Chinese alias (its name when it has none)."""
    rng = random.Random(seed)
    points = _cut_points(rulebook)
    inputs: dict[str, Input] = {}
    for scheme in rulebook.schemes:
        for name, decl in scheme.inputs.items():
            inputs.setdefault(name, decl)
    header = {name: (decl.aliases[0] if decl.aliases else name) for name, decl in inputs.items()}
    domains = [*DOMAINS, "银行", "零售", ""]
    data: dict[str, list[str]] = {"客户编号": [f"KH{n:06d}" for n in range(1, rows + 1)],
                                  "客户名称": [rng.choice("赵钱孙李周吴郑王") + rng.choice("一二三四五")
                                           for _ in range(rows)],
                                  "客户领域": [rng.choice(domains) for _ in range(rows)]}
    for name, decl in inputs.items():
        data[header[name]] = [_cell(decl, points.get(name, []), rng) for _ in range(rows)]
    pd.DataFrame(data).to_csv(path, index=False, encoding="utf-8-sig")
    return path


@pytest.fixture(scope="module")
def crm(rulebook: Rulebook, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return crm_file(rulebook, tmp_path_factory.mktemp("crm") / "crm.csv")


def rows_of(rulebook: Rulebook, path: Path) -> Iterator[dict[str, object]]:
    """Each row as `customer_from_file` gives it (aliases applied, every column), read once."""
    _, chunks = iter_table(path)
    for chunk in chunks:
        table = apply_aliases(chunk.table, alias_schemes(rulebook, None))
        for _, row in table.iterrows():
            yield {str(k): v for k, v in row.items()}


Answer = dict[str, tuple[str, str]]  # scheme id -> (display as in the results file, score as a plan shows it)


def _score(value: float | None) -> str:
    return format_number("zh", value) if value is not None and value == value else ""


def from_results(path: Path, rulebook: Rulebook) -> dict[str, Answer]:
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    schemes = [c for c in table.columns if c in rulebook.by_id]
    return {row[table.columns[0]]: {s: (row[s], _score(float(row[f"{s}.score"])) if f"{s}.score" in row and
                                       row[f"{s}.score"] else "") for s in schemes}
            for row in table.to_dict("records")}


def from_plan(plan, applicable: set[str]) -> Answer:
    """A plan leaves out schemes the customer is out of scope of: those are '' as in the results file."""
    answer = {s: ("", "") for s in applicable}
    for sid, section in plan.schemes.items():
        display = "!conflict" if section.status == "conflict" else "|".join(o.id for o in section.outcomes)
        answer[sid] = (display, section.score or "")
    return answer


def check_one_path(rulebook: Rulebook, path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    catalog = load_catalog(PLAYBOOKS, "zh")
    evaluated = from_results(evaluate_file(rulebook, path, tmp_path / "results.csv").output, rulebook)
    built: dict[str, object] = {}
    build_plan = files.build_plan

    def keep(*args, **kwargs):
        plan = build_plan(*args, **kwargs)
        built[plan.customer.id] = plan
        return plan

    monkeypatch.setattr(files, "build_plan", keep)  # the plans --all renders, as built
    files.write_plans(rulebook, path, tmp_path / "plans", fmt="md", catalog=catalog, folder=PLAYBOOKS, as_of=AS_OF)
    assert sorted(built) == sorted(evaluated)
    for customer_id, expected in evaluated.items():
        assert from_plan(built[customer_id], set(expected)) == expected, customer_id
    # One customer takes ~0.4 s to type alone (pandas per one-row column), so the one-customer
    # paths take a seeded sample of rows; evaluate and --all above compare every row.
    sample = set(random.Random(5).sample(sorted(evaluated), ONE_CUSTOMER_ROWS))
    compared = 0
    for record in rows_of(rulebook, path):
        customer_id = str(record.get("id") or record.get("客户编号"))
        if customer_id not in sample:
            continue
        expected = evaluated[customer_id]
        explained = explain_customer(rulebook, record)
        applicable = {e.scheme_id for e in explained.explanations} | set(explained.not_applicable)
        assert applicable == set(expected), customer_id
        by_explain = {e.scheme_id: (e.result.display, _score(e.result.score)) for e in explained.explanations}
        assert {s: by_explain.get(s, ("", "")) for s in expected} == expected, customer_id
        assert from_plan(plan_for_customer(rulebook, record, AS_OF, catalog), applicable) == expected, customer_id
        compared += 1
    return compared


def test_the_sample_file_gives_each_row_the_same_schemes_and_results_everywhere(rulebook, tmp_path, monkeypatch):
    assert check_one_path(rulebook, SAMPLES, tmp_path, monkeypatch) == ONE_CUSTOMER_ROWS


def test_a_crm_export_gives_each_row_the_same_schemes_and_results_everywhere(rulebook, crm, tmp_path, monkeypatch):
    assert check_one_path(rulebook, crm, tmp_path, monkeypatch) == ONE_CUSTOMER_ROWS


def test_a_crm_export_lacking_a_column_skips_the_scheme_for_one_row_as_for_the_file(rulebook, crm, tmp_path):
    # The CRM export of issue 12 had 购买次数 but no 服务成本: value_tier was skipped by evaluate and
    # --all, yet applied by --id and explain.
    table = pd.read_csv(crm, dtype=str, keep_default_na=False, encoding="utf-8-sig").drop(columns=["服务成本"])
    path = tmp_path / "crm.csv"
    table.head(30).to_csv(path, index=False, encoding="utf-8-sig")
    record = customer_from_file(rulebook, path, "KH000005")
    assert "value_tier" in explain_customer(rulebook, record).skipped
    plan = plan_for_customer(rulebook, record, AS_OF, load_catalog(PLAYBOOKS, "zh"))
    assert "value_tier" not in plan.schemes
    results = pd.read_csv(evaluate_file(rulebook, path, tmp_path / "out.csv").output, encoding="utf-8-sig")
    assert "value_tier" not in results.columns


def _segments(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("### ")]


def test_plan_id_and_plan_all_print_the_same_segments_for_a_row(crm, tmp_path):
    run = lambda *args: CliRunner().invoke(app, [str(a) for a in args])  # noqa: E731
    every = run("plan", crm, "--all", "-o", tmp_path / "plans", "--as-of", AS_OF.isoformat(), "--rules",
                REPO / "rules", "--quiet")
    assert every.exit_code == 0, every.output
    for customer_id in ("KH000005", "KH000777", "KH002999"):
        one = run("plan", crm, "--id", customer_id, "--as-of", AS_OF.isoformat(), "--rules", REPO / "rules")
        assert one.exit_code == 0, one.output
        written = (tmp_path / "plans" / f"{customer_id}.md").read_text(encoding="utf-8")
        assert _segments(one.output) == _segments(written) and _segments(written), customer_id
