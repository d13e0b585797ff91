"""客策 kece's Python API: load rule packs, evaluate customers (one, a file, a DataFrame), explain,
check, derive features and write action plans. Import from here; the subpackages are the layout:

    errors, messages, bundled   cross-cutting: the exception tree, the zh/en catalog, shipped files
    rules/       the rule-file format: safe YAML, typed spec, unary tests, loader, frozen model
    backends/    evaluating a scheme: hit policies, vectorized masks, durable_rules, scope
    io/          files in and out: formats, typing cells, rejects, atomic writes
    features/    derived features: transactions, calibration (RFM, pyramid, CLV), derive
    evaluation/  the evaluation API: one customer, a prepared table, a file in chunks
    analysis/    what the rules do: exact overlap/gap analysis, explain, examples, the report
    plans/       action plans: composing, the playbook sandbox, rendering and writing files
    spark/       optional: the same evaluation and derive on Apache Spark (pyspark, Java 17+)
    console/     the terminal views of cli.py (rich)

Names resolve on first use (PEP 562), so `import engine` stays cheap and `kece --help` starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    # errors
    "KeceError": "engine.errors",
    "RuleLoadError": "engine.errors",
    "UsageError": "engine.errors",
    "Say": "engine.errors",
    # rules
    "load_rulebook": "engine.rules.loader",
    "load_scheme_text": "engine.rules.loader",
    "Rulebook": "engine.rules.model",
    "Scheme": "engine.rules.model",
    "json_schema": "engine.rules.spec",
    # evaluation
    "evaluate_customer": "engine.evaluation.evaluate",
    "evaluate_prepared": "engine.evaluation.evaluate",
    "customer_from_file": "engine.evaluation.evaluate",
    "BACKENDS": "engine.evaluation.evaluate",
    "evaluate_file": "engine.evaluation.batch",
    "evaluate_chunks": "engine.evaluation.batch",
    "prepare": "engine.io.coerce",
    # analysis
    "explain_customer": "engine.analysis.explain",
    "analyse": "engine.analysis.regions",
    "run_examples": "engine.analysis.examples",
    "collect_report": "engine.analysis.report:collect",
    "write_report": "engine.analysis.report",
    # features
    "load_features": "engine.features.featureset",
    "derive_file": "engine.features.derive",
    "calibrate_file": "engine.features.derive",
    "CalibratedFeatures": "engine.features.derive",
    "load_calibration": "engine.features.calibration:load",
    # plans
    "plan_for_customer": "engine.plans.compose",
    "build_plan": "engine.plans.compose",
    "write_plans": "engine.plans.files",
    "render_plan": "engine.plans.files",
    "load_catalog": "engine.plans.playbook",
    "check_playbooks": "engine.plans.playbook_check",
    # spark (optional: pyspark loads only when a Spark run starts)
    "evaluate_spark": "engine.spark.evaluate",
    # workspace
    "init_workspace": "engine.workspace",
    "bundled_dir": "engine.bundled",
}

__all__ = [
    "BACKENDS",
    "CalibratedFeatures",
    "KeceError",
    "RuleLoadError",
    "Rulebook",
    "Say",
    "Scheme",
    "UsageError",
    "analyse",
    "build_plan",
    "bundled_dir",
    "calibrate_file",
    "check_playbooks",
    "collect_report",
    "customer_from_file",
    "derive_file",
    "evaluate_chunks",
    "evaluate_customer",
    "evaluate_file",
    "evaluate_prepared",
    "evaluate_spark",
    "explain_customer",
    "init_workspace",
    "json_schema",
    "load_calibration",
    "load_catalog",
    "load_features",
    "load_rulebook",
    "load_scheme_text",
    "plan_for_customer",
    "prepare",
    "render_plan",
    "run_examples",
    "write_plans",
    "write_report",
]


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    module_name, _, attribute = target.partition(":")
    value = getattr(importlib.import_module(module_name), attribute or name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and editors: the same names, imported eagerly
    from engine.analysis.examples import run_examples
    from engine.analysis.explain import explain_customer
    from engine.analysis.regions import analyse
    from engine.analysis.report import collect as collect_report
    from engine.analysis.report import write_report
    from engine.bundled import bundled_dir
    from engine.errors import KeceError, RuleLoadError, Say, UsageError
    from engine.evaluation.batch import evaluate_chunks, evaluate_file
    from engine.evaluation.evaluate import BACKENDS, customer_from_file, evaluate_customer, evaluate_prepared
    from engine.features.calibration import load as load_calibration
    from engine.features.derive import CalibratedFeatures, calibrate_file, derive_file
    from engine.features.featureset import load_features
    from engine.io.coerce import prepare
    from engine.plans.compose import build_plan, plan_for_customer
    from engine.plans.files import render_plan, write_plans
    from engine.plans.playbook import load_catalog
    from engine.plans.playbook_check import check_playbooks
    from engine.rules.loader import load_rulebook, load_scheme_text
    from engine.rules.model import Rulebook, Scheme
    from engine.rules.spec import json_schema
    from engine.spark.evaluate import evaluate_spark
    from engine.workspace import init_workspace
