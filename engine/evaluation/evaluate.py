"""The evaluation API: one customer or a whole file, with either backend. The CLI is a thin layer
over these functions and tests call them directly."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import pandas as pd

from engine.backends.results import CONFLICT, SchemeResult, out_of_scope
from engine.backends.scope import rows_domains, scope_mask
from engine.backends.vectorized import SchemeColumns, evaluate_frame
from engine.errors import Say, UsageError
from engine.io.coerce import Prepared, prepare, table_from_records
from engine.io.tables import apply_aliases, guess_id_column, header_names, header_renames, iter_table
from engine.messages import t
from engine.rules.literals import did_you_mean
from engine.rules.model import Rulebook, Scheme
from engine.rules.spec import Domain

DOMAINS: tuple[str, ...] = get_args(Domain)

Backend = Literal["vectorized", "durable"]
BACKENDS: tuple[Backend, ...] = ("vectorized", "durable")


class DurableCache:
    """Compiled durable rulesets per scheme; compiling registers a ruleset for good, so do it once."""

    def __init__(self) -> None:
        self._compiled: dict[int, object] = {}

    def get(self, scheme: Scheme):
        from engine.backends.durable import DurableScheme

        key = id(scheme)
        if key not in self._compiled:
            self._compiled[key] = (scheme, DurableScheme(scheme))  # keep scheme alive: id() stays unique
        return self._compiled[key][1]


_durable = DurableCache()


def evaluate_prepared(prepared: Prepared, schemes: Sequence[Scheme], backend: Backend = "vectorized",
                      domains: np.ndarray | None = None) -> dict[str, SchemeColumns]:
    """Every scheme on every prepared customer. `domains` holds each customer's normalised domain
    cell when the input has a domain column; with the scheme's `scope.when` it decides, once for
    both backends, which customers are out of scope."""
    results: dict[str, SchemeColumns] = {}
    for scheme in schemes:
        inside = scope_mask(scheme, prepared.frame(scheme), len(prepared), domains)
        if backend == "vectorized":
            columns = evaluate_frame(scheme, prepared.frame(scheme), len(prepared))
        else:
            compiled = _durable.get(scheme)
            rows = [compiled.evaluate(record) if inside is None or inside[row] else out_of_scope(scheme)
                    for row, record in enumerate(prepared.records(scheme))]
            columns = SchemeColumns.from_results(scheme, rows)
        results[scheme.id] = columns.restricted(inside)
    return results


def for_domain(schemes: Sequence[Scheme], domain: str | None) -> list[Scheme]:
    """The schemes for `domain` (`--domain`) and those without one; all when `domain` is None."""
    if domain is None:
        return list(schemes)
    if domain not in DOMAINS:
        hint = did_you_mean(domain, DOMAINS) or Say("", "")
        raise UsageError(Say(f"--domain must be one of {', '.join(DOMAINS)}, not '{domain}' {hint.en}".rstrip(),
                             f"--domain 只能是 {'、'.join(DOMAINS)},不能是“{domain}”{hint.zh}"))
    return [scheme for scheme in schemes if scheme.scope.domain in (None, domain)]


def applicable(schemes: Sequence[Scheme], columns: Sequence[str]) -> tuple[list[Scheme], dict[str, list[str]]]:
    """Split schemes into those that can be evaluated and those that cannot (with the inputs lacking).

    A scheme needs every input as a column of the file, or a key of a single customer's record (its
    cell may be empty: "" or null): a file without one of its columns is about other customers. One
    rule for both, so a row gets the same schemes from `kece evaluate`, `explain`, `plan --id`,
    `plan --customer` (the row as JSON) and `plan --all`.
    """
    available = set(columns)
    usable, skipped = [], {}
    for scheme in schemes:
        missing = [name for name in scheme.inputs if name not in available]
        if missing:
            skipped[scheme.id] = missing
        else:
            usable.append(scheme)
    return usable, skipped


FILE = Say("the file", "文件")
CUSTOMER = Say("the customer", "客户")


def choose_schemes(rulebook: Rulebook, requested: Sequence[str] | None, columns: Sequence[str],
                   whom: Say = FILE, domain: str | None = None) -> tuple[list[Scheme], dict[str, list[str]]]:
    """The schemes to evaluate for a file's header or one customer's keys (`whom` names which in
    errors), and those skipped with the inputs they lack; every command chooses through here."""
    unknown = [s for s in requested or () if s not in rulebook.by_id]
    if unknown:
        hints = [hint for hint in (did_you_mean(s, rulebook.by_id) for s in unknown) if hint]
        en_hint, zh_hint = (f" ({'; '.join(h.en for h in hints)})", f"({';'.join(h.zh for h in hints)})") \
            if hints else ("", "")
        raise UsageError(Say(f"unknown scheme {', '.join(unknown)}{en_hint}; the rules define: "
                             f"{', '.join(rulebook.by_id)}",
                             f"未知的方案 {'、'.join(unknown)}{zh_hint};规则中定义的方案:{'、'.join(rulebook.by_id)}"))
    selected = rulebook.select(requested)
    kept = for_domain(selected, domain)
    kept_ids = {s.id for s in kept}
    other = [f"{s.id} ({s.scope.domain})" for s in selected if s.id not in kept_ids]
    if (requested and other) or not kept:
        en_other, zh_other = (f": {', '.join(other)} are for other domains", f":{'、'.join(other)} 属于其他领域") \
            if requested else ("", "")
        raise UsageError(Say(f"no scheme for domain {domain}{en_other}", f"没有领域为 {domain} 的方案{zh_other}"))
    usable, skipped = applicable(kept, columns)
    if (requested and skipped) or not usable:
        details = Say("; ".join(f"{sid} needs {', '.join(cols)}" for sid, cols in skipped.items()),
                      ";".join(f"{sid} 需要 {'、'.join(cols)}" for sid, cols in skipped.items()))
        # JSON leaves out empty fields, so say how to give one.
        hint = Say("; give an input the customer has no value for as null", ";客户没有取值的输入请写 null") \
            if whom is CUSTOMER else Say("", "")
        raise UsageError(Say(f"{whom.en} lacks inputs of the {'requested ' if requested else ''}schemes: "
                             f"{details.en}{hint.en}",
                             f"{whom.zh}缺少{'所选' if requested else ''}方案的输入:{details.zh}{hint.zh}"))
    return usable, skipped


def describe_missing(schemes: Sequence[Scheme], skipped: Mapping[str, list[str]], columns: Sequence[str]
                     ) -> dict[str, Say]:
    """Each input a skipped scheme lacks, as a user can act on it: its title, and a header of the file
    that looks like one of its names (did you mean?), since a renamed column is the usual cause."""
    missing = {name for names in skipped.values() for name in names}
    known = header_names(schemes)
    decls = {name: decl for scheme in schemes for name, decl in scheme.inputs.items() if name in missing}
    spare = [str(c) for c in columns if str(c) not in known]
    folded = {c.casefold(): c for c in spare}
    described = {}
    for name in sorted(missing):
        decl = decls.get(name)
        close = None
        for wanted in (*known.get(name, ((name,), ()))[0], *known.get(name, ((), ()))[1]):
            found = difflib.get_close_matches(wanted.casefold(), list(folded), n=1, cutoff=0.5)
            found = found or [c for c in folded if len(c) >= 2 and (c in wanted.casefold() or wanted.casefold() in c)]
            if found:
                close = folded[found[0]]
                break
        en = [decl.display("en")] if decl and decl.title else []
        zh = [decl.display("zh")] if decl and decl.title else []
        if close is not None:
            en.append(f"did you mean column '{close}'?")
            zh.append(f"是不是文件中的“{close}”列?")
        described[name] = Say(f"{name} ({'; '.join(en)})" if en else name, f"{name}({';'.join(zh)})" if zh else name)
    return described


def alias_schemes(rulebook: Rulebook, requested: Sequence[str] | None) -> list[Scheme]:
    """The schemes whose input aliases may rename a file's columns: the requested ones, or all."""
    return [s for s in rulebook.schemes if not requested or s.id in requested]


@dataclass(frozen=True)
class CustomerEvaluation:
    results: dict[str, SchemeResult]
    skipped: dict[str, list[str]]
    schemes: dict[str, Scheme]


def evaluate_customer(rulebook: Rulebook, customer: Mapping[str, object], schemes: Sequence[str] | None = None,
                      backend: Backend = "durable", lang: str = "zh", domain: str | None = None
                      ) -> CustomerEvaluation:
    """Evaluate one customer given as a mapping of input names to values (as in JSON); a `domain`
    field (or 领域, 客户领域) puts schemes of other domains out of scope."""
    usable, skipped, prepared, domains = prepare_customer(rulebook, customer, schemes, lang, domain)
    columns = evaluate_prepared(prepared, usable, backend, domains)
    return CustomerEvaluation({sid: col.result(0) for sid, col in columns.items()}, skipped,
                              {scheme.id: scheme for scheme in usable})


def prepare_customer(rulebook: Rulebook, customer: Mapping[str, object], schemes: Sequence[str] | None,
                      lang: str, domain: str | None
                      ) -> tuple[list[Scheme], dict[str, list[str]], Prepared, np.ndarray | None]:
    """One customer typed for the schemes it can use: (schemes, skipped schemes, typed values, the
    normalised domain cell or None); a value that does not fit is a UsageError naming it."""
    # A customer may be written with the same names as a file's header (资产规模 for assets).
    renames = header_renames(list(customer), alias_schemes(rulebook, schemes))
    customer = {renames.get(key, key): value for key, value in customer.items()}
    usable, skipped = choose_schemes(rulebook, schemes, list(customer), CUSTOMER, domain)
    table = table_from_records([customer])
    prepared = prepare(table, usable, None, lang)
    if len(prepared.rejects):
        reject = prepared.rejects.iloc[0]
        found = f"{reject['column']} = {reject['value']!s} ({reject['reason']})"
        raise UsageError(Say(f"the customer has values that do not fit: {found}", f"客户的取值不符合要求:{found}"))
    return usable, skipped, prepared, rows_domains(table, prepared.rows)


def customer_from_file(rulebook: Rulebook, path: Path, customer_id: str, *, id_column: str | None = None,
                       schemes: Sequence[str] | None = None, encoding: str | None = None, sheet: str | None = None,
                       lang: str = "zh", header_row: int | None = None) -> dict[str, str]:
    """One customer's cells, found by id in a customer file (every column, '' for empty)."""
    _, chunks = iter_table(path, encoding, sheet, lang, header_row=header_row)
    found, id_name = [], None
    for chunk in chunks:  # chunk by chunk: a large file is never held whole
        table = apply_aliases(chunk.table, alias_schemes(rulebook, schemes))
        id_name = id_name or guess_id_column(table, id_column)
        if id_name is None:
            raise UsageError(Say(f"{path} has no id column; name it with --id-column",
                                 f"{path} 中没有客户编号列;请用 --id-column 指定"))
        found.append(table[table[id_name] == customer_id])
    rows = pd.concat(found)
    if rows.empty:
        raise UsageError(Say(f"no customer '{customer_id}' in {path} (column {id_name})",
                             f"{path} 的 {id_name} 列中没有客户“{customer_id}”"))
    if len(rows) > 1:
        numbers = ", ".join(map(str, rows.index))
        raise UsageError(Say(f"customer '{customer_id}' is on several rows of {path}: {numbers}",
                             f"客户“{customer_id}”在 {path} 中出现在多行:{numbers}"))
    return {str(k): v for k, v in rows.iloc[0].items()}


def display_label(scheme: Scheme, display: str, lang: str) -> str:
    """The label(s) for an output-column value, in `lang`."""
    if display == "":
        return ""
    if display == CONFLICT:
        return t(lang, "conflict")
    return "|".join(scheme.outcome_label(part, lang) for part in display.split("|"))
