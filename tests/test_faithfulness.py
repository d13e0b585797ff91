"""Readings of the source material the packs once got wrong (issue 13), pinned: each case names the
passage (file + a verbatim quote, checked to be in the file) and the customer and outcome that
follow from it, on the bundled packs and on both backends."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from engine.bundled import bundled_dir
from engine.evaluate import evaluate_customer
from engine.loader import load_rulebook
from tests.conftest import SOURCE_MATERIAL

RULEBOOK = load_rulebook(bundled_dir("rules"))
SCHEMES = {scheme.id: scheme for scheme in RULEBOOK.schemes}
F000 = "000_c5684c226985bacd.txt"
F001 = "001_53575a88e6d975b1.txt"
F002 = "002_3659b9d3bba3af78.txt"
F003 = "003_86362943ff4354ee.txt"
F004 = "004_30a29ac49e3b8113.txt"


@dataclass(frozen=True)
class Reading:
    name: str
    file: str
    quote: str
    scheme: str
    customer: dict
    expect: tuple[str, ...]


READINGS = [
    # 1. Comparison shopping is an intensive (鸡血型) trait; rational parents go by the child.
    Reading("comparison-shopper-is-intensive", F000, "广泛体验尝试对比之后给孩子最优选择", "parent_attitude",
            {"child_stage": "primary", "pressure_level": 3, "weekly_class_hours": 12, "classes_enrolled": 5,
             "chooses_by": "comparison"}, ("intensive",)),
    Reading("comparison-with-pressure-4-is-intensive", F000, "广泛体验尝试对比之后给孩子最优选择",
            "parent_attitude", {"child_stage": "primary", "pressure_level": 4, "weekly_class_hours": 1,
                                "classes_enrolled": 1, "chooses_by": "comparison"}, ("intensive",)),
    Reading("low-pressure-comparison-is-not-rational", F000, "报班更考虑孩子自身状况和喜好", "parent_attitude",
            {"child_stage": "primary", "pressure_level": 2, "weekly_class_hours": 3, "classes_enrolled": 3,
             "chooses_by": "comparison"}, ("follower",)),
    Reading("rational-goes-by-the-child", F000, "报班更考虑孩子自身状况和喜好", "parent_attitude",
            {"child_stage": "primary", "pressure_level": 3, "weekly_class_hours": 12, "classes_enrolled": 5,
             "chooses_by": "child_interest"}, ("rational",)),
]


def test_every_reading_has_a_unique_name():
    names = [reading.name for reading in READINGS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("reading", READINGS, ids=lambda r: r.name)
def test_the_passage_is_in_the_source(reading: Reading):
    if not SOURCE_MATERIAL.is_dir():
        pytest.skip("the source material is not beside this checkout")
    assert reading.quote in (SOURCE_MATERIAL / reading.file).read_text(encoding="utf-8")


@pytest.mark.parametrize("backend", ["vectorized", "durable"])
@pytest.mark.parametrize("reading", READINGS, ids=lambda r: r.name)
def test_the_pack_follows_the_passage(reading: Reading, backend: str):
    result = evaluate_customer(RULEBOOK, reading.customer, [reading.scheme], backend=backend).results[reading.scheme]
    assert result.outcome == reading.expect


def _plain(values: dict) -> dict:
    """Given values as comparable text: missing left out, 12 and 12.0 alike."""
    def text(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return str(value).lower()
        return repr(float(value))
    return {k: text(v) for k, v in values.items() if v is not None}


@pytest.mark.parametrize("reading", READINGS, ids=lambda r: r.name)
def test_the_pack_has_an_example_for_the_reading(reading: Reading):
    """Every corrected reading is also an example in its pack, so `kece test` shows it to business users."""
    scheme = SCHEMES[reading.scheme]
    wanted = _plain(reading.customer)
    for example in scheme.examples:
        if _plain(example.given) == wanted:
            assert tuple(example.expect) == reading.expect
            return
    pytest.fail(f"{reading.scheme} has no example {wanted}")


def test_the_plan_fixture_marks_its_talkative_tactic_as_its_own():
    """10. 001 gives the talkative type (口若悬河型) traits only, no tactic: the golden-plan fixture's
    tactic cites the trait passage and says it is the fixture's own."""
    import yaml

    from tests.test_plan import TALK_STYLE

    rule = next(r for r in yaml.safe_load(TALK_STYLE)["rules"] if r["id"] == "talkative")
    assert rule["source"] == {"file": F001, "quote": "口若悬河型客户特点:一开口就滔滔不绝"}
    assert "测试夹具自己" in rule["assumption"]["zh"] and "fixture's own" in rule["assumption"]["en"]
    if SOURCE_MATERIAL.is_dir():
        text = (SOURCE_MATERIAL / F001).read_text(encoding="utf-8")
        assert rule["source"]["quote"] in text
        traits = text[text.index("口若悬河型客户特点"):]
        assert "应对" not in traits[:traits.index("\n")]  # the passage is traits only
