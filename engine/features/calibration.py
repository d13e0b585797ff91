"""Calibration: the cut-points that turn a customer's figures into population-relative features.

`kece calibrate` fits them once (RFM quantiles, the value pyramid's spend thresholds) and stores
them with the parameters they go with; applying a calibration to a later table or to one customer
uses only what is stored, so a customer's score does not depend on who else is in the file.

Ties: a value equal to a cut-point falls in the lower bin (bins are right-closed, (c[i-1], c[i]],
as `pandas.qcut` makes them); for recency the lower bin is the better score. Equal cut-points
(heavily tied data, e.g. half the customers bought once) leave the bins between them empty: those
scores are skipped, never split at random. A pyramid customer whose spend equals a band's
threshold joins the better band, so ties can make a band slightly larger than its share.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import yaml

from engine.errors import InputFileError, Location, Problem, RuleLoadError, Say
from engine.features.featureset import DwyerSpec, ParametersSpec
from engine.io.tables import atomic_write
from engine.rules.spec import SpecReader
from engine.rules.yamlnodes import compose_text

KIND = "kece-calibration"
DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class RfmCuts:
    bins: int
    recency_days: tuple[float, ...]
    frequency: tuple[float, ...]
    monetary_total: tuple[float, ...]
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class PyramidCuts:
    shares: tuple[int, ...]
    monetary_total: tuple[float, ...]  # thresholds, best band first: value >= monetary_total[0] is band 1
    basis: str = "monetary_total"  # what the thresholds are in: monetary_total (spend) or clv
    population: str = "all"  # who is ranked: all, or active (churned customers get no tier)
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class StoredParameters:
    churn_after_days: int
    clv: DwyerSpec
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class Calibration:
    """A calibration file, as written by `kece calibrate`."""

    kind: str
    id: str
    input: str
    content_sha256: str
    as_of: str | None
    customers: int
    rfm: RfmCuts
    pyramid: PyramidCuts
    parameters: StoredParameters
    transactions: int | None = None
    location: Location = field(default=Location(""), compare=False)


def quantile_cuts(values: np.ndarray, bins: int) -> tuple[float, ...]:
    """The bins - 1 inner quantiles (linear interpolation, as pandas.qcut takes them)."""
    if not len(values):
        return tuple(0.0 for _ in range(bins - 1))
    return tuple(float(q) for q in np.quantile(values, [i / bins for i in range(1, bins)]))


def pyramid_cuts(monetary: np.ndarray, shares: tuple[int, ...]) -> tuple[float, ...]:
    """Spend thresholds by rank: band k's threshold is the spend of the last customer inside the
    top ceil(n × (s1 + … + sk) / 100), counting customers from the highest spend (pyramid_ranks)."""
    ordered = np.sort(monetary)
    if not len(ordered):
        return tuple(0.0 for _ in shares[:-1])
    return tuple(float(ordered[rank]) for rank in pyramid_ranks(len(ordered), shares))


def fit(recency: np.ndarray, frequency: np.ndarray, monetary: np.ndarray, params: ParametersSpec, *,
        input_name: str, content_sha256: str, as_of: str | None, transactions: int | None,
        tenure_days: np.ndarray | None = None) -> Calibration:
    def finite(values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        return values[np.isfinite(values)]

    bins = params.rfm_bins
    rfm = RfmCuts(bins, quantile_cuts(finite(recency), bins), quantile_cuts(finite(frequency), bins),
                  quantile_cuts(finite(monetary), bins))
    ranked = ranked_for_pyramid(params, recency, monetary, tenure_days)
    return calibration_from_cuts(rfm, pyramid_cuts(finite(ranked), params.pyramid_shares), params,
                                 customers=len(finite(monetary)), input_name=input_name,
                                 content_sha256=content_sha256, as_of=as_of, transactions=transactions)


def stored_clv(params: ParametersSpec) -> DwyerSpec:
    return DwyerSpec(params.clv.margin_rate, params.clv.retention_rate, params.clv.discount_rate,
                     params.clv.horizon_years, params.clv.lapsed, params.clv.return_rate)


def ranked_for_pyramid(params: ParametersSpec, recency: np.ndarray, monetary: np.ndarray,
                       tenure_days: np.ndarray | None) -> np.ndarray:
    """What a fit ranks for the value pyramid (NaN: not ranked)."""
    return pyramid_values(params.pyramid_basis, params.pyramid_population, np.asarray(recency, dtype=np.float64),
                          np.asarray(monetary, dtype=np.float64), tenure_days, params.churn_after_days,
                          stored_clv(params))


def calibration_from_cuts(rfm: RfmCuts, pyramid: tuple[float, ...], params: ParametersSpec, *, customers: int,
                          input_name: str, content_sha256: str, as_of: str | None,
                          transactions: int | None) -> Calibration:
    """The calibration for cut-points fitted elsewhere (in one process, or by Spark), with its id."""
    stored = StoredParameters(params.churn_after_days, stored_clv(params))
    pyramid_spec = PyramidCuts(tuple(params.pyramid_shares), pyramid, params.pyramid_basis, params.pyramid_population)
    calibration = Calibration(KIND, "", input_name, content_sha256, as_of, customers, rfm, pyramid_spec, stored,
                              transactions)
    return Calibration(**{**_fields(calibration), "id": calibration_id(calibration)})


def interpolated_cuts(n: int, bins: int, value_at: Callable[[list[int]], Mapping[int, float]]) -> tuple[float, ...]:
    """`quantile_cuts` of n values known only through `value_at` (ranks from 0, ascending -> value):
    numpy's linear method step for step, so a fit done elsewhere (Spark) gives the same cut-points."""
    if not n:
        return tuple(0.0 for _ in range(bins - 1))
    virtual = (n - 1) * np.array([i / bins for i in range(1, bins)], dtype=np.float64)
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= n - 1
    gamma = virtual - np.where(above, -1.0, previous)  # numpy marks the last value as index -1
    previous[above] = following[above] = n - 1
    ranks = sorted({int(r) for r in (*previous, *following)})
    values = value_at(ranks)
    a = np.array([values[int(r)] for r in previous], dtype=np.float64)
    b = np.array([values[int(r)] for r in following], dtype=np.float64)
    difference = b - a
    result = np.where(gamma >= 0.5, b - difference * (1 - gamma), a + difference * gamma)
    return tuple(float(q) for q in result)


def pyramid_ranks(n: int, shares: tuple[int, ...]) -> list[int]:
    """The ascending ranks (from 0) whose values are `pyramid_cuts`' thresholds, in its order: the
    last customer inside the top ceil(n × (s1 + … + sk) / 100) (a Spark fit looks only these up)."""
    ranks, cumulative = [], 0
    for share in shares[:-1]:
        cumulative += share
        top = -(-n * cumulative // 100)  # ceil in integers: no float error at exact shares
        ranks.append(n - min(max(top, 1), n))
    return ranks


def _fields(calibration: Calibration) -> dict:
    return {name: getattr(calibration, name) for name in Calibration.__dataclass_fields__ if name != "location"}


def calibration_id(calibration: Calibration) -> str:
    """A short hash of everything a score depends on (the cut-points, parameters, data and as-of date)."""
    payload = to_dict(calibration)
    payload.pop("id")
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]


# ---- applying ----------------------------------------------------------------------------------

def score_higher_better(values: np.ndarray, cuts: tuple[float, ...]) -> np.ndarray:
    """1 + the number of cut-points strictly below the value; NaN stays NaN."""
    scores = np.searchsorted(np.asarray(cuts), values, side="left") + 1.0
    return np.where(np.isnan(values), np.nan, scores)


def score_lower_better(values: np.ndarray, cuts: tuple[float, ...]) -> np.ndarray:
    return np.where(np.isnan(values), np.nan, len(cuts) + 2 - score_higher_better(values, cuts))


def pyramid_tier(monetary: np.ndarray, cuts: tuple[float, ...]) -> np.ndarray:
    """Band 1 at or above the first threshold, …, the last band below every threshold."""
    reached = (monetary[:, None] >= np.asarray(cuts)[None, :]).sum(axis=1)
    return np.where(np.isnan(monetary), np.nan, len(cuts) + 1 - reached)


def clv_factor(params: DwyerSpec) -> float:
    """Σ_{t=0}^{T-1} r^t / (1 + d)^t: this year's margin counts in full (t = 0)."""
    ratio = params.retention_rate / (1 + params.discount_rate)
    return float(sum(ratio**t for t in range(params.horizon_years)))


def yearly_margin(monetary: np.ndarray, tenure_days: np.ndarray, margin_rate: float) -> np.ndarray:
    """Spend per year of tenure times the margin rate; less than a year (or unknown tenure) counts
    as one year, so a first-week customer's spend is not multiplied by 52."""
    years = np.maximum(np.nan_to_num(tenure_days, nan=DAYS_PER_YEAR), DAYS_PER_YEAR) / DAYS_PER_YEAR
    return monetary / years * margin_rate


def dwyer_clv(monetary: np.ndarray, tenure_days: np.ndarray, churned: np.ndarray, params: DwyerSpec) -> np.ndarray:
    """Dwyer's lost-for-good CLV; a churned customer is lost for good: 0."""
    value = yearly_margin(monetary, tenure_days, params.margin_rate) * clv_factor(params)
    return np.where(churned, 0.0, value)


def dwyer_clv_temporarily_lost(monetary: np.ndarray, tenure_days: np.ndarray, churned: np.ndarray,
                               params: DwyerSpec) -> np.ndarray:
    """Temporarily lost (Dwyer's always-a-share): a churned customer comes back next year with chance
    `return_rate`, then is worth what an active customer is, discounted one year; active customers
    as under lost-for-good."""
    value = yearly_margin(monetary, tenure_days, params.margin_rate) * clv_factor(params)
    return np.where(churned, value * params.return_rate / (1 + params.discount_rate), value)


def pyramid_values(basis: str, population: str, recency: np.ndarray, monetary: np.ndarray,
                   tenure_days: np.ndarray | None, churn_after_days: int, clv: DwyerSpec) -> np.ndarray:
    """What the pyramid ranks: spend or the lifetime value an active customer is expected to bring;
    NaN for customers outside the population (churned customers when it is `active`)."""
    tenure = np.full(len(monetary), np.nan) if tenure_days is None else np.asarray(tenure_days, dtype=np.float64)
    if basis == "clv":
        values = yearly_margin(monetary, tenure, clv.margin_rate) * clv_factor(clv)
    else:
        values = np.asarray(monetary, dtype=np.float64)
    if population == "active":
        churned = np.nan_to_num(recency, nan=0) > churn_after_days
        values = np.where(churned | np.isnan(recency), np.nan, values)
    return values


def apply(calibration: Calibration, recency: np.ndarray, frequency: np.ndarray, monetary: np.ndarray,
          tenure_days: np.ndarray, churned: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Calibrated features by computation id; `churned` defaults to recency > churn_after_days."""
    if churned is None:
        churned = np.nan_to_num(recency, nan=0) > calibration.parameters.churn_after_days
    rfm = calibration.rfm
    pyramid, params = calibration.pyramid, calibration.parameters
    ranked = pyramid_values(pyramid.basis, pyramid.population, recency, monetary, tenure_days,
                            params.churn_after_days, params.clv)
    if pyramid.population == "active":  # a churned flag given with the data decides who is active
        ranked = np.where(np.asarray(churned, dtype=bool), np.nan, ranked)
    lost = np.round(dwyer_clv(monetary, tenure_days, churned, params.clv), 2)
    temporarily = np.round(dwyer_clv_temporarily_lost(monetary, tenure_days, churned, params.clv), 2)
    return {
        "rfm_recency_score": score_lower_better(recency, rfm.recency_days),
        "rfm_frequency_score": score_higher_better(frequency, rfm.frequency),
        "rfm_monetary_score": score_higher_better(monetary, rfm.monetary_total),
        "pyramid_tier": pyramid_tier(ranked, pyramid.monetary_total),
        "dwyer_clv": temporarily if params.clv.lapsed == "temporarily_lost" else lost,
        "dwyer_clv_lost_for_good": lost,
        "dwyer_clv_temporarily_lost": temporarily,
    }


# ---- the file ----------------------------------------------------------------------------------

def to_dict(calibration: Calibration) -> dict:
    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k not in ("location", "source")}
        if isinstance(value, (tuple, list)):
            return [clean(v) for v in value]
        return value

    return clean({k: v for k, v in asdict(calibration).items()})


HEADER = """\
# kece calibration: cut-points fitted by `kece calibrate`; kece derive/evaluate --calibration apply them.
# kece 校准文件:由 kece calibrate 拟合的分割点;kece derive/evaluate --calibration 使用它们。
# Values equal to a cut-point fall in the lower bin (docs/features.md). 等于分割点的值归入较低的区间。
"""


def save(calibration: Calibration, path: Path) -> None:
    text = HEADER + yaml.safe_dump(to_dict(calibration), sort_keys=False, allow_unicode=True, width=120,
                                  default_flow_style=None)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def load(path: Path, display: str | None = None) -> Calibration:
    shown = display or str(path)
    if not path.is_file():
        raise InputFileError(Say(f"no such calibration file: {shown} (make one with kece calibrate)",
                                 f"找不到校准文件:{shown}(请用 kece calibrate 生成)"))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleLoadError([Problem(Location(shown), "", Say(f"cannot read the calibration file: {exc}",
                                                              f"无法读取校准文件:{exc}"))]) from None
    node, problems = compose_text(text, shown)
    if node is None:
        raise RuleLoadError(problems)
    reader = SpecReader(shown)
    calibration = reader.read(Calibration, node)
    problems = list(reader.problems)
    if calibration is not None:
        problems += _check(calibration)
    if problems:
        raise RuleLoadError(problems)
    return calibration


def _check(cal: Calibration) -> list[Problem]:
    problems = []
    if cal.kind != KIND:
        problems.append(Problem(cal.location, "kind", Say(f"not a calibration file (kind: {cal.kind})",
                                                          f"不是校准文件(kind: {cal.kind})"),
                                Say("make one with kece calibrate", "请用 kece calibrate 生成")))
    for name in ("recency_days", "frequency", "monetary_total"):
        cuts = getattr(cal.rfm, name)
        if len(cuts) != cal.rfm.bins - 1 or list(cuts) != sorted(cuts):
            problems.append(Problem(cal.rfm.location, f"rfm.{name}",
                                    Say(f"needs {cal.rfm.bins - 1} cut-points in ascending order",
                                        f"需要 {cal.rfm.bins - 1} 个从小到大的分割点")))
    cuts = cal.pyramid.monetary_total
    if len(cuts) != len(cal.pyramid.shares) - 1 or list(cuts) != sorted(cuts, reverse=True):
        problems.append(Problem(cal.pyramid.location, "pyramid.monetary_total",
                                Say(f"needs {len(cal.pyramid.shares) - 1} thresholds, highest first",
                                    f"需要 {len(cal.pyramid.shares) - 1} 个从大到小的阈值")))
    return problems


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
