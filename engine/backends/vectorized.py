"""The batch backend: each scheme becomes boolean masks over whole columns (numpy), never a loop
over customers. Hit policies are applied to the (customers x rules) match matrix."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from engine.backends.results import CONFLICT, SchemeResult
from engine.rules.model import Rule, Scheme
from engine.rules.unary import UnaryTest

UNMATCHED, CONFLICTED, OUT_OF_SCOPE = -1, -2, -3


@dataclass
class SchemeColumns:
    """A scheme's results for many customers, column-wise.

    `rule_masks[j]` holds which customers rule j matches (one contiguous row per rule, so the
    hit policies combine whole rows). `winner` indexes the rules (bands under score); -1 is
    unmatched, -2 a conflict, -3 out of the scheme's scope (no rule mask set). Under collect the
    outcome is every matching rule and `winner` is 0 where anything matched.
    """

    scheme: Scheme
    rule_masks: np.ndarray
    winner: np.ndarray
    score: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.winner)

    @cached_property
    def display(self) -> np.ndarray:
        """The output column: rule id, ids joined by '|', band, '' or '!conflict'."""
        if self.scheme.hit_policy == "collect":
            return self._collect_display()
        names = [b.id for b in self.scheme.bands] if self.scheme.hit_policy == "score" else list(self.scheme.rule_ids)
        table = np.array([*names, "", CONFLICT, ""], dtype=object)  # -3, -2, -1 index from the end
        return table[self.winner]

    def display_codes(self) -> tuple[np.ndarray, list[str]]:
        """`display` as (codes, distinct texts): what a table column is built from without a Python
        string per customer."""
        if self.scheme.hit_policy == "collect":
            texts, codes = np.unique(self.display.astype(str), return_inverse=True)
            return codes.reshape(-1), texts.tolist()
        names = [b.id for b in self.scheme.bands] if self.scheme.hit_policy == "score" else list(self.scheme.rule_ids)
        # winner -1 and -3 show as '', -2 as CONFLICT: positions len(names) + 0 and + 1
        lookup = np.array([len(names) + 1, len(names), len(names) + 1], dtype=np.int64)
        codes = np.where(self.winner >= 0, self.winner, lookup[np.clip(self.winner + 3, 0, 2)])
        return codes, [*names, CONFLICT, ""]

    def _collect_display(self) -> np.ndarray:
        # Label each distinct combination of matching rules once, then spread the labels.
        combos, inverse = np.unique(self.rule_masks.T, axis=0, return_inverse=True)
        ids = np.array(self.scheme.rule_ids, dtype=object)
        texts = np.array(["|".join(ids[combo]) for combo in combos] or [""], dtype=object)
        return texts[inverse.reshape(-1)] if len(self.winner) else np.empty(0, dtype=object)

    def matched_indices(self) -> list[tuple[int, ...] | None]:
        """Per customer, the indices of the rules that match (None where the scheme is out of scope).
        Customers share a few distinct combinations, so each row holds one of a few shared tuples
        rather than a list of its own."""
        combos, inverse = np.unique(self.rule_masks.T, axis=0, return_inverse=True)
        shared = [tuple(np.flatnonzero(combo).tolist()) for combo in combos]
        return [None if winner == OUT_OF_SCOPE else shared[code]
                for code, winner in zip(inverse.reshape(-1).tolist(), self.winner.tolist(), strict=True)]

    def result(self, row: int) -> SchemeResult:
        matched = tuple(np.array(self.scheme.rule_ids, dtype=object)[self.rule_masks[:, row]])
        score = float(self.score[row]) if self.score is not None else None
        winner = int(self.winner[row])
        if winner == OUT_OF_SCOPE:
            return SchemeResult(self.scheme.id, "out_of_scope", (), ())
        if winner == CONFLICTED:
            return SchemeResult(self.scheme.id, "conflict", (), matched, score)
        if winner == UNMATCHED:
            return SchemeResult(self.scheme.id, "unmatched", (), matched, score)
        outcome = tuple(self.display[row].split("|"))
        return SchemeResult(self.scheme.id, "matched", outcome, matched, score)

    @classmethod
    def from_results(cls, scheme: Scheme, results: list[SchemeResult]) -> SchemeColumns:
        """Column-wise form of row-wise results (the durable backend's output)."""
        index = {rule_id: i for i, rule_id in enumerate(scheme.rule_ids)}
        rule_masks = np.zeros((len(scheme.rules), len(results)), dtype=bool)
        winner = np.full(len(results), UNMATCHED, dtype=np.int64)
        outcome_index = ({b.id: b.index for b in scheme.bands} if scheme.hit_policy == "score" else index)
        for row, result in enumerate(results):
            rule_masks[[index[r] for r in result.matched], row] = True
            if result.status == "conflict":
                winner[row] = CONFLICTED
            elif result.status == "out_of_scope":
                winner[row] = OUT_OF_SCOPE
            elif result.status == "matched":
                winner[row] = 0 if scheme.hit_policy == "collect" else outcome_index[result.outcome[0]]
        score = (np.array([r.score for r in results], dtype=np.float64) if scheme.hit_policy == "score" else None)
        return cls(scheme, rule_masks, winner, score)

    def restricted(self, inside: np.ndarray | None) -> SchemeColumns:
        """The same results with the customers outside the scheme's scope marked out of scope:
        no rule matched, no score, an empty output column."""
        if inside is None or inside.all():
            return self
        outside = ~inside
        rule_masks = self.rule_masks.copy()
        rule_masks[:, outside] = False
        winner = self.winner.copy()
        winner[outside] = OUT_OF_SCOPE
        score = None
        if self.score is not None:
            score = self.score.copy()
            score[outside] = np.nan
        return SchemeColumns(self.scheme, rule_masks, winner, score)


class ColumnView:
    """Per-input numpy views of typed columns, made once and shared by every test on the input."""

    def __init__(self, columns: Mapping[str, pd.Series]) -> None:
        self.columns = columns
        self._cache: dict[str, tuple[np.ndarray, list | None]] = {}

    def get(self, name: str) -> tuple[np.ndarray, list | None]:
        if name not in self._cache:
            column = self.columns[name]
            if isinstance(column.dtype, pd.CategoricalDtype):
                self._cache[name] = (column.cat.codes.to_numpy(), list(column.cat.categories))
            else:
                self._cache[name] = (column.to_numpy(dtype=np.float64), None)
        return self._cache[name]


def test_mask(test: UnaryTest, columns: ColumnView) -> np.ndarray:
    values, categories = columns.get(test.input)
    if categories is not None:
        # Look the answer up per category; index 0 stands for missing (code -1).
        table = np.array([test.accepts_missing, *((c in test.members) != test.negated for c in categories)],
                         dtype=bool)
        return table[values + 1]
    mask = np.zeros(len(values), dtype=bool)
    for interval in test.intervals:
        part = ~np.isnan(values) if interval.lo is None and interval.hi is None else None
        if interval.lo is not None:
            part = values >= interval.lo if interval.lo_closed else values > interval.lo
        if interval.hi is not None:
            upper = values <= interval.hi if interval.hi_closed else values < interval.hi
            part = upper if part is None else part & upper
        mask |= part
    if test.accepts_missing:
        mask |= np.isnan(values)
    return mask


def all_tests_mask(tests: tuple[UnaryTest, ...], columns: ColumnView, n: int) -> np.ndarray:
    mask = np.ones(n, dtype=bool)
    for test in tests:
        mask &= test_mask(test, columns)
    return mask


def rule_mask(rule: Rule, columns: ColumnView, n: int) -> np.ndarray:
    mask = all_tests_mask(rule.when, columns, n)
    if rule.any:
        alternatives = np.zeros(n, dtype=bool)
        for branch in rule.any:
            alternatives |= all_tests_mask(branch, columns, n)
        mask &= alternatives
    return mask


def evaluate_frame(scheme: Scheme, columns: Mapping[str, pd.Series], n: int | None = None) -> SchemeColumns:
    """Evaluate every customer (row of the typed columns) against one scheme. `n`, the number of
    customers, is needed only when the scheme has no inputs (and so there are no columns)."""
    if n is None:
        n = len(next(iter(columns.values())))
    view = ColumnView(columns)
    rule_masks = np.empty((len(scheme.rules), n), dtype=bool)
    for j, rule in enumerate(scheme.rules):
        rule_masks[j] = rule_mask(rule, view, n)
    masks = list(rule_masks)
    policy = scheme.hit_policy
    if policy == "score":
        score = np.zeros(n, dtype=np.float64)
        for j, rule in enumerate(scheme.rules):  # file order, as the reference sums
            score[rule_masks[j]] += rule.points
        score_view = ColumnView({"score": pd.Series(score)})
        band_masks = [np.ones(n, dtype=bool) if band.test is None else test_mask(band.test, score_view)
                      for band in scheme.bands]
        winner = np.select(band_masks, [band.index for band in scheme.bands], UNMATCHED)
        return SchemeColumns(scheme, rule_masks, winner.astype(np.int64), score)
    if policy == "collect":
        winner = np.where(np.logical_or.reduce(masks, axis=0) if masks else np.zeros(n, bool), 0, UNMATCHED)
    elif policy == "priority":
        order = sorted(range(len(scheme.rules)), key=lambda j: (-scheme.rules[j].priority, j))
        winner = np.select([masks[j] for j in order], order, UNMATCHED)
    else:
        winner = np.select(masks, list(range(len(masks))), UNMATCHED)
        if policy == "unique":
            several = rule_masks.sum(axis=0, dtype=np.int16) > 1
            winner[several] = CONFLICTED
    return SchemeColumns(scheme, rule_masks, winner.astype(np.int64))
