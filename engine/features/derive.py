"""The derived-features API the CLI is a thin layer over: `derive_file` (transactions -> one row per
customer), `calibrate_file` (fit cut-points), and `CalibratedFeatures`, which adds calibrated
features to customer tables and records before the rules run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import Location, UsageError
from engine.errors import Say as S
from engine.features import calibration as cal
from engine.features.featureset import CALIBRATED, FeatureSet
from engine.features.transactions import (
    base_features,
    day_to_date,
    find_columns,
    parse_as_of,
    parse_transactions,
    read_cells,
)
from engine.io.coerce import coerce_column, table_from_records
from engine.io.outputs import check_output_file, refuse_overwrite
from engine.io.tables import ChunkWriter, check_output_suffix
from engine.rules.model import Input

CALIBRATION_COLUMN = "calibration"
_BASE_INPUTS = ("days_since_last", "transaction_count", "amount_sum")
_MONEY = ("amount_sum", "amount_mean", "quantity_sum", "spend_last_period", "spend_prev_period")


@dataclass(frozen=True)
class DeriveRun:
    output: Path
    rejects_path: Path
    rows_in: int
    rows_used: int
    rows_rejected: int
    customers: int
    as_of: str
    as_of_given: bool
    calibration: cal.Calibration
    calibration_fitted: bool  # True: fitted on this same data (no --calibration given)


@dataclass(frozen=True)
class CalibrateRun:
    output: Path
    calibration: cal.Calibration
    from_transactions: bool
    as_of_given: bool
    skipped: int  # customers left out of the fit for a missing recency, frequency or spend


def _number(cells: pd.Series, kind: str = "number") -> np.ndarray:
    decl = Input(name="x", type=kind, title=None, unit=None, values=None, min=None, max=None, location=Location(""))
    typed, _ = coerce_column(cells, decl)
    if kind == "boolean":
        return typed.astype(object).to_numpy()
    return typed.to_numpy(dtype=np.float64, na_value=np.nan)


def _features_from_transactions(path: Path, features: FeatureSet, as_of: str | None, encoding: str | None,
                                sheet: str | None, lang: str):
    cells, unreadable = read_cells(path, encoding, sheet, lang)
    columns = find_columns(cells, features, path)
    tx, as_of_day = parse_transactions(cells, columns, unreadable, parse_as_of(as_of) if as_of else None, lang)
    return tx, as_of_day, base_features(tx, as_of_day, features)


def _fit_on_transactions(path: Path, base: pd.DataFrame, features: FeatureSet, as_of_day: int,
                         transactions: int) -> cal.Calibration:
    return cal.fit(base["days_since_last"].to_numpy(), base["transaction_count"].to_numpy(),
                   base["amount_sum"].to_numpy(), features.parameters, input_name=path.name,
                   content_sha256=cal.file_sha256(path), as_of=day_to_date(as_of_day).isoformat(),
                   transactions=transactions, tenure_days=base["days_since_first"].to_numpy(dtype=np.float64))


def derive_file(path: Path, output: Path, features: FeatureSet, *, as_of: str | None = None,
                calibration: cal.Calibration | None = None, rejects: Path | None = None,
                encoding: str | None = None, sheet: str | None = None, lang: str = "zh",
                escape_formulas: bool = True) -> DeriveRun:
    """Base and calibrated features per customer; fits a calibration on the same data when none is given."""
    rejects = rejects or output.with_name(f"{output.stem}.rejects{output.suffix}")
    for target in (output, rejects):
        check_output_suffix(target)
        check_output_file(target)
    refuse_overwrite([path], [output, rejects])
    tx, as_of_day, base = _features_from_transactions(path, features, as_of, encoding, sheet, lang)
    as_of_text = day_to_date(as_of_day).isoformat()
    fitted = calibration is None
    if calibration is None:
        calibration = _fit_on_transactions(path, base, features, as_of_day, len(tx.day))
    table = features_table(base, features, calibration)
    _write({output: table, rejects: tx.rejects}, escape_formulas)
    return DeriveRun(output, rejects, tx.rows_in, len(tx.day), len(tx.rejects), len(table), as_of_text,
                     as_of is not None, calibration, fitted)


def features_table(base: pd.DataFrame, features: FeatureSet, calibration: cal.Calibration) -> pd.DataFrame:
    """The output rows for base features (engine.features.transactions.base_features) under a calibration."""
    calibrated = cal.apply(calibration, *(base[c].to_numpy(dtype=np.float64) for c in
                                          ("days_since_last", "transaction_count", "amount_sum", "days_since_first")),
                           churned=base["churn_flag"].to_numpy())
    return _output_table(base, calibrated, features, calibration.id)


def _output_table(base: pd.DataFrame, calibrated: dict[str, np.ndarray], features: FeatureSet,
                  calibration_id: str) -> pd.DataFrame:
    data: dict[str, object] = {"customer_id": base.index.to_numpy()}
    for name, feature in features.spec.features.items():
        kind = feature.compute
        if kind in calibrated:
            values = pd.Series(calibrated[kind])
        elif kind in base.columns:
            values = base[kind].reset_index(drop=True)
        else:
            continue  # quantity_sum without a quantity column
        if kind in ("first_date", "last_date"):
            values = values.map(lambda day: day_to_date(day).isoformat())
        elif kind == "churn_flag":
            values = values.map({True: "true", False: "false"})
        elif feature.type == "integer":
            values = values.astype("Int64")
        elif kind in _MONEY or kind == "spend_trend":
            values = values.round(6)
        data[name] = values.to_numpy()
    data[CALIBRATION_COLUMN] = calibration_id
    return pd.DataFrame(data)


def _write(tables: dict[Path, pd.DataFrame], escape_formulas: bool) -> None:
    # Every file is complete before any is published: never new features beside old rejects.
    writers = [ChunkWriter(path, escape_formulas) for path in tables]
    try:
        for writer, table in zip(writers, tables.values(), strict=True):
            writer.write(table)
            writer.finish(table.iloc[:0])
    except BaseException:
        for writer in writers:
            writer.abandon()
        raise
    for writer in writers:
        writer.publish()


def calibrate_file(path: Path, output: Path, features: FeatureSet, *, as_of: str | None = None,
                   encoding: str | None = None, sheet: str | None = None, lang: str = "zh") -> CalibrateRun:
    """Fit cut-points on a transactions file, or on a customer file that already has the base features."""
    check_output_file(output)
    refuse_overwrite([path], [output])
    cells, _ = read_cells(path, encoding, sheet, lang)
    names = [features.name(c) for c in _BASE_INPUTS]
    if all(name and name in cells.columns for name in names):
        recency, frequency, monetary = (_number(cells[name]) for name in names)
        tenure_name = features.name("days_since_first")
        tenure = _number(cells[tenure_name]) if tenure_name and tenure_name in cells.columns else None
        keep = ~(np.isnan(recency) | np.isnan(frequency) | np.isnan(monetary))
        skipped = int((~keep).sum())
        if as_of:
            parse_as_of(as_of)  # only stored here, but a mistyped date is still the user's to hear about
        calibration = cal.fit(recency[keep], frequency[keep], monetary[keep], features.parameters,
                              input_name=path.name, content_sha256=cal.file_sha256(path), as_of=as_of,
                              transactions=None, tenure_days=None if tenure is None else tenure[keep])
        from_transactions = False
    else:
        tx, as_of_day, base = _features_from_transactions(path, features, as_of, encoding, sheet, lang)
        calibration = _fit_on_transactions(path, base, features, as_of_day, len(tx.day))
        from_transactions, skipped = True, 0
    cal.save(calibration, output)
    return CalibrateRun(output, calibration, from_transactions, as_of is not None, skipped)


@dataclass(frozen=True)
class CalibratedFeatures:
    """Adds the calibrated features (and the calibration's id) to customer data that has the base
    features, before the rules run: the evaluate hook."""

    features: FeatureSet
    calibration: cal.Calibration

    @property
    def label(self) -> str:
        return self.calibration.id

    def apply(self, table: pd.DataFrame) -> pd.DataFrame:
        names = self.features.names

        def column(computation: str, kind: str = "number") -> np.ndarray | None:
            name = names.get(computation)
            return _number(table[name], kind) if name and name in table.columns else None

        recency, frequency, monetary = (column(c) for c in _BASE_INPUTS)
        missing = np.full(len(table), np.nan)
        if recency is None and frequency is None and monetary is None:
            raise UsageError(S("--calibration needs customer data with recency_days, frequency or monetary_total "
                               "(kece derive writes them)",
                               "--calibration 需要含 recency_days、frequency 或 monetary_total 的客户数据"
                               "(kece derive 会生成)"))
        churned = column("churn_flag", "boolean")
        if churned is not None:
            churned = np.where(pd.isna(churned), False, churned).astype(bool)
        if churned is None and recency is not None:
            churned = np.nan_to_num(recency, nan=0) > self.calibration.parameters.churn_after_days
        tenure = column("days_since_first")
        values = cal.apply(self.calibration, missing if recency is None else recency,
                           missing if frequency is None else frequency, missing if monetary is None else monetary,
                           missing if tenure is None else tenure,
                           churned if churned is not None else np.zeros(len(table), dtype=bool))
        out = table.copy()
        for computation in CALIBRATED:
            name = names.get(computation)
            if name:
                out[name] = _text(values[computation], whole=not computation.startswith("dwyer_clv"))
        out[CALIBRATION_COLUMN] = self.label
        return out

    def apply_record(self, record: Mapping[str, object]) -> dict[str, object]:
        """The record with its calibrated features (replacing any it had); missing ones left out."""
        table = self.apply(table_from_records([record]))
        out = dict(record)
        for name in [self.features.name(c) for c in CALIBRATED] + [CALIBRATION_COLUMN]:
            if name:
                value = table[name].iloc[0]
                if value == "":
                    out.pop(name, None)
                else:
                    out[name] = int(value) if value.isdigit() else float(value) if name != CALIBRATION_COLUMN \
                        else value
        return out


def _text(values: np.ndarray, whole: bool) -> np.ndarray:
    """Calibrated figures as the text cells the rest of the table holds ('' for missing), by column."""
    missing = np.isnan(values)
    shown = np.where(missing, 0, values)
    text = shown.astype(np.int64).astype(str) if whole else shown.astype(str)  # numpy prints floats as repr does
    return np.where(missing, "", text).astype(object)
