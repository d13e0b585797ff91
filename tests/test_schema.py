"""The shipped JSON Schema accepts every valid rule file and catches what editors should flag."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from engine.bundled import bundled_dir
from engine.rules.loader import rule_files
from engine.rules.policy import schemas
from engine.rules.spec import json_schema
from tests.conftest import BANK, REPO

SCHEMA = json.loads((REPO / "docs" / "kece-rules.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)


def test_shipped_schema_is_current_and_valid():
    assert SCHEMA == json_schema(), "docs/kece-rules.schema.json is stale: run `make schema`"
    jsonschema.Draft7Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", rule_files(bundled_dir("rules")), ids=lambda p: p.name)
def test_bundled_packs_validate(path):
    assert [e.message for e in VALIDATOR.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))] == []


@pytest.mark.parametrize("kind", ["policy", "actions"])
def test_policy_and_catalog_schemas_are_current_and_accept_the_bundled_files(kind):
    shipped = json.loads((REPO / "docs" / f"kece-{kind}.schema.json").read_text(encoding="utf-8"))
    assert shipped == schemas()[kind], f"docs/kece-{kind}.schema.json is stale: run `make schema`"
    validator = jsonschema.Draft7Validator(shipped)
    bundled = bundled_dir("rules") / f"{kind}.yaml"
    if bundled.is_file():
        assert [e.message for e in validator.iter_errors(yaml.safe_load(bundled.read_text(encoding="utf-8")))] == []


def test_policy_schema_flags_an_unknown_intent():
    validator = jsonschema.Draft7Validator(schemas()["policy"])
    document = {"title": {"zh": "策略", "en": "Policy"},
                "conflicts": [{"id": "x", "keep": "stop_contact", "drop": ["grwo"], "reason": {"zh": "z", "en": "e"}}]}
    assert [e.message for e in validator.iter_errors(document)] == [
        "'grwo' is not one of ['grow', 'retain', 'win_back', 'nurture', 'service', 'collect_data', 'risk_control', "
        "'stop_contact']"]


def test_example_validates_and_mistakes_are_flagged():
    document = yaml.safe_load(BANK)
    assert list(VALIDATOR.iter_errors(document)) == []
    document["rules"][0]["colour"] = "red"
    document["hit_policy"] = "frist"
    messages = sorted(e.message for e in VALIDATOR.iter_errors(document))
    assert any("'colour' was unexpected" in m for m in messages)
    assert any("'frist' is not one of" in m for m in messages)


def test_scope_and_plan_section_validate_and_mistakes_are_flagged():
    document = yaml.safe_load(BANK)
    document["scope"] = {"domain": "bank", "when": {"statements": ["complete", "partial"]}}
    document["plan_section"] = "talking_points"
    document["examples"].append({"given": {"assets": 1, "statements": "none"}, "expect": "out_of_scope"})
    assert list(VALIDATOR.iter_errors(document)) == []
    document["scope"]["domain"] = "insurance"
    document["plan_section"] = "contact"
    messages = sorted(e.message for e in VALIDATOR.iter_errors(document))
    assert messages == ["'contact' is not one of ['segment', 'talking_points', 'contacts']",
                        "'insurance' is not one of ['bank', 'dealer', 'education', 'retail', 'b2b']"]


def test_enum_labels_validate_and_mistakes_are_flagged():
    document = yaml.safe_load(BANK)
    statements = document["inputs"]["statements"]
    statements["labels"] = {"complete": {"zh": "完整", "en": "full"}, "none": {"zh": "无", "en": "none"}}
    assert list(VALIDATOR.iter_errors(document)) == []
    statements["labels"] = {"complete": {"zh": "完整"}, "none": "无"}
    messages = sorted(e.message for e in VALIDATOR.iter_errors(document))
    assert messages == ["'en' is a required property", "'无' is not of type 'object'"]
