"""`rules/features.yaml`: which derived features exist, what they are called, and their parameters.

The file mirrors these dataclasses (read by `SpecReader`, so errors carry file:line like rule-file
errors). A feature names one of a fixed set of built-in computations (`Computation`); there are no
formulas to evaluate. The computations themselves live in `engine.features.transactions` (base features)
and `engine.features.calibration` (scores, pyramid tier, CLV).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from engine.bundled import bundled_dir
from engine.errors import Location, Problem, RuleLoadError, Say
from engine.rules.literals import did_you_mean
from engine.rules.spec import SourceRef, SpecReader, Text, doc
from engine.rules.yamlnodes import compose_text

FEATURES_FILE = "features.yaml"

Computation = Literal[
    "days_since_last", "transaction_count", "amount_sum", "amount_mean", "quantity_sum", "first_date",
    "last_date", "days_since_first", "spend_last_period", "spend_prev_period", "spend_trend", "churn_flag",
    "rfm_recency_score", "rfm_frequency_score", "rfm_monetary_score", "pyramid_tier", "dwyer_clv",
    "dwyer_clv_lost_for_good", "dwyer_clv_temporarily_lost",
]
# Computed from a calibration's cut-points (and its stored parameters), not from transactions alone.
CALIBRATED: tuple[Computation, ...] = ("rfm_recency_score", "rfm_frequency_score", "rfm_monetary_score",
                                       "pyramid_tier", "dwyer_clv", "dwyer_clv_lost_for_good",
                                       "dwyer_clv_temporarily_lost")
# Dwyer's two kinds of lapsed customer (001 永久流失型客户 / 暂时流失型客户): which one `clv` assumes.
LapsedView = Literal["lost_for_good", "temporarily_lost"]
PyramidBasis = Literal["clv", "monetary_total"]
PyramidPopulation = Literal["active", "all"]
FeatureType = Literal["integer", "number", "date", "boolean"]
COLUMNS = ("customer_id", "date", "amount", "quantity")
REQUIRED_COLUMNS = ("customer_id", "date", "amount")


@dataclass(frozen=True)
class FeatureSpec:
    title: Text
    type: FeatureType
    compute: Computation = field(metadata=doc("One of kece's built-in computations (docs/features.md)"))
    description: Text | None = None
    unit: str | None = None
    source: SourceRef | None = None
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class ColumnSpec:
    title: Text
    aliases: tuple[str, ...] = ()
    required: bool = True
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class DwyerSpec:
    margin_rate: float = field(metadata=doc("Share of spend that is margin, 0-1"))
    retention_rate: float = field(metadata=doc("Share of customers kept from one year to the next, 0-1"))
    discount_rate: float = field(metadata=doc("Yearly discount rate, e.g. 0.1"))
    horizon_years: int = field(metadata=doc("Years summed, t = 0 .. horizon_years - 1"))
    lapsed: LapsedView = field(default="lost_for_good", metadata=doc(
        "What a churned customer is worth in `clv`: lost_for_good (0) or temporarily_lost (may come back)"))
    return_rate: float = field(default=0.0, metadata=doc(
        "temporarily_lost: yearly chance a churned customer buys again, 0-1"))
    source: SourceRef | None = None
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class ParametersSpec:
    trend_period_days: int
    churn_after_days: int
    rfm_bins: int
    pyramid_shares: tuple[int, ...]
    clv: DwyerSpec
    pyramid_basis: PyramidBasis = field(default="monetary_total", metadata=doc(
        "What the pyramid ranks by: clv (lifetime value) or monetary_total (past spend)"))
    pyramid_population: PyramidPopulation = field(default="all", metadata=doc(
        "Who the pyramid ranks: active (not churned) customers, or all"))
    assumption: Text | None = None
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class FeaturesFileSpec:
    title: Text
    columns: dict[str, ColumnSpec]
    parameters: ParametersSpec
    features: dict[str, FeatureSpec]
    description: Text | None = None
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class FeatureSet:
    """The checked declaration: output names by computation, column aliases, parameters."""

    path: str
    spec: FeaturesFileSpec

    @property
    def parameters(self) -> ParametersSpec:
        return self.spec.parameters

    @property
    def names(self) -> dict[str, str]:
        """computation -> the feature's (output column) name."""
        return {feature.compute: name for name, feature in self.spec.features.items()}

    def name(self, computation: str) -> str | None:
        return self.names.get(computation)

    def column_names(self, column: str) -> tuple[str, ...]:
        """Headers that give `column` in a transactions file: its own name, then its aliases."""
        spec = self.spec.columns.get(column)
        return (column, *(spec.aliases if spec else ()))


def features_path(rules_dir: Path | None) -> Path:
    """A rules folder's own features.yaml, else the bundled one."""
    if rules_dir is not None and (rules_dir / FEATURES_FILE).is_file():
        return rules_dir / FEATURES_FILE
    return bundled_dir("rules") / FEATURES_FILE


def load_features(path: Path, display: str | None = None) -> FeatureSet:
    """Read and check a features file; every problem, located, in one RuleLoadError."""
    shown = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleLoadError([Problem(Location(shown), "", Say(f"cannot read the file: {exc}",
                                                              f"无法读取文件:{exc}"))]) from None
    node, problems = compose_text(text, shown)
    if node is None:
        raise RuleLoadError(problems)
    reader = SpecReader(shown)
    spec = reader.read(FeaturesFileSpec, node)
    problems = reader.problems
    if spec is not None:
        problems += _check(spec)
    if problems:
        raise RuleLoadError(problems)
    return FeatureSet(shown, spec)


def _check(spec: FeaturesFileSpec) -> list[Problem]:
    problems: list[Problem] = []

    def problem(location: Location, key: str, en: str, zh: str, hint: Say | None = None) -> None:
        problems.append(Problem(location, key, Say(en, zh), hint))

    for name, column in spec.columns.items():
        if name not in COLUMNS:
            problem(column.location, f"columns.{name}", f"unknown column '{name}'", f"未知的列“{name}”",
                    did_you_mean(name, COLUMNS, Say("kece reads", "kece 读取的列")))
    for name in REQUIRED_COLUMNS:
        if name not in spec.columns:
            problem(spec.location, "columns", f"missing column '{name}'", f"缺少列“{name}”")
        elif not spec.columns[name].required:
            problem(spec.columns[name].location, f"columns.{name}.required", f"column '{name}' is always required",
                    f"列“{name}”必须提供", Say("remove required: false", "请删除 required: false"))
    p = spec.parameters
    for key, value, low in (("trend_period_days", p.trend_period_days, 1), ("churn_after_days", p.churn_after_days, 0),
                            ("rfm_bins", p.rfm_bins, 2)):
        if value < low:
            problem(p.location, f"parameters.{key}", f"must be at least {low}, not {value}",
                    f"至少为 {low},不能是 {value}")
    shares = p.pyramid_shares
    if len(shares) < 2 or any(s <= 0 for s in shares) or sum(shares) != 100:
        problem(p.location, "parameters.pyramid_shares",
                f"must be two or more positive whole percentages that add up to 100, not {list(shares)}",
                f"应是两个以上、合计为 100 的正整数百分比,不能是 {list(shares)}", Say("e.g. [1, 4, 15, 80]",
                                                                      "例如 [1, 4, 15, 80]"))
    clv = p.clv
    for key, value, low, high in (("margin_rate", clv.margin_rate, 0, 1), ("retention_rate", clv.retention_rate, 0, 1),
                                  ("discount_rate", clv.discount_rate, 0, 10), ("return_rate", clv.return_rate, 0, 1),
                                  ("horizon_years", clv.horizon_years, 1, 100)):
        if not low <= value <= high:
            problem(clv.location, f"parameters.clv.{key}", f"must be between {low} and {high}, not {value}",
                    f"应在 {low} 到 {high} 之间,不能是 {value}")
    seen: dict[str, str] = {}
    for name, feature in spec.features.items():
        if not name.isidentifier():
            problem(feature.location, f"features.{name}", f"'{name}' is not a usable name",
                    f"“{name}”不能用作特征名", Say("use letters, digits and _", "请只用字母、数字和下划线"))
        if feature.compute in seen:
            problem(feature.location, f"features.{name}.compute",
                    f"'{feature.compute}' is already computed by feature '{seen[feature.compute]}'",
                    f"“{feature.compute}”已由特征“{seen[feature.compute]}”计算")
        seen.setdefault(feature.compute, name)
    return problems
