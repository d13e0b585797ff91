"""What each command prints: tables and lines built from the engine's result types. Results go to
stdout, messages and problems to stderr; ids and paths are never cut short."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from engine.console.streams import err, out
from engine.errors import Say
from engine.messages import t
from engine.rules.literals import format_value
from engine.rules.loader import display_path

if TYPE_CHECKING:  # the engine's result types; a command imports only what it runs
    from engine.analysis.coherence import Coherence
    from engine.analysis.compare import Comparison
    from engine.analysis.examples import ExampleFailure
    from engine.analysis.explain import CustomerExplanation
    from engine.analysis.impact import Impact
    from engine.analysis.regions import Analysis, Finding
    from engine.analysis.rule_diff import SchemeDiff
    from engine.evaluation.batch import BatchRun
    from engine.evaluation.evaluate import CustomerEvaluation
    from engine.features.derive import CalibrateRun, DeriveRun
    from engine.plans.compose import ActionTrace
    from engine.plans.files import PlanRun
    from engine.plans.playbook import Catalog
    from engine.rules.model import Rulebook


def show_rulebook(rulebook: Rulebook, lang: str) -> None:
    """`kece check`'s table: one row per scheme."""
    table = Table(t(lang, "scheme"), t(lang, "title"), t(lang, "hit_policy"), t(lang, "rules"),
                  t(lang, "inputs"), t(lang, "examples"), t(lang, "file"))
    for column in (table.columns[0], table.columns[-1]):
        column.overflow = "fold"  # ids and paths are to be copied, never cut short
    for scheme in rulebook.schemes:
        table.add_row(scheme.id, scheme.title.get(lang), scheme.hit_policy, str(len(scheme.rules)),
                      str(len(scheme.inputs)), str(len(scheme.examples)), _within(scheme.path, rulebook.directory))
    out.print(table)


def _within(path: str, folder: Path | None) -> str:
    """A rule file's path from its rules folder (the line above the table names the folder)."""
    try:
        return str(Path(path).relative_to(folder)) if folder is not None else path
    except ValueError:
        return path


def show_example_failures(failures: Sequence[ExampleFailure], lang: str, heading: bool = True) -> None:
    """Each failing example once when the backends got the same; per backend where they differ."""
    from engine.analysis.examples import by_example

    groups = by_example(failures)
    if groups and heading:
        err.print(f"[bold red]{t(lang, 'examples_failed', count=len(groups))}[/]")
    for group in groups:
        agreed = len(group) > 1 and len({failure.describe(lang, name_backend=False) for failure in group}) == 1
        for failure in group[:1] if agreed else group:
            err.print(f"{failure.location} {failure.describe(lang, name_backend=not agreed)}", markup=False,
                      soft_wrap=True)


def show_example_table(rows: Sequence[tuple[str, str, int, int]], lang: str) -> None:
    """`kece test`'s table: (scheme, file, examples, failed examples) per pack."""
    table = Table(t(lang, "scheme"), t(lang, "file"), t(lang, "examples"), t(lang, "passed"), t(lang, "failed"))
    for scheme_id, path, examples, failed in rows:
        table.add_row(scheme_id, path, str(examples), str(examples - failed), str(failed))
    out.print(table)


def show_analyses(analyses: Sequence[Analysis], lang: str) -> int:
    """Every finding of check's exact analysis; returns how many are errors."""
    findings = [finding for analysis in analyses for finding in analysis.findings]
    for analysis in analyses:
        if analysis.sampled:
            err.print(t(lang, "sampled", scheme=analysis.scheme.id, cells=analysis.cells), markup=False)
    for finding in findings:
        show_finding(finding, lang)
    errors = sum(f.severity == "error" for f in findings)
    if findings:
        out.print(t(lang, "findings_summary", errors=errors, warnings=len(findings) - errors))
    return errors


def show_coherence(coherence: Coherence, lang: str) -> int:
    """The cross-scheme proof of kece check; returns how many errors it printed."""
    for finding in coherence.findings:
        show_finding(finding, lang)
    for a, b in coherence.stopped:
        err.print(t(lang, "incoherent_more", a=a, b=b), markup=False, soft_wrap=True)
    if not coherence.findings:
        policy = coherence.policy or t(lang, "default_policy")
        out.print(t(lang, "coherence_ok", pairs=coherence.settled, policy=policy), markup=False, soft_wrap=True)
    return len(coherence.findings)


def show_finding(finding: Finding, lang: str) -> None:
    from engine.analysis.conditions import region_text
    from engine.analysis.regions import finding_message

    console = err if finding.severity == "error" else out
    where = ", ".join(f"{loc}" for loc in finding.locations)
    colour = "red" if finding.severity == "error" else "yellow"
    console.print(f"{escape(where)} [bold {colour}]{t(lang, finding.severity)}[/] {escape(f'[{finding.scheme_id}]')} "
                  f"{escape(finding_message(finding, lang))}", soft_wrap=True)
    for region in finding.regions:
        console.print(f"    {t(lang, 'finding.region')}: {region_text(region, lang)}", markup=False, soft_wrap=True)
    if finding.more_regions:
        console.print(f"    {t(lang, 'finding.more', count=finding.more_regions)}", markup=False)
    if finding.customer_text:
        console.print(f"    {t(lang, 'finding.example')} {finding.customer_text}", markup=False, soft_wrap=True)


def show_playbook_problems(rulebook: Rulebook, lang: str) -> int:
    """`kece check` compiles the playbook templates too; returns how many problems it printed."""
    from engine.plans.playbook import default_playbooks_dir
    from engine.plans.playbook_check import check_playbooks

    folder = default_playbooks_dir()
    problems = check_playbooks(folder, rulebook)
    if problems:
        heading = t(lang, "playbook_problems", count=len(problems), path=display_path(folder))
        err.print(f"[bold red]{escape(heading)}[/]")
        for problem in problems:
            err.print(problem.render(lang), markup=False, soft_wrap=True)
    return len(problems)


def show_customer(evaluation: CustomerEvaluation, lang: str) -> None:
    from engine.evaluation.evaluate import display_label

    for scheme_id, columns in evaluation.skipped.items():
        err.print(t(lang, "skipped_customer", scheme=scheme_id, columns=", ".join(columns)), markup=False)
    table = Table(t(lang, "scheme"), t(lang, "result"), t(lang, "label"), t(lang, "matched_rules"))
    for scheme_id, result in evaluation.results.items():
        label = display_label(evaluation.schemes[scheme_id], result.display, lang)
        if result.status == "unmatched":
            label = t(lang, "unmatched")
        elif result.status == "out_of_scope":
            label = t(lang, "not_applicable")
        display = result.display
        if result.score is not None:
            display = f"{display} ({t(lang, 'score')} {format_value('number', result.score)})"
        table.add_row(scheme_id, display, label, ", ".join(result.matched))
    out.print(table)


def show_skipped(skipped: dict[str, list[str]], lang: str, missing: dict[str, Say] | None = None) -> None:
    """Each skipped scheme with the columns it lacks (with their titles and a close header of the file
    when `missing` has them); a file about other customers skips many, so beyond a few they share one
    line (e.g. transactions-derived customers against the bank packs)."""
    if len(skipped) > 3:
        err.print(t(lang, "skipped_many", count=len(skipped), schemes=", ".join(skipped)), markup=False,
                  soft_wrap=True)
        return
    missing = missing or {}
    for scheme_id, columns in skipped.items():
        shown = [missing[c].get(lang) if c in missing else c for c in columns]
        err.print(t(lang, "skipped", scheme=scheme_id, columns=", ".join(shown)), markup=False, soft_wrap=True)


def show_rejected(run: BatchRun, lang: str, max_rejected: float | None = None, top: int = 3) -> bool:
    """Repeated ids, and the columns with the most rejects, loudly; True when the rejected share
    passes `max_rejected`, so that a run that read almost nothing does not pass for a success."""
    log = run.duplicates
    if log is not None and log.ids:
        sep = "、" if lang == "zh" else ", "
        examples = sep.join(t(lang, "duplicate_rows", id=key, rows=sep.join(map(str, rows[:5])))
                            for key, rows in log.examples())
        err.print(t(lang, "duplicate_ids", ids=log.ids, examples=examples, policy=log.policy, rejected=log.rejected),
                  style="yellow", markup=False, soft_wrap=True)
    share = run.rows_rejected / run.rows_in if run.rows_in else 0.0
    too_many = max_rejected is not None and share > max_rejected
    for column, (count, reason) in list(run.rejected_columns.items())[:top]:
        err.print(t(lang, "rejected_column", column=column or t(lang, "rejected_row_level"), count=count,
                    share=count / max(run.rows_in, 1), reason=reason),
                  style="bold red" if too_many else "yellow", markup=False, soft_wrap=True)
    if too_many:
        err.print(t(lang, "rejected_too_many", rejected=run.rows_rejected, rows_in=run.rows_in, share=share,
                    limit=max_rejected), style="bold red", markup=False, soft_wrap=True)
    return too_many


def show_run(run: BatchRun, lang: str) -> None:
    if run.encoding and run.encoding != "utf-8-sig":
        err.print(t(lang, "read_encoding", encoding=run.encoding.upper()), markup=False)
    show_skipped(run.skipped, lang, run.missing)
    for summary in run.summaries:
        scheme = summary.scheme
        table = Table(t(lang, "rule"), t(lang, "label"), t(lang, "customers"), t(lang, "share"),
                      title=t(lang, "summary_title", scheme=scheme.id, title=scheme.title.get(lang)),
                      caption=t(lang, "applied", applied=summary.applied, total=summary.total))
        applied = max(summary.applied, 1)  # shares of the customers the scheme applies to
        for outcome_id, count in summary.counts.items():
            table.add_row(outcome_id, scheme.outcome_label(outcome_id, lang), f"{count:,}", f"{count / applied:.1%}")
        for key, count in (("unmatched", summary.unmatched), ("conflict", summary.conflicts),
                           ("not_applicable", summary.out_of_scope)):
            if count or key == "unmatched" or (key == "not_applicable" and scheme.scope.limited):
                table.add_row("", t(lang, key), f"{count:,}", f"{count / applied:.1%}" if key != "not_applicable"
                              else "—")
        out.print(table)
    out.print(t(lang, "wrote_rows", rows_in=run.rows_in, rows_out=run.rows_out, rejected=run.rows_rejected))
    show_written(lang, run.output, run.rejects_path)


def show_plans_run(run: PlanRun, horizon: int, lang: str) -> None:
    show_skipped(run.skipped, lang)
    out.print(t(lang, "plans_written", rows_in=run.rows_in, written=run.written, rejected=run.rejected))
    show_written(lang, run.index, run.rejects)
    if run.tasks:
        out.print(t(lang, "tasks_written", count=run.tasks_written, days=horizon), markup=False)
        show_written(lang, *run.tasks)


def show_written(lang: str, *paths: Path) -> None:
    for path in paths:
        out.print(t(lang, "wrote", path=display_path(path)), markup=False)


def show_explanation(explained: CustomerExplanation, lang: str, as_json: bool) -> None:
    from engine.analysis.explain import render_text, to_json

    """`kece explain`: per scheme every rule and test, or the same as JSON for machines."""
    if as_json:
        items = [to_json(e, lang) for e in explained.explanations]
        items += [{"scheme": sid, "status": "out_of_scope", "reason": why.get(lang)}
                  for sid, why in explained.not_applicable.items()]
        sys.stdout.write(json.dumps(items, ensure_ascii=False, indent=2) + "\n")
        return
    for scheme_id, columns in explained.skipped.items():
        err.print(t(lang, "skipped_customer", scheme=scheme_id, columns=", ".join(columns)), markup=False)
    for scheme_id, why in explained.not_applicable.items():
        out.print(t(lang, "not_applicable_customer", scheme=scheme_id, reason=why.get(lang)), markup=False,
                  soft_wrap=True)
    for explanation in explained.explanations:
        for line in render_text(explanation, lang):
            out.print(line, markup=False, soft_wrap=True)
        out.print()


def show_derive(run: DeriveRun, calibration: Path | None, lang: str) -> None:
    out.print(t(lang, "as_of_given" if run.as_of_given else "as_of_last", date=run.as_of), markup=False)
    out.print(t(lang, "tx_rows", rows_in=run.rows_in, used=run.rows_used, rejected=run.rows_rejected,
                customers=run.customers), markup=False)
    if run.calibration_fitted:
        out.print(t(lang, "calibration_fitted", id=run.calibration.id), markup=False)
    else:
        out.print(t(lang, "calibration_used", id=run.calibration.id, path=display_path(calibration)), markup=False)
    show_written(lang, run.output, run.rejects_path)


def show_calibration(run: CalibrateRun, lang: str) -> None:
    found = run.calibration
    if run.from_transactions:
        out.print(t(lang, "as_of_given" if run.as_of_given else "as_of_last", date=found.as_of), markup=False)
    else:
        out.print(t(lang, "calibrated_from_customers", skipped=run.skipped), markup=False)
    out.print(t(lang, "calibrated_on", id=found.id, customers=found.customers, as_of=found.as_of or t(lang, "no_as_of"),
                sha=found.content_sha256[:16]), markup=False)
    table = Table(t(lang, "feature"), t(lang, "cut_points"))
    for name, cuts in (("recency_days", found.rfm.recency_days), ("frequency", found.rfm.frequency),
                       ("monetary_total", found.rfm.monetary_total),
                       ("pyramid_tier", found.pyramid.monetary_total)):
        table.add_row(name, ", ".join(format_value("number", c) for c in cuts))
    out.print(table)
    show_written(lang, run.output)


def show_action_trace(trace: ActionTrace, catalog: Catalog, lang: str, as_json: bool) -> None:
    """`kece explain --actions`: the policy's steps for one customer, from the candidates to the front list."""
    result, policy, plan = trace.arbitration, trace.policy, trace.plan
    intent = lambda c: catalog.label("intents", c.action.intent)  # noqa: E731
    due = lambda c: c.due.isoformat() if c.due else t(lang, "trace.when_due")  # noqa: E731
    dropped_by = {kind: [d for d in result.dropped if d.kind == kind]
                  for kind in ("merged", "suppressed", "overridden", "contact_limit", "below_cut")}
    chosen_ids = {id(c) for c in result.chosen}
    if as_json:
        item = lambda c: {"action": c.action.key, "text": c.text, "intent": c.action.intent,  # noqa: E731
                          "schemes": list(c.schemes), "priority": round(c.priority, 4),
                          "factors": [list(f) for f in c.factors], "due": c.due.isoformat() if c.due else None}
        data = {"customer": plan.customer.id, "as_of": plan.as_of.isoformat(), "policy": policy.path,
                "ranked": [{**item(c), "chosen": id(c) in chosen_ids, "moved": id(c) in result.moved}
                           for c in result.ranked],
                "dropped": [{**item(d.candidate), "kind": d.kind, "rule": d.rule, "where": d.where,
                             "reason": d.reason, "into": d.into, "rank": d.rank} for d in result.dropped],
                "contradictions": [list(pair) for pair in result.contradictions]}
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    say = lambda key, **kw: out.print(t(lang, key, **kw), markup=False, soft_wrap=True)  # noqa: E731
    line = lambda text: out.print(f"   - {text}", markup=False, soft_wrap=True)  # noqa: E731
    say("trace.title", customer=plan.customer.name or plan.customer.id, policy=policy.path or t(lang, "default_policy"),
        date=plan.as_of.isoformat())
    candidates = [*result.ranked, *(d.candidate for d in result.dropped if d.kind in ("merged", "suppressed",
                                                                                        "overridden"))]
    say("trace.candidates", count=len(candidates))
    for c in candidates:
        segments = catalog.messages["list_separator"].join(f"{segment}({title})" for title, segment in c.segments)
        line(f"[{intent(c)}] {c.text} ← {segments}")
    say("trace.merged", count=len(dropped_by["merged"]))
    for d in dropped_by["merged"]:
        line(f"{d.candidate.text} → {d.into}")
    for kind in ("suppressed", "overridden"):
        groups: dict[tuple[str, str, str], list] = {}
        for d in dropped_by[kind]:
            groups.setdefault((d.rule, d.where, d.reason), []).append(d.candidate)
        if not groups:
            say(f"trace.{kind}_none")
        for (rule, where, reason), members in groups.items():
            say(f"trace.{kind}", rule=rule, where=where or t(lang, "default_policy"), count=len(members), reason=reason)
            for c in members:
                line(f"[{intent(c)}] {c.text}")
    say("trace.ranked", count=len(result.ranked))
    for rank, c in enumerate(result.ranked, start=1):
        factors = " × ".join(f"{catalog.messages['factors'][name]}{'(' + what + ')' if what else ''} {weight:g}"
                             for name, what, weight in c.factors)
        line(f"#{rank} {c.priority:.2f} = {factors}  [{intent(c)}] {c.text}")
    say("trace.schedule", limit=policy.limit)
    dropped = {id(d.candidate): d for d in result.dropped}
    for c in result.ranked:
        if id(c) in chosen_ids:
            moved = f", {t(lang, 'trace.moved')}" if id(c) in result.moved else ""
            line(f"{t(lang, 'trace.chosen')} {due(c)}{moved}: {c.text}")
        elif id(c) in dropped:
            d = dropped[id(c)]
            why = t(lang, "trace.contact_limit") + f" ({d.rule} {d.cap.max}/{d.cap.per_days})" if d.cap \
                else t(lang, "trace.below_cut", limit=policy.limit)
            line(f"{why}: {c.text}")
    for a, b in result.contradictions:
        say("trace.contradiction", a=a, b=b)


SHOWN_MOVED = 10  # moved customers printed per scheme; the moved-customers file holds them all


def migrations_json(result: Impact | Comparison) -> str:
    """`{"schemes": {scheme: {"matrix": {old: {new: count}}, "moved": n}}}`, the schemes that changed;
    `kece compare` adds the counts of customers who appeared and left."""
    found: dict[str, object] = {"schemes": {m.scheme_id: m.as_json() for m in result.changed}}
    if hasattr(result, "appeared"):
        found.update(appeared=len(result.appeared), left=len(result.left))
    return json.dumps(found, ensure_ascii=False, indent=2)


def show_migrations(result, lang: str, moved_file: Path | None, actions: bool = False) -> None:
    """Per scheme that changed: the matrix (count and share of the old result's row), the rule edits
    (impact), the actions gained and lost, and the first customers who moved."""
    for name, key in ((result.schemes_added, "schemes_added"), (result.schemes_removed, "schemes_removed")):
        if name:
            err.print(t(lang, key, schemes=", ".join(name)), markup=False)
    for m in result.changed:
        rows, columns = m.ordered()
        label = lambda key, m=m: m.labels.get(key, key) or t(lang, "unmatched")  # noqa: E731
        table = Table(f"{t(lang, 'impact_old')} \\ {t(lang, 'impact_new')}", *map(label, columns),
                      title=t(lang, "impact_scheme", scheme=m.scheme_id, moved=len(m.moved), total=m.total))
        for row in rows:
            total = max(sum(m.matrix[row].values()), 1)
            cells = []
            for column in columns:
                count = m.matrix[row].get(column, 0)
                text = f"{count:,} ({count / total:.0%})" if count else "·"
                cells.append(f"[bold yellow]{text}[/]" if count and row != column else escape(text))
            table.add_row(escape(label(row)), *cells)
        out.print(table)
        if actions:
            edits = "、".join if lang == "zh" else ", ".join
            if m.edits:
                out.print(f"{t(lang, 'impact_edits')}: " + edits(f"{e.rule_id} ({t(lang, 'edit_' + e.kind)})"
                                                                  for e in m.edits), markup=False)
            if m.moved:
                out.print(t(lang, "impact_touches", before=f"{m.touches_before:.2f}", after=f"{m.touches_after:.2f}"),
                          markup=False)
                for key, counter in (("action_gained", m.actions_gained), ("action_lost", m.actions_lost)):
                    for text, count in counter.most_common():
                        out.print(f"  {'+' if key == 'action_gained' else '-'} {text} × {count:,}", markup=False,
                                  soft_wrap=True)
        for move in m.moved[:SHOWN_MOVED]:
            out.print(f"  {move.customer_id}: {label(move.old)} → {label(move.new)}", markup=False)
        more = len(m.moved) - SHOWN_MOVED
        if more > 0:
            out.print(t(lang, "moved_more", more=more, path=display_path(moved_file)) if moved_file
                      else t(lang, "moved_more_nofile", more=more), markup=False)


def show_impact(impact: Impact, lang: str, moved_file: Path | None) -> None:
    show_skipped(impact.skipped, lang)
    show_migrations(impact, lang, moved_file, actions=True)
    if not impact.changed:
        out.print(t(lang, "impact_none"), markup=False)
    out.print(t(lang, "impact_summary", moved=impact.moved, schemes=len(impact.changed), rows=impact.rows_compared,
                base=impact.base), markup=False)
    if impact.rows_in > impact.rows_compared:  # never let rows vanish from the count unsaid
        err.print(t(lang, "impact_not_compared", rows=impact.rows_in - impact.rows_compared, rows_in=impact.rows_in),
                  markup=False, soft_wrap=True)


def show_comparison(comparison: Comparison, lang: str, moved_file: Path | None) -> None:
    show_migrations(comparison, lang, moved_file)
    if comparison.repeated:
        err.print(t(lang, "repeated_ids", count=comparison.repeated), markup=False)
    for key, ids in (("appeared", comparison.appeared), ("left", comparison.left)):
        if ids:
            shown = ", ".join(ids[:SHOWN_MOVED]) + (" …" if len(ids) > SHOWN_MOVED else "")
            out.print(f"{t(lang, key)} ({len(ids):,}): {shown}", markup=False)
    out.print(t(lang, "compare_summary", moved=comparison.moved, schemes=len(comparison.changed),
                common=comparison.common,
                appeared=len(comparison.appeared), left=len(comparison.left)), markup=False)


def show_rule_diff(diffs: Sequence[SchemeDiff], base: str, lang: str) -> None:
    """`kece check --base`: per scheme that changed, how much of the exact analysis changes result."""
    same = 0
    for diff in diffs:
        if diff.status == "same":
            same += 1
        elif diff.status == "changed":
            sampled = t(lang, "sampled_note") if diff.sampled else ""
            out.print(t(lang, "check_base", base=base, scheme=diff.scheme_id, changed=diff.changed, cells=diff.cells,
                        sampled=sampled), markup=False, soft_wrap=True)
        else:
            out.print(t(lang, f"check_base_{diff.status}", base=base, scheme=diff.scheme_id), markup=False)
    if same:
        out.print(t(lang, "check_base_unchanged", base=base, count=same), markup=False)


def publish_migrations(result: Impact | Comparison, title: str, sources: list[Path], page: Path | None,
                       moved: Path | None, as_json: bool, show: Callable[[Any, str, Path | None], None],
                       lang: str) -> None:
    """kece impact and compare: the page (-o), the list of who moved (--moved), and JSON or the terminal view."""
    from engine.analysis.impact_report import write_impact_page
    from engine.analysis.migration import write_moved

    if page is not None:
        write_impact_page(result, title, page, sources, lang)
    if moved is not None:
        write_moved(result.changed, moved)
    if as_json:
        sys.stdout.write(migrations_json(result) + "\n")
        return
    show(result, lang, moved)
    show_written(lang, *(p for p in (page, moved) if p is not None))
