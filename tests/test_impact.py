"""kece impact and kece compare on the sample customers: lowering grade A's asset threshold moves
exactly the customers that evaluating under each rulebook and cross-tabulating says it moves."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from engine import Rulebook, evaluate_file, load_rulebook
from engine.analysis.impact import measure_impact
from engine.console.views import migrations_json
from engine.plans.impact import ActionShift
from engine.plans.playbook import default_playbooks_dir, load_catalog
from tests.conftest import REPO

SAMPLE = REPO / "data" / "samples" / "customers.csv"
OLD_A = 'assets: ">= 5000000", credit_record: excellent'
NEW_A = 'assets: ">= 3000000", credit_record: excellent'
AS_OF = dt.date(2026, 3, 2)
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [*map(str, args)])


def lowered(folder: Path) -> Path:
    """Grade A's asset threshold lowered from 5,000,000 to 3,000,000 in a copy's bank_tier.yaml."""
    path = folder / "bank_tier.yaml"
    text = path.read_text(encoding="utf-8")
    assert OLD_A in text
    path.write_text(text.replace(OLD_A, NEW_A), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("impact")
    shutil.copytree(REPO / "rules", root / "old")
    shutil.copytree(REPO / "rules", root / "new")
    return root / "old", lowered(root / "new")


@pytest.fixture(scope="module")
def rulebooks(folders):
    return load_rulebook(folders[0]), load_rulebook(folders[1])


@pytest.fixture(scope="module")
def evaluated(rulebooks, tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sample evaluated under each rulebook, as kece evaluate writes it."""
    root = tmp_path_factory.mktemp("evaluated")
    tables = []
    for name, rulebook in zip(("old", "new"), rulebooks, strict=True):
        evaluate_file(rulebook, SAMPLE, root / f"{name}.csv")
        tables.append(pd.read_csv(root / f"{name}.csv", dtype=str, keep_default_na=False))
    return tables[0], tables[1]


def expected_moves(evaluated, scheme: str = "bank_tier") -> pd.DataFrame:
    old, new = evaluated
    both = old[["id", scheme]].merge(new[["id", scheme]], on="id", suffixes=("_old", "_new"))
    return both[both[f"{scheme}_old"] != both[f"{scheme}_new"]]


def impact_json(old: Rulebook, new: Rulebook) -> dict:
    catalog = load_catalog(default_playbooks_dir(), "en")
    found = measure_impact(old, new, SAMPLE, hook=ActionShift(old, new, catalog, AS_OF))
    return json.loads(migrations_json(found))


def test_impact_is_the_cross_tab_of_both_evaluations(rulebooks, evaluated):
    found = impact_json(*rulebooks)
    assert list(found["schemes"]) == ["bank_tier"]
    scheme = found["schemes"]["bank_tier"]
    assert set(scheme) == {"matrix", "moved"}
    expected = expected_moves(evaluated)
    assert len(expected) > 0 and set(expected["bank_tier_old"]) == {"B"} and set(expected["bank_tier_new"]) == {"A"}
    assert scheme["moved"] == len(expected)
    # Out of scope and unmatched are one empty cell in a results file; impact keeps them apart.
    cross = pd.crosstab(evaluated[0]["bank_tier"], evaluated[1]["bank_tier"])
    for old_key, row in scheme["matrix"].items():
        for new_key, count in row.items():
            assert cross.loc[old_key.replace("!out_of_scope", ""), new_key.replace("!out_of_scope", "")] == count
    assert impact_json(rulebooks[0], rulebooks[0]) == {"schemes": {}}


def test_impact_lists_the_moved_customers_edits_and_actions(folders, evaluated, tmp_path):
    old, new = folders
    result = run("impact", SAMPLE, "--base", old, "--rules", new, "-o", tmp_path / "impact.html", "--lang", "en",
                 "--as-of", "2026-03-02", "--fail-on-change")
    assert result.exit_code == 1, result.output  # --fail-on-change: someone moved
    expected = expected_moves(evaluated)
    moved = pd.read_csv(tmp_path / "impact.moved.csv", dtype=str, keep_default_na=False)
    assert sorted(moved["customer_id"]) == sorted(expected["id"])
    assert set(moved["scheme"]) == {"bank_tier"} and set(moved["new"]) == {"A"}
    assert "Rule edits behind the moves: A (conditions changed)" in result.output
    for customer in expected["id"]:
        assert f"{customer}: Grade B → Grade A" in result.output
    assert "Recurring touches a week, summed over the moved customers:" in result.output
    assert "\n  + " in result.output and "\n  - " in result.output  # actions gained and lost
    page = (tmp_path / "impact.html").read_text(encoding="utf-8")
    assert "<svg" in page and "bank_tier" in page and expected["id"].iloc[0] in page
    assert "<script" not in page and "<link" not in page  # self-contained


def test_usage_errors_exit_2_without_a_traceback(folders):
    old, new = folders
    not_a_revision = run("impact", SAMPLE, "--base", "no-such-folder-or-rev", "--rules", REPO / "rules")
    assert not_a_revision.exit_code == 2 and "Traceback" not in not_a_revision.output
    assert run("impact", SAMPLE, "--base", "--output=x", "--rules", REPO / "rules").exit_code == 2
    assert run("impact", SAMPLE, "--base", old, "--rules", new, "--moved", SAMPLE).exit_code == 2
    outside_git = run("impact", SAMPLE, "--base", "HEAD", "--rules", new)
    assert outside_git.exit_code == 2 and "git" in outside_git.output


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com",
                           "-c", "commit.gpgsign=false", *args], check=True, capture_output=True, text=True).stdout


def test_base_as_a_git_revision_equals_base_as_a_folder_of_that_revision(rulebooks, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "rules", repo / "team" / "rules")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "rules as they ship")
    lowered(repo / "team" / "rules")
    before = git(repo, "status", "--porcelain")
    by_revision = run("impact", SAMPLE, "--base", "HEAD", "--rules", repo / "team" / "rules", "--json")
    assert by_revision.exit_code == 0, by_revision.output  # customers moved: information, not failure
    assert json.loads(by_revision.stdout) == impact_json(*rulebooks)  # --base with the folder HEAD holds
    assert json.loads(by_revision.stdout)["schemes"]["bank_tier"]["moved"] > 0
    # The working tree and index are as they were: the edit is still there, nothing checked out.
    assert git(repo, "status", "--porcelain") == before
    assert NEW_A in (repo / "team" / "rules" / "bank_tier.yaml").read_text(encoding="utf-8")
    assert run("impact", SAMPLE, "--base", "HEAD~5", "--rules", repo / "team" / "rules").exit_code == 2


def test_compare_two_evaluate_outputs(folders, evaluated, tmp_path):
    old, new = evaluated
    old.to_csv(tmp_path / "march.csv", index=False)
    # One customer left, one appeared.
    later = pd.concat([new.iloc[1:], new.iloc[[0]].assign(id="NEW1")])
    later.to_csv(tmp_path / "april.csv", index=False)
    result = run("compare", tmp_path / "march.csv", tmp_path / "april.csv", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["appeared"] == 1 and found["left"] == 1
    expected = expected_moves(evaluated)
    expected = expected[expected["id"] != old["id"].iloc[0]]
    assert found["schemes"]["bank_tier"]["moved"] == len(expected)
    listed = run("compare", tmp_path / "march.csv", tmp_path / "april.csv", "-o", tmp_path / "moved.csv",
                 "--fail-on-change", "--lang", "en")
    assert listed.exit_code == 1
    moved = pd.read_csv(tmp_path / "moved.csv", dtype=str, keep_default_na=False)
    assert sorted(moved["customer_id"]) == sorted(expected["id"])
    assert "Appeared (1): NEW1" in listed.output and f"Left (1): {old['id'].iloc[0]}" in listed.output
    same = run("compare", tmp_path / "march.csv", tmp_path / "march.csv", "--json")
    assert json.loads(same.stdout) == {"schemes": {}, "appeared": 0, "left": 0}
    assert run("compare", tmp_path / "march.csv", SAMPLE).exit_code == 2  # not a results file


def test_check_base_counts_the_cells_whose_result_a_change_moves(tmp_path: Path):
    # Lowering grade A's asset threshold changes bank_tier's result exactly where assets fall in
    # [3,000,000..5,000,000) and the other tests hold; nothing else changes.
    from engine.analysis.rule_diff import analysis_difference

    changed = tmp_path / "rules"
    shutil.copytree(REPO / "rules", changed)
    pack = changed / "bank_tier.yaml"
    text = pack.read_text(encoding="utf-8")
    pack.write_text(text.replace('when: {assets: ">= 5000000"', 'when: {assets: ">= 3000000"'), encoding="utf-8")
    diffs = {d.scheme_id: d for d in analysis_difference(load_rulebook(REPO / "rules"), load_rulebook(changed))}
    assert diffs["bank_tier"].status == "changed" and 0 < diffs["bank_tier"].changed < diffs["bank_tier"].cells
    assert {d.status for sid, d in diffs.items() if sid != "bank_tier"} == {"same"}
    result = CliRunner().invoke(app, ["check", "--rules", str(changed), "--base", str(REPO / "rules"), "--lang", "en"])
    assert result.exit_code == 1  # the pack's own boundary examples now disagree, as they should
    assert f"scheme bank_tier: {diffs['bank_tier'].changed:,} of {diffs['bank_tier'].cells:,} cells" in result.output
    assert "the other 21 schemes give the same results" in result.output


def test_impact_says_how_many_rows_it_could_not_compare():
    # The sample file has rows the rules reject: they are counted aloud, not dropped from view.
    result = CliRunner().invoke(app, ["impact", str(REPO / "data" / "samples" / "customers.csv"), "--base",
                                      str(REPO / "rules"), "--rules", str(REPO / "rules"), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "3 of 200 rows were not compared: the old or the new rules reject them" in result.output.replace("\n", " ")
