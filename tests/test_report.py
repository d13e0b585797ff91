"""kece report: a self-contained HTML page with charts, numbers, a cross-tab and rejects by reason."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from engine.rules.loader import load_rulebook
from tests.conftest import REPO

SAMPLES = REPO / "data" / "samples" / "customers.csv"
RULES = REPO / "rules"
CHARTS = len(load_rulebook(RULES).schemes) + 1  # a bar chart per bundled scheme and the cross-tab heatmap


def report(tmp_path: Path, *extra: str) -> tuple[str, str]:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", str(SAMPLES), "--rules", str(RULES), "-o", str(out), *extra])
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8"), result.output


def test_report_has_every_part_and_the_numbers(tmp_path):
    html, output = report(tmp_path, "--cross", "bank_tier,bank_quadrant")
    assert "200 行输入:197 行已评估,3 行拒收" in output
    for section in ("scheme-bank_tier", "scheme-dealer_class", "scheme-parent_attitude", "cross", "rejects"):
        assert f'id="{section}"' in html
    assert html.count("<svg") == CHARTS
    # bank_tier applies to the 44 bank customers (and those without a domain), not all 197: shares are of those.
    assert "<td>A</td><td>A类客户</td><td>支行行长</td><td class=\"n\">5</td><td class=\"n\">11.4%</td>" in html
    assert "适用 44 / 共 197 位客户" in html
    assert "<tr><td>不是数字</td><td class=\"n\">1</td></tr>" in html
    assert "交叉分析:bank_tier × bank_quadrant" in html
    assert "没有客户命中的规则: 无" in html


def section(html: str, name: str) -> str:
    start = html.index(f'id="{name}"')
    return html[start:html.index("</section>", start)]


def test_out_of_scope_customers_are_a_caption_not_a_bar(tmp_path):
    # Issue 14: a 不适用 bar of 154 beside A = 5 set the chart's scale; bars are shares of the 44
    # customers bank_tier applies to, and the 154 others are said under the chart.
    html, _ = report(tmp_path, "--scheme", "bank_tier")
    part = section(html, "scheme-bank_tier")
    chart = part[part.index("<svg"):part.index("</svg>")]
    assert "不适用" not in chart and "11.4% (5)" in chart and "占适用客户的比例" in chart
    assert "另有 154 位客户不在本方案的适用范围内(不适用),不计入图表和占比" in part


def test_report_opens_with_a_summary_for_a_manager(tmp_path):
    html, _ = report(tmp_path, "--lang", "en", "--scheme", "bank_tier", "--scheme", "dealer_class")
    assert html.index('id="overview"') < html.index('id="scheme-bank_tier"')
    part = section(html, "overview")
    assert "200 rows in: 197 evaluated, 3 rejected" in part
    # 13 of the 44 bank customers are grade C, the largest segment; 153 of 197 are not bank customers.
    assert ('<tr><td><a href="#scheme-bank_tier">Bank customer grade</a></td><td>C · Grade C</td>'
            '<td class="n">29.5%</td><td class="n">0</td><td class="n">0</td><td class="n">153</td></tr>') in part
    assert '<a href="#scheme-dealer_class">Dealer class</a>' in part


def test_rejects_are_grouped_by_column_too(tmp_path):
    html, _ = report(tmp_path, "--lang", "en")
    part = section(html, "rejects")
    assert "Rejected rows by column" in part
    assert "<tr><td>assets</td><td class=\"n\">1</td><td>not a number</td></tr>" in part


def test_report_names_each_segments_owner(tmp_path):
    # 003: 每一细分类别由一位高级经理负责盈亏平衡 — the table says who owns each rule's customers, in the
    # reader's language; a rule without its own owner has the scheme's.
    html, _ = report(tmp_path, "--lang", "en", "--scheme", "bank_tier", "--scheme", "loyalty_score")
    assert "<th>Segment owner</th>" in html
    assert "<td>A</td><td>Grade A</td><td>Branch manager</td>" in html
    assert "<td>B</td><td>Grade B</td><td>Relationship manager</td>" in html
    assert "<td>high</td><td>High loyalty potential</td><td>Marketing</td>" in html  # a score scheme: its bands


def test_a_scheme_without_owners_has_no_owner_column(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    text = (rules / "bank_tier.yaml").read_text(encoding="utf-8")
    (rules / "bank_tier.yaml").write_text(re.sub(r"^(    )?owner: .*$", "", text, flags=re.MULTILINE),
                                          encoding="utf-8")
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", str(SAMPLES), "--rules", str(rules), "-o", str(out),
                                      "--scheme", "bank_tier"])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "<td>A</td><td>A类客户</td><td class=\"n\">" in html and "<th>负责人</th>" not in html


def test_report_is_self_contained_and_escapes(tmp_path):
    html, _ = report(tmp_path, "--lang", "en")
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing fetched from a network
    assert "<script" not in html
    assert "Customer segmentation report" in html and "客户分群报告" not in html


def test_cross_must_name_two_evaluated_schemes(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["report", str(SAMPLES), "--rules", str(RULES), "--cross", "bank_tier",
                                 "-o", str(tmp_path / "r.html"), "--lang", "en"])
    assert result.exit_code == 2 and "--cross takes two scheme ids" in result.output
    result = runner.invoke(app, ["report", str(SAMPLES), "--rules", str(RULES), "--cross", "bank_tier,nope",
                                 "-o", str(tmp_path / "r.html"), "--lang", "en"])
    assert result.exit_code == 2 and "--cross names nope" in result.output


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
def test_report_loads_in_a_real_headless_browser(tmp_path):
    report(tmp_path, "--cross", "bank_tier,bank_quadrant")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    done = subprocess.run([CHROMIUM, *flags, "--dump-dom", (tmp_path / "report.html").as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert len(re.findall(r"<svg", done.stdout)) == CHARTS and 'id="rejects"' in done.stdout
    assert "CONSOLE" not in done.stderr and "Uncaught" not in done.stderr
