"""The options kece's commands share, declared once: their names, help texts and defaults (cli.py
holds the commands). Flags are declared with `flag`, so --help shows them as flags."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine.console.options import flag

RulesOption = Annotated[Path | None, typer.Option(
    "--rules", help="Folder of rule files (default: ./rules if present, else the bundled packs).")]
LangOption = Annotated[str, typer.Option(
    "--lang", envvar="KECE_LANG", help="Language of labels and messages: zh or en.")]
CalibrationOption = Annotated[Path | None, typer.Option(
    "--calibration", help="Calibration file from kece calibrate: computes r_score, f_score, m_score, pyramid_tier "
    "and clv from recency_days, frequency, monetary_total.")]
AsOfOption = Annotated[str | None, typer.Option(
    "--as-of", help="The day the figures are computed for, YYYY-MM-DD (default: the last transaction date).")]
RawCsvOption = Annotated[bool, flag(
    "--raw-csv", help="Write CSV cells exactly as they are, for programs: by default a cell starting with = + - @ "
    "(a spreadsheet formula) is prefixed with ' so that Excel shows it as text.")]
DomainOption = Annotated[str | None, typer.Option(
    "--domain", help="Only schemes for this domain (bank, dealer, education, retail, b2b) and those without one.")]
QuietOption = Annotated[bool, flag("--quiet", "-q", help="No progress bar.")]
IdColumnOption = Annotated[str | None, typer.Option("--id-column", help="Column with customer ids.")]
HeaderRowOption = Annotated[int | None, typer.Option(
    "--header-row", help="Row of a CSV or Excel file holding the column names, when rows above it hold a title "
    "(default 1); rejects keep the row numbers a spreadsheet shows.", show_default=False)]
MovedOption = Annotated[Path | None, typer.Option(
    "--moved", help="Write every customer who moved (id, scheme, old, new) here (.csv, .xlsx, .parquet; default with "
    "-o: beside it, as NAME.moved.csv).")]
PageOption = Annotated[Path | None, typer.Option("--output", "-o", help="Also write a self-contained HTML page.")]
JsonOption = Annotated[bool, flag("--json", help="Print JSON for machines: "
                                  '{"schemes": {scheme: {"matrix": {old: {new: count}}, "moved": n}}}.')]
FailOnChangeOption = Annotated[bool, flag("--fail-on-change", help="Exit 1 when any customer moved "
                                          "(a review gate in CI).")]
EncodingOption = Annotated[str | None, typer.Option(help="Text encoding of a CSV or JSON Lines file "
                                                   "(default: UTF-8, else GB18030).")]
SheetOption = Annotated[str | None, typer.Option(help="Worksheet of an Excel file (default: the first).")]
SchemeOption = Annotated[list[str] | None, typer.Option("--scheme", "-s", help="Only this scheme (repeat).")]
CustomerIdOption = Annotated[str | None, typer.Option("--id", help="The customer's id in the file.")]
CustomerJsonOption = Annotated[str | None, typer.Option(help="One customer as JSON instead of a file.")]
EngineOption = Annotated[str, typer.Option(
    "--engine", help="local (this machine, in chunks) or spark (Apache Spark: INPUT is a .parquet or .csv path or "
    "table:DB.NAME; writes Parquet; needs pip install 'kece\\[spark]' and Java 17+).")]
MasterOption = Annotated[str | None, typer.Option(
    "--master", help="With --engine spark: the Spark master, e.g. local[2], yarn, spark://host:7077 (default: the "
    "session spark-submit started, else local[*]).", show_default=False)]
