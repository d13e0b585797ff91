"""The vectorized paths (Arrow's CSV reader, typing by distinct values and by Arrow's number parser,
CSV rendered by Arrow) give exactly what the cell-by-cell paths give: the same typed values and
reasons, the same chunks and row numbers, the same bytes. Each is checked against its reference on
messy generated data, and a whole `kece evaluate` run against one with every fast path turned off."""

from __future__ import annotations

import csv
import io
import math
import random
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine.io.coerce as coerce
import engine.io.csv_in as csv_in
import engine.io.tables as tables
from engine.bundled import bundled_dir
from engine.errors import InputFileError, Location
from engine.evaluation.batch import evaluate_file
from engine.io.csv_out import csv_rows, formula_mask
from engine.io.outputs import is_formula, neutralise_formulas
from engine.io.screen import DuplicateLog
from engine.io.seen_ids import SeenIds
from engine.rules.loader import load_rulebook
from engine.rules.model import Input
from engine.rules.spec import Text

ROWS = 6_000  # above coerce.FAST_PATH_ROWS
MESSY = {
    "number": ["1", "-2.5", "3e2", ".5", "5.", "+7", " 8 ", "¥6,000,000", "500万", "12.5%", "１２３", "1,234",
               "1e999", "inf", "nan", "abc", "", "N/A", "-", "无", "0x10", "1_000", "9007199254740993", "-0"],
    "integer": ["0", "7", "7.0", "7.5", "-3", "1e3", "9007199254740992", "１２", "x", "", "—", "12,000", "2.50"],
    "date": ["2024-06-30", "2024/6/3", "2024年6月3日", "20240603", "2024-02-30", "0000-01-01", "2024-06-30 00:00:00",
             "30/06/2024", "", "N/A", "2024-6-3", "9999-12-31"],
    "enum": ["gold", "GOLD", " Gold ", "金卡", "金", "silver", "银卡", "bronze", "", "无", "N/A", "platinum",
             "ｇｏｌｄ"],
    "boolean": ["true", "FALSE", "是", "否", "yes", "0", "1", "maybe", "", "无", "N/A", "Y"],
    "string": ["上海", "  ", "x", "", "N/A", "=1+1", "北京 "],
}


def declared(kind: str, min: float | None = None, max: float | None = None, required: bool = False) -> Input:
    enum = kind == "enum"
    labels = {"gold": Text("金卡", "gold card"), "silver": Text("银卡", "silver card"),
              "bronze": Text("铜卡", "bronze card")} if enum else {}
    return Input("x", kind, Text("卡", "card") if enum else None, None, ("gold", "silver", "bronze") if enum else None,
                 min, max, Location(""), required=required, labels=labels)


PLAIN = ["0", "7", "7.5", "-3", "1e3", "+2", ".5", "5.", "9007199254740992", "9007199254740993", "1e300",
         "5000000", "5000000.01", "", None]


def messy_column(kind: str, rows: int, seed: int, distinct_numbers: bool, plain: bool = False) -> pd.Series:
    rng = np.random.default_rng(seed)
    cells = rng.choice(np.array(PLAIN if plain else MESSY[kind], dtype=object), rows)
    if distinct_numbers and kind in ("number", "integer"):  # too many distinct values to type each once
        plain = rng.random(rows) < 0.9
        numbers = rng.uniform(-1e7, 1e7, rows).round(rng.integers(0, 4))
        cells[plain] = numbers[plain].astype(str) if kind == "number" else numbers[plain].astype(np.int64).astype(str)
    cells[rng.random(rows) < 0.02] = None
    return pd.Series(cells, dtype=object, index=pd.RangeIndex(2, rows + 2))


KINDS = [("number", {}), ("number", {"min": 0.0, "max": 5e6, "required": True}), ("integer", {}),
         ("integer", {"min": 1.0}), ("date", {}), ("enum", {}), ("enum", {"required": True}), ("boolean", {}),
         ("string", {})]
# messy: exported forms, placeholders, words; distinct: numbers with too many distinct values to type
# each once; plain: numbers written plainly and blanks only (a number column typed in one cast)
CASES = [(kind, options, mode) for kind, options in KINDS
         for mode in ("messy", "distinct", "plain") if mode == "messy" or kind in ("number", "integer")]


@pytest.mark.parametrize("storage", ["object", "arrow"])
@pytest.mark.parametrize(("kind", "options", "mode"), CASES)
def test_column_typing_equals_the_cell_by_cell_reference(kind, options, mode, storage):
    plain = mode == "plain"
    cells = messy_column(kind, ROWS, seed=len(kind), distinct_numbers=mode == "distinct", plain=plain)
    if storage == "arrow":
        cells = cells.astype("str")
    decl = declared(kind, **options)
    typed, reasons = coerce.coerce_column(cells, decl, "en")
    want_typed, want_reasons = coerce._coerce_cells(cells, decl, "en")
    pd.testing.assert_series_equal(typed, want_typed)
    pd.testing.assert_series_equal(reasons, want_reasons)
    assert (reasons == "").any()
    # the data is messy (any text is a string; plain numbers are rejected only out of bounds or fractional)
    assert (reasons != "").any() or kind == "string" or (plain and kind == "number" and not options)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="0123456789.eE+-", max_size=25) | st.text(alphabet="09.eE+-infatyINAx_ ", max_size=9),
                min_size=1, max_size=50))
def test_plain_numbers_are_read_as_python_reads_them(cells):
    """Correctly rounded (pandas' own parser reads 3E30 as 3.0000000000000003e+30): a cell holding a
    rule's threshold compares equal to it."""
    series = pd.Series(cells, dtype="string")
    parsed = coerce._plain_numbers(series).tolist()
    for cell, number in zip(cells, parsed, strict=True):
        try:
            expected = float(cell) if re.fullmatch(coerce.PLAIN_DECIMAL.strip("^$"), cell) else math.nan
        except ValueError:
            expected = math.nan
        assert number == expected or (math.isnan(number) and math.isnan(expected)), cell


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="=+-@\t\r\n＝＋－＠0123456789٣５.eE ab", max_size=8), min_size=1, max_size=40))
def test_formula_cells_are_found_as_python_finds_them(cells):
    assert formula_mask(pa.array(cells, pa.string())).to_pylist() == [is_formula(cell) for cell in cells]


TEXT = st.text(alphabet='ab,"\n\r =+-@1.客', max_size=6)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(TEXT, st.one_of(st.none(), TEXT),
                          st.sampled_from([0.0, -0.0, 1.0, 2.5, 1e-7, 1e16, 1e20, float("nan"), float("inf"), 1 / 3]),
                          st.integers(-10**12, 10**12)), min_size=1, max_size=30),
       st.booleans())
def test_csv_rows_are_the_bytes_pandas_writes(rows, escape):
    table = pd.DataFrame(rows, columns=["id", "maybe", "score", "row"])
    table["kind"] = pd.Categorical([r[0][:1] for r in rows])
    table["text"] = table["id"].astype("str")  # Arrow-backed, as results' ids and labels are
    expected = (neutralise_formulas(table) if escape else table).to_csv(index=False, lineterminator="\n")
    assert csv_rows(table, escape) == expected.split("\n", 1)[1].encode("utf-8")


def csv_text(rng: random.Random, rows: int, ragged: bool) -> str:
    cells = ["a", "", " b ", "客户", '"quoted, with comma"', '"two\nlines"', '"say ""hi"""', '"1,5"', "=1+1"]
    lines = ["id,name,note"]
    for number in range(rows):
        width = 3 if not ragged or rng.random() > 0.01 else rng.choice([1, 2])  # pandas pads short rows
        if rng.random() < 0.01:
            lines.append("")  # a blank line
        elif rng.random() < 0.01:
            lines.append(",,")  # a row of empty cells
        else:
            lines.append(",".join([f"C{number}"] + [rng.choice(cells) for _ in range(width - 1)]))
    return "\n".join(lines) + "\n"


def read_chunks(path: Path, encoding: str | None, force_pandas: bool, monkeypatch) -> list[pd.DataFrame]:
    with monkeypatch.context() as patch:
        if force_pandas:
            def refuse(*_args, **_kwargs):
                raise csv_in._NotForArrow
                yield  # a generator, as the real one is
            patch.setattr(csv_in, "_arrow_csv_chunks", refuse)
        _, chunks = tables.iter_table(path, encoding, chunk_rows=700)
        return [chunk.table.astype(object) for chunk in chunks]


@pytest.mark.parametrize(("ragged", "encoding"), [(False, "utf-8-sig"), (True, "utf-8"), (False, "gb18030")])
def test_arrow_reads_csv_files_as_pandas_does(tmp_path, monkeypatch, ragged, encoding):
    path = tmp_path / "customers.csv"
    path.write_bytes(csv_text(random.Random(3), 5_000, ragged).encode(encoding))
    fast = read_chunks(path, None, False, monkeypatch)
    slow = read_chunks(path, None, True, monkeypatch)
    assert sum(map(len, fast)) == sum(map(len, slow)) > 4_800
    pd.testing.assert_frame_equal(pd.concat(fast), pd.concat(slow))


def test_a_ragged_row_after_the_first_chunks_is_read_on_by_pandas(tmp_path, monkeypatch):
    """Arrow has handed on whole chunks before it meets a short row: pandas reads on from there,
    and no row is lost or read twice."""
    lines = ["id,a,b"] + [f"C{n},{n},x" for n in range(25_000)] + ["C25000,short"] + [f"C{n},{n},y" for n in
                                                                                     range(25_001, 26_000)]
    path = tmp_path / "late.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(csv_in, "ARROW_BLOCK", 4_096)  # many blocks, so whole chunks go before the short row
    handed = []
    real = csv_in._arrow_csv_chunks
    monkeypatch.setattr(csv_in, "_arrow_csv_chunks", lambda *args: (handed.append(c) or c for c in real(*args)))
    chunks = read_chunks(path, None, False, monkeypatch)
    assert handed  # Arrow had read some before it met the short row
    whole = pd.concat(chunks)
    assert whole.index.tolist() == list(range(2, 26_002))
    assert whole.loc[25_002].tolist() == ["C25000", "short", ""]


def make_messy_file(path: Path, rows: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pick = lambda values: rng.choice(np.array(values, dtype=object), rows)  # noqa: E731
    table = pd.DataFrame({
        "客户编号": np.char.add("C", np.arange(rows).astype(str)).astype(object),
        "资产规模": pick(["6000000", "¥6,000,000", "500万", "1200000.5", "99999", "", "abc", "N/A", "-5", "=1+2"]),
        "信用记录": pick(["excellent", "优秀", "良好", "good", "fair", "poor", "", "unknown"]),
        "财务报表": pick(["complete", "完整且财务稳定", "partial", "incomplete", "", "—"]),
        "风险评估流程": pick(["complete", "流程完备", "vague", "insufficient", "", "x"]),
    })
    table.loc[rng.random(rows) < 0.01, "客户编号"] = "C7"  # duplicate ids
    table.loc[rows - 1, "客户编号"] = "合计"
    with path.open("w", encoding="gb18030", newline="") as handle:
        table.to_csv(handle, index=False, quoting=csv.QUOTE_MINIMAL)


def test_a_long_row_is_an_error_either_way(tmp_path, monkeypatch):
    path = tmp_path / "long.csv"
    path.write_text("id,a\n" + "".join(f"C{n},{n}\n" for n in range(3_000)) + "C3000,1,2\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="Expected 2 fields in line 3002, saw 3"):
        read_chunks(path, None, False, monkeypatch)


def test_a_whole_run_writes_the_bytes_the_cell_by_cell_paths_write(tmp_path, monkeypatch):
    source = tmp_path / "export.csv"
    make_messy_file(source, 8_000, seed=5)
    rulebook = load_rulebook(bundled_dir("rules"))
    fast = evaluate_file(rulebook, source, tmp_path / "fast.csv", schemes=["bank_tier"], chunk_rows=3_000)
    with monkeypatch.context() as patch:
        patch.setattr(coerce, "FAST_PATH_ROWS", 10**9)
        patch.setattr(tables, "csv_rows", lambda *_: None)
        patch.setattr(csv_in, "_arrow_csv_chunks", lambda *_: (_ for _ in ()).throw(csv_in._NotForArrow()))
        slow = evaluate_file(rulebook, source, tmp_path / "slow.csv", schemes=["bank_tier"], chunk_rows=3_000)
    assert (fast.rows_in, fast.rows_out, fast.rows_rejected) == (slow.rows_in, slow.rows_out, slow.rows_rejected)
    assert fast.rows_in == fast.rows_out + fast.rows_rejected == 8_000
    assert 1_000 < fast.rows_rejected < 7_000
    for name in ("fast.csv", "fast.rejects.csv"):
        assert (tmp_path / name).read_bytes() == (tmp_path / name.replace("fast", "slow")).read_bytes()
    rejects = pd.read_csv(tmp_path / "fast.rejects.csv", dtype=str, keep_default_na=False)
    assert "'=1+2" in set(rejects["value"])  # a formula in a rejected cell is written as text


def test_csv_output_is_written_by_pandas_when_a_column_is_not_text_or_number(tmp_path):
    table = pd.DataFrame({"id": ["a", "b"], "day": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    assert csv_rows(table, True) is None
    writer = tables.ChunkWriter(tmp_path / "out.csv")
    writer.write(table)
    writer.close(table.iloc[:0])
    assert (tmp_path / "out.csv").read_bytes() == b"\xef\xbb\xbfid,day\na,2024-01-01\nb,2024-01-02\n"


def test_rows_are_numbered_as_a_spreadsheet_shows_them_with_blank_lines(tmp_path, monkeypatch):
    text = io.StringIO()
    text.write("id,a\n")
    for number in range(3_000):
        text.write(f"C{number},{number}\n" if number % 1_000 else "\n")
    path = tmp_path / "blank.csv"
    path.write_text(text.getvalue(), encoding="utf-8")
    whole = pd.concat(read_chunks(path, None, False, monkeypatch))
    assert len(whole) == 2_997
    assert whole.loc[1_003].tolist() == ["C1001", "1001"]


def test_parquet_columns_are_read_as_the_text_a_csv_would_hold(tmp_path):
    import pyarrow.parquet as pq

    path = tmp_path / "typed.parquet"
    pq.write_table(pa.table({"id": pa.array([1001, None, 1003], pa.int64()), "assets": [6e6, None, 0.1],
                             "vip": [True, False, None], "tags": [["a"], None, []]}), path)
    _, chunks = tables.iter_table(path)
    table = next(chunks).table
    # whole numbers stay whole even beside a missing one (pandas would make the column 1001.0)
    assert table.astype(object).values.tolist() == [["1001", "6000000.0", "true", '["a"]'],
                                                    ["", "", "false", ""], ["1003", "0.1", "", "[]"]]


def test_a_trailing_comma_on_every_row_is_read_as_if_it_were_not_there(tmp_path, monkeypatch):
    path = tmp_path / "trailing.csv"
    path.write_text("id,a\n" + "".join(f"C{n},{n},\n" for n in range(3_000)), encoding="utf-8")
    whole = pd.concat(read_chunks(path, None, False, monkeypatch))
    assert whole.columns.tolist() == ["id", "a"]
    assert whole.loc[2].tolist() == ["C0", "0"] and whole.loc[3_001].tolist() == ["C2999", "2999"]


def test_an_unquoted_comma_in_the_first_row_is_an_error_not_a_shift(tmp_path, monkeypatch):
    path = tmp_path / "comma.csv"
    path.write_text("id,a\nC1,¥1,200\n" + "".join(f"C{n},{n}\n" for n in range(2, 3_000)), encoding="utf-8")
    with pytest.raises(InputFileError, match="row 2 has more cells than the header"):
        read_chunks(path, None, False, monkeypatch)


def test_repeated_ids_found_chunk_by_chunk_are_those_of_the_whole_file():
    """The streamed check (hashes of each chunk, sorted runs of the ids seen before) against pandas'
    duplicated() over the whole column, on ids repeating within and across 25 chunks."""
    rng = np.random.default_rng(11)
    pool = np.array([f"C{n}" for n in range(30_000)] + ["", "客户" * 20, "x" * 40], dtype=object)
    ids = pd.Series(rng.choice(pool, 50_000), dtype=object)
    table = pd.DataFrame({"id": ids.to_numpy()}, index=pd.RangeIndex(2, 50_002))
    log = DuplicateLog("first")
    kept = pd.concat([log.screen(table.iloc[start:start + 2_000], "id", "en")[0] for start in range(0, 50_000, 2_000)])
    present = ids.to_numpy() != ""
    expected = ~(ids.duplicated(keep="first").to_numpy() & present)
    assert (kept.to_numpy() == expected).all()
    repeated = ids[present & ids.duplicated(keep=False).to_numpy()]
    groups = {key: [int(n) + 2 for n in rows] for key, rows in repeated.groupby(repeated, sort=False).groups.items()}
    assert log.rows == groups and log.rejected == int((~expected).sum())


@pytest.mark.parametrize("chunk", [7, 3_000, 70_000])
def test_the_seen_ids_answer_as_a_dict_of_every_id_would(chunk):
    """SeenIds against a dict, from a filter of 16 words (it grows several times and says "maybe" for
    many unseen ids, which the runs must answer) with tiny chunks (merged runs) and large ones; hashes
    share their filter bits and words, so false positives are frequent."""
    rng = np.random.default_rng(chunk)
    pool = np.unique(rng.integers(0, 2**64, 60_000, dtype=np.uint64) & ~np.uint64(0xFFFFF0) | np.uint64(0x10))
    stream = rng.choice(pool, 150_000)
    seen, first = SeenIds(filter_words_log2=4), {}
    for start in range(0, len(stream), chunk):
        hashes = np.unique(stream[start:start + chunk])
        rows = rng.permutation(len(hashes)).astype(np.int64) + start
        found = seen.first_rows(hashes)
        assert found.tolist() == [first.get(int(value), -1) for value in hashes]
        fresh = found < 0
        seen.add(hashes[fresh], rows[fresh])
        first.update(zip(map(int, hashes[fresh]), map(int, rows[fresh]), strict=True))
    assert seen.count == len(first) and len(seen.runs) <= len(stream) // 32_768 + 2


_UTF8_PIECES = st.one_of(st.text(max_size=3).map(lambda text: text.encode("utf-8")), st.binary(max_size=2),
                         st.sampled_from([b"\xed\xa0\x80", b"\xc0\x80", b"\xf4\x90\x80\x80", b"\xe5\xae", b"\xff"]))


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(_UTF8_PIECES, max_size=12), block=st.integers(1, 9))
def test_the_utf8_check_agrees_with_pythons_decoder_across_block_edges(pieces, block, tmp_path_factory):
    """Arrow's block-by-block UTF-8 check against Python's decoder, with blocks of a few bytes, so
    characters are cut at every position (encodings are detected with it)."""
    path = tmp_path_factory.mktemp("utf8") / "cells.csv"
    data = b"".join(pieces)
    path.write_bytes(data)
    try:
        data.decode("utf-8")
        decodes = True
    except UnicodeDecodeError:
        decodes = False
    original, tables.BLOCK = tables.BLOCK, block
    try:
        assert tables.is_utf8(path) == decodes
    finally:
        tables.BLOCK = original
