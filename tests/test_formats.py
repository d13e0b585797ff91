"""Customer files as analysts have them: encodings, Excel, Parquet, JSON Lines, Chinese headers,
values as exported. Every case uses a real file written here."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from tests.conftest import BANK

ALIASED = BANK.replace(
    "{type: number, title: {zh: 资产规模, en: Assets}, unit: CNY}",
    "{type: number, title: {zh: 资产规模, en: Assets}, unit: CNY, aliases: [资产规模, 总资产]}").replace(
    "{type: integer, title: {zh: 信用评分, en: Credit score}}",
    "{type: integer, title: {zh: 信用评分, en: Credit score}, aliases: [信用评分]}").replace(
    "{type: enum, values: [complete, partial, none]}",
    "{type: enum, values: [complete, partial, none], aliases: [财务报表]}")
HEADER = ["客户编号", "资产规模", "信用评分", "财务报表"]
ROWS = [["c1", "6000000", "800", "complete"], ["c2", "1500000", "700", "partial"], ["c3", "abc", "700", "none"]]
EXPECTED = {"客户编号": ["c1", "c2"], "bank_tier": ["A", "B"]}


@pytest.fixture
def rules(rules_dir) -> Path:
    return rules_dir({"bank_tier.yaml": ALIASED})


def evaluate(rules: Path, path: Path, out: Path, *extra: str):
    result = CliRunner().invoke(app, ["evaluate", str(path), "--rules", str(rules), "-o", str(out), *extra])
    assert result.exit_code == 0, result.output
    return result


def read_back(path: Path) -> pd.DataFrame:
    if path.suffix == ".xlsx":
        return pd.read_excel(path, dtype=str, engine="openpyxl").fillna("")
    if path.suffix == ".parquet":
        return pd.read_parquet(path).astype(str)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def csv_text(rows=ROWS, header=HEADER) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    return buffer.getvalue()


@pytest.mark.parametrize(("encoding", "announced"), [("utf-8", None), ("utf-8-sig", None), ("gbk", "GB18030"),
                                                     ("gb18030", "GB18030")])
def test_csv_encodings_with_chinese_headers(rules, tmp_path, encoding, announced):
    path = tmp_path / "customers.csv"
    path.write_bytes(csv_text().encode(encoding))
    result = evaluate(rules, path, tmp_path / "out.csv")
    table = read_back(tmp_path / "out.csv")
    assert table[["客户编号", "bank_tier"]].to_dict("list") == EXPECTED
    rejects = read_back(tmp_path / "out.rejects.csv")
    assert rejects[["row", "id", "column", "value"]].values.tolist() == [["4", "c3", "assets", "abc"]]
    assert (f"已按 {announced} 编码读取输入文件" in result.output) == bool(announced)


def test_wrong_encoding_is_an_error(rules, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(csv_text().encode("gbk"))
    result = CliRunner().invoke(app, ["evaluate", str(path), "--rules", str(rules), "--encoding", "utf-8",
                                      "--lang", "en"])
    assert result.exit_code == 2 and "cannot be read as utf-8" in result.output and "--encoding" in result.output


def test_excel_sheet_in_and_excel_out(rules, tmp_path):
    path = tmp_path / "customers.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="说明", index=False)
        pd.DataFrame([["c1", 6000000, 800, "complete"], ["c2", 1500000.0, 700, "partial"],
                      ["c3", "abc", 700, "none"]], columns=HEADER).to_excel(writer, sheet_name="客户", index=False)
    evaluate(rules, path, tmp_path / "out.xlsx", "--sheet", "客户")
    assert read_back(tmp_path / "out.xlsx")[["客户编号", "bank_tier"]].to_dict("list") == EXPECTED
    assert read_back(tmp_path / "out.rejects.xlsx")["row"].tolist() == ["4"]
    result = CliRunner().invoke(app, ["evaluate", str(path), "--rules", str(rules), "--sheet", "无此表"])
    assert result.exit_code == 2 and "无此表" in result.output


def test_parquet_in_and_out(rules, tmp_path):
    path = tmp_path / "customers.parquet"
    pd.DataFrame({"客户编号": ["c1", "c2", "c3"], "总资产": [6000000.0, 1500000.0, None],
                  "信用评分": [800, 700, 700], "财务报表": ["complete", "partial", "none"]}).to_parquet(path)
    evaluate(rules, path, tmp_path / "out.parquet")
    table = read_back(tmp_path / "out.parquet")
    assert table[["客户编号", "bank_tier"]].to_dict("list") == {"客户编号": ["c1", "c2", "c3"],
                                                               "bank_tier": ["A", "B", "D"]}


def test_json_lines_with_a_broken_line(rules, tmp_path):
    path = tmp_path / "customers.jsonl"
    lines = [json.dumps({"客户编号": "c1", "assets": 6000000, "credit_score": 800, "statements": "complete"},
                        ensure_ascii=False), "{not json", "",
             json.dumps({"客户编号": "c2", "assets": 1500000, "credit_score": None, "statements": "partial"},
                        ensure_ascii=False)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = evaluate(rules, path, tmp_path / "out.csv")
    assert read_back(tmp_path / "out.csv")[["客户编号", "bank_tier"]].to_dict("list") == EXPECTED
    rejects = read_back(tmp_path / "out.rejects.csv")
    assert rejects[["row", "value", "reason"]].values.tolist() == [["2", "{not json", "不是 JSON 对象"]]
    assert "3 行输入:2 行已评估,1 行拒收" in result.output


def test_values_as_exported(rules, tmp_path):
    path = tmp_path / "customers.csv"
    rows = [["c1", "¥6,000,000", "８００", "complete"], ["c2", "150万", "700", "partial"],
            ["c3", "1,50,000", "700", "none"]]
    path.write_text(csv_text(rows), encoding="utf-8")
    evaluate(rules, path, tmp_path / "out.csv")
    assert read_back(tmp_path / "out.csv")[["客户编号", "bank_tier"]].to_dict("list") == EXPECTED
    assert read_back(tmp_path / "out.rejects.csv")["value"].tolist() == ["1,50,000"]


def test_two_columns_for_one_input_is_an_error(rules, tmp_path):
    path = tmp_path / "customers.csv"
    header = ["客户编号", "资产规模", "总资产", "信用评分", "财务报表"]
    path.write_text(csv_text([["c1", "1", "2", "3", "none"]], header), encoding="utf-8")
    result = CliRunner().invoke(app, ["evaluate", str(path), "--rules", str(rules), "--lang", "en"])
    assert result.exit_code == 2
    assert "columns 资产规模, 总资产 would all give input 'assets'; keep one" in result.output


@pytest.mark.parametrize(("name", "said"), [
    ("customers.ods", "kece reads .csv, .txt, .xlsx, .xlsm, .xls"),
    ("customers.doc", "kece reads .csv, .txt, .xlsx, .xlsm, .xls"),
    # named as a workbook, but text (systems "export to Excel" as HTML or CSV): say what to do
    ("customers.xls", "is not an Excel workbook but text"),
    ("customers.xlsx", "rename it .csv if it holds comma-separated lines"),
    ("broken.xlsx", "cannot read it as an Excel workbook"),  # a zip, but not a workbook
])
def test_unknown_formats_and_false_workbooks_are_named(rules, tmp_path, name, said):
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04 not a zip" if name.startswith("broken") else b"id,assets\nc1,1\n")
    result = CliRunner().invoke(app, ["evaluate", str(path), "--rules", str(rules), "--lang", "en"])
    assert result.exit_code == 2 and said in result.output and "Traceback" not in result.output


def test_unknown_output_format_fails_before_any_work(rules, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(csv_text(), encoding="utf-8")
    result = CliRunner().invoke(app, ["evaluate", str(path), "--rules", str(rules), "-o", str(tmp_path / "o.json"),
                                      "--lang", "en"])
    assert result.exit_code == 2 and "kece writes .csv, .xlsx, .parquet" in result.output


def test_a_workbook_reads_as_openpyxl_read_it(tmp_path):
    """Workbooks are read by calamine (7x openpyxl's speed): every kind of cell gives the text that
    openpyxl's value gave, blank rows keep their row numbers, and a formula gives its cached value."""
    import datetime as dt

    from openpyxl import Workbook

    from engine.io.tables import _read_excel, cell_text

    book = Workbook()
    sheet = book.active
    sheet.title = "客户"
    sheet.append(["id", "assets", "flag", "when", "at", "clock", "code", "blank", "formula", "err", "pct", "big",
                  "tiny"])
    sheet.append(["C1", 1001, True, dt.date(2024, 5, 1), dt.datetime(2024, 5, 1, 10, 30), dt.time(9, 15), "00123",
                  None, "=1+1", "#N/A", 0.125, 12345678901234567890, 1e-7])
    sheet.append(["C2", 0.1, False, dt.datetime(2024, 5, 2), dt.datetime(2024, 5, 1, 0, 0, 1), None, "客户乙", "",
                  "=A1", "#DIV/0!", 1.5e20, -3, 3.0])
    sheet["J2"].data_type = sheet["J3"].data_type = "e"
    sheet["C5"] = "below a blank row"
    path = tmp_path / "export.xlsx"
    book.save(path)
    ours = _read_excel(path, "客户")
    theirs = pd.read_excel(path, sheet_name="客户", header=None, dtype=object, engine="openpyxl",
                           keep_default_na=False).map(cell_text)
    assert list(ours.columns) == theirs.iloc[0].tolist()
    assert ours.values.tolist() == theirs.iloc[1:].values.tolist()
    assert ours.index.tolist() == [2, 3, 4, 5]
    assert ours.loc[2, ["assets", "flag", "when", "at", "clock", "code"]].tolist() == \
        ["1001", "true", "2024-05-01", "2024-05-01 10:30:00", "09:15:00", "00123"]
