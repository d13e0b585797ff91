"""The bundled rule packs: they load, cite the source material, and their examples hold."""

from __future__ import annotations

import pandas as pd
import pytest

from engine.analysis.examples import run_examples
from engine.bundled import bundled_dir
from engine.evaluation.batch import evaluate_file
from engine.rules.loader import load_rulebook
from tests.conftest import REPO, SOURCE_MATERIAL

RULEBOOK = load_rulebook(bundled_dir("rules"))
SCHEMES = {scheme.id: scheme for scheme in RULEBOOK.schemes}
CARD_PACKS = {"parent_attitude", "bank_tier", "dealer_class"}


def test_the_design_card_packs_are_bundled():
    assert CARD_PACKS <= set(SCHEMES)


def sources(scheme):
    yield scheme.id, scheme.source
    for rule in scheme.rules:
        yield f"{scheme.id}.{rule.id}", rule.source
    for band in scheme.bands:
        if band.source is not None:
            yield f"{scheme.id}.{band.id}", band.source


@pytest.mark.parametrize("scheme", RULEBOOK.schemes, ids=lambda s: s.id)
def test_every_rule_cites_a_passage_that_exists(scheme):
    if not SOURCE_MATERIAL.is_dir():
        pytest.skip("the source material is not beside this checkout")
    for where, source in sources(scheme):
        assert source is not None, f"{where} has no source"
        text = (SOURCE_MATERIAL / source.file).read_text(encoding="utf-8")
        assert source.quote in text, f"{where}: {source.quote!r} is not in {source.file}"


@pytest.mark.parametrize("scheme", RULEBOOK.schemes, ids=lambda s: s.id)
def test_every_rule_is_bilingual_actionable_and_exemplified(scheme):
    expected = {outcome for example in scheme.examples for outcome in example.expect}
    outcomes = scheme.bands if scheme.hit_policy == "score" else scheme.rules
    for item in outcomes:
        assert item.id in expected, f"{scheme.id}.{item.id} has no example"
    for rule in scheme.rules:
        assert rule.label.zh and rule.label.en
        assert rule.strategy, f"{scheme.id}.{rule.id} has no strategy"
        for action in rule.strategy:
            assert action.zh.strip() and action.en.strip()
    for band in scheme.bands:
        assert band.label.zh and band.label.en
        assert all(action.zh.strip() and action.en.strip() for action in band.strategy)


def test_kece_check_and_kece_test_pass_on_the_bundled_packs():
    from typer.testing import CliRunner

    from cli import app

    for command in ("check", "test"):
        result = CliRunner().invoke(app, [command, "--rules", str(bundled_dir("rules")), "--lang", "en"])
        assert result.exit_code == 0, result.output
        assert "warning" not in result.output


@pytest.mark.parametrize("backend", ["vectorized", "durable"])
@pytest.mark.parametrize("scheme", RULEBOOK.schemes, ids=lambda s: s.id)
def test_examples_hold(scheme, backend):
    assert [failure.describe() for failure in run_examples(scheme, backend)] == []


def load_generator():
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate_samples", REPO / "data" / "generate_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bundled_samples_are_what_the_seeded_generator_writes(tmp_path):
    generator = load_generator()
    generator.write_csv(generator.generate(200, 7), tmp_path / "customers.csv")
    assert (tmp_path / "customers.csv").read_bytes() == (REPO / "data" / "samples" / "customers.csv").read_bytes()


@pytest.mark.parametrize("backend", ["vectorized", "durable"])
def test_bundled_samples_cover_every_rule_and_reject_the_three_bad_rows(tmp_path, backend):
    run = evaluate_file(RULEBOOK, REPO / "data" / "samples" / "customers.csv", tmp_path / "out.csv",
                        backend=backend)
    assert (run.rows_in, run.rows_out, run.rows_rejected) == (200, 197, 3)
    assert run.skipped == {}
    rejects = pd.read_csv(run.rejects_path, dtype=str, encoding="utf-8-sig")
    assert rejects[["row", "id", "column", "value"]].values.tolist() == [
        ["52", "C0051", "assets", "abc"], ["102", "C0101", "staff_count", "7x0"],
        ["152", "C0151", "credit_record", "platinum"]]
    for summary in run.summaries:
        assert summary.unmatched == 0 and summary.conflicts == 0
        assert all(count > 0 for count in summary.counts.values()), summary.counts


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_chunked_runs_write_exactly_what_one_chunk_writes(tmp_path, suffix):
    source = REPO / "data" / "samples" / "customers.csv"
    if suffix == ".parquet":  # a Parquet input streams by row groups
        source = tmp_path / "customers.parquet"
        pd.read_csv(REPO / "data" / "samples" / "customers.csv", dtype=str, keep_default_na=False).to_parquet(source)
    whole = evaluate_file(RULEBOOK, source, tmp_path / f"whole{suffix}", chunk_rows=10_000)
    seen = []
    chunked = evaluate_file(RULEBOOK, source, tmp_path / f"chunked{suffix}", chunk_rows=7, progress=seen.append)
    assert (whole.chunks, chunked.chunks) == (1, 29)
    assert seen[-1] == chunked.rows_in == 200 and seen == sorted(seen)
    assert [(s.counts, s.unmatched) for s in whole.summaries] == [(s.counts, s.unmatched) for s in chunked.summaries]
    if suffix == ".xlsx":
        read = lambda p: pd.read_excel(p, dtype=str, engine="openpyxl")  # noqa: E731
    else:
        read = lambda p: pd.read_csv(p, dtype=str) if suffix == ".csv" else pd.read_parquet(p)  # noqa: E731
    pd.testing.assert_frame_equal(read(whole.output), read(chunked.output))
    pd.testing.assert_frame_equal(read(whole.rejects_path), read(chunked.rejects_path))
    if suffix == ".csv":
        assert whole.output.read_bytes() == chunked.output.read_bytes()
