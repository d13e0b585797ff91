"""The CLI as a user meets it: output, exit codes, files written."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from tests.conftest import BANK

runner = CliRunner()

CUSTOMERS = """id,assets,credit_score,statements
c1,6000000,800,complete
c2,5000000,749,complete
c3,abc,700,partial
c4,1000000,,partial
c5,999999.99,600,none
c6,2000000,700.5,unknown
c7,,,
"""


@pytest.fixture
def customers(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS, encoding="utf-8")
    return path


def run(*args: str):
    return runner.invoke(app, list(args))


def test_check_clean_rules(bank_rules):
    result = run("check", "--rules", str(bank_rules))
    assert result.exit_code == 0, result.output
    assert "规则检查通过:1 个方案,3 条规则,2 个示例" in result.output
    assert "bank_tier" in result.output


def test_check_lists_every_problem_and_exits_1(rules_dir):
    folder = rules_dir({"bank_tier.yaml": BANK.replace('assets: ">= 5000000"', 'asets: ">= 5000000"')
                        .replace("hit_policy: first", "hit_policy: frist")})
    result = run("check", "--rules", str(folder), "--lang", "en")
    assert result.exit_code == 1
    assert "2 problem(s) in the rule files" in result.output
    assert "bank_tier.yaml:3:13 hit_policy: 'frist' is not one of" in result.output
    assert "bank_tier.yaml:11:12 rules[0].when.asets: unknown input 'asets' (did you mean 'assets'?)" in result.output
    assert "Traceback" not in result.output


def test_check_speaks_chinese_by_default(rules_dir):
    folder = rules_dir({"bank_tier.yaml": BANK.replace('assets: ">= 5000000"', 'asets: ">= 5000000"')
                        .replace("    expect: B", "    expect: D")})
    result = run("check", "--rules", str(folder))
    assert result.exit_code == 1
    assert "规则文件中有 1 个问题" in result.output
    assert "bank_tier.yaml:11:12 rules[0].when.asets: 未知的输入“asets”(是不是想写“assets”?)" in result.output
    folder = rules_dir({"bank_tier.yaml": BANK.replace("    expect: B", "    expect: D")})
    result = run("check", "--rules", str(folder))
    assert "1 个示例与规则不符" in result.output
    assert "示例 {assets=4999999.99, credit_score=800, statements=partial} 应得 D,但规则给出 B" in result.output


def test_check_runs_the_examples_on_both_backends(rules_dir):
    """An example both backends get wrong is said once, without backends: the rules or the example
    are to change, and which engine ran them is not the user's concern."""
    folder = rules_dir({"bank_tier.yaml": BANK.replace("    expect: B", "    expect: D")})
    result = run("check", "--rules", str(folder), "--lang", "en")
    assert result.exit_code == 1
    assert "1 example(s) disagree with the rules" in result.output
    line = ("bank_tier.yaml:22:13 example {assets=4999999.99, credit_score=800, statements=partial} "
            "expects D, but the rules give B")
    assert result.output.count(line) == 1 and "backend" not in result.output


def test_an_example_the_backends_disagree_on_names_each_backend(rules_dir, monkeypatch):
    """Backends that disagree are kece's bug, not the user's: each backend's answer is shown."""
    import engine.analysis.examples as examples

    real = examples.run_examples

    def durable_says_a(scheme, backend):
        failures = real(scheme, backend)
        if backend == "durable":
            failures = [replace(f, actual=replace(f.actual, outcome=("A",), matched=("A",))) for f in failures]
        return failures

    monkeypatch.setattr(examples, "run_examples", durable_says_a)
    folder = rules_dir({"bank_tier.yaml": BANK.replace("    expect: B", "    expect: D")})
    result = run("check", "--rules", str(folder), "--lang", "en")
    assert "1 example(s) disagree with the rules" in result.output
    assert "expects D, but the vectorized backend gives B" in result.output
    assert "expects D, but the durable backend gives A" in result.output


def test_test_command_runs_every_example(rules_dir):
    folder = rules_dir({"bank_tier.yaml": BANK})
    result = run("test", "--rules", str(folder), "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Examples: 2 passed, 0 failed (both backends)" in result.output
    folder = rules_dir({"bank_tier.yaml": BANK.replace("    expect: B", "    expect: D")})
    result = run("test", "--rules", str(folder), "--lang", "en")
    assert result.exit_code == 1
    assert "Examples: 1 passed, 1 failed (both backends)" in result.output
    assert ("bank_tier.yaml:22:13 example {assets=4999999.99, credit_score=800, statements=partial} expects D, "
            "but the rules give B") in result.output


def test_evaluate_file_writes_results_and_rejects(bank_rules, customers, tmp_path):
    out = tmp_path / "out" / "result.csv"
    result = run("evaluate", str(customers), "--rules", str(bank_rules), "-o", str(out))
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(table.columns) == ["id", "bank_tier", "bank_tier.label"]
    assert table.to_dict("list") == {
        "id": ["c1", "c2", "c4", "c5", "c7"],
        "bank_tier": ["A", "D", "B", "D", "D"],  # c2: 5,000,000 is outside [1000000..5000000)
        "bank_tier.label": ["A类客户", "D类客户", "B类客户", "D类客户", "D类客户"],
    }
    rejects = pd.read_csv(out.with_name("result.rejects.csv"), dtype=str, encoding="utf-8-sig")
    assert rejects.to_dict("records") == [
        {"row": "4", "id": "c3", "column": "assets", "value": "abc", "reason": "不是数字"},
        {"row": "7", "id": "c6", "column": "credit_score; statements", "value": "700.5; unknown",
         "reason": "不是整数; 不是列出的取值之一:complete、partial、none"},
    ]
    assert len(table) + len(rejects) == 7
    assert "7 行输入:5 行已评估,2 行拒收" in result.output
    assert "评估中" not in result.output  # no progress bar when the output is not a terminal
    assert "A类客户" in result.output and "60.0%" in result.output


@pytest.mark.parametrize("backend", ["vectorized", "durable"])
def test_both_backends_write_the_same_file(bank_rules, customers, tmp_path, backend):
    out = tmp_path / f"{backend}.csv"
    assert run("evaluate", str(customers), "--rules", str(bank_rules), "-o", str(out), "--backend",
               backend).exit_code == 0
    assert pd.read_csv(out, dtype=str)["bank_tier"].tolist() == ["A", "D", "B", "D", "D"]


def test_scheme_missing_columns_is_skipped_or_an_error(rules_dir, customers, tmp_path):
    other = BANK.replace("bank_tier", "needs_income").replace("assets", "income")
    folder = rules_dir({"bank_tier.yaml": BANK, "income.yaml": other})
    result = run("evaluate", str(customers), "--rules", str(folder), "-o", str(tmp_path / "o.csv"), "--lang", "en")
    assert result.exit_code == 0
    assert "Skipped scheme needs_income: the file has no column income" in result.output
    result = run("evaluate", str(customers), "--rules", str(folder), "--scheme", "needs_income",
                 "-o", str(tmp_path / "o.csv"), "--lang", "en")
    assert result.exit_code == 2
    assert "lacks inputs of the requested schemes: needs_income needs income" in result.output
    result = run("evaluate", str(customers), "--rules", str(folder), "--scheme", "nope")
    assert result.exit_code == 2 and "未知的方案 nope;规则中定义的方案:bank_tier、needs_income" in result.output
    for command in (("evaluate", str(customers)), ("plan", str(customers), "--id", "c1")):
        result = run(*command, "--rules", str(folder), "--scheme", "bank_teir", "--lang", "en")
        assert result.exit_code == 2
        assert "unknown scheme bank_teir (did you mean 'bank_tier'?); the rules define: bank_tier, needs_income" \
            in result.output
    result = run("evaluate", str(customers), "--rules", str(folder), "--scheme", "bank_teir")
    assert "未知的方案 bank_teir(是不是想写“bank_tier”?);规则中定义的方案" in result.output


def test_many_skipped_schemes_share_one_line(rules_dir, customers, tmp_path):
    packs = {"bank_tier.yaml": BANK}
    for n in range(4):
        packs[f"other{n}.yaml"] = BANK.replace("bank_tier", f"other{n}").replace("assets", f"income{n}")
    result = run("evaluate", str(customers), "--rules", str(rules_dir(packs)), "-o", str(tmp_path / "o.csv"),
                 "--lang", "en")
    assert result.exit_code == 0
    assert ("Skipped 4 schemes (the file lacks columns they need): other0, other1, other2, other3. "
            "Name one with --scheme to see which columns it lacks") in " ".join(result.output.split())
    assert "Skipped scheme" not in result.output


def test_evaluate_one_customer(bank_rules):
    customer = json.dumps({"assets": 6000000, "credit_score": 800, "statements": "complete"})
    result = run("evaluate", "--rules", str(bank_rules), "--customer", customer, "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "│ bank_tier │ A      │ Grade A │ A, B, D" not in result.output  # B needs assets < 5,000,000
    assert "│ bank_tier │ A      │ Grade A │ A, D          │" in result.output


def test_evaluate_one_customer_with_a_bad_value(bank_rules):
    lots = '{"assets": "lots", "credit_score": null, "statements": null}'
    result = run("evaluate", "--rules", str(bank_rules), "--customer", lots, "--lang", "en")
    assert result.exit_code == 2
    assert "assets = lots (not a number)" in result.output
    result = run("evaluate", "--rules", str(bank_rules), "--customer", lots)
    assert "错误: 客户的取值不符合要求:assets = lots (不是数字)" in result.output
    result = run("evaluate", "--rules", str(bank_rules), "--customer", "{assets: 1}", "--lang", "en")
    assert result.exit_code == 2 and "--customer is not valid JSON" in result.output


def test_a_customer_needs_every_input_of_a_scheme_as_a_key_as_a_file_needs_its_columns(bank_rules):
    # A file without a scheme's column skips the scheme; a record without the key must too, or
    # `plan --id` and `plan --all` would disagree about the same row.
    result = run("evaluate", "--rules", str(bank_rules), "--customer", '{"assets": 10}', "--lang", "en")
    assert result.exit_code == 2
    assert ("the customer lacks inputs of the schemes: bank_tier needs credit_score, statements; give an input "
            "the customer has no value for as null") in result.output
    given = '{"assets": 10, "credit_score": null, "statements": null}'
    result = run("evaluate", "--rules", str(bank_rules), "--customer", given, "--lang", "en")
    assert result.exit_code == 0, result.output


def test_usage_errors(bank_rules, customers, tmp_path):
    assert run("evaluate", "--rules", str(bank_rules)).exit_code == 2
    result = run("evaluate", str(tmp_path / "none.csv"), "--rules", str(bank_rules), "--lang", "en")
    assert result.exit_code == 2 and "no such file" in result.output
    result = run("evaluate", str(customers), "--rules", str(bank_rules), "--backend", "fast", "--lang", "en")
    assert result.exit_code == 2 and "--backend must be one of vectorized, durable" in result.output
    result = run("evaluate", str(customers), "--rules", str(bank_rules), "--id-column", "客户号")
    assert result.exit_code == 2 and "文件中没有 --id-column 指定的列“客户号”" in result.output


def test_duplicate_header_is_an_error(bank_rules, tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("id,assets,assets,credit_score,statements\n1,1,2,3,none\n", encoding="utf-8")
    result = run("evaluate", str(path), "--rules", str(bank_rules), "--lang", "en")
    assert result.exit_code == 2 and "names a column more than once: assets" in result.output


def test_no_id_column_uses_row_numbers(bank_rules, tmp_path):
    path = tmp_path / "noid.csv"
    path.write_text("assets,credit_score,statements\n6000000,800,complete\nx,1,none\n", encoding="utf-8-sig")
    out = tmp_path / "o.csv"
    assert run("evaluate", str(path), "--rules", str(bank_rules), "-o", str(out)).exit_code == 0
    assert pd.read_csv(out, dtype=str).to_dict("list")["row"] == ["2"]


def test_internal_errors_hide_the_traceback_unless_debug(bank_rules, customers, monkeypatch):
    import engine.evaluation.evaluate

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(engine.evaluation.evaluate, "evaluate_frame", broken)
    result = run("evaluate", str(customers), "--rules", str(bank_rules), "--lang", "en")
    assert result.exit_code == 70
    assert "kece internal error: ZeroDivisionError: boom. Run again with --debug" in result.output
    assert "Traceback" not in result.output
    result = run("--debug", "evaluate", str(customers), "--rules", str(bank_rules))
    assert isinstance(result.exception, ZeroDivisionError)


def test_schema_command_matches_the_shipped_schema():
    shipped = Path(__file__).resolve().parent.parent / "docs" / "kece-rules.schema.json"
    result = run("schema")
    assert result.exit_code == 0
    assert json.loads(result.output) == json.loads(shipped.read_text(encoding="utf-8")), \
        "docs/kece-rules.schema.json is stale: run `make schema`"


def test_output_files_are_written_whole_with_normal_permissions(bank_rules, customers, tmp_path):
    out = tmp_path / "o.csv"
    assert run("evaluate", str(customers), "--rules", str(bank_rules), "-o", str(out)).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp files left
    assert out.stat().st_mode & 0o644 == 0o644


def test_blank_lines_are_skipped_but_row_numbers_stay_those_of_the_sheet(bank_rules, tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("id,assets,credit_score,statements\na,1,1,none\n\nb,x,1,none\n,,,\nc,1,1,none\n",
                    encoding="utf-8")
    out = tmp_path / "o.csv"
    result = run("evaluate", str(path), "--rules", str(bank_rules), "-o", str(out), "--lang", "en")
    assert result.exit_code == 0
    assert "3 rows in: 2 evaluated, 1 rejected" in result.output
    rejects = pd.read_csv(tmp_path / "o.rejects.csv", dtype=str, encoding="utf-8-sig")
    assert rejects[["row", "id"]].values.tolist() == [["4", "b"]]


def test_a_scheme_without_inputs_applies_to_every_row(rules_dir, customers, tmp_path):
    everyone = """
    id: everyone
    title: {zh: 全体客户, en: Everyone}
    inputs: {}
    rules:
      - id: all
        label: {zh: 全体, en: All}
        when: {}
    examples:
      - given: {}
        expect: all
    """
    folder = rules_dir({"bank_tier.yaml": BANK, "everyone.yaml": everyone})
    assert run("check", "--rules", str(folder)).exit_code == 0
    out = tmp_path / "o.csv"
    assert run("evaluate", str(customers), "--rules", str(folder), "-o", str(out)).exit_code == 0
    assert pd.read_csv(out, dtype=str)["everyone"].tolist() == ["all"] * 5


def test_init_creates_a_workspace_that_commands_use(tmp_path, monkeypatch):
    folder = tmp_path / "team"
    result = run("init", str(folder), "--lang", "en")
    assert result.exit_code == 0, result.output
    assert (folder / "rules" / "bank_tier.yaml").is_file() and (folder / "data" / "customers.csv").is_file()
    assert "## 中文" in (folder / "README.md").read_text(encoding="utf-8")
    assert f"Next: cd {folder} && kece check" in result.output
    (folder / "rules" / "bank_tier.yaml").write_text(
        (folder / "rules" / "bank_tier.yaml").read_text(encoding="utf-8").replace("hit_policy: first",
                                                                                   "hit_policy: frist"),
        encoding="utf-8")
    monkeypatch.chdir(folder)
    result = run("check", "--lang", "en")
    assert result.exit_code == 1 and "rules/bank_tier.yaml:13:13" in result.output  # the workspace's own rules
    (folder / "rules" / "bank_tier.yaml").write_text(
        (folder / "rules" / "bank_tier.yaml").read_text(encoding="utf-8").replace("frist", "first"), encoding="utf-8")
    result = run("check", "--lang", "en")
    assert result.exit_code == 0 and "Rules: rules (local rules)" in result.output
    result = run("init", str(folder))
    assert result.exit_code == 2 and "不是空文件夹" in result.output
