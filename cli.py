"""kece command line: thin Typer commands over the engine's API (engine/__init__.py); what they print
lives in engine/console/."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from engine.console import views
from engine.console.group import KeceGroup
from engine.console.options import (
    calibrated_features,
    check_choice,
    check_horizon,
    check_lang,
    flag,
    load_feature_set,
    load_rules,
    parse_as_of,
    parse_cross,
    parse_customer_json,
)
from engine.console.params import (
    AsOfOption,
    CalibrationOption,
    CustomerIdOption,
    CustomerJsonOption,
    DomainOption,
    EncodingOption,
    EngineOption,
    FailOnChangeOption,
    HeaderRowOption,
    IdColumnOption,
    JsonOption,
    LangOption,
    MasterOption,
    MovedOption,
    PageOption,
    QuietOption,
    RawCsvOption,
    RulesOption,
    SchemeOption,
    SheetOption,
)
from engine.console.progress import progress_bar
from engine.console.streams import debug, err, handles_errors, out
from engine.errors import Say, UsageError
from engine.messages import t
from engine.rules.loader import display_path

ENGINES = ("local", "spark")
DERIVE_OUTPUT = Path("kece-out/customers.csv")

app = typer.Typer(
    name="kece",
    cls=KeceGroup,
    help="客策 kece: customer segmentation rules and playbooks. Try: kece check, kece evaluate FILE.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals would show customer data
)


@app.callback()
def main_options(
    debug_flag: Annotated[bool, flag("--debug", help="Show a traceback for errors inside kece (before or after "
                                      "the command).")] = False,
) -> None:
    debug["on"] = debug_flag


@app.command()
@handles_errors
def check(
    rules: RulesOption = None,
    base: Annotated[str | None, typer.Option("--base", help="Also say, per scheme, how much of the exact analysis "
                                             "changes result against these rules: a folder or a git revision.")]
    = None,
    lang: LangOption = "zh",
) -> None:
    """Load and validate the rule files, run their examples on both backends, and look for overlaps,
    gaps, unreachable rules and contradictions; list every problem with its file:line:col."""
    from engine.analysis.coherence import analyse_coherence
    from engine.analysis.examples import run_examples
    from engine.analysis.regions import analyse
    from engine.evaluation.evaluate import BACKENDS

    check_lang(lang)
    rulebook = load_rules(rules, lang)
    if base is not None:
        from engine.analysis.revisions import load_base
        from engine.analysis.rule_diff import analysis_difference
        from engine.bundled import default_rules_dir

        old, named = load_base(base, rules or default_rules_dir()[0])
        views.show_rule_diff(analysis_difference(old, rulebook), named, lang)
    views.show_rulebook(rulebook, lang)
    failures = [failure for scheme in rulebook.schemes for backend in BACKENDS
                for failure in run_examples(scheme, backend)]
    views.show_example_failures(failures, lang)
    errors = views.show_analyses([analyse(scheme) for scheme in rulebook.schemes], lang)
    errors += views.show_coherence(analyse_coherence(rulebook), lang)
    playbook_problems = views.show_playbook_problems(rulebook, lang)
    if failures or errors or playbook_problems:
        raise typer.Exit(1)
    where = f"{display_path(rulebook.directory)}" if rulebook.directory else ""
    out.print(t(lang, "rules_ok", schemes=len(rulebook.schemes), rules=sum(len(s.rules) for s in rulebook.schemes),
                examples=sum(len(s.examples) for s in rulebook.schemes), where=where))


@app.command("test")
@handles_errors
def test_examples(rules: RulesOption = None, lang: LangOption = "zh") -> None:
    """Run every scheme's examples on both backends; a table per pack, and every failure located."""
    from engine.analysis.examples import run_examples
    from engine.evaluation.evaluate import BACKENDS

    check_lang(lang)
    rulebook = load_rules(rules, lang)
    failures, rows = [], []
    for scheme in rulebook.schemes:
        failed = [f for backend in BACKENDS for f in run_examples(scheme, backend)]
        rows.append((scheme.id, scheme.path, len(scheme.examples), len({id(f.example) for f in failed})))
        failures.extend(failed)
    views.show_example_table(rows, lang)
    views.show_example_failures(failures, lang, heading=False)
    total = sum(len(s.examples) for s in rulebook.schemes)
    failed_total = len({id(f.example) for f in failures})
    out.print(t(lang, "tested", passed=total - failed_total, failed=failed_total))
    if failures:
        raise typer.Exit(1)


@app.command()
@handles_errors
def evaluate(
    input: Annotated[Path | None, typer.Argument(help="Customer file (CSV, .xlsx/.xls, .parquet, .jsonl).",
                                                 show_default=False)] = None,
    rules: RulesOption = None,
    scheme: SchemeOption = None,
    backend: Annotated[str, typer.Option(help="vectorized (batch) or durable (durable_rules).")] = "",
    id_column: IdColumnOption = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Results file: .csv, .xlsx or .parquet, by its "
                                                "extension.")] = None,
    rejects: Annotated[Path | None, typer.Option(help="Rejects file (default: OUTPUT.rejects.csv, .xlsx or "
                                                 ".parquet, as the output).")] = None,
    customer: CustomerJsonOption = None,
    encoding: EncodingOption = None,
    sheet: SheetOption = None,
    header_row: HeaderRowOption = None,
    quiet: QuietOption = False,
    domain: DomainOption = None,
    calibration: CalibrationOption = None,
    raw_csv: RawCsvOption = False,
    duplicates: Annotated[str, typer.Option(help="Rows repeating a customer id: first (evaluate the first, reject "
                                            "the later ones), last, reject (reject them all) or keep (evaluate all).")]
    = "first",
    max_rejected: Annotated[float, typer.Option(help="Exit 1 when more than this share of the rows is rejected "
                                                "(0 to 1; 1 never).")] = 0.5,
    engine: EngineOption = "local",
    master: MasterOption = None,
    lang: LangOption = "zh",
) -> None:
    """Evaluate customers: a file (CSV, .xlsx/.xls, .parquet, .jsonl; one output row per valid row) or one
    --customer JSON. Results are written as .csv, .xlsx or .parquet, by the output's extension."""
    from engine.evaluation.evaluate import BACKENDS, evaluate_customer

    check_lang(lang)
    if (input is None) == (customer is None):
        raise UsageError(Say("give either an input file or --customer JSON (not both)",
                             "请给出输入文件或 --customer JSON(二选一)"))
    chosen = check_choice("--backend", backend or ("durable" if customer is not None else "vectorized"), BACKENDS)
    spark = check_choice("--engine", engine, ENGINES) == "spark"
    if not 0 <= max_rejected <= 1:
        raise UsageError(Say(f"--max-rejected is a share between 0 and 1, not {max_rejected}",
                             f"--max-rejected 是 0 到 1 之间的比例,不能是 {max_rejected}"))
    if spark:
        from engine.io.screen import DUPLICATE_POLICIES
        from engine.spark.evaluate import evaluate_source, refuse_options

        refuse_options({"--customer": customer, "--backend": backend not in ("", "vectorized"), "--sheet": sheet,
                        "--header-row": header_row, "--calibration": calibration, "--raw-csv": raw_csv}, lang)
        run = evaluate_source(load_rules(rules, lang), str(input), str(output) if output else None,
                              str(rejects) if rejects else None, master=master, schemes=scheme, id_column=id_column,
                              lang=lang, domain=domain, encoding=encoding,
                              duplicates=check_choice("--duplicates", duplicates, DUPLICATE_POLICIES))
        views.show_run(run, lang)
        if views.show_rejected(run, lang, max_rejected):
            raise typer.Exit(1)
        return
    rulebook = load_rules(rules, lang)
    hook = calibrated_features(calibration, rules, lang)
    if customer is not None:
        record = parse_customer_json(customer)
        record = hook.apply_record(record) if hook else record
        evaluation = evaluate_customer(rulebook, record, scheme, chosen, lang, domain)  # type: ignore[arg-type]
        views.show_customer(evaluation, lang)
        return
    from engine.evaluation.batch import evaluate_file  # a file's path: screening, chunked writers
    from engine.io.screen import DUPLICATE_POLICIES

    with progress_bar(input, quiet, lang) as progress:  # type: ignore[arg-type]
        run = evaluate_file(rulebook, input, output, schemes=scheme, backend=chosen,  # type: ignore[arg-type]
                            id_column=id_column, rejects=rejects, lang=lang, encoding=encoding, sheet=sheet,
                            progress=progress, domain=domain, features=hook, escape_formulas=not raw_csv,
                            header_row=header_row,
                            duplicates=check_choice("--duplicates", duplicates, DUPLICATE_POLICIES))
    views.show_run(run, lang)
    if views.show_rejected(run, lang, max_rejected):
        raise typer.Exit(1)


@app.command("explain")
@handles_errors
def explain_command(
    input: Annotated[Path | None, typer.Argument(help="Customer file to find --id in.", show_default=False)] = None,
    customer_id: CustomerIdOption = None,
    customer: CustomerJsonOption = None,
    rules: RulesOption = None,
    scheme: SchemeOption = None,
    id_column: IdColumnOption = None,
    encoding: EncodingOption = None,
    sheet: SheetOption = None,
    header_row: HeaderRowOption = None,
    as_json: Annotated[bool, flag("--json", help="Print JSON for machines.")] = False,
    domain: DomainOption = None,
    actions: Annotated[bool, flag("--actions", help="How the policy (policy.yaml) chose the plan's actions, "
                                          "step by step, instead of the rules.")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="With --actions: the date due dates count from "
                                              "(YYYY-MM-DD; default today).")] = None,
    calibration: CalibrationOption = None,
    lang: LangOption = "zh",
) -> None:
    """Why a customer gets its segments: every rule and test with the customer's values, the hit
    policy's choice, and what would move the customer to the next better rule. With --actions: how
    the arbitration policy chose the actions of the customer's plan."""
    from engine.analysis.explain import explain_customer
    from engine.evaluation.evaluate import customer_from_file

    check_lang(lang)
    if (input is None) == (customer is None) or (input is not None and customer_id is None):
        raise UsageError(Say("give INPUT --id ID, or --customer JSON", "请给出 INPUT --id ID,或 --customer JSON"))
    rulebook = load_rules(rules, lang, quiet=as_json)
    if customer is not None:
        record = parse_customer_json(customer)
    else:
        record = customer_from_file(rulebook, input, customer_id, id_column=id_column,  # type: ignore[arg-type]
                                    schemes=scheme, encoding=encoding, sheet=sheet, lang=lang,
                                    header_row=header_row)
    hook = calibrated_features(calibration, rules, lang)
    record = hook.apply_record(record) if hook else record
    if actions:
        from engine.plans.compose import explain_actions
        from engine.plans.playbook import default_playbooks_dir, load_catalog

        catalog = load_catalog(default_playbooks_dir().resolve(), lang)
        trace = explain_actions(rulebook, record, parse_as_of(as_of), catalog, scheme, id_column, domain)
        views.show_action_trace(trace, catalog, lang, as_json)
        return
    views.show_explanation(explain_customer(rulebook, record, scheme, lang, domain), lang, as_json)


@app.command("plan")
@handles_errors
def plan_command(
    input: Annotated[Path | None, typer.Argument(help="Customer file (CSV, .xlsx/.xls, .parquet, .jsonl).",
                                                 show_default=False)] = None,
    customer_id: CustomerIdOption = None,
    all_rows: Annotated[bool, flag("--all", help="A plan for every customer of the file, plus an index.")]
    = False,
    customer: CustomerJsonOption = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="The plan file; with --all, the folder "
                                                "(default kece-out/plans). Without it a Markdown plan prints.")]
    = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date the due dates count from (YYYY-MM-DD; "
                                              "default today).")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="md, html or docx.")] = "md",
    rules: RulesOption = None,
    playbooks: Annotated[Path | None, typer.Option(help="Folder of playbook templates (default: ./playbooks if "
                                                   "present, else the bundled ones).")] = None,
    scheme: SchemeOption = None,
    id_column: IdColumnOption = None,
    encoding: EncodingOption = None,
    sheet: SheetOption = None,
    header_row: HeaderRowOption = None,
    quiet: QuietOption = False,
    domain: DomainOption = None,
    calibration: CalibrationOption = None,
    horizon: Annotated[int, typer.Option(help="With --all: tasks.csv and tasks.ics hold the actions due within "
                                         "this many days.")] = 90,
    no_tasks: Annotated[bool, flag("--no-tasks", help="With --all: no tasks.csv and tasks.ics.")] = False,
    rejects: Annotated[Path | None, typer.Option(help="With --all: the rejects file (.csv, .xlsx or .parquet; "
                                                 "default: OUTPUT/INPUT.rejects.csv).")] = None,
    lang: LangOption = "zh",
) -> None:
    """Action plans for reps from the playbook templates: who the customer is to us and why, what to
    do by when (merged across schemes), how to talk to them, and the sources behind each action."""
    from engine.evaluation.evaluate import customer_from_file
    from engine.io.outputs import check_output_file, refuse_overwrite
    from engine.plans.compose import plan_for_customer
    from engine.plans.files import FileNames, render_plan, write_file, write_plans
    from engine.plans.playbook import FORMATS, default_playbooks_dir, load_catalog

    check_lang(lang)
    check_choice("--format", fmt, FORMATS)
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
                              domain=domain, features=hook, progress=progress, rejects=rejects, header_row=header_row,
                              horizon_days=None if no_tasks else check_horizon(horizon))
        views.show_plans_run(run, horizon, lang)
        return
    record = parse_customer_json(customer) if customer is not None else customer_from_file(
        rulebook, input, customer_id, id_column=id_column, schemes=scheme,  # type: ignore[arg-type]
        encoding=encoding, sheet=sheet, lang=lang, header_row=header_row)
    record = hook.apply_record(record) if hook else record
    plan = plan_for_customer(rulebook, record, day, catalog, scheme, id_column, domain)
    content = render_plan(plan, fmt, folder, catalog)  # type: ignore[arg-type]
    if output is None and fmt == "md":
        sys.stdout.write(str(content))
        return
    if output is None:
        output = Path("kece-out/plans") / f"{FileNames().take(plan.customer.id, 0)}.{fmt}"
    check_output_file(output)
    refuse_overwrite([input], [output])
    output.parent.mkdir(parents=True, exist_ok=True)
    write_file(output, content)
    views.show_written(lang, output)


@app.command()
@handles_errors
def report(
    input: Annotated[Path, typer.Argument(help="Customer file (CSV, .xlsx/.xls, .parquet, .jsonl).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write.")] = Path(
        "kece-out/report.html"),
    cross: Annotated[str | None, typer.Option(help="Two schemes to cross-tabulate: --cross a,b")] = None,
    rules: RulesOption = None,
    scheme: SchemeOption = None,
    id_column: IdColumnOption = None,
    encoding: EncodingOption = None,
    sheet: SheetOption = None,
    header_row: HeaderRowOption = None,
    domain: DomainOption = None,
    calibration: CalibrationOption = None,
    rejects: Annotated[Path | None, typer.Option(help="Also write the rejected rows to this file (.csv, .xlsx or "
                                                 ".parquet); the report counts them either way.")] = None,
    quiet: QuietOption = False,
    lang: LangOption = "zh",
) -> None:
    """One self-contained HTML page: per scheme the distribution over rules (chart and numbers), a
    cross-tab heatmap of two schemes, unmatched and conflicts, rules no customer hit, rejects by reason."""
    from engine.analysis.report import collect, write_report  # matplotlib loads only for reports
    from engine.io.outputs import check_output_file, refuse_overwrite
    from engine.plans.playbook import owner_labels

    check_lang(lang)
    pair = parse_cross(cross)
    check_output_file(output)
    refuse_overwrite([input], [output])  # before the work; write_report checks again
    rulebook = load_rules(rules, lang)
    hook = calibrated_features(calibration, rules, lang)
    with progress_bar(input, quiet, lang) as progress:
        data = collect(rulebook, input, schemes=scheme, cross=pair, encoding=encoding, sheet=sheet, lang=lang,
                       domain=domain, id_column=id_column, features=hook, rejects=rejects, progress=progress,
                       header_row=header_row)
    write_report(data, output, lang, owner_labels(lang))
    out.print(t(lang, "wrote_rows", rows_in=data.rows_in, rows_out=data.rows_out, rejected=data.rows_rejected))
    views.show_written(lang, output, *([data.rejects_path] if data.rejects_path else []))


@app.command()
@handles_errors
def impact(
    input: Annotated[Path, typer.Argument(help="Customer file (CSV, .xlsx/.xls, .parquet, .jsonl).")],
    base: Annotated[str, typer.Option("--base", help="The rules before the change: a folder, or a git revision of "
                                      "the rules folder (HEAD, main~3, a tag).", show_default=False)],
    rules: RulesOption = None,
    output: PageOption = None,
    moved: MovedOption = None,
    as_json: JsonOption = False,
    fail_on_change: FailOnChangeOption = False,
    id_column: IdColumnOption = None,
    encoding: EncodingOption = None,
    sheet: SheetOption = None,
    domain: DomainOption = None,
    calibration: CalibrationOption = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The date the moved customers' plans count from "
                                              "(YYYY-MM-DD; default today).")] = None,
    lang: LangOption = "zh",
) -> None:
    """What a rule change does to real customers: per scheme that changed, who moved from which result
    to which (a migration matrix), the rule edits behind it, and how the moved customers' arbitrated
    actions change. Exit 0 (1 with --fail-on-change when anyone moved)."""
    from engine.analysis.impact import measure_impact
    from engine.analysis.revisions import load_base
    from engine.bundled import default_rules_dir
    from engine.io.outputs import check_output_file, refuse_overwrite
    from engine.plans.impact import ActionShift
    from engine.plans.playbook import default_playbooks_dir, load_catalog

    check_lang(lang)
    day = parse_as_of(as_of)
    moved = moved or (output.with_name(f"{output.stem}.moved.csv") if output else None)
    for path in (p for p in (output, moved) if p is not None):
        check_output_file(path)
    refuse_overwrite([input], [output, moved])
    old, named = load_base(base, rules or default_rules_dir()[0])  # a mistyped --base fails before the work
    new = load_rules(rules, lang, quiet=as_json)
    hook = calibrated_features(calibration, rules, lang)
    shift = ActionShift(old, new, load_catalog(default_playbooks_dir(), lang), day)
    result = measure_impact(old, new, input, base=named, lang=lang, id_column=id_column, encoding=encoding,
                            sheet=sheet, domain=domain, enrich=hook.apply if hook else None, hook=shift)
    views.publish_migrations(result, t(lang, "impact_title", input=input.name), [input], output, moved, as_json,
                             views.show_impact, lang)
    if fail_on_change and result.moved:
        raise typer.Exit(1)


@app.command()
@handles_errors
def compare(
    old: Annotated[Path, typer.Argument(help="The earlier output of kece evaluate (.csv, .xlsx, .parquet).")],
    new: Annotated[Path, typer.Argument(help="The later output of kece evaluate.")],
    output: PageOption = None,
    moved: MovedOption = None,
    as_json: JsonOption = False,
    fail_on_change: FailOnChangeOption = False,
    id_column: Annotated[str | None, typer.Option("--id-column", help="Column with customer ids (default: a usual "
                                                  "id column, else the first).")] = None,
    encoding: EncodingOption = None,
    sheet: SheetOption = None,
    lang: LangOption = "zh",
) -> None:
    """Two outputs of kece evaluate (last month's and this month's) matched by customer id: per scheme
    a migration matrix and who moved, and the customers who appeared or left."""
    from engine.analysis.compare import compare_results
    from engine.io.outputs import check_output_file, refuse_overwrite

    check_lang(lang)
    moved = moved or (output.with_name(f"{output.stem}.moved.csv") if output and output.suffix == ".html"
                      else None)
    if output is not None and output.suffix.lower() != ".html":  # -o moved.csv: the list of who moved
        output, moved = None, output
    for path in (p for p in (output, moved) if p is not None):
        check_output_file(path)
    refuse_overwrite([old, new], [output, moved])
    result = compare_results(old, new, id_column=id_column, encoding=encoding, sheet=sheet, lang=lang)
    views.publish_migrations(result, t(lang, "compare_title", old=old.name, new=new.name), [old, new], output, moved,
                             as_json, views.show_comparison, lang)
    if fail_on_change and result.moved:
        raise typer.Exit(1)


@app.command()
@handles_errors
def derive(
    input: Annotated[Path, typer.Argument(help="Transactions file: customer id, date, amount, optional quantity.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Customer features file (.csv, .xlsx, .parquet; "
                                         "with --engine spark a .parquet folder, default kece-out/customers.parquet).")]
    = DERIVE_OUTPUT,
    as_of: AsOfOption = None,
    calibration: CalibrationOption = None,
    rules: RulesOption = None,
    rejects: Annotated[Path | None, typer.Option(help="Rejects file (default: OUTPUT.rejects.csv).")] = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding of a CSV or text file.")] = None,
    sheet: SheetOption = None,
    raw_csv: RawCsvOption = False,
    engine: EngineOption = "local",
    master: MasterOption = None,
    lang: LangOption = "zh",
) -> None:
    """One row per customer from a transactions file: recency, frequency, spend, trend, churn, and the
    calibrated RFM scores, value-pyramid tier and CLV (rules/features.yaml, docs/features.md)."""
    from engine.features.calibration import load as load_calibration
    from engine.features.derive import derive_file

    check_lang(lang)
    features = load_feature_set(rules, lang)
    loaded = load_calibration(calibration, display_path(calibration)) if calibration else None
    if check_choice("--engine", engine, ENGINES) == "spark":
        from engine.spark.derive import derive_source
        from engine.spark.evaluate import refuse_options

        refuse_options({"--sheet": sheet, "--raw-csv": raw_csv}, lang)
        spark_output = str(output) if output != DERIVE_OUTPUT else "kece-out/customers.parquet"
        views.show_derive(derive_source(str(input), spark_output, features, master=master, as_of=as_of,
                                        calibration=loaded, rejects=str(rejects) if rejects else None,
                                        encoding=encoding, lang=lang), calibration, lang)
        return
    run = derive_file(input, output, features, as_of=as_of, calibration=loaded, rejects=rejects, encoding=encoding,
                      sheet=sheet, lang=lang, escape_formulas=not raw_csv)
    views.show_derive(run, calibration, lang)


@app.command()
@handles_errors
def calibrate(
    input: Annotated[Path, typer.Argument(help="Transactions file, or a customer file with the base features.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Calibration file to write (YAML).")]
    = Path("kece-out/calibration.yaml"),
    as_of: AsOfOption = None,
    rules: RulesOption = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding of a CSV or text file.")] = None,
    sheet: SheetOption = None,
    lang: LangOption = "zh",
) -> None:
    """Fit and store the cut-points of the population-relative features (RFM quintiles, value-pyramid
    thresholds), so later files and single customers are scored alike."""
    from engine.features.derive import calibrate_file

    check_lang(lang)
    features = load_feature_set(rules, lang)
    run = calibrate_file(input, output, features, as_of=as_of, encoding=encoding, sheet=sheet, lang=lang)
    views.show_calibration(run, lang)


@app.command()
@handles_errors
def init(
    folder: Annotated[Path, typer.Argument(help="New (or empty) folder for the workspace.")],
    lang: LangOption = "zh",
) -> None:
    """Create a workspace for a business team: copies of the bundled packs and playbooks, sample data
    and a short guide; kece commands run in it use its rules."""
    from engine.workspace import init_workspace

    check_lang(lang)
    written = init_workspace(folder)
    views.show_written(lang, *written)
    out.print(t(lang, "init_next", folder=display_path(folder)), markup=False)


@app.command()
@handles_errors
def schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of printing.")] = None,
    kind: Annotated[str, typer.Option("--kind", help="rules (a rule file), policy (policy.yaml) or actions "
                                      "(actions.yaml).")] = "rules",
) -> None:
    """Print the JSON Schema of rule files, the policy or the action catalog (editor validation and autocomplete)."""
    from engine.rules.policy import schemas

    found = schemas()
    check_choice("--kind", kind, tuple(found))
    text = json.dumps(found[kind], ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    from engine.io.tables import atomic_write

    atomic_write(output, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    views.show_written("en", output)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
