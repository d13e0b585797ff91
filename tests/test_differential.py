"""Both backends give exactly the same answers as the reference meaning, on generated schemes;
and what `kece check`'s analysis proves about a scheme holds for every generated customer.

Random schemes cover every hit policy and every kind of unary test; random customers take values
on and next to every boundary (one float ulp, one integer, one day away) and missing values. Each
generated scheme is checked on 15 customers, so 150 examples make 2,250 cases per run. Schemes
may carry a scope (a domain, `scope.when` tests, or both) and customers a domain cell, so both
backends must also agree on who is out of scope.
"""

from __future__ import annotations

import datetime as dt
import math

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.analysis.regions import analyse
from engine.backends.results import reference as reference_result
from engine.backends.scope import rows_domains
from engine.evaluation.evaluate import evaluate_prepared
from engine.io.coerce import prepare, table_from_records
from engine.rules.loader import load_scheme_text

CUSTOMERS_PER_SCHEME = 15
EXAMPLES = 150

NUMBERS = [-1.5, 0.0, 0.1, 1.0, 2.5, 1e-7, 1e16, 100.0, 5000000.0]
INTEGERS = [-3, 0, 1, 2, 10, 750]
DATES = [dt.date(2020, 1, 1), dt.date(2023, 6, 30), dt.date(2024, 2, 29)]
ENUM = ["a", "b", "c", "鸡血型"]
STRINGS = ["x", "y", "上海"]
DOMAIN_CELLS = ["bank", " Bank ", "dealer", "", "retail"]
TYPES = ["number", "integer", "boolean", "enum", "string", "date"]
POINTS = [1, 2.5, -1, 0.1, 0.2, 10]

cases_checked = {"count": 0, "out_of_scope": 0}


def literal(kind: str, value) -> str:
    if kind == "date":
        return value.isoformat()
    if kind == "number":
        return repr(float(value))
    return str(value)


def pool(kind: str) -> list:
    return {"number": NUMBERS, "integer": INTEGERS, "date": DATES, "enum": ENUM, "string": STRINGS,
            "boolean": [True, False]}[kind]


@st.composite
def unary_test(draw, kind: str):
    values = pool(kind)
    pick = lambda: draw(st.sampled_from(values))  # noqa: E731
    ordered = kind in ("number", "integer", "date")
    forms = ["plain", "ne", "in", "not_in", "missing", "present"]
    if ordered:
        forms += ["cmp", "cmp", "range", "range"]
    form = draw(st.sampled_from(forms))
    if kind == "boolean" and form in ("in", "not_in"):
        form = "plain"
    if form == "plain":
        value = pick()
        return ("true" if value else "false") if kind == "boolean" else literal(kind, value)
    if form == "ne":
        value = pick()
        return "!= " + (("true" if value else "false") if kind == "boolean" else literal(kind, value))
    if form in ("in", "not_in"):
        items = draw(st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True))
        body = ", ".join(literal(kind, v) for v in items)
        if form == "in" and draw(st.booleans()):
            return [literal(kind, v) for v in items]  # a YAML list
        return f"{'not in' if form == 'not_in' else 'in'} [{body}]"
    if form in ("missing", "present"):
        return form
    if form == "cmp":
        return f"{draw(st.sampled_from(['<', '<=', '>', '>=']))} {literal(kind, pick())}"
    lo, hi = sorted([pick(), pick()])
    left, right = draw(st.sampled_from("[(")), draw(st.sampled_from("])"))
    if lo == hi:
        left, right = "[", "]"
    return f"{left}{literal(kind, lo)}..{literal(kind, hi)}{right}"


@st.composite
def conditions(draw, inputs: dict[str, str], max_size: int = 3) -> dict:
    names = draw(st.lists(st.sampled_from(sorted(inputs)), max_size=max_size, unique=True))
    return {name: draw(unary_test(inputs[name])) for name in names}


@st.composite
def scheme_text(draw) -> str:
    names = draw(st.lists(st.sampled_from(["p", "q", "r", "s"]), min_size=1, max_size=4, unique=True))
    inputs = {name: draw(st.sampled_from(TYPES)) for name in names}
    policy = draw(st.sampled_from(["unique", "first", "priority", "collect", "score"]))
    rules = []
    for index in range(draw(st.integers(1, 5))):
        rule = {"id": f"R{index}", "label": {"zh": f"规则{index}", "en": f"Rule {index}"},
                "when": draw(conditions(inputs))}
        if draw(st.integers(0, 3)) == 0:
            rule["any"] = [draw(conditions(inputs, 2).filter(bool)) for _ in range(draw(st.integers(1, 2)))]
        if policy == "priority":
            rule["priority"] = draw(st.integers(0, 3))
        if policy == "score":
            rule["points"] = draw(st.sampled_from(POINTS))
        rules.append(rule)
    declared = {}
    for name, kind in inputs.items():
        declared[name] = {"type": kind, **({"values": ENUM} if kind == "enum" else {})}
    scheme = {"id": "generated", "title": {"zh": "生成", "en": "Generated"}, "hit_policy": policy,
              "inputs": declared, "rules": rules}
    scope = {}
    if draw(st.integers(0, 2)) == 0:
        scope["domain"] = draw(st.sampled_from(["bank", "dealer"]))
    if draw(st.integers(0, 2)) == 0:
        scope["when"] = draw(conditions(inputs, 2))
    if scope:
        scheme["scope"] = scope
    if policy == "score":
        bands = []
        for index in range(draw(st.integers(1, 3))):
            band = {"id": f"band{index}", "label": {"zh": f"档{index}", "en": f"Band {index}"}}
            if index < 2 or draw(st.booleans()):
                operator = draw(st.sampled_from([">=", ">", "<"]))
                band["when"] = f"{operator} {draw(st.sampled_from([0, 1, 2.5, 3.5, 10]))}"
            bands.append(band)
        scheme["bands"] = bands
    return yaml.safe_dump(scheme, allow_unicode=True, sort_keys=False)


def near(kind: str, value):
    """The value and its nearest neighbours, so boundaries are hit exactly and just missed."""
    if kind == "number":
        return [value, math.nextafter(value, math.inf), math.nextafter(value, -math.inf)]
    if kind == "integer":
        return [value, value + 1, value - 1]
    if kind == "date":
        return [value, value + dt.timedelta(days=1), value - dt.timedelta(days=1)]
    return [value]


@st.composite
def customer(draw, inputs: dict[str, str]) -> dict:
    record = {}
    if draw(st.booleans()):
        record["domain"] = draw(st.sampled_from(DOMAIN_CELLS))
    for name, kind in inputs.items():
        if draw(st.integers(0, 6)) == 0:
            continue  # missing
        value = draw(st.sampled_from(near(kind, draw(st.sampled_from(pool(kind))))))
        record[name] = value.isoformat() if kind == "date" else value
    return record


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_backends_agree_with_the_reference(data):
    scheme = load_scheme_text(data.draw(scheme_text()))
    inputs = {name: decl.type for name, decl in scheme.inputs.items()}
    customers = [data.draw(customer(inputs)) for _ in range(CUSTOMERS_PER_SCHEME)]
    table = table_from_records(customers)
    prepared = prepare(table, [scheme], None)
    assert len(prepared.rejects) == 0
    records = prepared.records(scheme)
    domains = rows_domains(table, prepared.rows)
    vectorized = evaluate_prepared(prepared, [scheme], "vectorized", domains)[scheme.id]
    durable = evaluate_prepared(prepared, [scheme], "durable", domains)[scheme.id]
    findings = analyse(scheme).findings  # its example customers are re-checked inside
    kinds = {(f.kind, f.rules) for f in findings}
    never = {f.rules[0] for f in findings if f.kind == "contradiction" and not f.detail}
    never_wins = {f.rules[0] for f in findings if f.kind in ("unreachable", "contradiction") and not f.detail}
    for row, (record, cell) in enumerate(zip(records, customers, strict=True)):
        reference = reference_result(scheme, record, cell.get("domain"))
        assert vectorized.result(row) == reference, (record, scheme)
        assert durable.result(row) == reference, (record, scheme)
        assert vectorized.display[row] == durable.display[row]
        cases_checked["count"] += 1
        cases_checked["out_of_scope"] += reference.status == "out_of_scope"
        # What the analysis proves must hold for every customer in the scheme's scope.
        if reference.status == "out_of_scope":
            continue
        if scheme.hit_policy != "score" and not any(kind == "gap" for kind, _ in kinds):
            assert reference.matched, (record, scheme)
        if scheme.hit_policy == "unique" and not any(kind == "overlap" for kind, _ in kinds):
            assert reference.status != "conflict", (record, scheme)
        assert not never & set(reference.matched), (record, scheme)
        if scheme.hit_policy in ("first", "priority"):
            assert not never_wins & set(reference.outcome), (record, scheme)


def test_enough_cases_were_checked():
    # Runs after the property above (pytest keeps file order): the issue asks for >= 2,000 cases.
    assert cases_checked["count"] >= 2000
    assert cases_checked["out_of_scope"] >= 100  # the scope path is exercised, not just present
