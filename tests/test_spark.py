"""kece on Spark (local[2]) gives what the single-machine path gives: results, rejects, summaries and
derived features compared row by row. One Spark session for the module; skipped, with one line saying
why, where pyspark or Java 17+ is missing (conftest)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.bundled import bundled_dir
from engine.evaluation.batch import evaluate_file
from engine.features.calibration import load as load_calibration
from engine.features.derive import calibrate_file, derive_file
from engine.features.featureset import features_path, load_features
from engine.rules.loader import load_rulebook

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.synthetic import FOOTER_EVERY, messy_table  # noqa: E402
from tests.conftest import spark_unavailable  # noqa: E402

# One line in the summary (pytest -ra) when this machine cannot run Spark, whatever the test count.
if (_why := spark_unavailable()) is not None:
    pytest.skip(_why, allow_module_level=True)
SAMPLE = REPO / "data" / "samples" / "customers.csv"
CDNOW = REPO / "data" / "cdnow" / "CDNOW_master.txt"
PACKS = ["bank_tier", "dealer_class", "parent_attitude"]
MESSY_ROWS = 100_000


@pytest.fixture(scope="module")
def spark():
    from engine.spark.session import spark_session

    session = spark_session("local[2]")
    # Small splits, so a 100,000-row CSV is read as several partitions and row numbers cross them.
    session.conf.set("spark.sql.files.maxPartitionBytes", str(1 << 20))
    yield session
    session.stop()


@pytest.fixture(scope="module")
def rulebook():
    return load_rulebook(bundled_dir("rules"))


def both(rulebook, source: Path, folder: Path, **options):
    """(file run, Spark run, results and rejects of each, as read back from Parquet)."""
    from engine.spark.evaluate import evaluate_source

    local = evaluate_file(rulebook, source, folder / "local.parquet", **options)
    spark = evaluate_source(rulebook, str(source), str(folder / "spark.parquet"), master="local[2]", **options)
    tables = [pd.read_parquet(folder / name) for name in
              ("local.parquet", "spark.parquet", "local.rejects.parquet", "spark.rejects.parquet")]
    return local, spark, *tables


def same_run(local, spark):
    assert (spark.rows_in, spark.rows_out, spark.rows_rejected) == (local.rows_in, local.rows_out, local.rows_rejected)
    assert spark.rows_in == spark.rows_out + spark.rows_rejected
    assert [(s.scheme.id, s.counts, s.unmatched, s.conflicts, s.out_of_scope, s.total) for s in spark.summaries] == \
        [(s.scheme.id, s.counts, s.unmatched, s.conflicts, s.out_of_scope, s.total) for s in local.summaries]
    assert spark.rejected_columns == local.rejected_columns
    assert spark.skipped == local.skipped


def test_the_sample_file_gives_the_same_results_and_rejects(spark, rulebook, tmp_path):
    local, run, results, spark_results, rejects, spark_rejects = both(rulebook, SAMPLE, tmp_path)
    same_run(local, run)
    pd.testing.assert_frame_equal(spark_results, results)
    pd.testing.assert_frame_equal(spark_rejects, rejects)
    assert len(rejects) == 3


@pytest.fixture(scope="module")
def messy_csv(tmp_path_factory, rulebook) -> Path:
    path = tmp_path_factory.mktemp("messy") / "messy.csv"
    messy_table([rulebook.by_id[p] for p in PACKS], MESSY_ROWS).to_csv(path, index=False)
    return path


def test_a_messy_100000_row_file_gives_the_same_rows_and_rejects(spark, rulebook, messy_csv, tmp_path):
    local, run, results, spark_results, rejects, spark_rejects = both(rulebook, messy_csv, tmp_path)
    same_run(local, run)
    assert run.rows_in == MESSY_ROWS
    pd.testing.assert_frame_equal(spark_results, results)
    pd.testing.assert_frame_equal(spark_rejects, rejects)
    reasons = " ".join(rejects["reason"])
    assert "合计行" in reasons and "也在第" in reasons and "不是数字" in reasons
    footers = rejects[rejects["reason"].str.startswith("合计行")]
    assert footers["row"].tolist() == list(range(FOOTER_EVERY + 1, MESSY_ROWS + 2, FOOTER_EVERY))
    assert run.duplicates.ids == local.duplicates.ids > 0
    assert run.duplicates.rejected == local.duplicates.rejected
    assert run.duplicates.examples() == [(key, rows) for key, rows in local.duplicates.examples()]


@pytest.mark.parametrize("policy", ["last", "reject", "keep"])
def test_every_duplicates_policy_decides_as_a_file_run(spark, rulebook, tmp_path, policy):
    source = tmp_path / "few.csv"
    table = messy_table([rulebook.by_id[p] for p in PACKS], 3_000, seed=5)
    table.loc[[10, 500, 2_999], "id"] = table.loc[7, "id"]  # one id on four rows, far apart
    table.to_csv(source, index=False)
    local, run, results, spark_results, rejects, spark_rejects = both(rulebook, source, tmp_path,
                                                                      duplicates=policy)
    same_run(local, run)
    pd.testing.assert_frame_equal(spark_results, results)
    pd.testing.assert_frame_equal(spark_rejects, rejects)


def test_the_api_takes_a_dataframe_and_numbers_its_rows(spark, rulebook):
    from engine.spark.evaluate import evaluate_spark

    frame = spark.createDataFrame(pd.DataFrame({
        "id": ["a", "b", "合计"], "assets": ["¥6,000,000", "abc", "9"], "credit_record": ["excellent"] * 3,
        "statements": ["complete"] * 3, "risk_assessment": ["complete"] * 3}))
    evaluation = evaluate_spark(frame, rulebook, ["bank_tier"], lang="en")
    results, rejects = evaluation
    assert [row.asDict() for row in results.collect()] == [{"id": "a", "bank_tier": "A", "bank_tier.label": "Grade A"}]
    assert [row.asDict() for row in rejects.select("row", "id", "column").orderBy("row").collect()] == [
        {"row": 2, "id": "b", "column": "assets"}, {"row": 3, "id": "合计", "column": "id"}]
    tally = evaluation.check()
    assert (tally.rows_in, tally.rows_out, tally.rows_rejected) == (3, 1, 2)
    evaluation.unpersist()


def test_cdnow_derive_gives_the_same_features_and_calibration(spark, tmp_path):
    from engine.spark.derive import derive_source

    features = load_features(features_path(bundled_dir("rules")))
    local = derive_file(CDNOW, tmp_path / "local.parquet", features, as_of="1998-07-01")
    run = derive_source(str(CDNOW), str(tmp_path / "spark.parquet"), features, master="local[2]", as_of="1998-07-01")
    assert (run.rows_in, run.rows_used, run.rows_rejected, run.customers) == \
        (local.rows_in, local.rows_used, local.rows_rejected, local.customers) == (69_659, 69_659, 0, 23_570)
    assert run.calibration == local.calibration  # exact cut-points, so the same calibration id
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "spark.parquet"),
                                  pd.read_parquet(tmp_path / "local.parquet"))
    # and with a stored calibration, as `make demo` does
    calibrate_file(CDNOW, tmp_path / "cal.yaml", features, as_of="1998-07-01")
    stored = load_calibration(tmp_path / "cal.yaml")
    derive_source(str(CDNOW), str(tmp_path / "again.parquet"), features, as_of="1998-07-01", calibration=stored)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "again.parquet"),
                                  pd.read_parquet(tmp_path / "local.parquet"))


def test_derive_rejects_bad_transactions_as_a_file_run(spark, tmp_path):
    from engine.spark.derive import derive_source

    source = tmp_path / "tx.csv"
    source.write_text("customer_id,date,amount\nC1,2024-06-01,\"¥1,200\"\nC1,2024-06-03,100\n,2024-06-02,5\n"
                      "C2,2024-13-01,5\nC2,2024-06-05,abc\nC3,2024-06-30,500万\n", encoding="utf-8")
    features = load_features(features_path(bundled_dir("rules")))
    local = derive_file(source, tmp_path / "local.parquet", features, as_of="2024-06-30")
    run = derive_source(str(source), str(tmp_path / "spark.parquet"), features, as_of="2024-06-30")
    assert (run.rows_in, run.rows_used, run.rows_rejected) == (local.rows_in, local.rows_used, local.rows_rejected)
    for name in ("local.parquet", "local.rejects.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / name.replace("local", "spark")),
                                      pd.read_parquet(tmp_path / name))
    assert run.rows_used == 3  # C1's two rows and C3's; the rest rejected with their reasons


def test_a_csv_line_with_more_cells_than_the_header_is_rejected_not_cut_short(spark, tmp_path):
    from engine.spark.derive import derive_source

    source = tmp_path / "tx.csv"
    source.write_text("customer_id,date,amount\nC1,2024-06-03,100\nC1,2024-06-01,¥1,200\n", encoding="utf-8")
    features = load_features(features_path(bundled_dir("rules")))
    run = derive_source(str(source), str(tmp_path / "spark.parquet"), features, as_of="2024-06-30", lang="en")
    rejects = pd.read_parquet(tmp_path / "spark.rejects.parquet")
    assert (run.rows_in, run.rows_used, run.rows_rejected) == (2, 1, 1)
    assert rejects[["row", "value", "reason"]].to_dict("records") == [
        {"row": 3, "value": "C1,2024-06-01,¥1,200", "reason": "more cells than the header has"}]


def test_the_cli_prints_the_summary_a_file_run_prints(spark, tmp_path):
    from cli import app

    runner = CliRunner()
    args = ["evaluate", str(SAMPLE), "--lang", "en", "-s", "bank_tier"]
    local = runner.invoke(app, [*args, "-o", str(tmp_path / "a.parquet")])
    remote = runner.invoke(app, [*args, "--engine", "spark", "--master", "local[2]", "-o", str(tmp_path / "b.parquet")])
    assert local.exit_code == remote.exit_code == 0, remote.output
    strip = lambda text: [line for line in text.splitlines() if "parquet" not in line]  # noqa: E731
    assert strip(remote.output) == strip(local.output)
    assert "200 rows in: 198 evaluated, 2 rejected" in remote.output
    assert (tmp_path / "b.parquet").is_dir() and (tmp_path / "b.rejects.parquet").is_dir()


def test_a_new_spark_process_says_nothing_but_keces_own_lines(tmp_path):
    """`kece evaluate --engine spark` as a user runs it, in a process of its own (the JVM starts): its
    stderr holds the lines a file run's holds, not Spark's start-up log ("Setting default log level",
    host warnings); the JVM's own note on incubator modules is the one line kece cannot reach."""
    import subprocess

    def run(*engine: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(REPO / "cli.py"), "evaluate", str(SAMPLE), "--lang", "en", "-q",
                               "-s", "bank_tier", *engine, "-o", str(tmp_path / f"{len(engine)}.parquet")],
                              capture_output=True, text=True, cwd=tmp_path)

    local, spark = run(), run("--engine", "spark", "--master", "local[1]")
    assert local.returncode == spark.returncode == 0, spark.stderr
    assert [line for line in spark.stderr.splitlines() if "incubator modules" not in line] == \
        local.stderr.splitlines()
    assert "Most rejects in column assets" in spark.stderr
    assert "200 rows in: 198 evaluated, 2 rejected" in spark.stdout
