"""The durable-rules backend: each scheme compiled into a durable_rules ruleset.

How we use durable_rules, and why (from its code and issues):
- Customers are asserted as *facts*, because a fact fires every rule it matches (an event fires
  only one); the hit policy is then applied to the set of rules that fired.
- No matching rule raises MessageNotHandledException: that means "unmatched", not an error.
- Every fact is retracted after evaluation and all facts share one state context (sid), because
  a ruleset holds at most 1,024 sids and facts would otherwise pile up.
- A ruleset name can be registered only once per process and never deleted, so every compiled
  scheme gets a fresh name.
- durable_rules refuses a rule whose condition expands into too many alternatives, so kece
  expands conditions itself and splits a large rule into several durable rules with one action.
- durable_rules' JSON reader rejects numbers such as 1e-07 or 1e+16 (an exponent without a
  decimal point), which Python's json writes; we install a writer that always adds the point.
"""

from __future__ import annotations

import itertools
import json
import math
import threading
import types
from collections.abc import Callable

import durable.engine
from durable.engine import MessageNotHandledException
from durable.lang import assert_fact, m, retract_fact, ruleset, when_all

from engine.backends.results import SchemeResult, resolve
from engine.rules.model import Record, Rule, Scheme
from engine.rules.unary import UnaryTest

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


# durable_rules expands each rule's condition into alternatives of plain conjunctions and refuses
# a rule whose expansion is too large (error 113 when the ruleset is created: three tests with 3
# values each and one of 4 already fail). kece splits such a rule into several durable rules that
# share its action, each expanding to at most this many alternatives.
MAX_ALTERNATIVES = 32

Term = Callable[[], object]  # builds one durable_rules comparison; built fresh for every use


def _alternatives(test: UnaryTest) -> list[list[Term]]:
    """The test as alternatives, each a conjunction of comparisons (empty when it can never hold)."""
    name = test.input
    field = lambda: getattr(m, name)  # noqa: E731
    alternatives: list[list[Term]] = []
    if test.ordered:
        for interval in test.intervals:
            parts: list[Term] = []
            # Bound values are bound as defaults: the terms are built after the loop has moved on.
            if interval.lo is not None:
                parts.append((lambda lo=interval.lo: field() >= lo) if interval.lo_closed
                             else (lambda lo=interval.lo: field() > lo))
            if interval.hi is not None:
                parts.append((lambda hi=interval.hi: field() <= hi) if interval.hi_closed
                             else (lambda hi=interval.hi: field() < hi))
            alternatives.append(parts or [lambda: +field()])
    elif test.negated:
        alternatives.append([lambda: +field(), *((lambda v=v: field() != v) for v in _sorted(test.members))])
    else:
        alternatives.extend([lambda v=v: field() == v] for v in _sorted(test.members))
    if test.accepts_missing:
        alternatives.append([lambda: -field()])
    return alternatives


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


def _condition(factors: list[list[list[Term]]]):
    """One durable antecedent: every factor holds (a factor: alternatives of conjunctions)."""
    parts = [_or([_and([term() for term in alternative]) for alternative in factor]) for factor in factors]
    return _and([+getattr(m, SEQ), *parts])


def rule_conditions(rule: Rule) -> list:
    """The durable_rules antecedents of a rule, any one of which firing means the rule matches;
    none if the rule can never match."""
    when = [_alternatives(test) for test in rule.when]
    products = [when + [_alternatives(test) for test in branch] for branch in rule.any] if rule.any else [when]
    conditions = []
    while products:
        factors = products.pop()
        if any(not factor for factor in factors):
            continue  # a test that can never hold
        if math.prod(len(factor) for factor in factors) <= MAX_ALTERNATIVES:
            conditions.append(_condition(factors))
            continue
        widest = max(range(len(factors)), key=lambda k: len(factors[k]))
        products += [[*factors[:widest], [alternative], *factors[widest + 1:]] for alternative in factors[widest]]
    return conditions


class DurableScheme:
    """One scheme as a durable_rules ruleset; `match` asserts a customer and collects what fired."""

    def __init__(self, scheme: Scheme) -> None:
        self.scheme = scheme
        self.name = f"kece_{next(_names)}_{scheme.id}"
        self._fired: set[int] = set()
        self._seq = itertools.count()
        with ruleset(self.name):
            for rule in scheme.rules:
                for condition in rule_conditions(rule):
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
