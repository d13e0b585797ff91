"""Plans as files: rendering a plan through the playbook templates, safe file names from customer
ids, and `kece plan --all` (one file per customer of a file, an index, and the rows rejected)."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from engine.coerce import empty_rejects, prepare
from engine.evaluate import alias_schemes, choose_schemes
from engine.model import Rulebook
from engine.plan import NAME_COLUMNS, Plan, build_plan
from engine.playbook import TEMPLATE_SUFFIX, Catalog, Format, render
from engine.scope import domain_column
from engine.tables import apply_aliases, atomic_write, guess_id_column, iter_table
from engine.vectorized import evaluate_frame

MAX_STEM_BYTES = 120  # well under the 255-byte limit of common file systems, leaving room for suffixes
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')  # what Windows, macOS or Linux reject in a name
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.I)  # Windows device names
INDEX_STEM = "index"


def render_plan(plan: Plan, fmt: Format, folder: Path, catalog: Catalog) -> str | bytes:
    """The plan as Markdown or HTML text, or a Word document's bytes."""
    text = render_template(folder, f"plan.{TEMPLATE_SUFFIX[fmt]}.j2", fmt, catalog, plan=plan)
    if fmt == "docx":
        from engine.plan_docx import markdown_to_docx  # python-docx loads only for Word

        return markdown_to_docx(text)
    return text


def render_template(folder: Path, name: str, fmt: Format, catalog: Catalog, **variables: object) -> str:
    return render(folder, name, fmt, catalog.lang, msg=catalog.namespace, **variables)


def safe_stem(customer_id: str) -> tuple[str, bool]:
    """(file name stem, whether it differs from the id): no path separators or characters a file
    system rejects, no leading dots (no '..', no hidden files), no Windows device names, bounded length."""
    stem = _FORBIDDEN.sub("_", unicodedata.normalize("NFC", customer_id)).strip(" .")
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
    `folder_fd` (an open descriptor of path's folder) names resolve from it, not from the root."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    name, tmp = path.name, f".{path.name}.{os.getpid()}.tmp"
    if folder_fd is None:
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


@dataclass(frozen=True)
class IndexEntry:
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


def write_plans(rulebook: Rulebook, input_path: Path, out_dir: Path, *, fmt: Format, catalog: Catalog,
                folder: Path, as_of: dt.date, schemes: Sequence[str] | None = None, id_column: str | None = None,
                encoding: str | None = None, sheet: str | None = None,
                progress: Callable[[int], None] | None = None) -> PlanRun:
    """One plan per valid customer row of a file, an index of them, and the rejected rows."""
    lang = catalog.lang
    used_encoding, chunks = iter_table(input_path, encoding, sheet, lang)
    aliased = alias_schemes(rulebook, schemes)
    first = next(chunks)
    header = apply_aliases(first.table, aliased)
    id_name = guess_id_column(header, id_column)
    usable, skipped = choose_schemes(rulebook, schemes, list(header.columns))
    name_column = next((c for c in NAME_COLUMNS if c in header.columns), None)
    domain_name = domain_column(header.columns)
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix, names = f".{fmt}", FileNames()
    entries: list[IndexEntry] = []
    rejects: list[pd.DataFrame] = []
    rows_in = 0
    # One descriptor of the output folder for the run: each plan's names resolve from it, not from /.
    folder_fd = os.open(out_dir, os.O_RDONLY) if os.open in os.supports_dir_fd else None
    try:
        for chunk in itertools.chain([first], chunks):
            table = apply_aliases(chunk.table, aliased)
            prepared = prepare(table, usable, id_name, lang)
            rejects += [frame for frame in (chunk.unreadable, prepared.rejects) if len(frame)]
            records = {scheme.id: prepared.records(scheme) for scheme in usable}
            # Which rules match, for the whole chunk at once (the vectorized backend's masks).
            hits = {scheme.id: [[i for i, hit in enumerate(row) if hit] for row in
                                evaluate_frame(scheme, prepared.frame(scheme), len(prepared)).rule_masks.T.tolist()]
                    for scheme in usable}
            names_, domains = (table[c].loc[prepared.rows].tolist() if c else [None] * len(prepared)
                               for c in (name_column, domain_name))
            for i, (customer_id, row, name, domain) in enumerate(zip(prepared.ids.tolist(), prepared.rows.tolist(),
                                                                      names_, domains, strict=True)):
                plan = build_plan(usable, {sid: found[i] for sid, found in records.items()}, customer_id, name or "",
                                  as_of, catalog, domain, {sid: found[i] for sid, found in hits.items()})
                file_name = names.take(customer_id, row) + suffix
                write_file(out_dir / file_name, render_plan(plan, fmt, folder, catalog), folder_fd)
                entries.append(IndexEntry(customer_id, name or "", file_name, plan.main_segments))
            rows_in += len(table) + len(chunk.unreadable)
            if progress:
                progress(rows_in)
    finally:
        if folder_fd is not None:
            os.close(folder_fd)
    index_fmt: Format = "md" if fmt == "md" else "html"
    index = out_dir / f"{INDEX_STEM}.{index_fmt}"
    write_file(index, render_template(folder, f"index.{index_fmt}.j2", index_fmt, catalog, entries=entries,
                                      as_of=as_of))
    rejected = pd.concat(rejects, ignore_index=True).sort_values("row", kind="stable") if rejects else empty_rejects()
    rejects_path = out_dir / f"{input_path.stem}.rejects.csv"
    atomic_write(rejects_path, lambda tmp: rejected.to_csv(tmp, index=False, encoding="utf-8-sig"))
    return PlanRun(len(entries), rows_in, len(rejected), index, rejects_path, skipped, used_encoding)
