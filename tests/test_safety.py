"""Hostile or careless input (issue 14): kece never overwrites what it reads, never writes a live
formula, and a rule file or template cannot ask for unbounded work; each case a clear message and
exit 1 or 2, never a traceback or exit 70."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from tests.conftest import BANK, REPO

runner = CliRunner()

CUSTOMERS = """id,assets,credit_score,statements
c1,6000000,800,complete
"=HYPERLINK(""http://x"",""y"")",2000000,700,partial
+cmd|' /C calc'!A0,abc,700,partial
@SUM(1),1000000,-5,partial
-2+3,1000000,600,none
"""


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def customers(tmp_path: Path) -> Path:
    path = tmp_path / "in.csv"
    path.write_text(CUSTOMERS, encoding="utf-8")
    return path


# Output over input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ("evaluate", "{input}", "-o", "{input}"),
    ("evaluate", "{input}", "-o", "{tmp}/out.csv", "--rejects", "{input}"),
    ("evaluate", "{input}", "-o", "{tmp}/link.csv"),  # a symlink to the input
    ("report", "{input}", "-o", "{input}"),
    ("plan", "{input}", "--id", "c1", "-o", "{input}"),
    ("derive", "{input}", "-o", "{input}"),
    ("calibrate", "{input}", "-o", "{input}"),
])
def test_an_output_that_is_the_input_is_refused_and_the_input_kept(bank_rules: Path, customers: Path,
                                                                    tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / "link.csv").symlink_to(customers)
    filled = [a.format(input=customers, tmp=tmp_path) for a in args]
    result = run(*filled, "--rules", str(bank_rules), "--lang", "en")
    assert result.exit_code == 2, result.output
    assert "is the input file" in result.output
    assert customers.read_text(encoding="utf-8") == CUSTOMERS


def test_evaluating_a_rejects_file_cannot_overwrite_it(bank_rules: Path, tmp_path: Path) -> None:
    rejects = tmp_path / "r.rejects.csv"
    rejects.write_text(CUSTOMERS, encoding="utf-8")
    result = run("evaluate", str(rejects), "-o", str(tmp_path / "r.csv"), "--rules", str(bank_rules))
    assert result.exit_code == 2
    assert "输出文件就是输入文件" in result.output
    assert rejects.read_text(encoding="utf-8") == CUSTOMERS
    assert not (tmp_path / "r.csv").exists()


@pytest.mark.parametrize("command", [("report",), ("plan", "--id", "c1", "--format", "html")])
def test_an_output_that_is_a_folder_is_a_usage_error(bank_rules: Path, customers: Path, tmp_path: Path,
                                                     command: tuple[str, ...]) -> None:
    (tmp_path / "out").mkdir()
    result = run(command[0], str(customers), *command[1:], "-o", str(tmp_path / "out"), "--rules", str(bank_rules),
                 "--lang", "en")
    assert result.exit_code == 2, result.output
    assert "is a folder" in result.output
    assert "Traceback" not in result.output


def test_a_folder_kece_cannot_write_to_is_exit_2_with_the_reason(bank_rules: Path, customers: Path,
                                                                  tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be", encoding="utf-8")
    result = run("evaluate", str(customers), "-o", str(blocker / "out.csv"), "--rules", str(bank_rules), "--lang", "en")
    assert result.exit_code == 2, result.output
    assert "cannot read or write this file" in result.output


# Formulas ------------------------------------------------------------------------------------------

def test_csv_cells_a_spreadsheet_would_run_are_written_as_text(bank_rules: Path, customers: Path,
                                                                tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    assert run("evaluate", str(customers), "-o", str(out), "--rules", str(bank_rules)).exit_code == 0
    ids = pd.read_csv(out, dtype=str)["id"].tolist()
    assert ids == ["c1", "'=HYPERLINK(\"http://x\",\"y\")", "'@SUM(1)", "'-2+3"]
    rejects = pd.read_csv(tmp_path / "out.rejects.csv", dtype=str)
    assert rejects["id"].tolist() == ["'+cmd|' /C calc'!A0"]


def test_raw_csv_keeps_cells_exactly_for_programs(bank_rules: Path, customers: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    assert run("evaluate", str(customers), "-o", str(out), "--rules", str(bank_rules), "--raw-csv").exit_code == 0
    assert pd.read_csv(out, dtype=str)["id"].tolist()[1:] == ['=HYPERLINK("http://x","y")', "@SUM(1)", "-2+3"]


def test_a_negative_number_stays_a_number_in_csv(bank_rules: Path, tmp_path: Path) -> None:
    path = tmp_path / "neg.csv"
    path.write_text("id,assets,credit_score,statements\n-5,abc,1,complete\n", encoding="utf-8")
    assert run("evaluate", str(path), "-o", str(tmp_path / "o.csv"), "--rules", str(bank_rules),
               "--max-rejected", "1").exit_code == 0
    assert pd.read_csv(tmp_path / "o.rejects.csv", dtype=str)["id"].tolist() == ["-5"]


def test_xlsx_outputs_hold_text_never_a_formula_and_survive_a_nul_byte(bank_rules: Path, customers: Path,
                                                                        tmp_path: Path) -> None:
    customers.write_text(CUSTOMERS + "nul\x00id,1000000,600,none\n", encoding="utf-8")
    out = tmp_path / "out.xlsx"
    result = run("evaluate", str(customers), "-o", str(out), "--rules", str(bank_rules))
    assert result.exit_code == 0, result.output
    for path in (out, tmp_path / "out.rejects.xlsx"):
        sheet = openpyxl.load_workbook(path).active
        cells = [cell for row in sheet.iter_rows() for cell in row]
        assert all(cell.data_type != "f" for cell in cells)
    ids = [row[0] for row in openpyxl.load_workbook(out).active.iter_rows(values_only=True)]
    assert ids[1:] == ["c1", '=HYPERLINK("http://x","y")', "@SUM(1)", "-2+3", "nul\ufffdid"]


# Rule files ----------------------------------------------------------------------------------------

ALIAS_BOMB = """
id: bomb
title: {zh: 炸弹, en: Bomb}
hit_policy: first
inputs:
  x: {type: number}
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
rules:
  - id: A
    when: {x: *g}
"""


@pytest.mark.parametrize(("text", "env", "expected"), [
    (ALIAS_BOMB, {}, "bomb.yaml:11:4 expands to more than 200,000 values"),
    ("id: loop\nrules: &r [*r]\n", {}, "refers to the list or mapping it is inside of"),
    ("id: deep\nx: " + "[" * 600 + "]" * 600 + "\n", {}, "nested more than 50 levels deep"),
    (BANK, {"KECE_MAX_RULES": "2"}, "bomb.yaml:9:3 rules: 3 rules, more than the 2 a file may have (KECE_MAX_RULES)"),
    (BANK, {"KECE_MAX_RULE_FILE_BYTES": "100"}, "more than the 100 a rule file may have"),
])
def test_rule_files_beyond_the_limits_are_located_problems(rules_dir, monkeypatch: pytest.MonkeyPatch, text: str,
                                                            env: dict[str, str], expected: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    folder = rules_dir({"bomb.yaml": text})
    result = run("check", "--rules", str(folder), "--lang", "en")
    assert result.exit_code == 1, result.output
    assert expected in result.output
    assert "Traceback" not in result.output


def test_a_limit_set_to_nonsense_is_a_usage_error(bank_rules: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KECE_MAX_RULES", "many")
    result = run("check", "--rules", str(bank_rules), "--lang", "en")
    assert result.exit_code == 2
    assert "KECE_MAX_RULES must be a positive whole number, not 'many'" in result.output


def test_a_workbook_that_expands_beyond_the_limit_is_not_unzipped(bank_rules: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A zip bomb named .xlsx: its parts' declared sizes are added up before anything is read."""
    import zipfile

    bomb = tmp_path / "customers.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" * 3_000_000)
    assert bomb.stat().st_size < 20_000
    monkeypatch.setenv("KECE_MAX_WORKBOOK_BYTES", "2000000")
    result = run("evaluate", str(bomb), "--rules", str(bank_rules), "--lang", "en")
    assert result.exit_code == 2
    assert "the workbook expands to 3 MB, more than the 2 MB KECE_MAX_WORKBOOK_BYTES allows" in result.output
    legacy = REPO / "tests" / "data" / "legacy_export.xls"  # not a zip: its own size counts
    monkeypatch.setenv("KECE_MAX_WORKBOOK_BYTES", "1000")
    result = run("evaluate", str(legacy), "--rules", str(bank_rules), "--lang", "en", "--header-row", "2")
    assert result.exit_code == 2 and "KECE_MAX_WORKBOOK_BYTES allows" in result.output


def test_a_rule_file_linked_from_outside_the_folder_is_not_read(rules_dir, tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    folder = rules_dir({"bank_tier.yaml": BANK})
    (folder / "passwd.yaml").symlink_to(secret)
    result = run("check", "--rules", str(folder), "--lang", "en")
    assert result.exit_code == 1
    assert "passwd.yaml is a link to a file outside the rules folder" in result.output
    assert "root:x" not in result.output


def test_check_analyses_a_scheme_of_many_rules_on_a_bounded_sample(rules_dir, monkeypatch) -> None:
    # 300 thresholds on each of two inputs: 90,000 cells times 600 tests, over the work budget.
    rules = "\n".join(f"  - id: R{i}\n    label: {{zh: R{i}, en: R{i}}}\n    when: {{x: \">= {i}\", y: \"< {i}\"}}"
                      for i in range(300))
    folder = rules_dir({"many.yaml": "id: many\ntitle: {zh: 多, en: Many}\nhit_policy: first\ninputs:\n"
                                     "  x: {type: number}\n  y: {type: number}\nrules:\n" + rules + "\n"})
    result = run("check", "--rules", str(folder), "--lang", "en")
    assert "analysed on a seeded sample" in result.output, result.output
    assert "Traceback" not in result.output


# Playbook templates --------------------------------------------------------------------------------

CUSTOMER = '{"id": "T1", "assets": 6000000, "credit_score": 800, "statements": "complete"}'


@pytest.fixture
def playbooks(tmp_path: Path) -> Path:
    folder = tmp_path / "playbooks"
    shutil.copytree(REPO / "playbooks", folder)
    return folder


@pytest.mark.parametrize(("line", "env", "expected"), [
    ("{% for i in range(10**9) %}x{% endfor %}", {}, "range(1000000000) makes more than the 10,000 items"),
    ("{{ 'a' * 10**10 }}", {}, "* 10000000000 makes more than the 10,000 items"),
    ("{% for i in range(5000) %}{% for j in range(5000) %}{% endfor %}{% endfor %}", {},
     "range(5000) makes more than the 10,000 items"),
    ("{{ 2 ** 100000 }}", {}, "the power 2 ** 100000 is too large"),
    ("{% for i in range(100) %}{{ 'x' * 90 }}{% endfor %}", {"KECE_MAX_TEMPLATE_OUTPUT": "5000"},
     "the template writes more than 5,000 characters"),
])
def test_templates_asking_for_unbounded_work_fail_at_their_line(playbooks: Path, bank_rules: Path, line: str,
                                                                 env: dict[str, str], expected: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    (playbooks / "plan.md.j2").write_text("# plan\n\n" + line + "\n", encoding="utf-8")
    result = run("plan", "--customer", CUSTOMER, "--as-of", "2026-03-02", "--rules", str(bank_rules),
                 "--playbooks", str(playbooks), "--lang", "en")
    assert result.exit_code == 1, result.output
    assert f"plan.md.j2:3: {expected}" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("line", ["{% for i in range(10**9) %}x{% endfor %}", "{{ 'a' * 10**10 }}",
                                  "{{ 2 ** 100000 }}", "{% for i in range(0, 10**30, 1) %}{% endfor %}"])
def test_check_finds_templates_asking_for_unbounded_work(playbooks: Path, bank_rules: Path, line: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(playbooks.parent)  # check reads ./playbooks
    (playbooks / "plan.md.j2").write_text((playbooks / "plan.md.j2").read_text(encoding="utf-8") + line + "\n",
                                          encoding="utf-8")
    result = run("check", "--rules", str(bank_rules), "--lang", "en")
    assert result.exit_code == 1, result.output
    assert "plan.md.j2:" in result.output and "items a template may make for one plan" in result.output


@pytest.mark.parametrize("path", ["messages/zh.yaml", "plan.md.j2"])
def test_a_playbook_file_that_is_not_utf8_is_located(playbooks: Path, bank_rules: Path, path: str) -> None:
    target = playbooks / path
    target.write_bytes(target.read_bytes() + b"\n\xff\xfe\n")
    result = run("plan", "--customer", CUSTOMER, "--rules", str(bank_rules), "--playbooks", str(playbooks),
                 "--lang", "zh")
    assert result.exit_code == 1, result.output
    assert f"{path}" in result.output and "UTF-8" in result.output


def test_a_message_catalog_alias_bomb_is_refused(playbooks: Path, bank_rules: Path) -> None:
    target = playbooks / "messages" / "en.yaml"
    target.write_text(target.read_text(encoding="utf-8") + ALIAS_BOMB.split("rules:")[0].split("hit_policy")[1]
                      .split("\n", 1)[1].replace("inputs:\n  x: {type: number}\n", ""), encoding="utf-8")
    result = run("plan", "--customer", CUSTOMER, "--rules", str(bank_rules), "--playbooks", str(playbooks),
                 "--lang", "en")
    assert result.exit_code == 1, result.output
    assert "en.yaml" in result.output and "expands to more than 200,000 values" in result.output


def test_a_partial_linked_from_outside_the_playbooks_is_not_included(playbooks: Path, bank_rules: Path,
                                                                      tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.md.j2"
    outside.write_text("SECRET\n", encoding="utf-8")
    (playbooks / "partials" / "actions.md.j2").unlink()
    (playbooks / "partials" / "actions.md.j2").symlink_to(outside)
    result = run("plan", "--customer", CUSTOMER, "--rules", str(bank_rules), "--playbooks", str(playbooks),
                 "--lang", "en")
    assert result.exit_code == 1, result.output
    assert "a link to a file outside the playbooks folder" in result.output
    assert "SECRET" not in result.output


# Exit 70 where the user made the mistake -----------------------------------------------------------

def test_a_rule_label_with_dollar_signs_is_text_in_the_report(rules_dir, customers: Path, tmp_path: Path) -> None:
    label = "{zh: '$A$ 类 $x_1^2', en: '$A$'}"
    folder = rules_dir({"bank_tier.yaml": BANK.replace("{zh: A类客户, en: Grade A}", label)})
    out = tmp_path / "report.html"
    result = run("report", str(customers), "-o", str(out), "--rules", str(folder))
    assert result.exit_code == 0, result.output
    assert "$A$ 类 $x_1^2" in out.read_text(encoding="utf-8")


def test_a_customer_json_nested_too_deeply_is_a_usage_error(bank_rules: Path) -> None:
    result = run("evaluate", "--customer", '{"assets": ' + "[" * 100_000 + "]" * 100_000 + "}",
                 "--rules", str(bank_rules), "--lang", "en")
    assert result.exit_code == 2, result.output
    assert "--customer nests too deeply" in result.output


def test_init_into_a_dangling_symlink_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "ws").symlink_to(tmp_path / "nowhere")
    result = run("init", str(tmp_path / "ws"), "--lang", "en")
    assert result.exit_code == 2, result.output
    assert "ws" in result.output and "Traceback" not in result.output


# Customer text in plans ----------------------------------------------------------------------------

CITY = """
id: city
title: {zh: 城市, en: City}
hit_policy: first
inputs:
  city: {type: string, title: {zh: 城市, en: City}}
rules:
  - id: known
    label: {zh: 已知城市, en: Known city}
    when: {city: present}
examples:
  - given: {city: 上海}
    expect: known
"""
SCRIPT, IMG, LINK = "<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "[x](javascript:alert(3))"
HOSTILE = pd.DataFrame({"id": [f"c1{IMG}", "c2"], "name": [f"{SCRIPT}{LINK}", "\\[y](javascript:alert(4))"],
                        "assets": [6000000, 2000000], "credit_score": [800, 700], "statements": ["complete"] * 2,
                        "city": [f"{IMG}{LINK}", "&lt;b&gt;"]})


def _markdown_as_html(text: str) -> str:
    """What a CommonMark viewer (raw HTML allowed, GitHub-style tables) makes of a Markdown file."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").render(text)


@pytest.fixture
def hostile(rules_dir, tmp_path: Path) -> tuple[Path, Path]:
    path = tmp_path / "hostile.csv"
    HOSTILE.to_csv(path, index=False)
    return rules_dir({"bank_tier.yaml": BANK, "city.yaml": CITY}), path


def test_markdown_plans_and_index_show_customer_html_and_links_as_text(hostile, tmp_path: Path) -> None:
    rules, path = hostile
    result = run("plan", str(path), "--all", "-o", str(tmp_path / "plans"), "--rules", str(rules))
    assert result.exit_code == 0, result.output
    pages = {p.name: _markdown_as_html(p.read_text(encoding="utf-8")) for p in (tmp_path / "plans").glob("*.md")}
    assert len(pages) == 3, pages.keys()
    for name, html in pages.items():
        assert "<script" not in html and "<img" not in html and "<b>" not in html, (name, html)
        links = re.findall(r"<a\b[^>]*>", html)
        assert all(re.fullmatch(r'<a href="[^":/]+\.md">', link) for link in links), (name, links)
    first = next(html for name, html in pages.items() if name.startswith("c1"))
    # The viewer shows the customer's text exactly as it is in the file.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;[x](javascript:alert(3))" in first
    assert "c1&lt;img src=x onerror=alert(2)&gt;" in first
    assert "\\[y](javascript:alert(4))" in pages["index.md"] and "&amp;lt;b&amp;gt;" in pages["c2.md"]


def test_html_plans_escape_customer_html(hostile, tmp_path: Path) -> None:
    rules, path = hostile
    result = run("plan", str(path), "--all", "-o", str(tmp_path / "plans"), "--format", "html", "--rules", str(rules))
    assert result.exit_code == 0, result.output
    for page in (tmp_path / "plans").glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script>" not in text and "<img" not in text, page.name
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (tmp_path / "plans" / "index.html").read_text(encoding="utf-8")


def test_word_plans_show_customer_text_as_written(hostile, tmp_path: Path) -> None:
    import docx

    rules, path = hostile
    out = tmp_path / "c2.docx"
    result = run("plan", str(path), "--id", "c2", "-o", str(out), "--format", "docx", "--rules", str(rules))
    assert result.exit_code == 0, result.output
    document = docx.Document(str(out))
    texts = [p.text for p in document.paragraphs] + [c.text for t in document.tables for r in t.rows
                                                      for c in r.cells]
    assert any("\\[y](javascript:alert(4))" in text for text in texts), texts
    assert "&lt;b&gt;" in texts


CONTROLS = "\x1b]0;owned\x07\x1b[2J\x9b31m\x00\x08\x7f"


@pytest.mark.parametrize("fmt", ["md", "docx"])
def test_control_characters_from_customer_data_never_reach_a_plan(bank_rules: Path, tmp_path: Path,
                                                                    fmt: str) -> None:
    customer = {"id": f"W{CONTROLS}1", "name": f"王{CONTROLS}五", "assets": 6000000, "credit_score": 800,
                "statements": "complete"}
    out = ["-o", str(tmp_path / "w.docx")] if fmt == "docx" else []
    result = run("plan", "--customer", json.dumps(customer), "--format", fmt, *out, "--rules", str(bank_rules))
    assert result.exit_code == 0, result.output
    if fmt == "md":  # printed on the terminal
        assert "王\\]0;owned\\[2J31m五" in result.stdout
        assert not any(ord(ch) < 0x20 and ch not in "\n\t" or 0x7F <= ord(ch) < 0xA0 for ch in result.stdout)
    else:  # Word's XML cannot hold them: the plan is written, not a crash
        import docx

        assert "王]0;owned[2J31m五" in "\n".join(p.text for p in docx.Document(str(tmp_path / "w.docx")).paragraphs)


# Temporaries an interrupted run left -----------------------------------------------------------------

HOUR_AGO = -2 * 3600


def _leftovers(folder: Path) -> dict[str, Path]:
    """A folder as a killed run and its user left it: kece's temporaries (stale and fresh) beside
    files of the user's that merely look alike."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for key, name in {"stale": ".results.csv.kece-x1y2z3_4.tmp", "stale_plan": ".c1.md.kece-4242.tmp",
                      "fresh": ".results.csv.kece-a1b2c3d4.tmp", "user_tmp": ".notes.tmp",
                      "user_lookalike": ".results.csv.abc12345.tmp", "user_file": "kece-1.tmp"}.items():
        made[key] = folder / name
        made[key].write_text("x", encoding="utf-8")
    made["folder"] = folder / ".old.kece-1.tmp"
    made["folder"].mkdir()
    for key in ("stale", "stale_plan", "user_tmp", "user_lookalike", "user_file", "folder"):
        os.utime(made[key], (time.time() + HOUR_AGO, time.time() + HOUR_AGO))
    return made


@pytest.mark.parametrize("command", [
    ("evaluate", "{input}", "-o", "{out}/results.csv"),
    ("evaluate", "{input}", "-o", "{out}/results.parquet"),
    ("plan", "{input}", "--all", "-o", "{out}"),
    ("plan", "{input}", "--id", "c1", "--format", "html", "-o", "{out}/c1.html"),
    ("report", "{input}", "-o", "{out}/report.html"),
])
def test_a_later_run_removes_only_stale_temporaries_of_kece(bank_rules: Path, customers: Path, tmp_path: Path,
                                                             command: tuple[str, ...]) -> None:
    made = _leftovers(tmp_path / "out")
    result = run(*[a.format(input=customers, out=tmp_path / "out") for a in command], "--rules", str(bank_rules))
    assert result.exit_code == 0, result.output
    assert not made.pop("stale").exists() and not made.pop("stale_plan").exists()
    assert all(path.exists() for path in made.values()), [k for k, p in made.items() if not p.exists()]


def _temporary_names(monkeypatch: pytest.MonkeyPatch, write) -> list[str]:
    seen: list[str] = []
    real = os.replace

    def replace(src, dst, **kwargs):
        seen.append(os.path.basename(src))
        return real(src, dst, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    write()
    monkeypatch.setattr(os, "replace", real)
    return seen


def test_every_writer_names_its_temporaries_so_a_later_run_can_remove_them(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    from engine.io.tables import ChunkWriter, atomic_write
    from engine.io.temporary import remove_stale_temporaries
    from engine.plans.files import write_file
    from engine.plans.tasks import TaskFiles

    table = pd.DataFrame({"a": [1]})

    def chunked() -> None:
        writer = ChunkWriter(tmp_path / "r.csv")
        writer.write(table)
        writer.close(table)

    def tasks() -> None:
        with TaskFiles(tmp_path, "zh", dt.date(2026, 3, 2), 90):
            pass

    names = []
    for write in (lambda: atomic_write(tmp_path / "a.txt", lambda tmp: tmp.write_text("a")), chunked, tasks,
                  lambda: write_file(tmp_path / "p.md", "plan")):
        names += _temporary_names(monkeypatch, write)
    assert len(names) == 5, names
    for name in names:  # as a killed writer would have left it
        (tmp_path / name).write_text("half", encoding="utf-8")
        os.utime(tmp_path / name, (time.time() + HOUR_AGO, time.time() + HOUR_AGO))
    assert remove_stale_temporaries(tmp_path) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "p.md", "r.csv", "tasks.csv", "tasks.ics"]
