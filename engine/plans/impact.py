"""How a rule change alters the arbitrated actions of the customers it moves (`kece impact`): each
moved customer's plan is built under the old and the new rulebook, each with its own policy, and
the actions gained and lost and the recurring touches a week are added up per scheme."""

from __future__ import annotations

import datetime as dt

import numpy as np

from engine.analysis.migration import Migration
from engine.evaluation.batch import EvaluatedChunk
from engine.io.coerce import Prepared
from engine.plans.compose import NAME_COLUMNS, build_plan
from engine.plans.model import Plan
from engine.plans.playbook import Catalog
from engine.rules.model import Rulebook

DAYS_A_WEEK = 7


class ActionShift:
    """A MovedHook (analysis.impact) filling each Migration's actions_gained/lost and touches."""

    def __init__(self, old: Rulebook, new: Rulebook, catalog: Catalog, as_of: dt.date) -> None:
        self.rulebooks = (old, new)
        self.catalog, self.as_of = catalog, as_of
        self.touch = [_touches(old), _touches(new)]

    def add(self, old: EvaluatedChunk, new: EvaluatedChunk, old_at: np.ndarray, new_at: np.ndarray,
            moved: dict[str, np.ndarray], migrations: dict[str, Migration]) -> None:
        anyone = np.logical_or.reduce(list(moved.values()))
        picked = np.flatnonzero(anyone)
        plans = [self._plans(chunk, rulebook, at[picked])
                 for chunk, rulebook, at in ((old, self.rulebooks[0], old_at), (new, self.rulebooks[1], new_at))]
        where = {int(p): i for i, p in enumerate(picked)}
        for sid, mask in moved.items():
            migration = migrations[sid]
            for position in np.flatnonzero(mask).tolist():
                before, after = plans[0][where[position]], plans[1][where[position]]
                was, now = _actions(before), _actions(after)
                migration.actions_gained.update(now[key] for key in now.keys() - was.keys())
                migration.actions_lost.update(was[key] for key in was.keys() - now.keys())
                migration.touches_before += _weekly(before, self.touch[0])
                migration.touches_after += _weekly(after, self.touch[1])

    def _plans(self, chunk: EvaluatedChunk, rulebook: Rulebook, positions: np.ndarray) -> list[Plan]:
        """The plans of the customers at `positions` of the chunk, under `rulebook`."""
        prepared = chunk.prepared
        subset = Prepared(prepared.ids.iloc[positions].reset_index(drop=True), prepared.rows[positions],
                          {key: column.iloc[positions].reset_index(drop=True)
                           for key, column in prepared.columns.items()})
        schemes = [col.scheme for col in chunk.columns.values()]
        records = zip(*(subset.iter_records(scheme) for scheme in schemes), strict=True)
        hits = {sid: col.matched_indices() for sid, col in chunk.columns.items()}
        name_column = next((c for c in NAME_COLUMNS if c in chunk.table.columns), None)
        names = chunk.table[name_column].loc[subset.rows].tolist() if name_column else [""] * len(subset)
        plans = []
        for i, (position, typed) in enumerate(zip(positions.tolist(), records, strict=True)):
            plans.append(build_plan(schemes, {s.id: r for s, r in zip(schemes, typed, strict=True)},
                                    str(subset.ids.iloc[i]), str(names[i] or ""), self.as_of, self.catalog,
                                    matched={sid: found[position] for sid, found in hits.items()},
                                    policy=rulebook.policy))
        return plans


def _touches(rulebook: Rulebook) -> dict[str, bool]:
    """Action key -> whether it reaches the customer (a touch), over every action of the rulebook."""
    found: dict[str, bool] = {key: action.touch for key, action in rulebook.catalog.items()}
    for scheme in rulebook.schemes:
        for item in (*scheme.rules, *scheme.bands):
            for action in item.strategy:
                found.setdefault(action.key, action.touch)
    return found


def _actions(plan: Plan) -> dict[str, str]:
    return {action.key or action.text: action.text for action in plan.actions}


def _weekly(plan: Plan, touch: dict[str, bool]) -> float:
    """Recurring touches a week: each chosen touch repeated every N days counts 7/N; a one-off
    action has no weekly rate and counts nothing."""
    return sum(DAYS_A_WEEK / a.cadence_days for a in plan.actions
               if a.cadence_days and touch.get(a.key, a.channel not in (None, "other")))

