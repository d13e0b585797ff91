"""Spark is optional: without pyspark (or Java) nothing else changes, `kece --help` never imports it,
and `--engine spark` says what to install (exit 2). Runs everywhere, pyspark or not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli import app
from engine.features.calibration import interpolated_cuts, pyramid_cuts, pyramid_ranks, quantile_cuts
from engine.io.screen import SHOWN_ROWS, DuplicateLog, KnownDuplicates

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "samples" / "customers.csv"


def test_kece_help_does_not_import_pyspark():
    code = "import sys; from cli import app; from typer.testing import CliRunner; " \
           "CliRunner().invoke(app, ['--help']); CliRunner().invoke(app, ['evaluate', '--help']); " \
           "print('pyspark' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert done.stdout.strip() == "False"


def test_without_pyspark_engine_spark_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark raises ImportError
    result = CliRunner().invoke(app, ["evaluate", str(SAMPLE), "--engine", "spark", "-o", str(tmp_path / "x.parquet")])
    assert result.exit_code == 2
    assert "pip install 'kece[spark]'" in result.output and "Traceback" not in result.output


def test_without_java_engine_spark_says_where_to_get_it(monkeypatch):
    from engine.errors import UsageError
    from engine.spark import session

    monkeypatch.setattr(session, "find_java", lambda: None)
    with pytest.raises(UsageError) as raised:
        session.require_java()
    assert raised.value.exit_code == 2
    assert "openjdk-17-jre-headless" in raised.value.render("en") and "Java 17" in raised.value.render("zh")
    monkeypatch.setattr(session, "find_java", lambda: "/usr/bin/java")
    monkeypatch.setattr(session, "java_version", lambda java: 11)
    with pytest.raises(UsageError, match="is Java 11"):
        session.require_java()


def test_options_spark_does_not_take_are_refused(tmp_path):
    result = CliRunner().invoke(app, ["evaluate", str(SAMPLE), "--engine", "spark", "--sheet", "x", "--lang", "en"])
    assert result.exit_code == 2 and "--engine spark does not take --sheet" in result.output


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([0.0, 1.0, 2.0, 2.5, 7.25, 1e6, 12.34, -3.0]) | st.floats(-1e9, 1e9), min_size=1,
                max_size=200), st.integers(2, 10))
def test_cut_points_from_order_statistics_equal_numpys(values, bins):
    data = np.array(values, dtype=np.float64)
    ordered = np.sort(data)
    assert interpolated_cuts(len(data), bins, lambda ranks: {r: ordered[r] for r in ranks}) == \
        quantile_cuts(data, bins)
    shares = (1, 4, 15, 80)
    assert tuple(float(ordered[r]) for r in pyramid_ranks(len(data), shares)) == pyramid_cuts(data, shares)


@pytest.mark.parametrize("policy", ["first", "last", "reject", "keep"])
def test_known_duplicates_decide_as_the_file_reader_does(policy):
    ids = ["a", "b", "a", "c", "", "b", "a", "", "d"] + [f"x{n}" for n in range(3)] + ["z"] * 12
    table = pd.DataFrame({"id": ids}, index=pd.RangeIndex(2, 2 + len(ids)))
    log = DuplicateLog(policy)
    if policy in ("last", "reject"):
        log.plan([table["id"]])
    expected_keep, expected = log.screen(table, "id", "zh")
    rows = pd.Series(table.index, index=table.index)
    present = table["id"] != ""
    groups = rows[present].groupby(table["id"][present])
    shown = {key: list(group)[:SHOWN_ROWS] for key, group in groups}
    info = pd.DataFrame({"first": groups.transform("min"), "last": groups.transform("max"),
                         "count": groups.transform("size"), "shown": table["id"][present].map(shown)})
    info = info[info["count"] > 1]
    keep, rejects = KnownDuplicates(policy, info).screen(table, "id", "zh")
    assert keep.tolist() == expected_keep.tolist()
    pd.testing.assert_frame_equal(rejects.reset_index(drop=True), expected.reset_index(drop=True))
