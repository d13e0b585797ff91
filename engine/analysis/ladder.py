"""A scheme's ladder of tiers (`tiers:`): which way its better tiers move an input, whether a need
points down the ladder, and which rules no customer climbs to. Used by explain's "next better" and
by plans' next tier, which must agree."""

from __future__ import annotations

from engine.rules.model import Rule, Scheme
from engine.rules.unary import UnaryTest


def ladder_direction(scheme: Scheme, name: str) -> int:
    """1 when the ladder's better tiers ask for higher values of input `name`, -1 for lower, 0 when its
    tests on `name` do not say (fewer than two tiers test it, or they go both ways)."""
    middles = []
    for rule_id in scheme.ladder:
        rule = scheme.rules[scheme.rule_ids.index(rule_id)]
        middle = next((_middle(test) for test in rule.when if test.input == name and test.ordered), None)
        if middle is not None:
            middles.append(middle)
    steps = [better - worse for better, worse in zip(middles, middles[1:], strict=False)]
    if steps and all(step >= 0 for step in steps) and any(steps):
        return 1
    if steps and all(step <= 0 for step in steps) and any(steps):
        return -1
    return 0


def _middle(test: UnaryTest) -> float | None:
    """Where a test's accepted values sit: the middle of their span, its bound when open on one side."""
    if not test.intervals:  # `missing`: no values at all
        return None
    lows = [i.lo for i in test.intervals]
    highs = [i.hi for i in test.intervals]
    lo = None if any(v is None for v in lows) else min(lows)  # type: ignore[type-var]
    hi = None if any(v is None for v in highs) else max(highs)  # type: ignore[type-var]
    if lo is None and hi is None:
        return None
    return float(hi if lo is None else lo if hi is None else (lo + hi) / 2)  # type: ignore[operator]


def points_down(scheme: Scheme, test: UnaryTest, value: object, direction: int | None = None) -> bool:
    """Whether passing `test` would take the customer's value down the ladder: e.g. spend must fall
    below 5,000 when better tiers ask for more spend. Such a tier is no step up for this customer.
    `direction`: ladder_direction's, when the caller has it."""
    if value is None or not test.ordered or test.matches(value):
        return False
    direction = ladder_direction(scheme, test.input) if direction is None else direction
    if direction > 0:
        return all(i.hi is not None and i.hi <= value for i in test.intervals)  # type: ignore[operator]
    if direction < 0:
        return all(i.lo is not None and i.lo >= value for i in test.intervals)  # type: ignore[operator]
    return False


def only_when_missing(rule: Rule) -> bool:
    """A rule only customers with a missing value can match ("not yet graded"): no better tier, since
    nobody moves up by losing data."""
    if any(test.accepts_missing for test in rule.when):
        return True
    return bool(rule.any) and all(any(test.accepts_missing for test in branch) for branch in rule.any)
