"""The durable-rules backend: each scheme compiled into a durable_rules ruleset.

How we use durable_rules, and why (from its code and issues):
- Customers are asserted as *facts*, because a fact fires every rule it matches (an event fires
  only one); the hit policy is then applied to the set of rules that fired.
- No matching rule raises MessageNotHandledException: that means "unmatched", not an error.
- Every fact is retracted after evaluation and all facts share one state context (sid), because
  a ruleset holds at most 1,024 sids and facts would otherwise pile up.
- A ruleset name can be registered only once per process and never deleted, so every compiled
  scheme gets a fresh name.
- durable_rules' JSON reader rejects numbers such as 1e-07 or 1e+16 (an exponent without a
  decimal point), which Python's json writes; we install a writer that always adds the point.
"""

from __future__ import annotations

import itertools
import json
import threading
import types

import durable.engine
from durable.engine import MessageNotHandledException
from durable.lang import assert_fact, m, retract_fact, ruleset, when_all

from engine.model import Record, Rule, Scheme
from engine.results import SchemeResult, resolve
from engine.unary import UnaryTest

SEQ = "kece_seq"  # input names may not start with kece_, so this never clashes
_names = itertools.count(1)
_lock = threading.Lock()


def _encode(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        text = repr(value)
        mantissa, exponent_mark, exponent = text.partition("e")
        if exponent_mark and "." not in mantissa:
            text = f"{mantissa}.0e{exponent}"
        return text
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{_encode(v)}"
                              for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    raise TypeError(f"cannot send {type(value).__name__} to durable_rules")


durable.engine.json = types.SimpleNamespace(dumps=lambda value, ensure_ascii=True: _encode(value),
                                            loads=json.loads)


def _test_condition(test: UnaryTest):
    field = getattr(m, test.input)
    alternatives = []
    if test.ordered:
        for interval in test.intervals:
            parts = []
            if interval.lo is not None:
                parts.append(field >= interval.lo if interval.lo_closed else field > interval.lo)
            if interval.hi is not None:
                parts.append(field <= interval.hi if interval.hi_closed else field < interval.hi)
            alternatives.append(_and(parts) if parts else +field)
    elif test.negated:
        alternatives.append(_and([+field, *(field != v for v in _sorted(test.members))]))
    else:
        alternatives.extend(field == v for v in _sorted(test.members))
    if test.accepts_missing:
        alternatives.append(-field)
    return _or(alternatives) if alternatives else None


def _sorted(members: frozenset) -> list:
    return sorted(members, key=repr)


def _and(parts: list):
    result = parts[0]
    for part in parts[1:]:
        result = result & part
    return result


def _or(parts: list):
    result = parts[0]
    for part in parts[1:]:
        result = result | part
    return result


def _conjunction(tests: tuple[UnaryTest, ...]) -> list | None:
    """Conditions of a run of tests; None when one of them can never hold."""
    parts = []
    for test in tests:
        condition = _test_condition(test)
        if condition is None:
            return None
        parts.append(condition)
    return parts


def rule_condition(rule: Rule):
    """The durable_rules antecedent of a rule; None if the rule can never match."""
    parts = _conjunction(rule.when)
    if parts is None:
        return None
    if rule.any:
        branches = [_conjunction(branch) for branch in rule.any]
        branches = [_and(b) for b in branches if b]
        if not branches:
            return None
        parts.append(_or(branches))
    return _and([+getattr(m, SEQ), *parts])


class DurableScheme:
    """One scheme as a durable_rules ruleset; `match` asserts a customer and collects what fired."""

    def __init__(self, scheme: Scheme) -> None:
        self.scheme = scheme
        self.name = f"kece_{next(_names)}_{scheme.id}"
        self._fired: set[int] = set()
        self._seq = itertools.count()
        with ruleset(self.name):
            for rule in scheme.rules:
                condition = rule_condition(rule)
                if condition is not None:
                    when_all(condition)(self._action(rule.index))
            # A ruleset needs at least one rule; this one never fires (seq is never negative).
            when_all(getattr(m, SEQ) < 0)(lambda c: None)

    def _action(self, index: int):
        def fired(_context) -> None:
            self._fired.add(index)
        return fired

    def match(self, record: Record) -> list[int]:
        fact = {k: v for k, v in record.items() if v is not None}
        with _lock:
            fact[SEQ] = next(self._seq)
            self._fired = set()
            try:
                assert_fact(self.name, fact)
            except MessageNotHandledException:
                pass
            finally:
                try:
                    retract_fact(self.name, fact)
                except MessageNotHandledException:
                    pass
            return sorted(self._fired)

    def evaluate(self, record: Record) -> SchemeResult:
        return resolve(self.scheme, self.match(record))
