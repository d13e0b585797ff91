"""Run a scheme's `examples` on a backend: each is a small test a business user wrote."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.backends.results import SchemeResult
from engine.backends.scope import rows_domains
from engine.errors import Location, Say
from engine.evaluation.evaluate import Backend, evaluate_prepared
from engine.io.coerce import prepare, table_from_records
from engine.rules.literals import format_value
from engine.rules.model import OUT_OF_SCOPE, Example, Scheme


@dataclass(frozen=True)
class ExampleFailure:
    scheme: Scheme
    example: Example
    backend: Backend
    actual: SchemeResult

    @property
    def location(self) -> Location:
        return self.example.location

    def describe(self, lang: str = "en", name_backend: bool = True) -> str:
        """What the example expects and what it got; `name_backend=False` where every backend got the
        same (the rules are wrong, or the example), not one of them (a bug in kece)."""
        given = ", ".join(f"{name}={format_value(self.scheme.inputs[name].type, value)}"
                          for name, value in self.example.given.items())
        if self.example.domain is not None:
            given = ", ".join(filter(None, [f"domain={self.example.domain}", given]))
        nothing = Say("(no match)", "(未命中)").get(lang)
        expected = "|".join(self.example.expect) or nothing
        actual = OUT_OF_SCOPE if self.actual.status == "out_of_scope" else self.actual.display or nothing
        if name_backend:
            text = Say(f"example {{{given}}} expects {expected}, but the {self.backend} backend gives {actual}",
                       f"示例 {{{given}}} 应得 {expected},但 {self.backend} 引擎得到 {actual}").get(lang)
        else:
            text = Say(f"example {{{given}}} expects {expected}, but the rules give {actual}",
                       f"示例 {{{given}}} 应得 {expected},但规则给出 {actual}").get(lang)
        if self.example.score is not None and self.actual.score != self.example.score:
            got, wanted = format_value("number", self.actual.score), format_value("number", self.example.score)
            text += Say(f" (score {got}, expected {wanted})", f"(得分 {got},应为 {wanted})").get(lang)
        return text


def by_example(failures: Sequence[ExampleFailure]) -> list[tuple[ExampleFailure, ...]]:
    """The failures of each example together, in the order first met."""
    groups: dict[int, list[ExampleFailure]] = {}
    for failure in failures:
        groups.setdefault(id(failure.example), []).append(failure)
    return [tuple(group) for group in groups.values()]


def run_examples(scheme: Scheme, backend: Backend) -> list[ExampleFailure]:
    if not scheme.examples:
        return []
    # Examples hold typed values; write them as cells so they take the same path as a file.
    records = [{name: format_value(scheme.inputs[name].type, value) if value is not None else None
                for name, value in example.given.items()} for example in scheme.examples]
    if any(example.domain is not None for example in scheme.examples):
        for record, example in zip(records, scheme.examples, strict=True):
            record.setdefault("domain", example.domain)
    table = table_from_records(records)
    prepared = prepare(table, [scheme], None)
    # The loader checks example values as a file's cells are checked, so none is rejected here.
    assert len(prepared) == len(scheme.examples), prepared.rejects.to_dict("records")
    columns = evaluate_prepared(prepared, [scheme], backend, rows_domains(table, prepared.rows))[scheme.id]
    failures = []
    for row, example in enumerate(scheme.examples):
        actual = columns.result(row)
        outcome = (OUT_OF_SCOPE,) if actual.status == "out_of_scope" else actual.outcome
        wrong_score = example.score is not None and actual.score != example.score
        if outcome != example.expect or actual.status == "conflict" or wrong_score:
            failures.append(ExampleFailure(scheme, example, backend, actual))
    return failures
