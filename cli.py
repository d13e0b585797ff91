"""kece command line: thin commands over the engine's API (`engine.evaluate`, `engine.loader`)."""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn
from rich.table import Table
from rich.text import Text

from engine.analysis import Finding, analyse, finding_message, region_text
from engine.batch import BatchRun, evaluate_file
from engine.bundled import default_rules_dir
from engine.calibration import load as load_calibration
from engine.derive import CalibratedFeatures, calibrate_file, derive_file
from engine.errors import KeceError, RuleLoadError, Say, UsageError
from engine.evaluate import (
    BACKENDS,
    CustomerEvaluation,
    customer_from_file,
    display_label,
    evaluate_customer,
    explain_customer,
)
from engine.examples import run_examples
from engine.explain import render_text, to_json
from engine.features import FeatureSet, features_path, load_features
from engine.literals import format_value
from engine.loader import display_path, load_rulebook
from engine.messages import LANGS, t
from engine.model import Rulebook
from engine.spec import json_schema
from engine.workspace import init_workspace

app = typer.Typer(
    name="kece",
    help="客策 kece: customer segmentation rules and playbooks. Try: kece check, kece evaluate FILE.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals would show customer data
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
_state = {"debug": False}

RulesOption = Annotated[Path | None, typer.Option(
    "--rules", help="Folder of rule files (default: ./rules if present, else the bundled packs).")]
LangOption = Annotated[str, typer.Option(
    "--lang", envvar="KECE_LANG", help="Language of labels and messages: zh or en.")]
CalibrationOption = Annotated[Path | None, typer.Option(
    "--calibration", help="Calibration file from kece calibrate: computes r_score, f_score, m_score, pyramid_tier "
    "and clv from recency_days, frequency, monetary_total.")]
AsOfOption = Annotated[str | None, typer.Option(
    "--as-of", help="The day the figures are computed for, YYYY-MM-DD (default: the last transaction date).")]
DomainOption = Annotated[str | None, typer.Option(
    "--domain", help="Only schemes for this domain (bank, dealer, education, retail, b2b) and those without one.")]


def handles_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Our errors become a message and an exit code; a bug in kece shows a traceback only with --debug."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        lang = kwargs.get("lang", "zh")
        try:
            return command(*args, **kwargs)
        except RuleLoadError as exc:
            err.print(f"[bold red]{t(lang, 'problems', count=len(exc.problems))}[/]")
            for problem in exc.problems:
                err.print(problem.render(lang), markup=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeceError as exc:
            err.print(f"[bold red]{t(lang, 'error')}:[/] {escape(exc.render(lang))}", soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if _state["debug"]:
                raise
            err.print(t(lang, "internal_error", error=f"{type(exc).__name__}: {exc}"), markup=False)
            raise typer.Exit(70) from None

    return wrapper


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise UsageError(Say(f"--lang must be one of {', '.join(LANGS)}, not '{lang}'",
                             f"--lang 只能是 {'、'.join(LANGS)},不能是“{lang}”"))
    return lang


def load_rules(rules: Path | None, lang: str, quiet: bool = False) -> Rulebook:
    where_key = "local"
    if rules is None:
        rules, bundled = default_rules_dir()
        where_key = "bundled" if bundled else "local"
    if not quiet:
        err.print(t(lang, "using_rules", path=display_path(rules), where=t(lang, where_key)), markup=False)
    return load_rulebook(rules)


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback for errors inside kece.")] = False,
) -> None:
    _state["debug"] = debug


@app.command()
@handles_errors
def check(rules: RulesOption = None, lang: LangOption = "zh") -> None:
    """Load and validate the rule files, run their examples on both backends, and look for overlaps,
    gaps, unreachable rules and contradictions; list every problem with its file:line:col."""
    check_lang(lang)
    rulebook = load_rules(rules, lang)
    table = Table(t(lang, "scheme"), t(lang, "title"), t(lang, "hit_policy"), t(lang, "rules"),
                  t(lang, "inputs"), t(lang, "examples"), t(lang, "file"))
    for column in (table.columns[0], table.columns[-1]):
        column.overflow = "fold"  # ids and paths are to be copied, never cut short
    for scheme in rulebook.schemes:
        table.add_row(scheme.id, scheme.title.get(lang), scheme.hit_policy, str(len(scheme.rules)),
                      str(len(scheme.inputs)), str(len(scheme.examples)), scheme.path)
    out.print(table)
    failures = [failure for scheme in rulebook.schemes for backend in BACKENDS
                for failure in run_examples(scheme, backend)]
    if failures:
        err.print(f"[bold red]{t(lang, 'examples_failed', count=len(failures))}[/]")
        for failure in failures:
            err.print(f"{failure.location} {failure.describe(lang)}", markup=False, soft_wrap=True)
    analyses = [analyse(scheme) for scheme in rulebook.schemes]
    findings = [finding for analysis in analyses for finding in analysis.findings]
    for analysis in analyses:
        if analysis.sampled:
            err.print(t(lang, "sampled", scheme=analysis.scheme.id, cells=analysis.cells), markup=False)
    for finding in findings:
        show_finding(finding, lang)
    errors = sum(f.severity == "error" for f in findings)
    if findings:
        out.print(t(lang, "findings_summary", errors=errors, warnings=len(findings) - errors))
    playbook_problems = show_playbook_problems(rulebook, lang)
    if failures or errors or playbook_problems:
        raise typer.Exit(1)
    where = f"{display_path(rulebook.directory)}" if rulebook.directory else ""
    out.print(t(lang, "rules_ok", schemes=len(rulebook.schemes), rules=sum(len(s.rules) for s in rulebook.schemes),
                examples=sum(len(s.examples) for s in rulebook.schemes), where=where))


@app.command("test")
@handles_errors
def test_examples(rules: RulesOption = None, lang: LangOption = "zh") -> None:
    """Run every scheme's examples on both backends; a table per pack, and every failure located."""
    check_lang(lang)
    rulebook = load_rules(rules, lang)
    table = Table(t(lang, "scheme"), t(lang, "file"), t(lang, "examples"), t(lang, "passed"), t(lang, "failed"))
    failures = []
    for scheme in rulebook.schemes:
        failed = [f for backend in BACKENDS for f in run_examples(scheme, backend)]
        failed_examples = {id(f.example) for f in failed}
        table.add_row(scheme.id, scheme.path, str(len(scheme.examples)),
                      str(len(scheme.examples) - len(failed_examples)), str(len(failed_examples)))
        failures.extend(failed)
    out.print(table)
    for failure in failures:
        err.print(f"{failure.location} {failure.describe(lang)}", markup=False, soft_wrap=True)
    total = sum(len(s.examples) for s in rulebook.schemes)
    failed_total = len({id(f.example) for f in failures})
    out.print(t(lang, "tested", passed=total - failed_total, failed=failed_total))
    if failures:
        raise typer.Exit(1)


@app.command()
@handles_errors
def evaluate(
    input: Annotated[Path | None, typer.Argument(help="Customer file (CSV, UTF-8).", show_default=False)] = None,
    rules: RulesOption = None,
    scheme: Annotated[list[str] | None, typer.Option("--scheme", "-s", help="Evaluate only this scheme (repeat).")]
    = None,
    backend: Annotated[str, typer.Option(help="vectorized (batch) or durable (durable_rules).")] = "",
    id_column: Annotated[str | None, typer.Option("--id-column", help="Column with customer ids.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Results file (.csv).")] = None,
    rejects: Annotated[Path | None, typer.Option(help="Rejects file (default: OUTPUT.rejects.csv).")] = None,
    customer: Annotated[str | None, typer.Option(help="One customer as JSON instead of a file.")] = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding of a CSV or JSON Lines file "
                                                 "(default: UTF-8, else GB18030).")] = None,
    sheet: Annotated[str | None, typer.Option(help="Worksheet of an Excel file (default: the first).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    domain: DomainOption = None,
    calibration: CalibrationOption = None,
    lang: LangOption = "zh",
) -> None:
    """Evaluate customers: a file (CSV, .xlsx, .parquet, .jsonl; one output row per valid row) or one
    --customer JSON. Results are written as .csv, .xlsx or .parquet, by the output's extension."""
    check_lang(lang)
    if (input is None) == (customer is None):
        raise UsageError(Say("give either an input file or --customer JSON (not both)",
                             "请给出输入文件或 --customer JSON(二选一)"))
    chosen = backend or ("durable" if customer is not None else "vectorized")
    if chosen not in BACKENDS:
        raise UsageError(Say(f"--backend must be one of {', '.join(BACKENDS)}, not '{chosen}'",
                             f"--backend 只能是 {'、'.join(BACKENDS)},不能是“{chosen}”"))
    rulebook = load_rules(rules, lang)
    hook = calibrated_features(calibration, rules, lang)
    if customer is not None:
        record = parse_customer_json(customer)
        record = hook.apply_record(record) if hook else record
        evaluation = evaluate_customer(rulebook, record, scheme, chosen, lang, domain)  # type: ignore[arg-type]
        show_customer(evaluation, lang)
        return
    with progress_bar(input, quiet, lang) as progress:  # type: ignore[arg-type]
        run = evaluate_file(rulebook, input, output, schemes=scheme, backend=chosen,  # type: ignore[arg-type]
                            id_column=id_column, rejects=rejects, lang=lang, encoding=encoding, sheet=sheet,
                            progress=progress, domain=domain, features=hook)
    show_run(run, lang)


class RateColumn(ProgressColumn):
    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def render(self, task: Task) -> Text:
        # Rows so far over time so far: chunks arrive 250,000 rows at a time, too seldom for rich's
        # own windowed speed, which reads 0 until the second update.
        rate = task.completed / task.elapsed if task.elapsed else 0
        text = t(self.lang, "rate", rate=f"{rate:,.0f}")
        if rate and task.total and not task.finished:
            left = int((task.total - task.completed) / rate)
            text += f" · {t(self.lang, 'time_left')} {left // 60}:{left % 60:02d}"
        return Text(text)


@contextmanager
def progress_bar(path: Path, quiet: bool, lang: str) -> Iterator[Callable[[int], None] | None]:
    """Rows, rows/s and time left on stderr, only for a person at a terminal."""
    if quiet or not err.is_terminal:
        yield None
        return
    total = count_rows(path) if path.suffix.lower() in (".csv", ".txt") else None
    columns = [TextColumn(t(lang, "progress")), BarColumn(), MofNCompleteColumn(), RateColumn(lang)]
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("rows", total=total)
        yield lambda rows: bar.update(task, completed=rows)


def count_rows(path: Path) -> int:
    """Lines after the header: the progress bar's total (a quoted line break makes it an estimate)."""
    lines = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 24):
            lines += block.count(b"\n")
    return max(lines - 1, 0)


def show_finding(finding: Finding, lang: str) -> None:
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


def parse_customer_json(text: str) -> dict[str, Any]:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(Say(f"--customer is not valid JSON: {exc.msg} at character {exc.pos + 1}",
                             f"--customer 不是有效的 JSON:第 {exc.pos + 1} 个字符处 {exc.msg}")) from None
    if not isinstance(record, dict):
        raise UsageError(Say('--customer must be a JSON object, e.g. {"assets": 6000000}',
                             '--customer 必须是 JSON 对象,例如 {"assets": 6000000}'))
    return record


def show_customer(evaluation: CustomerEvaluation, lang: str) -> None:
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


def show_skipped(skipped: dict[str, list[str]], lang: str) -> None:
    """Each skipped scheme with the columns it lacks; a file about other customers skips many, so
    beyond a few they share one line (e.g. transactions-derived customers against the bank packs)."""
    if len(skipped) > 3:
        err.print(t(lang, "skipped_many", count=len(skipped), schemes=", ".join(skipped)), markup=False,
                  soft_wrap=True)
        return
    for scheme_id, columns in skipped.items():
        err.print(t(lang, "skipped", scheme=scheme_id, columns=", ".join(columns)), markup=False)


def show_run(run: BatchRun, lang: str) -> None:
    if run.encoding and run.encoding != "utf-8-sig":
        err.print(t(lang, "read_encoding", encoding=run.encoding.upper()), markup=False)
    show_skipped(run.skipped, lang)
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
    out.print(t(lang, "wrote", path=display_path(run.output)), markup=False)
    out.print(t(lang, "wrote", path=display_path(run.rejects_path)), markup=False)


@app.command("explain")
@handles_errors
def explain_command(
    input: Annotated[Path | None, typer.Argument(help="Customer file to find --id in.", show_default=False)] = None,
    customer_id: Annotated[str | None, typer.Option("--id", help="The customer's id in the file.")] = None,
    customer: Annotated[str | None, typer.Option(help="One customer as JSON instead of a file.")] = None,
    rules: RulesOption = None,
    scheme: Annotated[list[str] | None, typer.Option("--scheme", "-s", help="Explain only this scheme (repeat).")]
    = None,
    id_column: Annotated[str | None, typer.Option("--id-column", help="Column with customer ids.")] = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding of a CSV or JSON Lines file.")] = None,
    sheet: Annotated[str | None, typer.Option(help="Worksheet of an Excel file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    domain: DomainOption = None,
    lang: LangOption = "zh",
) -> None:
    """Why a customer gets its segments: every rule and test with the customer's values, the hit
    policy's choice, and what would move the customer to the next better rule."""
    check_lang(lang)
    if (input is None) == (customer is None) or (input is not None and customer_id is None):
        raise UsageError(Say("give INPUT --id ID, or --customer JSON", "请给出 INPUT --id ID,或 --customer JSON"))
    rulebook = load_rules(rules, lang, quiet=as_json)
    if customer is not None:
        record = parse_customer_json(customer)
    else:
        record = customer_from_file(rulebook, input, customer_id, id_column=id_column,  # type: ignore[arg-type]
                                    schemes=scheme, encoding=encoding, sheet=sheet, lang=lang)
    explained = explain_customer(rulebook, record, scheme, lang, domain)
    explanations, skipped = explained.explanations, explained.skipped
    if as_json:
        items = [to_json(e, lang) for e in explanations]
        items += [{"scheme": sid, "status": "out_of_scope", "reason": why.get(lang)}
                  for sid, why in explained.not_applicable.items()]
        sys.stdout.write(json.dumps(items, ensure_ascii=False, indent=2) + "\n")
        return
    for scheme_id, columns in skipped.items():
        err.print(t(lang, "skipped_customer", scheme=scheme_id, columns=", ".join(columns)), markup=False)
    for scheme_id, why in explained.not_applicable.items():
        out.print(t(lang, "not_applicable_customer", scheme=scheme_id, reason=why.get(lang)), markup=False,
                  soft_wrap=True)
    for explanation in explanations:
        for line in render_text(explanation, lang):
            out.print(line, markup=False, soft_wrap=True)
        out.print()


def show_playbook_problems(rulebook: Rulebook, lang: str) -> int:
    """`kece check` compiles the playbook templates too; returns how many problems it printed."""
    from engine.playbook import default_playbooks_dir
    from engine.playbook_check import check_playbooks

    folder = default_playbooks_dir()
    problems = check_playbooks(folder, rulebook)
    if problems:
        heading = t(lang, "playbook_problems", count=len(problems), path=display_path(folder))
        err.print(f"[bold red]{escape(heading)}[/]")
        for problem in problems:
            err.print(problem.render(lang), markup=False, soft_wrap=True)
    return len(problems)


@app.command("plan")
@handles_errors
def plan_command(
    input: Annotated[Path | None, typer.Argument(help="Customer file (CSV, .xlsx, .parquet, .jsonl).",
                                                 show_default=False)] = None,
    customer_id: Annotated[str | None, typer.Option("--id", help="The customer's id in the file.")] = None,
    all_rows: Annotated[bool, typer.Option("--all", help="A plan for every customer of the file, plus an index.")]
    = False,
    customer: Annotated[str | None, typer.Option(help="One customer as JSON instead of a file.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="The plan file; with --all, the folder "
                                                "(default kece-out/plans). Without it a Markdown plan prints.")]
    = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date the due dates count from (YYYY-MM-DD; "
                                              "default today).")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="md, html or docx.")] = "md",
    rules: RulesOption = None,
    playbooks: Annotated[Path | None, typer.Option(help="Folder of playbook templates (default: ./playbooks if "
                                                   "present, else the bundled ones).")] = None,
    scheme: Annotated[list[str] | None, typer.Option("--scheme", "-s", help="Use only this scheme (repeat).")]
    = None,
    id_column: Annotated[str | None, typer.Option("--id-column", help="Column with customer ids.")] = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding of a CSV or JSON Lines file.")] = None,
    sheet: Annotated[str | None, typer.Option(help="Worksheet of an Excel file.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    domain: DomainOption = None,
    calibration: CalibrationOption = None,
    lang: LangOption = "zh",
) -> None:
    """Action plans for reps from the playbook templates: who the customer is to us and why, what to
    do by when (merged across schemes), how to talk to them, and the sources behind each action."""
    from engine.plan import plan_for_customer
    from engine.plan_files import FileNames, render_plan, write_file, write_plans
    from engine.playbook import FORMATS, default_playbooks_dir, load_catalog

    check_lang(lang)
    if fmt not in FORMATS:
        raise UsageError(Say(f"--format must be one of {', '.join(FORMATS)}, not '{fmt}'",
                             f"--format 只能是 {'、'.join(FORMATS)},不能是“{fmt}”"))
    if (input is None) == (customer is None) or (input is not None and (customer_id is None) == (not all_rows)):
        raise UsageError(Say("give INPUT --id ID, INPUT --all, or --customer JSON",
                             "请给出 INPUT --id ID、INPUT --all 或 --customer JSON"))
    day = parse_as_of(as_of)
    folder = (playbooks or default_playbooks_dir()).resolve()
    catalog = load_catalog(folder, lang)
    rulebook = load_rules(rules, lang)
    hook = calibrated_features(calibration, rules, lang)
    err.print(t(lang, "plan_as_of", date=day.isoformat()), markup=False)
    if all_rows:
        out_dir = output or Path("kece-out/plans")
        with progress_bar(input, quiet, lang) as progress:  # type: ignore[arg-type]
            run = write_plans(rulebook, input, out_dir, fmt=fmt, catalog=catalog, folder=folder,  # type: ignore
                              as_of=day, schemes=scheme, id_column=id_column, encoding=encoding, sheet=sheet,
                              domain=domain, features=hook, progress=progress)
        show_skipped(run.skipped, lang)
        out.print(t(lang, "plans_written", rows_in=run.rows_in, written=run.written, rejected=run.rejected))
        out.print(t(lang, "wrote", path=display_path(run.index)), markup=False)
        out.print(t(lang, "wrote", path=display_path(run.rejects)), markup=False)
        return
    record = parse_customer_json(customer) if customer is not None else customer_from_file(
        rulebook, input, customer_id, id_column=id_column, schemes=scheme,  # type: ignore[arg-type]
        encoding=encoding, sheet=sheet, lang=lang)
    record = hook.apply_record(record) if hook else record
    plan = plan_for_customer(rulebook, record, day, catalog, scheme, id_column, domain)
    content = render_plan(plan, fmt, folder, catalog)  # type: ignore[arg-type]
    if output is None and fmt == "md":
        sys.stdout.write(str(content))
        return
    if output is None:
        output = Path("kece-out/plans") / f"{FileNames().take(plan.customer.id, 0)}.{fmt}"
    output.parent.mkdir(parents=True, exist_ok=True)
    write_file(output, content)
    out.print(t(lang, "wrote", path=display_path(output)), markup=False)


def parse_as_of(text: str | None) -> dt.date:
    from engine.literals import EPOCH, LiteralError, parse_date

    if text is None:
        return dt.date.today()
    days = parse_date(text)
    if isinstance(days, LiteralError):
        raise UsageError(Say(f"--as-of: {days.message.en}", f"--as-of:{days.message.zh}"))
    return EPOCH + dt.timedelta(days=days)


@app.command()
@handles_errors
def report(
    input: Annotated[Path, typer.Argument(help="Customer file (CSV, .xlsx, .parquet, .jsonl).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write.")] = Path(
        "kece-out/report.html"),
    cross: Annotated[str | None, typer.Option(help="Two schemes to cross-tabulate: --cross a,b")] = None,
    rules: RulesOption = None,
    scheme: Annotated[list[str] | None, typer.Option("--scheme", "-s", help="Report only this scheme (repeat).")]
    = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding of a CSV or JSON Lines file.")] = None,
    sheet: Annotated[str | None, typer.Option(help="Worksheet of an Excel file.")] = None,
    domain: DomainOption = None,
    lang: LangOption = "zh",
) -> None:
    """One self-contained HTML page: per scheme the distribution over rules (chart and numbers), a
    cross-tab heatmap of two schemes, unmatched and conflicts, rules no customer hit, rejects by reason."""
    from engine.report import collect, write_report  # matplotlib loads only for reports

    check_lang(lang)
    pair = None
    if cross is not None:
        parts = [p.strip() for p in cross.split(",") if p.strip()]
        if len(parts) != 2:
            raise UsageError(Say("--cross takes two scheme ids: --cross bank_tier,dealer_class",
                                 "--cross 需要两个方案 id:--cross bank_tier,dealer_class"))
        pair = (parts[0], parts[1])
    rulebook = load_rules(rules, lang)
    data = collect(rulebook, input, schemes=scheme, cross=pair, encoding=encoding, sheet=sheet, lang=lang,
                   domain=domain)
    write_report(data, output, lang)
    out.print(t(lang, "wrote_rows", rows_in=data.rows_in, rows_out=data.rows_out, rejected=data.rows_rejected))
    out.print(t(lang, "wrote", path=display_path(output)), markup=False)


def load_feature_set(rules: Path | None, lang: str) -> FeatureSet:
    path = features_path(rules if rules is not None else default_rules_dir()[0])
    err.print(t(lang, "features_file", path=display_path(path)), markup=False)
    return load_features(path, display_path(path))


def calibrated_features(calibration: Path | None, rules: Path | None, lang: str) -> CalibratedFeatures | None:
    if calibration is None:
        return None
    features = load_feature_set(rules, lang)
    loaded = load_calibration(calibration, display_path(calibration))
    err.print(t(lang, "calibration_used", id=loaded.id, path=display_path(calibration)), markup=False)
    return CalibratedFeatures(features, loaded)


@app.command()
@handles_errors
def derive(
    input: Annotated[Path, typer.Argument(help="Transactions file: customer id, date, amount, optional quantity.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Customer features file (.csv, .xlsx, .parquet).")]
    = Path("kece-out/customers.csv"),
    as_of: AsOfOption = None,
    calibration: CalibrationOption = None,
    rules: RulesOption = None,
    rejects: Annotated[Path | None, typer.Option(help="Rejects file (default: OUTPUT.rejects.csv).")] = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding of a CSV or text file.")] = None,
    sheet: Annotated[str | None, typer.Option(help="Worksheet of an Excel file.")] = None,
    lang: LangOption = "zh",
) -> None:
    """One row per customer from a transactions file: recency, frequency, spend, trend, churn, and the
    calibrated RFM scores, value-pyramid tier and CLV (rules/features.yaml, docs/features.md)."""
    check_lang(lang)
    features = load_feature_set(rules, lang)
    loaded = load_calibration(calibration, display_path(calibration)) if calibration else None
    run = derive_file(input, output, features, as_of=as_of, calibration=loaded, rejects=rejects, encoding=encoding,
                      sheet=sheet, lang=lang)
    out.print(t(lang, "as_of_given" if run.as_of_given else "as_of_last", date=run.as_of), markup=False)
    out.print(t(lang, "tx_rows", rows_in=run.rows_in, used=run.rows_used, rejected=run.rows_rejected,
                customers=run.customers), markup=False)
    if run.calibration_fitted:
        out.print(t(lang, "calibration_fitted", id=run.calibration.id), markup=False)
    else:
        out.print(t(lang, "calibration_used", id=run.calibration.id, path=display_path(calibration)), markup=False)
    out.print(t(lang, "wrote", path=display_path(run.output)), markup=False)
    out.print(t(lang, "wrote", path=display_path(run.rejects_path)), markup=False)


@app.command()
@handles_errors
def calibrate(
    input: Annotated[Path, typer.Argument(help="Transactions file, or a customer file with the base features.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Calibration file to write (YAML).")]
    = Path("calibration.yaml"),
    as_of: AsOfOption = None,
    rules: RulesOption = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding of a CSV or text file.")] = None,
    sheet: Annotated[str | None, typer.Option(help="Worksheet of an Excel file.")] = None,
    lang: LangOption = "zh",
) -> None:
    """Fit and store the cut-points of the population-relative features (RFM quintiles, value-pyramid
    thresholds), so later files and single customers are scored alike."""
    check_lang(lang)
    features = load_feature_set(rules, lang)
    run = calibrate_file(input, output, features, as_of=as_of, encoding=encoding, sheet=sheet, lang=lang)
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
    out.print(t(lang, "wrote", path=display_path(run.output)), markup=False)


@app.command()
@handles_errors
def init(
    folder: Annotated[Path, typer.Argument(help="New (or empty) folder for the workspace.")],
    lang: LangOption = "zh",
) -> None:
    """Create a workspace for a business team: copies of the bundled packs and playbooks, sample data
    and a short guide; kece commands run in it use its rules."""
    check_lang(lang)
    written = init_workspace(folder)
    for path in written:
        out.print(t(lang, "wrote", path=display_path(path)), markup=False)
    out.print(t(lang, "init_next", folder=display_path(folder)), markup=False)


@app.command()
@handles_errors
def schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of printing.")] = None,
) -> None:
    """Print the JSON Schema of rule files (for editor validation and autocomplete)."""
    text = json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    from engine.tables import atomic_write

    atomic_write(output, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    out.print(t("en", "wrote", path=display_path(output)), markup=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
