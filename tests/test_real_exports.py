"""Customer files as CRM and spreadsheet exports write them (issue 14, "real exports"): enum values
as people write them, Chinese headers, repeated ids and total rows; what the user sees and the files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app

runner = CliRunner()

# Titles but no aliases, labels in both languages: a pack as business users write it.
QUADRANT = """
id: quadrant
title: {zh: 四象限, en: Quadrant}
hit_policy: first
inputs:
  assets: {type: number, title: {zh: 资产规模, en: Assets}}
  contribution_level:
    type: enum
    values: [high, low]
    labels:
      high: {zh: 高贡献, en: high contribution}
      low:  {zh: 低贡献, en: low contribution}
    title: {zh: 贡献度, en: Contribution}
  purchase_intent:
    type: enum
    values: [clear, hesitant]
    labels:
      clear:    {zh: 明确意向, en: clear intent}
      hesitant: {zh: 犹豫不决, en: hesitant}
    title: {zh: 购买意向, en: Purchase intent}
rules:
  - id: top
    label: {zh: 重点, en: Top}
    when: {contribution_level: high, purchase_intent: clear}
  - id: rest
    label: {zh: 其余, en: Rest}
    when: {}
"""


@pytest.fixture
def rules(rules_dir) -> Path:
    return rules_dir({"quadrant.yaml": QUADRANT})


def evaluate(rules: Path, tmp_path: Path, csv: str, *options: str):
    source = tmp_path / "in.csv"
    source.write_text(csv, encoding="utf-8")
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["evaluate", str(source), "-o", str(out), "--rules", str(rules), "-q", *options])
    results = pd.read_csv(out, dtype=str, keep_default_na=False) if out.exists() else None
    rejects_path = tmp_path / "out.rejects.csv"
    rejects = pd.read_csv(rejects_path, dtype=str, keep_default_na=False) if rejects_path.exists() else None
    return result, results, rejects


def test_enum_cells_read_as_written_ids_labels_short_forms_any_case_or_width(rules, tmp_path):
    result, results, rejects = evaluate(rules, tmp_path, """id,assets,contribution_level,purchase_intent
c1,1,高,明确
c2,1,高贡献,明确意向
c3,1,HIGH,Clear Intent
c4,1,ｈｉｇｈ,clear
c5,1,High Contribution,hesitant
c6,1,低,犹豫不决
""")
    assert result.exit_code == 0, result.output
    assert results["quadrant"].tolist() == ["top", "top", "top", "top", "rest", "rest"]
    assert rejects.empty


def test_enum_reject_lists_allowed_values_and_most_rejected_run_exits_1(rules, tmp_path):
    rows = "\n".join(f"c{n},1,中,明确" for n in range(8))
    result, results, rejects = evaluate(rules, tmp_path, "id,assets,contribution_level,purchase_intent\n"
                                        f"{rows}\nok1,1,高,明确\nok2,1,低,明确\n")
    assert result.exit_code == 1, result.output
    assert len(results) + len(rejects) == 10
    assert set(rejects["reason"]) == {"不是列出的取值之一:high(高贡献)、low(低贡献)"}
    assert "拒收最多的列 contribution_level:8 行(80.0%)" in result.output
    assert "拒收 8 / 10 行(80.0%),超过 --max-rejected 50%" in result.output
    # The user sets the threshold; 1 never fails a run for its rejects.
    assert evaluate(rules, tmp_path, "id,assets,contribution_level,purchase_intent\n"
                    f"{rows}\n", "--max-rejected", "1")[0].exit_code == 0
    assert evaluate(rules, tmp_path, "id,assets,contribution_level,purchase_intent\n"
                    "a,1,高,明确\nb,1,中,明确\n", "--max-rejected", "0.4", "--lang", "en")[0].exit_code == 1
    bad = evaluate(rules, tmp_path, "id\n", "--max-rejected", "2")[0]
    assert bad.exit_code == 2 and "--max-rejected 是 0 到 1 之间的比例" in bad.output


def test_titles_work_as_headers_and_customer_keys(rules, tmp_path):
    result, results, _ = evaluate(rules, tmp_path, "客户编号,资产规模,贡献度,Purchase intent\nk1,5,高,明确\n")
    assert result.exit_code == 0, result.output
    assert results.to_dict("records") == [{"客户编号": "k1", "quadrant": "top", "quadrant.label": "重点"}]
    one = runner.invoke(app, ["evaluate", "--rules", str(rules), "--lang", "en", "--customer",
                              json.dumps({"资产规模": 5, "贡献度": "低", "购买意向": "明确"}, ensure_ascii=False)])
    assert one.exit_code == 0, one.output
    assert "rest" in one.output


def test_skipped_scheme_names_missing_columns_and_close_headers(rules, tmp_path):
    other = QUADRANT.replace("id: quadrant", "id: other").replace("assets:", "spend:").replace("资产规模", "消费额")
    (rules / "other.yaml").write_text(other, encoding="utf-8")
    source = tmp_path / "in.csv"
    source.write_text("id,资产,spend,贡献度,购买意向\nk1,5,5,高,明确\n", encoding="utf-8")
    ran = runner.invoke(app, ["evaluate", str(source), "-o", str(tmp_path / "o.csv"), "--rules", str(rules), "-q"])
    assert ran.exit_code == 0, ran.output
    assert "已跳过方案 quadrant:文件缺少列 assets(资产规模;是不是文件中的“资产”列?)" in ran.output
    en = runner.invoke(app, ["evaluate", str(source), "-o", str(tmp_path / "o.csv"), "--rules", str(rules), "-q",
                             "--lang", "en"])
    assert "Skipped scheme quadrant: the file has no column assets (Assets; did you mean column '资产'?)" in en.output


@pytest.mark.parametrize(("policy", "kept", "rejected_rows"), [
    ("first", ["a", "b", "c"], ["4", "6"]),
    ("last", ["b", "a", "c"], ["2", "5"]),
    ("reject", ["b"], ["2", "4", "5", "6"]),
    ("keep", ["a", "b", "a", "c", "c"], []),
])
def test_duplicate_ids_warned_and_handled_by_choice(rules, tmp_path, policy, kept, rejected_rows):
    csv = ("id,assets,contribution_level,purchase_intent\n"
           "a,1,高,明确\nb,1,低,明确\na,2,高,明确\nc,1,高,明确\nc,1,低,明确\n")
    result, results, rejects = evaluate(rules, tmp_path, csv, "--duplicates", policy, "--max-rejected", "1")
    assert result.exit_code == 0, result.output
    assert results["id"].tolist() == kept
    assert rejects["row"].tolist() == rejected_rows
    assert len(results) + len(rejects) == 5
    assert "2 个客户编号出现在多行,例如 a(第 2、4 行)、c(第 5、6 行)" in result.output


def test_duplicate_ids_across_chunks(rules, tmp_path):
    from engine.evaluation.batch import evaluate_file
    from engine.rules.loader import load_rulebook

    source = tmp_path / "in.csv"
    source.write_text("id,assets,contribution_level,purchase_intent\n"
                      + "".join(f"c{n % 7},1,高,明确\n" for n in range(20)), encoding="utf-8")
    run = evaluate_file(load_rulebook(rules), source, tmp_path / "o.csv", chunk_rows=3)
    assert run.rows_out == 7 and run.rows_rejected == 13
    assert run.duplicates.rows["c0"] == [2, 9, 16]
    last = evaluate_file(load_rulebook(rules), source, tmp_path / "o.csv", chunk_rows=3, duplicates="last")
    assert last.rows_out == 7
    assert pd.read_csv(tmp_path / "o.csv", dtype=str)["id"].tolist() == [f"c{n}" for n in (6, 0, 1, 2, 3, 4, 5)]


@pytest.mark.parametrize("footer", ["合计", "总计:", "小计", "Total", "TOTAL"])
def test_total_rows_are_rejected_not_evaluated(rules, tmp_path, footer):
    result, results, rejects = evaluate(rules, tmp_path, "名称,id,assets,contribution_level,purchase_intent\n"
                                        f"甲,a,1,高,明确\n{footer},,1,,\n")
    assert result.exit_code == 0, result.output
    assert results["id"].tolist() == ["a"]
    assert rejects[["row", "column", "value"]].values.tolist() == [["3", "名称", footer]]
    assert rejects["reason"].tolist() == ["合计行(合计/总计/小计/Total),不是客户"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_placeholders_for_no_value_read_as_empty_in_csv_and_xlsx_alike(rules, tmp_path, suffix):
    table = pd.DataFrame({"id": ["c1", "c2", "c3", "c4", "c5"],
                          "assets": ["N/A", "#N/A", "-", "n/a", "5"],
                          "contribution_level": ["高", "NA", "无", "—", "空"],
                          "purchase_intent": ["明确", "明确", "空", "na", "-"]})
    source = tmp_path / f"in{suffix}"
    if suffix == ".csv":
        table.to_csv(source, index=False)
    else:
        table.to_excel(source, index=False)
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["evaluate", str(source), "-o", str(out), "--rules", str(rules), "-q"])
    assert result.exit_code == 0, result.output
    assert "5 行输入:5 行已评估,0 行拒收" in result.output
    assert pd.read_csv(out, dtype=str)["quadrant"].tolist() == ["top", "rest", "rest", "rest", "rest"]


TITLED = [["客户明细表(导出 2024-06-30)", "", "", ""],
          ["id", "资产规模", "贡献度", "购买意向"],
          ["k1", "5", "高", "明确"],
          ["k2", "abc", "低", "明确"]]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_title_row_above_the_header_is_named_and_header_row_reads_past_it(rules, tmp_path, suffix):
    source = tmp_path / f"crm{suffix}"
    table = pd.DataFrame(TITLED)
    if suffix == ".csv":
        table.to_csv(source, index=False, header=False)
    else:
        table.to_excel(source, index=False, header=False)
    out = tmp_path / "out.csv"
    command = ["evaluate", str(source), "-o", str(out), "--rules", str(rules), "-q", "--lang", "en"]
    titled = runner.invoke(app, command)
    assert titled.exit_code == 2 and not out.exists()
    assert ("row 1 holds only '客户明细表(导出 2024-06-30)', which looks like a title, and the column names seem to "
            "be in row 2: give --header-row 2") in titled.output
    assert "lacks inputs" not in titled.output
    read = runner.invoke(app, [*command, "--header-row", "2"])
    assert read.exit_code == 0, read.output
    assert "2 rows in: 1 evaluated, 1 rejected" in read.output
    assert pd.read_csv(out, dtype=str)[["id", "quadrant"]].values.tolist() == [["k1", "top"]]
    rejects = pd.read_csv(tmp_path / "out.rejects.csv", dtype=str)
    assert rejects[["row", "id", "column"]].values.tolist() == [["4", "k2", "assets"]]  # row 4, as Excel shows it


def test_a_header_below_a_title_with_several_cells_is_pointed_at(rules, tmp_path):
    source = tmp_path / "crm.csv"
    command = ["evaluate", str(source), "-o", str(tmp_path / "o.csv"), "--rules", str(rules), "-q"]
    # a title and its date over unnamed columns, a blank row, then the header
    source.write_text("客户明细表,导出时间 2024-06-30,,\n\nid,资产规模,贡献度,购买意向\nk1,5,高,明确\n",
                      encoding="utf-8")
    result = runner.invoke(app, command)
    assert result.exit_code == 2
    assert ("第 1 行只有“客户明细表, 导出时间 2024-06-30”,像是标题;列名似乎在第 3 行:"
            "请加 --header-row 3") in result.output
    ok = runner.invoke(app, [*command, "--header-row", "3"])
    assert ok.exit_code == 0 and "1 行输入:1 行已评估,0 行拒收" in ok.output
    # a full first row that is not the header: the row holding the rules' column names is named
    source.write_text("报表,客户,日期,部门\nid,资产规模,贡献度,购买意向\nk1,5,高,明确\n", encoding="utf-8")
    result = runner.invoke(app, command)
    assert result.exit_code == 2
    assert "第 2 行包含的规则列名比表头还多;如果它才是表头,请加 --header-row 2" in result.output


def test_an_excel_97_2003_export_is_read_like_a_csv(rules, tmp_path):
    """An .xls as older CRM and core-banking systems export it (tests/data/make_legacy_xls.py): a
    title in row 1, Chinese headers in row 2, labels as values, a 合计 row; read from row 2."""
    source = Path(__file__).with_name("data") / "legacy_export.xls"
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["evaluate", str(source), "-o", str(out), "--rules", str(rules), "-q", "--lang", "en"])
    assert result.exit_code == 2
    assert "which looks like a title" in result.output and "give --header-row 2" in result.output
    result = runner.invoke(app, ["evaluate", str(source), "-o", str(out), "--rules", str(rules), "-q", "--lang", "en",
                                 "--header-row", "2"])
    assert result.exit_code == 0, result.output
    results = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert results[["客户编号", "quadrant"]].values.tolist() == [["c1", "top"], ["c2", "rest"], ["c4", "rest"]]
    rejects = pd.read_csv(tmp_path / "out.rejects.csv", dtype=str, keep_default_na=False)
    assert rejects[["row", "id", "column"]].values.tolist() == [["5", "c3", "assets"], ["7", "合计", "客户编号"]]
