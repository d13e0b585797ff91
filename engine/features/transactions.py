"""From a transactions file to one row per customer with the base features, vectorized.

Cells are typed by `engine.io.coerce` (so a transactions file reads `2024年6月30日`, `20240630`, `¥1,234`
like a customer file does); a row without a customer id, or whose date, amount or quantity cannot
be read, or dated after the as-of date, goes to the rejects with its row number and reason, so
rows used + rows rejected = rows in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import InputFileError, Location, Say, UsageError
from engine.features.featureset import REQUIRED_COLUMNS, FeatureSet
from engine.io.coerce import REJECT_COLUMNS, coerce_column, empty_rejects
from engine.io.tables import FIRST_ROW, detect_encoding, iter_table
from engine.rules.literals import EPOCH, LiteralError, parse_date
from engine.rules.model import Input


@dataclass(frozen=True)
class Transactions:
    """Readable transaction rows (day numbers since 1970-01-01) and the rows that were not."""

    customer_id: pd.Series
    day: np.ndarray
    amount: np.ndarray
    quantity: np.ndarray | None
    rejects: pd.DataFrame
    rows_in: int


@dataclass(frozen=True)
class BaseFeatures:
    table: pd.DataFrame  # index: customer id (sorted); columns: computation ids
    as_of: int  # days since 1970-01-01
    as_of_given: bool
    transactions: Transactions

    @property
    def as_of_date(self) -> dt.date:
        return day_to_date(self.as_of)


def day_to_date(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


def parse_as_of(text: str) -> int:
    day = parse_date(text)
    if isinstance(day, LiteralError):
        raise UsageError(Say(f"--as-of: {day.message.en}; write YYYY-MM-DD, e.g. 1998-07-01",
                             f"--as-of:{day.message.zh};请写成 YYYY-MM-DD,例如 1998-07-01"))
    return day


def read_cells(path: Path, encoding: str | None = None, sheet: str | None = None, lang: str = "zh"
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(text cells indexed by row number, rows the reader could not read). A `.txt` file without
    commas is read as whitespace-separated columns, as CDNOW_master.txt is written."""
    if path.suffix.lower() == ".txt" and path.is_file():
        used = detect_encoding(path, encoding)
        with path.open(encoding=used) as handle:
            first = handle.readline()
        if is_whitespace_header(first):
            return _whitespace_table(path, used, lang)
    _, chunks = iter_table(path, encoding, sheet, lang)
    parts = list(chunks)
    unreadable = [p.unreadable for p in parts if len(p.unreadable)]
    return (pd.concat([p.table for p in parts]),
            pd.concat(unreadable, ignore_index=True) if unreadable else empty_rejects())


def _whitespace_table(path: Path, encoding: str, lang: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A whitespace-separated text file; a line with more or fewer fields than the header is rejected
    with its row number, as a bad JSON Lines line is, instead of refusing the whole file."""
    with path.open(encoding=encoding) as handle:
        header = handle.readline().split()
        return whitespace_rows(header, enumerate(handle, start=FIRST_ROW), lang)


def whitespace_rows(header: list[str], lines: Iterable[tuple[int, str]], lang: str = "zh"
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Numbered lines of a whitespace-separated file (the header's line left out) as text cells and the
    lines with more or fewer fields than the header; blank lines are not rows."""
    records, numbers, unreadable = [], [], []
    for number, line in lines:
        fields = line.split()
        if not fields:
            continue
        if len(fields) == len(header):
            records.append(fields)
            numbers.append(number)
            continue
        reason = Say(f"{len(fields)} fields where the header has {len(header)}",
                     f"有 {len(fields)} 个字段,表头有 {len(header)} 个")
        unreadable.append({"row": number, "id": fields[0], "column": "", "value": line.strip()[:200],
                           "reason": reason.get(lang)})
    table = pd.DataFrame(records, columns=header, index=pd.Index(numbers, dtype=np.int64), dtype=str)
    return table, pd.DataFrame(unreadable, columns=REJECT_COLUMNS) if unreadable else empty_rejects()


def is_whitespace_header(first_line: str) -> bool:
    """A `.txt` file whose first line has no comma and three or more fields is whitespace-separated."""
    return "," not in first_line and len(first_line.split()) >= 3


def find_columns(table: pd.DataFrame, features: FeatureSet, path: Path) -> dict[str, str]:
    """kece column name -> the file's header for it; an error names what is missing."""
    found: dict[str, str] = {}
    for column in features.spec.columns:
        present = [c for c in features.column_names(column) if c in table.columns]
        if len(present) > 1:
            raise InputFileError(Say(f"{path}: columns {', '.join(present)} would all give '{column}'; keep one",
                                     f"{path}:列 {'、'.join(present)} 都对应“{column}”;请只保留一列"))
        if present:
            found[column] = present[0]
    missing = [c for c in REQUIRED_COLUMNS if c not in found]
    if missing:
        wanted = "; ".join(f"{c} ({', '.join(features.column_names(c))})" for c in missing)
        wanted_zh = ";".join(f"{c}({'、'.join(features.column_names(c))})" for c in missing)
        columns = ", ".join(map(str, table.columns))
        raise InputFileError(Say(f"{path} is not a transactions file: no column for {wanted}; it has: {columns}",
                                 f"{path} 不是交易明细文件:缺少 {wanted_zh};文件中的列:{columns}"))
    return found


def parse_transactions(table: pd.DataFrame, columns: dict[str, str], unreadable: pd.DataFrame,
                       as_of: int | None, lang: str = "zh") -> tuple[Transactions, int]:
    """Typed rows and rejects; returns the as-of day too (the last readable date when not given)."""
    rows = table.index.to_numpy()
    table = table.reset_index(drop=True)
    ids = table[columns["customer_id"]].astype("string").str.strip().fillna("")
    reasons: list[pd.DataFrame] = []

    def reject(mask: pd.Series, column: str, reason: str) -> None:
        if mask.any():
            cells = table[columns[column]][mask]
            reasons.append(pd.DataFrame({"row": rows[mask.to_numpy()], "id": ids[mask].to_numpy(),
                                         "column": columns[column], "value": cells.to_numpy(), "reason": reason}))

    reject(ids == "", "customer_id", Say("no customer id", "缺少客户编号").get(lang))
    typed = {}
    for column, kind in (("date", "date"), ("amount", "number"), ("quantity", "number")):
        if column not in columns:
            continue
        decl = Input(name=column, type=kind, title=None, unit=None, values=None, min=None, max=None,
                     location=Location(""), required=column != "quantity")
        typed[column], why = coerce_column(table[columns[column]], decl, lang)
        for reason in why[why != ""].unique():
            reject(why == reason, column, reason)
    bad = np.zeros(len(table), dtype=bool)
    for part in reasons:
        bad |= np.isin(rows, part["row"].to_numpy())
    day = typed["date"].to_numpy()
    if as_of is None:
        good_days = day[~bad]
        if not len(good_days):
            raise UsageError(Say("no readable transactions: cannot take the as-of date from the file; give --as-of",
                                 "没有可读的交易:无法从文件确定基准日;请用 --as-of 指定"))
        as_of = int(good_days.max())
    late = pd.Series(~bad & (day > as_of))
    shown = day_to_date(as_of).isoformat()
    reject(late, "date", Say(f"after the as-of date {shown}", f"晚于基准日 {shown}").get(lang))
    bad |= late.to_numpy()
    rejects = _merge(reasons, unreadable)
    keep = ~bad
    quantity = typed["quantity"].to_numpy()[keep] if "quantity" in typed else None
    return Transactions(ids[keep].astype(object).reset_index(drop=True), day[keep].astype(np.int64),
                        typed["amount"].to_numpy()[keep], quantity, rejects,
                        len(table) + len(unreadable)), as_of


def _merge(reasons: list[pd.DataFrame], unreadable: pd.DataFrame) -> pd.DataFrame:
    parts = [p for p in (*reasons, unreadable) if len(p)]
    if not parts:
        return empty_rejects()
    merged = (pd.concat(parts, ignore_index=True)
              .groupby(["row", "id"], sort=True, as_index=False)
              .agg({"column": "; ".join, "value": lambda v: "; ".join(map(str, v)), "reason": "; ".join}))
    return merged[REJECT_COLUMNS]


def base_features(tx: Transactions, as_of: int, features: FeatureSet) -> pd.DataFrame:
    """One row per customer (index: customer id, sorted as text), columns named by computation."""
    params = features.parameters
    period = params.trend_period_days
    frame = pd.DataFrame({"id": tx.customer_id, "day": tx.day, "amount": tx.amount})
    # Periods are half-open and end on the as-of day: last = (as_of - P, as_of], prev = the P days before.
    age = as_of - frame["day"]
    frame["last"] = frame["amount"].where(age < period, 0.0)
    frame["prev"] = frame["amount"].where((age >= period) & (age < 2 * period), 0.0)
    aggregations = {"last_date": ("day", "max"), "first_date": ("day", "min"), "transaction_count": ("day", "size"),
                    "amount_sum": ("amount", "sum"), "spend_last_period": ("last", "sum"),
                    "spend_prev_period": ("prev", "sum")}
    if tx.quantity is not None:
        frame["quantity"] = tx.quantity
        aggregations["quantity_sum"] = ("quantity", "sum")
    out = frame.groupby("id", sort=True).agg(**aggregations)
    out.index.name = "customer_id"
    out["days_since_last"] = as_of - out["last_date"]
    out["days_since_first"] = as_of - out["first_date"]
    out["amount_mean"] = out["amount_sum"] / out["transaction_count"]
    prev = out["spend_prev_period"]
    out["spend_trend"] = (out["spend_last_period"] / prev.where(prev != 0)) - 1
    out["churn_flag"] = out["days_since_last"] > params.churn_after_days
    return out
