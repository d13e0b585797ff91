"""Why a customer got its result: every rule in evaluation order, every test with the customer's
value, the hit policy's choice, and what would move the customer to the next better rule."""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import Say
from engine.literals import format_value
from engine.model import Record, Rule, Scheme
from engine.results import SchemeResult, resolve
from engine.unary import UnaryTest

VERDICTS = {
    "won": Say("won", "胜出"), "shadowed": Say("matched, but lost", "命中但未胜出"),
    "conflict": Say("matched: conflict", "命中:冲突"), "counted": Say("counted", "计分"),
    "failed": Say("not matched", "未命中"),
}


@dataclass(frozen=True)
class TestCheck:
    test: UnaryTest
    actual: str
    passed: bool


@dataclass(frozen=True)
class RuleCheck:
    rule: Rule
    matched: bool
    when: tuple[TestCheck, ...]
    branches: tuple[tuple[TestCheck, ...], ...]
    verdict: str  # a key of VERDICTS


@dataclass(frozen=True)
class Explanation:
    scheme: Scheme
    result: SchemeResult
    rules: tuple[RuleCheck, ...]  # in evaluation order
    next_better: RuleCheck | None  # first and priority: the nearest rule that would beat the winner


def evaluation_order(scheme: Scheme) -> list[Rule]:
    if scheme.hit_policy == "priority":
        return sorted(scheme.rules, key=lambda r: (-r.priority, r.index))
    return list(scheme.rules)


def explain(scheme: Scheme, record: Record) -> Explanation:
    """`record` holds typed values as `Prepared.records` gives them (missing inputs left out)."""
    result = resolve(scheme, [r.index for r in scheme.rules if r.matches(record)])
    checks = []
    for rule in evaluation_order(scheme):
        when = tuple(_check(t, scheme, record) for t in rule.when)
        branches = tuple(tuple(_check(t, scheme, record) for t in b) for b in rule.any)
        matched = rule.id in result.matched
        checks.append(RuleCheck(rule, matched, when, branches, _verdict(scheme, result, rule, matched)))
    better = None
    if scheme.hit_policy in ("first", "priority"):
        ahead = [c for c in checks if not c.matched]
        if result.outcome:
            winner = next(i for i, c in enumerate(checks) if c.rule.id == result.outcome[0])
            ahead = [c for c in checks[:winner] if not c.matched]
        better = ahead[-1] if result.outcome and ahead else (ahead[0] if ahead else None)
    return Explanation(scheme, result, tuple(checks), better)


def _check(test: UnaryTest, scheme: Scheme, record: Record) -> TestCheck:
    value = record.get(test.input)
    return TestCheck(test, format_value(scheme.inputs[test.input].type, value), test.matches(value))


def _verdict(scheme: Scheme, result: SchemeResult, rule: Rule, matched: bool) -> str:
    if not matched:
        return "failed"
    if scheme.hit_policy == "score":
        return "counted"
    if result.status == "conflict":
        return "conflict"
    return "won" if rule.id in result.outcome else "shadowed"


def failing_tests(check: RuleCheck) -> list[TestCheck]:
    """What stands between the customer and a rule: failing `when` tests, and, when no `any`
    branch holds, the failing tests of the branch closest to holding."""
    failing = [c for c in check.when if not c.passed]
    if check.branches and not any(all(c.passed for c in b) for b in check.branches):
        closest = min(check.branches, key=lambda b: sum(not c.passed for c in b))
        failing.extend(c for c in closest if not c.passed)
    return failing


def needs(test: UnaryTest, kind: str, order: tuple[str, ...] | None = None) -> Say:
    """The values a test accepts, as a rep would say it (enum values in their declared `order`)."""
    show = lambda v: format_value(kind, v)  # noqa: E731
    parts: list[Say] = []
    if test.ordered:
        for i in test.intervals:
            if i.lo is None and i.hi is None:
                parts.append(Say("any value", "任意值"))
            elif i.lo is not None and i.lo == i.hi:
                parts.append(Say(f"= {show(i.lo)}", f"= {show(i.lo)}"))
            elif i.hi is None:
                text = f"{'≥' if i.lo_closed else '>'} {show(i.lo)}"
                parts.append(Say(text, text))
            elif i.lo is None:
                text = f"{'≤' if i.hi_closed else '<'} {show(i.hi)}"
                parts.append(Say(text, text))
            else:
                text = f"{'[' if i.lo_closed else '('}{show(i.lo)}..{show(i.hi)}{']' if i.hi_closed else ')'}"
                parts.append(Say(text, text))
    else:
        rank = {v: i for i, v in enumerate(order or ())}
        values = ", ".join(show(m) for m in sorted(test.members, key=lambda m: (rank.get(m, len(rank)), str(m))))
        if test.negated:
            parts.append(Say(f"any value but {values}", f"除 {values} 以外的任意值") if values
                         else Say("any value", "任意值"))
        elif values:
            parts.append(Say(f"one of {values}", f"{values} 之一") if len(test.members) > 1
                         else Say(f"= {values}", f"= {values}"))
    if test.accepts_missing:
        parts.append(Say("empty", "为空"))
    return Say(" or ".join(p.en for p in parts), " 或 ".join(p.zh for p in parts))


def _title(scheme: Scheme, name: str, lang: str) -> str:
    decl = scheme.inputs[name]
    return f"{decl.title.get(lang)}({name})" if decl.title and lang == "zh" else (
        f"{decl.title.get(lang)} ({name})" if decl.title else name)


def render_text(explanation: Explanation, lang: str = "zh") -> list[str]:
    scheme, result = explanation.scheme, explanation.result
    say = lambda en, zh: Say(en, zh).get(lang)  # noqa: E731
    if result.status == "matched":
        shown = " | ".join(f"{o} {scheme.outcome_label(o, lang)}" for o in result.outcome)
    else:
        shown = say("no rule matches", "未命中任何规则") if result.status == "unmatched" else say(
            f"conflict: {', '.join(result.matched)}", f"规则冲突:{'、'.join(result.matched)}")
    lines = [f"{scheme.id} ({scheme.title.get(lang)}) · hit_policy {scheme.hit_policy}: {shown}"]
    if result.score is not None:
        total = format_value("number", result.score)
        lines.append(say(f"  score {total}", f"  得分 {total}"))
    for check in explanation.rules:
        mark = "✓" if check.matched else "✗"
        extra = ""
        if scheme.hit_policy == "priority":
            extra = f" priority {check.rule.priority}"
        if scheme.hit_policy == "score":
            extra = f" points {format_value('number', check.rule.points)}"
        verdict = VERDICTS[check.verdict].get(lang)
        lines.append(f"  {mark} {check.rule.id} {check.rule.label.get(lang)}{extra} — {verdict}")
        if not check.when and not check.branches:
            lines.append("      " + say("(no tests: matches everyone)", "(无条件:命中所有客户)"))
        for test_check in check.when:
            lines.append("      " + _line(scheme, test_check, lang))
        for b, branch in enumerate(check.branches):
            holds = all(c.passed for c in branch)
            lines.append(f"      any[{b}] {'✓' if holds else '✗'}")
            lines.extend("        " + _line(scheme, c, lang) for c in branch)
    better = explanation.next_better
    if better is not None:
        target = f"{better.rule.id} {better.rule.label.get(lang)}"
        lines.append(say(f"  To reach {target}:", f"  要达到 {target}:"))
        for c in failing_tests(better):
            decl = scheme.inputs[c.test.input]
            wanted, title = needs(c.test, decl.type, decl.values), _title(scheme, c.test.input, lang)
            lines.append("      " + say(f"{title} needs {wanted.en} (now {c.actual})",
                                        f"{title} 需要 {wanted.zh}(当前 {c.actual})"))
    return lines


def _line(scheme: Scheme, check: TestCheck, lang: str) -> str:
    actual = check.actual if check.actual != "missing" or lang == "en" else "空"
    return f"{'✓' if check.passed else '✗'} {_title(scheme, check.test.input, lang)} = {actual}  {check.test.text}"


def to_json(explanation: Explanation, lang: str = "zh") -> dict:
    """A plain, JSON-serialisable form for machines (`kece explain --json`)."""
    scheme, result = explanation.scheme, explanation.result

    def test_json(c: TestCheck) -> dict:
        return {"input": c.test.input, "test": c.test.text, "actual": c.actual, "passed": c.passed}

    better = explanation.next_better
    return {
        "scheme": scheme.id, "title": scheme.title.get(lang), "hit_policy": scheme.hit_policy,
        "status": result.status, "outcome": list(result.outcome), "matched": list(result.matched),
        "score": result.score,
        "rules": [{"id": c.rule.id, "label": c.rule.label.get(lang), "matched": c.matched, "verdict": c.verdict,
                   "when": [test_json(t) for t in c.when],
                   "any": [[test_json(t) for t in b] for b in c.branches]} for c in explanation.rules],
        "next_better": None if better is None else {
            "id": better.rule.id, "label": better.rule.label.get(lang),
            "needs": [{**test_json(c), "needs": needs(c.test, scheme.inputs[c.test.input].type,
                                                   scheme.inputs[c.test.input].values).get(lang)}
                      for c in failing_tests(better)]},
    }
