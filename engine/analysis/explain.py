"""Why a customer lands where they do: every rule and test of a scheme against one customer, the
hit policy's verdict on each rule, and for tiered schemes what the customer lacks for a better
tier. The API behind `kece explain`, with renderings for a terminal and for `--json`.

Matching is recomputed here test by test (not taken from a backend) because the point is to show
each test's outcome; tests/test_explain.py checks it agrees with `Rule.matches` and `resolve`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from engine.analysis.ladder import only_when_missing, points_down
from engine.backends.results import SchemeResult, resolve
from engine.errors import Say
from engine.evaluation.evaluate import prepare_customer
from engine.messages import t
from engine.rules.literals import format_value
from engine.rules.model import Input, Record, Rule, Rulebook, Scheme
from engine.rules.spec import HitPolicy, Text
from engine.rules.unary import EVERYTHING, Interval, UnaryTest

Verdict = Literal["won", "counted", "shadowed", "conflict", "failed"]
TIERED: frozenset[str] = frozenset({"first", "priority"})


@dataclass(frozen=True)
class TestCheck:
    __test__ = False  # not a pytest test class, though its name says so

    input: str
    title: Text | None
    test: str  # as written in the rule file
    actual: str  # format_value's rendering: "missing" when absent
    missing: bool  # a string input may hold the word "missing" itself
    passed: bool
    shown: Say  # the value as a reader sees it: an enum value's label, 是/否 for a boolean


@dataclass(frozen=True)
class Branch:
    """One alternative of an `any:` rule; the rule needs one that holds."""

    tests: tuple[TestCheck, ...]
    holds: bool


@dataclass(frozen=True)
class RuleExplanation:
    id: str
    index: int  # position in the file
    label: Text
    matched: bool
    tests: tuple[TestCheck, ...]
    branches: tuple[Branch, ...]
    verdict: Verdict
    reason: Say
    priority: int
    points: float
    beaten_by: str | None = None  # the winner, when the verdict is "shadowed"


class Need(NamedTuple):
    check: TestCheck
    needs: Say
    test: UnaryTest


@dataclass(frozen=True)
class Improvement:
    """What a customer lacks for one better rule: its failing tests and what each asks for."""

    rule_id: str
    label: Text
    needs: tuple[Need, ...]
    branch: int | None = None  # the `any:` branch with fewest failing tests, when none holds


@dataclass(frozen=True)
class BandCheck:
    id: str
    label: Text
    test: str | None  # None: the band takes any score
    passed: bool


@dataclass(frozen=True)
class SchemeExplanation:
    scheme_id: str
    title: Text
    hit_policy: HitPolicy
    result: SchemeResult
    rules: tuple[RuleExplanation, ...]  # in evaluation order
    next_better: tuple[Improvement, ...]  # tiered schemes only; nearest first
    bands: tuple[BandCheck, ...] = ()


Checked = tuple[tuple[TestCheck, ...], tuple[Branch, ...], bool]


def evaluation_order(scheme: Scheme) -> tuple[Rule, ...]:
    """The order in which the hit policy considers rules: file order, or by priority (ties in file order)."""
    if scheme.hit_policy == "priority":
        return tuple(sorted(scheme.rules, key=lambda rule: (-rule.priority, rule.index)))
    return scheme.rules


def explain_scheme(scheme: Scheme, record: Record) -> SchemeExplanation:
    """Explain one typed record (as `Prepared.records(scheme)` gives it; missing inputs absent)."""

    def check(test: UnaryTest) -> TestCheck:
        decl, value = scheme.inputs[test.input], record.get(test.input)
        return TestCheck(test.input, decl.title, test.text, format_value(decl.type, value), value is None,
                         test.matches(value), Say(decl.value_label(value, "en"), decl.value_label(value, "zh")))

    checked: dict[int, Checked] = {}
    for rule in scheme.rules:
        tests = tuple(check(test) for test in rule.when)
        branches = tuple(Branch(c, all(x.passed for x in c)) for c in (tuple(map(check, b)) for b in rule.any))
        matched = all(c.passed for c in tests) and (not branches or any(b.holds for b in branches))
        checked[rule.index] = (tests, branches, matched)
    result = resolve(scheme, [index for index, (_, _, matched) in checked.items() if matched])
    rules = tuple(_explain_rule(scheme, rule, checked[rule.index], result) for rule in evaluation_order(scheme))
    bands = tuple(BandCheck(band.id, band.label, band.test.text if band.test else None,
                            result.score is not None and band.matches(result.score)) for band in scheme.bands)
    return SchemeExplanation(scheme.id, scheme.title, scheme.hit_policy, result, rules,
                             _next_better(scheme, rules, result, record), bands)


def _explain_rule(scheme: Scheme, rule: Rule, checked: Checked, result: SchemeResult) -> RuleExplanation:
    tests, branches, matched = checked
    verdict, reason = _verdict(scheme, rule, checked, result)
    return RuleExplanation(rule.id, rule.index, rule.label, matched, tests, branches, verdict, reason,
                           rule.priority, rule.points, _beaten_by(scheme, rule, checked, result))


def _beaten_by(scheme: Scheme, rule: Rule, checked: Checked, result: SchemeResult) -> str | None:
    if checked[2] and scheme.hit_policy in TIERED and result.outcome[0] != rule.id:
        return result.outcome[0]
    return None


def _verdict(scheme: Scheme, rule: Rule, checked: Checked, result: SchemeResult) -> tuple[Verdict, Say]:
    tests, _, matched = checked
    policy = scheme.hit_policy
    if not matched:
        failing = sum(not c.passed for c in tests)
        if failing:
            return "failed", Say(f"{failing} of {len(tests)} tests fail", f"{len(tests)} 个条件中有 {failing} 个不满足")
        return "failed", Say("none of the alternative groups holds", "所有备选条件组都不成立")
    if policy == "score":
        points = _signed(rule.points)
        return "counted", Say(f"matches: {points} points", f"命中:{points} 分")
    if policy == "collect":
        return "won", Say("matches (every matching rule applies)", "命中(所有命中的规则都适用)")
    if policy == "unique":
        others = [i for i in result.matched if i != rule.id]
        if others:
            return "conflict", Say(f"matches, and so do {', '.join(others)}: only one rule may match",
                                   f"命中,但 {'、'.join(others)} 也命中:只允许命中一条规则")
        return "won", Say("the only matching rule", "唯一命中的规则")
    winner = scheme.rules[scheme.rule_ids.index(result.outcome[0])]
    if winner.id == rule.id:
        if policy == "priority":
            return "won", Say(f"the matching rule with the highest priority ({rule.priority})",
                              f"命中规则中优先级最高({rule.priority})")
        return "won", Say("the first matching rule in file order", "按文件顺序第一条命中的规则")
    if policy == "priority" and winner.priority > rule.priority:
        return "shadowed", Say(f"matches, but {winner.id} has a higher priority ({winner.priority} > {rule.priority})",
                               f"也命中,但 {winner.id} 的优先级更高({winner.priority} > {rule.priority})")
    if policy == "priority":
        return "shadowed", Say(f"matches with the same priority ({rule.priority}), but {winner.id} comes earlier "
                               "in the file", f"也命中,优先级相同({rule.priority}),但 {winner.id} 在文件中更靠前")
    return "shadowed", Say(f"matches, but {winner.id} comes earlier in the file",
                           f"也命中,但 {winner.id} 在文件中更靠前")


def _next_better(scheme: Scheme, rules: tuple[RuleExplanation, ...], result: SchemeResult,
                 record: Record) -> tuple[Improvement, ...]:
    """The ladder's tiers above the customer's, nearest first (unmatched: every tier, best first),
    leaving out any whose needs point down the ladder."""
    ladder = scheme.ladder
    if not ladder:
        return ()
    if result.status == "matched" and result.outcome[0] not in ladder:
        return ()  # off the ladder (a drain tier): no rung to climb from
    explained = {r.id: r for r in rules}
    above = ladder[:ladder.index(result.outcome[0])][::-1] if result.status == "matched" else ladder
    improvements = [_improvement(scheme, explained[rule_id]) for rule_id in above
                    if not only_when_missing(scheme.rules[explained[rule_id].index])]
    return tuple(i for i in improvements
                 if not any(points_down(scheme, n.test, record.get(n.check.input)) for n in i.needs))


def _improvement(scheme: Scheme, explained: RuleExplanation) -> Improvement:
    rule = scheme.rules[explained.index]
    pairs = [(test, c) for test, c in zip(rule.when, explained.tests, strict=True) if not c.passed]
    branch = None
    if explained.branches and not any(b.holds for b in explained.branches):
        # The alternative with the fewest failing tests is the shortest way in.
        branch = min(range(len(rule.any)), key=lambda b: sum(not c.passed for c in explained.branches[b].tests))
        pairs += [(test, c) for test, c in zip(rule.any[branch], explained.branches[branch].tests, strict=True)
                  if not c.passed]
    return Improvement(rule.id, rule.label,
                       tuple(Need(c, describe_need(test, scheme.inputs[test.input]), test) for test, c in pairs),
                       branch)


def describe_need(test: UnaryTest, decl: Input | None = None) -> Say:
    """What value passes `test`, from its normalised form (so `>= 5e6` reads `≥ 5000000`).

    `decl`: the input, whose enum values are listed in the order the rule file declares them and
    shown by their labels (booleans as 是/否); without it values show as written.
    """
    if test.accepts_missing:
        return Say("empty", "为空")
    return Say(_need(test, decl, "en").en, _need(test, decl, "zh").zh)


def _need(test: UnaryTest, decl: Input | None, lang: str) -> Say:
    if decl is None:
        show = lambda value: format_value(test.input_type, value)  # noqa: E731
    else:
        show = lambda value: decl.value_label(value, lang)  # noqa: E731
    if test.ordered:
        return _intervals_need(test.intervals, show)
    order = list(decl.values or ()) if decl is not None else []
    members = sorted(test.members, key=lambda v: (order.index(v) if v in order else len(order), str(v)))
    shown = [show(m) for m in members]
    return _anything_but(shown) if test.negated else _one_of(shown)


def _intervals_need(intervals: tuple[Interval, ...], show: Any) -> Say:
    if intervals == (EVERYTHING,):
        return _anything_but([])
    if all(i.lo is not None and i.lo == i.hi for i in intervals):
        return _one_of([show(i.lo) for i in intervals])
    # `!= x` and `not in [...]` normalise to the open gaps between the excluded points.
    gaps = zip(intervals, intervals[1:], strict=False)
    if len(intervals) > 1 and intervals[0].lo is None and intervals[-1].hi is None and \
            all(a.hi == b.lo and not a.hi_closed and not b.lo_closed for a, b in gaps):
        return _anything_but([show(i.hi) for i in intervals[:-1]])
    parts = [_interval_text(i, show) for i in intervals]
    return Say(" or ".join(parts), " 或 ".join(parts))


def _interval_text(interval: Interval, show: Any) -> str:
    if interval.lo is None:
        return f"{'≤' if interval.hi_closed else '<'} {show(interval.hi)}"
    if interval.hi is None:
        return f"{'≥' if interval.lo_closed else '>'} {show(interval.lo)}"
    return f"{'[' if interval.lo_closed else '('}{show(interval.lo)}..{show(interval.hi)}" \
           f"{']' if interval.hi_closed else ')'}"


def _one_of(shown: list[str]) -> Say:
    if len(shown) == 1:
        return Say(shown[0], shown[0])
    return Say(f"one of {', '.join(shown)}", f"{'、'.join(shown)} 之一")


def _anything_but(shown: list[str]) -> Say:
    if not shown:
        return Say("any value", "任意值(不能为空)")
    return Say(f"anything but {', '.join(shown)}", f"{'、'.join(shown)} 以外的任意值")


def _signed(points: float) -> str:
    shown = format_value("number", float(points))
    return shown if shown.startswith("-") else f"+{shown}"


# Renderings. Labels and titles come from the rule pack in `lang`; ids and tests stay as written.

_POLICY = {
    "first": Say("the first matching rule in file order wins", "按文件顺序,第一条命中的规则胜出"),
    "priority": Say("the matching rule with the highest priority wins; ties go to the earlier rule",
                    "命中规则中优先级最高的胜出;优先级相同时取文件中靠前的"),
    "unique": Say("at most one rule may match", "至多只能命中一条规则"),
    "collect": Say("every matching rule applies", "所有命中的规则都适用"),
    "score": Say("matching rules add their points; the total picks the band", "命中规则的分数相加,按总分确定分段"),
}
_MARK = {"won": "✓", "counted": "+", "shadowed": "○", "conflict": "!", "failed": "✗"}


def _labels(ex: SchemeExplanation) -> dict[str, Text]:
    return {r.id: r.label for r in ex.rules} | {b.id: b.label for b in ex.bands}


def _check_json(c: TestCheck, lang: str) -> dict[str, Any]:
    # `value` stays the raw id (as in output files); `shown` is what a reader sees.
    return {"input": c.input, "title": c.title.get(lang) if c.title else None, "test": c.test,
            "value": None if c.missing else c.actual, "shown": None if c.missing else c.shown.get(lang),
            "passed": c.passed}


def to_json(ex: SchemeExplanation, lang: str = "zh") -> dict[str, Any]:
    """A JSON-ready dict for `--json`; keys in a fixed order, missing values as null."""
    labels = _labels(ex)

    def rule(r: RuleExplanation) -> dict[str, Any]:
        extra = {"priority": r.priority} if ex.hit_policy == "priority" else \
            {"points": r.points} if ex.hit_policy == "score" else {}
        return {"id": r.id, "label": r.label.get(lang), "verdict": r.verdict, "reason": r.reason.get(lang),
                "matched": r.matched, "beaten_by": r.beaten_by, **extra,
                "tests": [_check_json(c, lang) for c in r.tests],
                "any": [{"holds": b.holds, "tests": [_check_json(c, lang) for c in b.tests]} for b in r.branches]}

    return {
        "scheme": ex.scheme_id, "title": ex.title.get(lang), "hit_policy": ex.hit_policy,
        "status": ex.result.status,
        "outcome": [{"id": o, "label": labels[o].get(lang)} for o in ex.result.outcome],
        "matched": list(ex.result.matched), "score": ex.result.score,
        "rules": [rule(r) for r in ex.rules],
        "bands": [{"id": b.id, "label": b.label.get(lang), "test": b.test, "passed": b.passed} for b in ex.bands],
        "next_better": [{"id": i.rule_id, "label": i.label.get(lang), "branch": i.branch,
                         "needs": [{**_check_json(n.check, lang), "needs": n.needs.get(lang)} for n in i.needs]}
                        for i in ex.next_better],
    }


def render_text(ex: SchemeExplanation, lang: str = "zh") -> list[str]:
    """Lines for a terminal: the outcome, each rule with its tests, and the way to the next better rule."""
    en = lang == "en"
    say = lambda english, chinese: english if en else chinese  # noqa: E731
    labels, result = _labels(ex), ex.result
    if result.status == "matched":
        outcome = say("; ", ";").join(f"{o} — {labels[o].get(lang)}" for o in result.outcome)
    elif result.status == "conflict":
        outcome = say(f"conflict: {', '.join(result.matched)} all match",
                      f"规则冲突:{'、'.join(result.matched)} 同时命中")
    else:
        outcome = say("no rule matches", "没有命中任何规则")
    if result.score is not None:
        total = format_value("number", result.score)
        outcome += say(f" (score {total})", f"(得分 {total})")
    lines = [t(lang, "summary_title", scheme=ex.scheme_id, title=ex.title.get(lang)) + say(": ", ":") + outcome,
             "  " + say(f"Hit policy {ex.hit_policy}: ", "命中策略:") + _POLICY[ex.hit_policy].get(lang)]

    def shown(c: TestCheck) -> tuple[str, str]:
        return (c.title.get(lang) if c.title else c.input), (say("missing", "缺失") if c.missing else c.shown.get(lang))

    def test_line(c: TestCheck, indent: str) -> str:
        title, actual = shown(c)
        return f"{indent}{'✓' if c.passed else '✗'} {title}{say(': ', ':')}{actual}" + \
            say(f" (rule: {c.test})", f"(条件:{c.test})")

    for r in ex.rules:
        tag = say(f" [priority {r.priority}]", f" [优先级 {r.priority}]") if ex.hit_policy == "priority" else ""
        lines.append(f"  {_MARK[r.verdict]} {r.id}  {r.label.get(lang)}{tag} — {r.reason.get(lang)}")
        lines += [test_line(c, "      ") for c in r.tests]
        if r.branches:
            lines.append("      " + say("one of these groups:", "以下任一组成立即可:"))
        for n, b in enumerate(r.branches, 1):
            lines.append(f"        {'✓' if b.holds else '✗'} " + say(f"group {n}", f"第 {n} 组"))
            lines += [test_line(c, "          ") for c in b.tests]
        if not r.tests and not r.branches:
            lines.append("      " + say("(no tests: every customer matches)", "(无条件:所有客户都命中)"))
    if ex.bands:
        chosen = result.outcome[0] if result.outcome else None
        lines.append("  " + say("Bands by total score:", "按总分分段:"))
        for b in ex.bands:
            mark = "✓" if b.id == chosen else "○" if b.passed else "✗"
            test = b.test if b.test is not None else say("any score", "任意得分")
            lines.append(f"  {mark} {b.id}  {b.label.get(lang)}" + say(f" (rule: {test})", f"(条件:{test})"))
    if ex.next_better:
        best = ex.next_better[0]
        moving = result.status == "matched"
        group = "" if best.branch is None else say(f", group {best.branch + 1}", f",第 {best.branch + 1} 组")
        lines.append("  " + say(f"{'To move up to' if moving else 'To match'} {best.rule_id} "
                                f"({best.label.get(lang)}{group}):",
                                f"{'要升到' if moving else '要命中'} {best.rule_id}({best.label.get(lang)}{group}):"))
        for need in best.needs:
            title, actual = shown(need.check)
            now = "缺失" if need.check.missing else f"现为 {actual}"
            lines.append("      " + say(f"{title}: now {actual}, needs {need.needs.en}",
                                        f"{title}:{now},需要 {need.needs.zh}"))
    return lines


@dataclass(frozen=True)
class CustomerExplanation:
    explanations: list[SchemeExplanation]
    skipped: dict[str, list[str]]  # scheme id -> the inputs the customer lacks
    not_applicable: dict[str, Say]  # scheme id -> why the customer is out of its scope


def explain_customer(rulebook: Rulebook, customer: Mapping[str, object], schemes: Sequence[str] | None = None,
                     lang: str = "zh", domain: str | None = None) -> CustomerExplanation:
    """Why one customer gets what it gets, scheme by scheme (and the schemes that do not apply)."""
    usable, skipped, prepared, domains = prepare_customer(rulebook, customer, schemes, lang, domain)
    cell = domains[0] if domains is not None else ""
    explanations, not_applicable = [], {}
    for scheme in usable:
        record = prepared.records(scheme)[0]
        if scheme.scope.applies(record, cell):
            explanations.append(explain_scheme(scheme, record))
        else:
            not_applicable[scheme.id] = _why_out_of_scope(scheme, record, cell)
    return CustomerExplanation(explanations, skipped, not_applicable)


def _why_out_of_scope(scheme: Scheme, record: Mapping[str, object], domain: str) -> Say:
    if scheme.scope.domain is not None and domain and domain != scheme.scope.domain:
        return Say(f"the customer's domain is {domain}; the scheme is for {scheme.scope.domain}",
                   f"客户领域为 {domain},本方案适用于 {scheme.scope.domain}")
    failed = next(test for test in scheme.scope.tests if not test.matches(record.get(test.input)))
    decl = scheme.inputs[failed.input]
    value = format_value(decl.type, record.get(failed.input))
    return Say(f"{decl.display('en')} ({failed.input}) = {value} does not pass the scope test {failed.text}",
               f"{decl.display('zh')}({failed.input})= {value},不满足适用范围条件 {failed.text}")
