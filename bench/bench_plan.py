"""Benchmark: `kece plan --all` writing Markdown plans, against bare Jinja rendering the same template
with the same data, measured in one run.

    python bench/bench_plan.py [--plans 100000] [--dir FOLDER]

Targets (issues 4 and 12), on the three design-card packs, with an arbitration policy (conflicts, contact
caps, ranking by intent and customer value: BENCH_POLICY below) and the task exports (tasks.csv, tasks.ics):
  - at least 3,000 plans per second on one core, from a customer CSV to one file per customer;
  - within 2x of the time bare Jinja (a plain jinja2.Environment over the same playbook folder,
    same filters and options) takes to render the same plans, so the rest (reading, typing,
    evaluating, composing, the sandbox, writing files) costs at most as much as the rendering.
The files go to a RAM file system (/dev/shm) unless --dir names another folder: creating a file on this
machine's disk costs the kernel anywhere from 40 to 1,000 µs of the process's CPU time from one minute to
the next, which would measure the disk rather than kece. The last line prints what writing the same files
with bare os.open/os.write costs in the folder used, for comparison.
The plans bare Jinja renders are built beforehand, chunk by chunk, outside its timer; a sample of
its renderings must equal the files kece wrote. kece's sandbox compiles the same template files
differently (engine/plans/playbook.py: each `{% include %}` joined to one string, template choices
cached); bare Jinja uses Jinja's own compiler, as a user of plain Jinja would.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import jinja2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthetic import synthetic_table  # noqa: E402
from engine.bundled import bundled_dir  # noqa: E402
from engine.io.coerce import prepare  # noqa: E402
from engine.plans.compose import build_plan  # noqa: E402
from engine.plans.files import write_plans  # noqa: E402
from engine.plans.playbook import filters, load_catalog  # noqa: E402
from engine.rules.loader import load_rulebook  # noqa: E402

PACKS = ("bank_tier", "dealer_class", "parent_attitude")
# rules/policy.yaml names schemes beyond the card packs; this one is its part about them.
BENCH_POLICY = """
title: {zh: 基准策略, en: Bench policy}
limit: 5
conflicts:
  - {id: stop_contact_first, keep: stop_contact, drop: [grow, retain, win_back, nurture], reason: {zh: 终止, en: end}}
  - {id: win_back_before_grow, keep: win_back, drop: [grow, retain], reason: {zh: 挽回, en: win back}}
  - {id: retain_before_nurture, keep: retain, drop: [nurture], reason: {zh: 维系, en: retain}}
contact:
  touches: {max: 2, per_days: 7}
  channels: {visit: {max: 1, per_days: 30}}
ranking:
  intents: {collect_data: 1.5, win_back: 1.3, retain: 1.2, risk_control: 1.1, nurture: 0.8, service: 0.7}
  value:
    - {scheme: bank_tier, weights: {A: 2.0, B: 1.5, C: 1.0, D: 0.8}}
    - {scheme: dealer_class, weights: {A: 2.0, B: 1.5, C: 1.0}}
"""
AS_OF = dt.date(2026, 3, 2)
CHUNK = 10_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, help="where to write the plans (default: /dev/shm if it exists)")
    args = parser.parse_args()
    shm = Path("/dev/shm")
    base = args.dir if args.dir else shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    work = Path(tempfile.mkdtemp(prefix="kece-bench-plan-", dir=base))
    try:
        run(args.plans, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(count: int, work: Path) -> None:
    rules = work / "rules"
    rules.mkdir()
    for pack in (*PACKS, "actions"):  # the card packs and the actions they use, whatever else is bundled
        shutil.copy(bundled_dir("rules") / f"{pack}.yaml", rules)
    (rules / "policy.yaml").write_text(BENCH_POLICY, encoding="utf-8")
    rulebook = load_rulebook(rules)
    schemes = list(rulebook.schemes)
    folder = bundled_dir("playbooks").resolve()
    catalog = load_catalog(folder, "zh")
    table = synthetic_table(schemes, count)
    table.insert(1, "name", "客户" + table["id"].str[1:])
    source = work / "customers.csv"
    table.to_csv(source, index=False)
    out = work / "plans"

    started = time.process_time()
    result = write_plans(rulebook, source, out, fmt="md", catalog=catalog, folder=folder, as_of=AS_OF)
    ours = time.process_time() - started
    assert result.written + result.rejected == count, result

    bare_env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), undefined=jinja2.StrictUndefined,
                                  trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                                  auto_reload=False)
    bare_env.filters.update(filters("zh"))
    template = bare_env.get_template("plan.md.j2")
    bare = 0.0
    checked = 0
    prepared = prepare(table, schemes, "id")
    records = {scheme.id: prepared.records(scheme) for scheme in schemes}
    ids = prepared.ids.tolist()
    for start in range(0, len(ids), CHUNK):
        plans = [build_plan(schemes, {sid: found[i] for sid, found in records.items()}, ids[i], f"客户{ids[i][1:]}",
                            AS_OF, catalog, policy=rulebook.policy) for i in range(start, min(start + CHUNK, len(ids)))]
        tick = time.process_time()
        texts = [template.render(plan=plan, msg=catalog.namespace) for plan in plans]
        bare += time.process_time() - tick
        for plan, text in list(zip(plans, texts, strict=True))[:: CHUNK // 10]:
            assert (out / f"{plan.customer.id}.md").read_text(encoding="utf-8") == text, plan.customer.id
            checked += 1

    size = sum(p.stat().st_size for p in out.iterdir()) / 1e6
    print(f"kece plan --all, {result.written:,} Markdown plans to files and {result.tasks_written:,} tasks to "
          f"tasks.csv/tasks.ics: {ours:.2f} s = {result.written / ours:,.0f} plans/s (one core; {size:,.0f} MB "
          "written)")
    print(f"bare Jinja, same template and plans, render only: {bare:.2f} s = {result.written / bare:,.0f} plans/s")
    print(f"ratio kece / bare Jinja: {ours / bare:.2f}x (target <= 2x); throughput target >= 3,000 plans/s: "
          f"{'met' if result.written / ours >= 3000 else 'NOT met'}")
    print(f"identical text: {checked} sampled plans rendered by bare Jinja equal kece's files")
    floor = bare_writes(out, work / "bare-writes")
    print(f"files written to {work} ({filesystem(work)}); writing the same files there with bare os.write, no "
          f"kece: {floor:.2f} s = {1e6 * floor / result.written:,.0f} µs per file")


def bare_writes(plans: Path, folder: Path) -> float:
    """CPU seconds to write the bytes of every plan again, one file each, with nothing but os calls."""
    contents = [p.read_bytes() for p in plans.iterdir() if p.suffix == ".md"]
    folder.mkdir()
    started = time.process_time()
    for number, content in enumerate(contents):
        fd = os.open(folder / f"{number}.md", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        os.write(fd, content)
        os.close(fd)
    return time.process_time() - started


def filesystem(folder: Path) -> str:
    """The file system type of a folder, from /proc/mounts (Linux); 'unknown' elsewhere."""
    try:
        mounts = [line.split()[1:3] for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return "unknown"
    found = max((m for m in mounts if str(folder.resolve()).startswith(m[0].rstrip("/") + "/") or m[0] == "/"),
                key=lambda m: len(m[0]), default=None)
    return found[1] if found else "unknown"


if __name__ == "__main__":
    main()
