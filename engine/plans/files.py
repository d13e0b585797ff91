"""Plans as files: rendering a plan through the playbook templates, safe file names from customer
ids, and `kece plan --all` (one file per customer of a file, an index, and the rows rejected)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from engine.evaluation.batch import FeatureHook, evaluate_chunks
from engine.io.coerce import empty_rejects
from engine.io.outputs import check_output_file, refuse_overwrite
from engine.io.tables import ChunkWriter, check_output_suffix
from engine.io.temporary import remove_stale_temporaries, temporary_name
from engine.plans.compose import NAME_COLUMNS, build_plan
from engine.plans.model import Plan
from engine.plans.playbook import TEMPLATE_SUFFIX, Catalog, Format, render, template_type
from engine.plans.tasks import TaskFiles, plan_tasks
from engine.rules.model import Rulebook

MAX_STEM_BYTES = 120  # well under the 255-byte limit of common file systems, leaving room for suffixes
# What Windows, macOS or Linux reject in a name, and C1 controls and line separators, which no one means.
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f-\x9f\u2028\u2029<>:"/\\|?*]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.I)  # Windows device names
INDEX_STEM = "index"
# Plans are written a few thousand a second: smaller chunks than kece evaluate's keep the progress
# bar moving every few seconds (and memory flat); evaluating a chunk costs little next to its plans.
CHUNK_ROWS = 10_000


def render_plan(plan: Plan, fmt: Format, folder: Path, catalog: Catalog) -> str | bytes:
    """The plan as Markdown or HTML text, or a Word document's bytes."""
    text = render_template(folder, f"plan.{TEMPLATE_SUFFIX[fmt]}.j2", fmt, catalog, plan=plan)
    if fmt == "docx":
        from engine.plans.docx import markdown_to_docx  # python-docx loads only for Word

        return markdown_to_docx(text)
    return text


INDEX_ENTRY_CHARS = 2_000


def render_template(folder: Path, name: str, fmt: Format, catalog: Catalog, **variables: object) -> str:
    return render(folder, name, fmt, catalog.lang, msg=catalog.namespace, **variables)


def safe_stem(customer_id: str) -> tuple[str, bool]:
    """(file name stem, whether it differs from the id): no path separators or characters a file
    system rejects, no leading dots (no '..', no hidden files), no Windows device names, bounded length,
    and no invisible format characters: a right-to-left override makes `C1\u202egpj.exe` show as
    `C1exe.jpg` in a file manager, and zero-width ones make two names that look alike."""
    stem = unicodedata.normalize("NFC", customer_id)
    if not stem.isascii():  # bidi controls, zero-width spaces and joiners, BOM: Unicode category Cf
        stem = "".join(ch for ch in stem if unicodedata.category(ch) != "Cf")
    stem = _FORBIDDEN.sub("_", stem).strip(" .")
    if _RESERVED.match(stem):
        stem = f"_{stem}"
    encoded = stem.encode("utf-8")
    if len(encoded) > MAX_STEM_BYTES:
        stem = encoded[:MAX_STEM_BYTES].decode("utf-8", errors="ignore").rstrip(" .")
    return stem or "customer", stem != customer_id


class FileNames:
    """Gives each customer a distinct file stem in one folder. An id that had to be changed, or that
    would collide with another (also on a case-insensitive file system), gets a suffix from a hash of
    the id: stable from run to run, whatever order the customers come in."""

    def __init__(self, reserved: Sequence[str] = (INDEX_STEM,)) -> None:
        self.used = {name.casefold() for name in reserved}

    def take(self, customer_id: str, row: int) -> str:
        stem, changed = safe_stem(customer_id) if customer_id else (f"row{row}", False)
        if not changed and stem.casefold() not in self.used:  # most ids: used as they are
            self.used.add(stem.casefold())
            return stem
        tag = hashlib.sha1(customer_id.encode("utf-8")).hexdigest()[:8]
        for candidate in (f"{stem}-{tag}", f"{stem}-{tag}-row{row}"):
            if candidate.casefold() not in self.used:
                self.used.add(candidate.casefold())
                return candidate
        raise AssertionError("a row number makes every candidate distinct")  # pragma: no cover


def write_file(path: Path, content: str | bytes, folder_fd: int | None = None) -> None:
    """Write through a temporary name and rename into place: never a half-written plan. Lighter
    than tables.atomic_write (no mkstemp, no chmod), since --all writes one file per customer; with
    `folder_fd` (an open descriptor of path's folder) names resolve from it, not from the root.
    Without one (a single plan, an index) the folder's stale temporaries are removed first; --all
    has them removed once, when it writes the index."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    name, tmp = path.name, temporary_name(path.name, str(os.getpid()))
    if folder_fd is None:
        remove_stale_temporaries(path.parent)
        name, tmp = str(path), str(path.with_name(tmp))
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666, dir_fd=folder_fd)  # no buffered file object
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=folder_fd)
        except FileNotFoundError:
            pass
        raise


@template_type
class IndexEntry(NamedTuple):
    """One line of the index. A tuple of texts, not a dataclass: a run keeps one per plan until the
    index is written, and Python's garbage collector stops scanning tuples that hold only texts
    (with 100,000 dataclass entries its full collections were ~4 % of the run)."""

    customer_id: str
    name: str
    file: str
    segments: tuple[str, ...]


@dataclass(frozen=True)
class PlanRun:
    written: int
    rows_in: int
    rejected: int
    index: Path
    rejects: Path
    skipped: dict[str, list[str]]
    encoding: str | None
    tasks: tuple[Path, ...] = ()  # tasks.csv and tasks.ics, when written
    tasks_written: int = 0


def write_plans(rulebook: Rulebook, input_path: Path, out_dir: Path, *, fmt: Format, catalog: Catalog,
                folder: Path, as_of: dt.date, schemes: Sequence[str] | None = None, id_column: str | None = None,
                encoding: str | None = None, sheet: str | None = None, domain: str | None = None,
                features: FeatureHook | None = None, progress: Callable[[int], None] | None = None,
                horizon_days: int | None = 90, rejects: Path | None = None,
                header_row: int | None = None) -> PlanRun:
    """One plan per valid customer row of a file, an index of them, the rejected rows, and (unless
    `horizon_days` is None) the plans' actions due within the horizon as tasks.csv and tasks.ics.
    The file is read and evaluated as `kece evaluate` does (`domain`, `features`: its --domain and
    --calibration); `rejects` (.csv, .xlsx or .parquet) is where the rejected rows go, by default
    INPUT.rejects.csv in `out_dir`."""
    rejects_path = rejects or out_dir / f"{input_path.stem}.rejects.csv"
    check_output_suffix(rejects_path)
    check_output_file(rejects_path)
    evaluation = evaluate_chunks(rulebook, input_path, schemes=schemes, id_column=id_column, lang=catalog.lang,
                                 encoding=encoding, sheet=sheet, chunk_rows=CHUNK_ROWS, domain=domain,
                                 enrich=features.apply if features else None, header_row=header_row)
    usable = evaluation.schemes
    task_files = TaskFiles(out_dir, catalog.lang, as_of, horizon_days) if horizon_days is not None else None
    refuse_overwrite([input_path], [rejects_path, *((task_files.csv_path, task_files.ics_path) if task_files else ())])
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix, file_names = f".{fmt}", FileNames()
    entries: list[IndexEntry] = []
    rejects: list[pd.DataFrame] = []
    rows_in = 0
    policy = rulebook.policy
    with contextlib.ExitStack() as stack:
        # tasks.csv and tasks.ics appear only if every plan was made.
        tasks = stack.enter_context(task_files) if task_files else None
        # One descriptor of the output folder for the run: each plan's names resolve from it, not from /.
        folder_fd = os.open(out_dir, os.O_RDONLY) if os.open in os.supports_dir_fd else None
        if folder_fd is not None:
            stack.callback(os.close, folder_fd)
        for chunk in evaluation.chunks:
            prepared = chunk.prepared
            rejects += [chunk.rejects] if len(chunk.rejects) else []
            # Each customer's typed values per scheme, made as the plans are (kept by nothing after).
            records = zip(*(prepared.iter_records(scheme) for scheme in usable), strict=True)
            hits = {sid: found.matched_indices() for sid, found in chunk.columns.items()}
            name_column = next((c for c in NAME_COLUMNS if c in chunk.table.columns), None)
            customer_names = chunk.table[name_column].loc[prepared.rows].tolist() if name_column else \
                [""] * len(prepared)
            for i, (customer_id, row, name, typed) in enumerate(zip(prepared.ids.tolist(), prepared.rows.tolist(),
                                                                    customer_names, records, strict=True)):
                plan = build_plan(usable, {scheme.id: record for scheme, record in zip(usable, typed, strict=True)},
                                  customer_id, name or "", as_of, catalog,
                                  matched={sid: found[i] for sid, found in hits.items()}, policy=policy)
                file_name = file_names.take(customer_id, row) + suffix
                write_file(out_dir / file_name, render_plan(plan, fmt, folder, catalog), folder_fd)
                entries.append(IndexEntry(customer_id, name or "", file_name, plan.main_segments))
                if tasks is not None:
                    tasks.add(plan_tasks(plan))
            rows_in += chunk.rows_in
            if progress:
                progress(rows_in)
    index_fmt: Format = "md" if fmt == "md" else "html"
    index = out_dir / f"{INDEX_STEM}.{index_fmt}"
    # The index grows with the file: each entry may take a few lines on top of one plan's limit.
    write_file(index, render(folder, f"index.{index_fmt}.j2", index_fmt, catalog.lang, per_item=INDEX_ENTRY_CHARS,
                             msg=catalog.namespace, entries=entries, as_of=as_of))
    rejected = pd.concat(rejects, ignore_index=True).sort_values("row", kind="stable") if rejects else empty_rejects()
    writer = ChunkWriter(rejects_path)
    if len(rejected):
        writer.write(rejected)
    writer.close(empty_rejects())
    return PlanRun(len(entries), rows_in, len(rejected), index, rejects_path, evaluation.skipped, evaluation.encoding,
                   (task_files.csv_path, task_files.ics_path) if task_files else (),
                   task_files.written if task_files else 0)
