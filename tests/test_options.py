"""Options that mean one thing on every command: --debug, flags in --help, --rejects, --quiet, --id-column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from cli import app

runner = CliRunner()
CUSTOMERS = "客户编号,assets,credit_score,statements\nc1,6000000,800,complete\nc2,abc,700,partial\n"


@pytest.fixture
def customers(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS, encoding="utf-8")
    return path


def test_debug_works_after_the_command_too(bank_rules, customers, monkeypatch):
    import engine.evaluation.evaluate

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(engine.evaluation.evaluate, "evaluate_frame", broken)
    result = runner.invoke(app, ["evaluate", str(customers), "--rules", str(bank_rules), "--debug"])
    assert isinstance(result.exception, ZeroDivisionError)  # the traceback, not exit 70
    # after `--` it is an argument, not the option
    result = runner.invoke(app, ["evaluate", "--rules", str(bank_rules), "--", "--debug"])
    assert result.exit_code == 2 and "--debug" in result.output


def test_every_flag_shows_as_a_flag_in_help():
    group = typer.main.get_command(app)
    flags = [(name, param.opts[0]) for name, command in group.commands.items()  # type: ignore[attr-defined]
             for param in command.params if getattr(param, "is_flag", False)]
    flags += [("kece", param.opts[0]) for param in group.params if getattr(param, "is_flag", False)]
    assert {"--all", "--json", "--quiet", "--no-tasks", "--raw-csv", "--actions", "--debug"} <= {f for _, f in flags}
    for command, option in flags:
        help_text = runner.invoke(app, [command, "--help"] if command != "kece" else ["--help"],
                                  env={"COLUMNS": "200"}).output
        line = next(line for line in help_text.splitlines() if f" {option} " in line)
        assert "<bool>" not in line, (command, line)


def test_report_writes_rejects_on_request_with_the_id_column_named(bank_rules, customers, tmp_path):
    ids = tmp_path / "ids.csv"
    ids.write_text(CUSTOMERS.replace("客户编号", "cust"), encoding="utf-8")
    rejects = tmp_path / "report.rejects.csv"
    result = runner.invoke(app, ["report", str(ids), "--rules", str(bank_rules), "-o", str(tmp_path / "r.html"),
                                 "--rejects", str(rejects), "--id-column", "cust", "--quiet", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "2 rows in: 1 evaluated, 1 rejected" in result.output and f"Wrote {rejects}" in result.output
    table = pd.read_csv(rejects, dtype=str, encoding="utf-8-sig")
    assert table[["row", "id", "column"]].values.tolist() == [["3", "c2", "assets"]]
    # without --rejects the report still counts them and writes no rejects file
    result = runner.invoke(app, ["report", str(customers), "--rules", str(bank_rules), "-o", str(tmp_path / "s.html")])
    assert result.exit_code == 0 and "2 行输入:1 行已评估,1 行拒收" in result.output
    assert sorted(p.name for p in tmp_path.iterdir() if "rejects" in p.name) == ["report.rejects.csv"]


def test_report_refuses_rejects_over_its_input(bank_rules, customers, tmp_path):
    result = runner.invoke(app, ["report", str(customers), "--rules", str(bank_rules), "-o", str(tmp_path / "r.html"),
                                 "--rejects", str(customers), "--lang", "en"])
    assert result.exit_code == 2 and not (tmp_path / "r.html").exists()
    assert customers.read_text(encoding="utf-8") == CUSTOMERS


def test_plan_all_writes_rejects_where_asked(bank_rules, customers, tmp_path):
    rejects = tmp_path / "elsewhere" / "bad.xlsx"
    result = runner.invoke(app, ["plan", str(customers), "--all", "--rules", str(bank_rules), "-o",
                                 str(tmp_path / "plans"), "--rejects", str(rejects), "--no-tasks", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert pd.read_excel(rejects, dtype=str, engine="openpyxl")[["row", "id"]].values.tolist() == [["3", "c2"]]
    assert not (tmp_path / "plans" / "customers.rejects.csv").exists()
