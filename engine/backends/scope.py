"""Which customers a scheme applies to (its `scope:`), for many customers at once.

The mask is computed once per scheme and chunk, before either backend runs, so both backends see
the same customers in scope and cannot disagree about it; `Scope.applies` is the reference meaning.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from engine.backends.vectorized import ColumnView, all_tests_mask
from engine.errors import Say, UsageError
from engine.rules.model import DOMAIN_COLUMNS, Scheme


def domain_column(columns) -> str | None:
    """The column that holds each customer's domain (domain, 领域 or 客户领域), if there is one."""
    found = [name for name in columns if str(name).strip().lower() in DOMAIN_COLUMNS]
    if len(found) > 1:
        raise UsageError(Say(f"columns {', '.join(map(str, found))} all give the customer's domain; keep one",
                             f"列 {'、'.join(map(str, found))} 都表示客户领域;请只保留一列"))
    return found[0] if found else None


# What a Chinese customer file may write in its domain column.
DOMAIN_NAMES = {"银行": "bank", "经销商": "dealer", "渠道": "dealer", "教育": "education", "零售": "retail",
                "消费者": "retail", "企业": "b2b", "企业客户": "b2b"}


def normalised_domains(cells: pd.Series) -> np.ndarray:
    """Domain cells as compared: trimmed, lower case, Chinese names as the domain ids, '' for empty."""
    text = cells.astype("string").str.normalize("NFKC").str.strip().str.lower()
    return text.replace(DOMAIN_NAMES).fillna("").to_numpy(dtype=object)


def rows_domains(table: pd.DataFrame, rows: np.ndarray) -> np.ndarray | None:
    """The normalised domain of each of `rows` (row numbers, the table's index), or None when the
    table has no domain column."""
    name = domain_column(table.columns)
    if name is None:
        return None
    keep = np.isin(table.index.to_numpy(), rows)
    return normalised_domains(table[name][keep])


def scope_mask(scheme: Scheme, columns: Mapping[str, pd.Series], n: int,
               domains: np.ndarray | None = None) -> np.ndarray | None:
    """Which of the `n` customers are in the scheme's scope; None when all are, whatever they hold."""
    scope = scheme.scope
    inside = None
    if scope.domain is not None and domains is not None:
        inside = (domains == "") | (domains == scope.domain)
    if scope.tests:
        tested = all_tests_mask(scope.tests, ColumnView(columns), n)
        inside = tested if inside is None else inside & tested
    return inside
