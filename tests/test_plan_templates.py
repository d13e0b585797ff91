"""Playbook templates as a business user edits them: sandbox escapes, template errors with
template:line, `kece check` on templates, and file names made safe from customer ids."""

from __future__ import annotations

import hashlib
import shutil
import unicodedata
from pathlib import Path

import pytest
from markupsafe import escape
from typer.testing import CliRunner

from cli import app
from engine.plans.files import MAX_STEM_BYTES, FileNames, safe_stem
from engine.plans.playbook import Catalog, PlaybookError, cell, environment, load_catalog, render
from engine.plans.playbook_check import check_playbooks
from engine.rules.loader import load_rulebook
from tests.conftest import REPO

PLAYBOOKS = REPO / "playbooks"
CUSTOMER = '{"id": "T1", "assets": 6000000, "credit_record": "excellent", "statements": "complete", ' \
           '"risk_assessment": "complete"}'


@pytest.fixture
def bank_rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    shutil.copy(REPO / "rules" / "bank_tier.yaml", folder)
    shutil.copy(REPO / "rules" / "actions.yaml", folder)  # the actions bank_tier uses
    return folder


@pytest.fixture
def playbooks(tmp_path: Path) -> Path:
    folder = tmp_path / "playbooks"
    shutil.copytree(PLAYBOOKS, folder)
    return folder


def plan(playbooks: Path, rules: Path, *extra: str):
    return CliRunner().invoke(app, ["plan", "--customer", CUSTOMER, "--as-of", "2026-03-02", "--rules", str(rules),
                                    "--playbooks", str(playbooks), "--lang", "en", *extra])


@pytest.mark.parametrize(("template", "expected"), [
    ("# x\n{{ ''.__class__.__mro__ }}\n", "plan.md.j2:2: the template uses something playbooks may not use"),
    ("{{ plan.customer.__class__ }}\n", "plan.md.j2:1: the template uses something playbooks may not use"),
    ("{{ msg.title.format.__globals__ }}\n", "plan.md.j2:1: the template uses something playbooks may not use"),
    ("ok\n\n{{ plan.nothing_here }}\n", "plan.md.j2:3: the template uses an unknown variable"),
    ("{% for a in plan.actions %}\n", "plan.md.j2:1: template syntax error: Unexpected end of template"),
])
def test_template_errors_are_ours_with_template_and_line(playbooks: Path, bank_rules: Path, template: str,
                                                          expected: str) -> None:
    (playbooks / "plan.md.j2").write_text(template, encoding="utf-8")
    result = plan(playbooks, bank_rules)
    assert result.exit_code == 1
    assert expected in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("partial", "expected"), [
    ("actions.md.j2", "actions.md.j2:2: the template uses something playbooks may not use"),
    ("section.md.j2", "section.md.j2:2: the template uses an unknown variable"),
])
def test_errors_in_an_included_partial_name_the_partial_and_its_line(playbooks: Path, bank_rules: Path,
                                                                      partial: str, expected: str) -> None:
    # Includes are compiled to one joined string (engine.plans.playbook.FlatIncludes); the error still
    # points into the partial, and `loop` (read without the sandbox's per-access check) is no way out.
    body = ("{% for a in plan.actions %}\n{{ loop.__class__.__mro__ }}\n{% endfor %}\n" if partial == "actions.md.j2"
            else "x\n{{ s.no_such_thing }}\n")
    (playbooks / "partials" / partial).write_text(body, encoding="utf-8")
    result = plan(playbooks, bank_rules)
    assert result.exit_code == 1
    assert expected in result.output
    assert "Traceback" not in result.output


def test_a_business_user_can_reorder_and_reword_without_python(playbooks: Path, bank_rules: Path) -> None:
    (playbooks / "plan.md.j2").write_text(
        "{% for a in plan.actions %}{{ a.due | date }} {{ a.text }}\n{% endfor %}"
        "{{ plan.customer.values.assets }} / {{ plan.schemes.bank_tier.label }}\n", encoding="utf-8")
    result = plan(playbooks, bank_rules)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "1 Apr 2026 Assign a dedicated relationship manager who visits monthly " \
                                            "to learn the customer's cash plans and financing needs, with " \
                                            "wealth-management plans and preferential pricing"
    assert result.stdout.splitlines()[-1] == "CNY 6,000,000 / Grade A"


def test_per_scheme_override_replaces_the_generic_partial(playbooks: Path, bank_rules: Path) -> None:
    (playbooks / "schemes" / "bank_tier.md.j2").write_text("### {{ s.title }} => {{ s.label }}\n", encoding="utf-8")
    result = plan(playbooks, bank_rules)
    assert "### Bank customer grade => Grade A" in result.stdout


def test_check_reports_template_problems(playbooks: Path, bank_rules: Path) -> None:
    (playbooks / "partials" / "section.md.j2").write_text(
        "{{ msg.titel }}\n{{ plan.customer.values.asets }}\n{{ plan.schemes.bank_teir }}\n{{ sneaky }}\n",
        encoding="utf-8")
    (playbooks / "schemes" / "no_such_scheme.md.j2").write_text("x\n", encoding="utf-8")
    (playbooks / "index.md.j2").write_text("{% if %}\n", encoding="utf-8")
    problems = [p.render("en") for p in check_playbooks(playbooks, load_rulebook(bank_rules))]
    section = playbooks / "partials" / "section.md.j2"
    assert f"{section}:4 sneaky: no plan provides this variable (docs/playbooks.md lists them)" in problems
    assert f"{section}:1 msg.titel: no such message in playbooks/messages/zh.yaml and en.yaml" in problems
    assert f"{section}:2 values.asets: no scheme has this input" in problems
    assert f"{section}:3 schemes.bank_teir: the rules define no such scheme" in problems
    assert f"{playbooks / 'schemes' / 'no_such_scheme.md.j2'} overrides scheme 'no_such_scheme', which the rules " \
           "do not define" in problems
    assert any(p.startswith(f"{playbooks / 'index.md.j2'}:1 template syntax error") for p in problems)
    assert len(problems) == 6


def test_check_reports_an_owner_role_the_catalogs_cannot_name(playbooks: Path, bank_rules: Path) -> None:
    path = bank_rules / "bank_tier.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("    owner: branch_manager", "    owner: branch_manger"),
                    encoding="utf-8")
    problems = [p.render("en") for p in check_playbooks(playbooks, load_rulebook(bank_rules))]
    assert [p.split(" ", 1)[1] for p in problems] == [
        f"rules[0].owner: the role 'branch_manger' has no label under owners: in {lang}.yaml (did you mean "
        "'branch_manager'?)" for lang in ("zh", "en")]
    assert all(p.startswith(f"{path}:") for p in problems)


def test_bundled_playbooks_pass_the_check(bank_rules: Path) -> None:
    assert check_playbooks(PLAYBOOKS, load_rulebook(bank_rules)) == []


def test_kece_check_fails_on_a_broken_local_playbook(playbooks: Path, bank_rules: Path, monkeypatch) -> None:
    (playbooks / "plan.md.j2").write_text("{{ plan.customer.name }\n", encoding="utf-8")
    monkeypatch.chdir(playbooks.parent)
    result = CliRunner().invoke(app, ["check", "--rules", str(bank_rules), "--lang", "en"])
    assert result.exit_code == 1
    assert "1 problem(s) in the playbook templates" in result.output
    assert "plan.md.j2:1 template syntax error" in result.output


@pytest.mark.parametrize(("customer_id", "stem"), [
    ("C0001", "C0001"),
    ("../../etc/passwd", "_.._etc_passwd-"),
    ("a/b\\c:d*e?f\"g<h>i|j", "a_b_c_d_e_f_g_h_i_j-"),
    ("CON", "_CON-"),
    ("lpt1.txt", "_lpt1.txt-"),
    (".hidden", "hidden-"),
    ("客户 001", "客户 001"),
    # Invisible format characters (issue 14): bidi overrides, isolates and marks, zero-width ones, BOM.
    ("C1\u202egpj.exe", "C1gpj.exe-"),
    ("\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069C2", "C2-"),
    ("C\u200b\u200c\u200d\u200e\u200f\u2060\ufeff3", "C3-"),
    (".\u200b.hidden", "hidden-"),
    ("C4\x85\u2028x", "C4__x-"),
])
def test_safe_file_names(customer_id: str, stem: str) -> None:
    name = FileNames().take(customer_id, 2)
    assert name.startswith(stem) if stem.endswith("-") else name == stem
    assert "/" not in name and "\\" not in name and not name.startswith(".")
    assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name), ascii(name)


def test_an_id_with_invisible_characters_does_not_take_the_plain_id_s_file() -> None:
    ids = ["C001", "C\u200b001", "C001\u202e"]
    names = FileNames()
    taken = [names.take(i, row) for row, i in enumerate(ids, start=2)]
    tags = [hashlib.sha1(i.encode()).hexdigest()[:8] for i in ids]
    assert taken == ["C001", f"C001-{tags[1]}", f"C001-{tags[2]}"]
    assert FileNames().take(ids[2], 9) == taken[2]  # stable whatever comes first


def test_long_ids_are_bounded_and_collisions_get_stable_suffixes() -> None:
    long_id = "客" * 200
    stem, changed = safe_stem(long_id)
    assert changed and len(stem.encode("utf-8")) <= MAX_STEM_BYTES
    names = FileNames()
    taken = [names.take(i, row) for row, i in enumerate(["a_b", "a/b", "A_B", "a_b", "index"], start=2)]
    assert len({t.casefold() for t in taken}) == 5
    tag = lambda text: hashlib.sha1(text.encode()).hexdigest()[:8]  # noqa: E731
    # A clean id keeps its name; a changed id, a case-insensitive clash, a repeated id and the
    # index's own name get a suffix from the id.
    assert taken == ["a_b", f"a_b-{tag('a/b')}", f"A_B-{tag('A_B')}", f"a_b-{tag('a_b')}", f"index-{tag('index')}"]
    # Stable: the same ids in another order get the same names.
    again = FileNames()
    assert again.take("a/b", 3) == taken[1]


# Flat templates are compiled with the message texts in place (engine.plans.flat_templates._FoldMessages): each
# catalog gets its own texts, and a template that gives `msg` another value reads that value.
FOLDED_CATALOGS = [({"title": "Plan & <co>", "channels": {"visit": "Visit"}}, "Plan & <co>", "Visit"),
                   ({"title": "方案", "channels": {"visit": "上门拜访"}}, "方案", "上门拜访")]


@pytest.mark.parametrize(("template", "expected"), [
    ("{{ msg.title }}|{{ msg['title'] }}|{{ msg.channels.visit }}|{{ msg.missing | default('-') }}",
     "{title}|{title}|{visit}|-"),
    ("{{ value }}% of %s {{ msg.title | fill(x=value) }}", "50% of %s {title}"),
    ("{% set msg = {'title': 'set'} %}{{ msg.title }}", "set"),
    ("{% for msg in [{'title': 'loop'}] %}{{ msg.title }}{% endfor %} {{ msg.title }}", "loop {title}"),
    ("{% macro m(msg) %}{{ msg.title }}{% endmacro %}{{ m({'title': 'arg'}) }} {{ msg.title }}", "arg {title}"),
    ("{% with msg = {'title': 'with'} %}{{ msg.title }}{% endwith %} {{ msg.title }}", "with {title}"),
])
def test_message_texts_compiled_in_follow_the_catalog_and_shadowing(tmp_path: Path, template: str,
                                                                     expected: str) -> None:
    for fmt in ("md", "html"):
        (tmp_path / f"plan.{fmt}.j2").write_text(template, encoding="utf-8")
    # Two catalogs, in turn and again: each render shows its own catalog's words.
    for messages, title, visit in FOLDED_CATALOGS + FOLDED_CATALOGS:
        catalog = Catalog("en", messages, tmp_path / "messages" / "en.yaml")
        text = expected.format(title=title, visit=visit)
        assert render(tmp_path, "plan.md.j2", "md", "en", msg=catalog.namespace, value=50) == text
        assert render(tmp_path, "plan.html.j2", "html", "en", msg=catalog.namespace, value=50) == str(escape(text))


def test_message_texts_are_compiled_in(tmp_path: Path) -> None:
    (tmp_path / "plan.md.j2").write_text("{{ msg.title }} {{ msg.channels.visit }}", encoding="utf-8")
    catalog = Catalog("en", FOLDED_CATALOGS[0][0], tmp_path / "messages" / "en.yaml")
    flat = environment(tmp_path, "md", "en").flat_template("plan.md.j2", catalog.namespace)
    assert "l_0_msg" not in flat.root_render_func.__code__.co_varnames  # msg is not even looked up
    assert flat.render() == "Plan & <co> Visit"


def test_a_table_cell_keeps_one_line_and_no_column_break() -> None:
    # cell() remembers recent texts: equal-but-different values (1, 1.0, True) and unhashable ones
    # must still show as themselves.
    assert cell("a |  b\n c") == "a \\| b c"
    assert [cell(1), cell(True), cell(1.0), cell("1")] == ["1", "True", "1.0", "1"]
    assert cell(["x|y"]) == "\\['x\\|y'\\]" and cell({"k": "v"}) == "{'k': 'v'}"
    # Text, never markup or terminal commands: HTML as entities, brackets and backslashes escaped.
    assert cell("a\\b <i>[x](y) &lt; &\x1b[2J\x9b") == "a\\\\b &lt;i&gt;\\[x\\](y) &amp;lt; &\\[2J"


def test_an_index_of_many_plans_may_be_longer_than_one_plan(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The output limit stops runaway template code; an index grows with the file, so each entry adds
    # to its allowance (found when a 100,000-plan index passed the one-plan limit).
    import datetime as dt

    from engine.plans.files import IndexEntry

    monkeypatch.setenv("KECE_MAX_TEMPLATE_OUTPUT", "100000")
    entries = [IndexEntry(f"C{i:05d}", "王芳", f"C{i:05d}.md", ("A类客户", "高端客户")) for i in range(3_000)]
    catalog = load_catalog(PLAYBOOKS, "zh")
    text = render(PLAYBOOKS, "index.md.j2", "md", "zh", per_item=2_000, msg=catalog.namespace, entries=entries,
                  as_of=dt.date(2026, 3, 2))
    assert len(text) > 100_000 and "C02999" in text
    with pytest.raises(PlaybookError, match="more than 100,000 characters"):
        render(PLAYBOOKS, "index.md.j2", "md", "zh", msg=catalog.namespace, entries=entries, as_of=dt.date(2026, 3, 2))
