"""The rulebook a change is measured against (`--base`): a rules folder, or the same rules folder
as a git revision holds it. A revision is read with `git ls-tree` and `git show`, never by checking
it out, so the working tree and the index stay as they are."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from engine.errors import Say, UsageError
from engine.rules.loader import load_rulebook
from engine.rules.model import Rulebook

REGULAR_BLOBS = ("100644", "100755")  # links (120000) and submodules are never read


def load_base(base: str, rules_dir: Path) -> tuple[Rulebook, str]:
    """(rulebook, how to name it): `base` is a folder if one exists by that name, else a git
    revision of `rules_dir` (the folder of the rules being changed)."""
    if Path(base).is_dir():
        return load_rulebook(Path(base)), base
    return rulebook_at(base, rules_dir), f"{base}:{_relative(rules_dir)[1] or '.'}"


def rulebook_at(revision: str, rules_dir: Path) -> Rulebook:
    """The rulebook of `rules_dir` as commit `revision` has it; its files are copied into a
    temporary folder just long enough to load them."""
    if not revision or revision.startswith("-"):  # git would read it as an option
        raise UsageError(_not_a_revision(revision))
    top, relative = _relative(rules_dir)
    commit = _git(top, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}", missing=_not_a_revision(revision))
    prefix = f"{relative}/" if relative else ""
    listing = _git(top, "ls-tree", "-z", commit.strip(), "--", prefix or ".")
    folder = Path(tempfile.mkdtemp(prefix="kece-base-"))
    try:
        found = 0
        for entry in filter(None, listing.split("\0")):
            meta, _, path = entry.partition("\t")
            mode, kind, _sha = meta.split()
            name = path[len(prefix):]
            if kind != "blob" or mode not in REGULAR_BLOBS or "/" in name:
                continue
            if name.endswith((".yaml", ".yml")):
                (folder / name).write_bytes(_git_bytes(top, "show", f"{commit.strip()}:{path}"))
                found += 1
        if not found:
            raise UsageError(Say(f"revision {revision} has no rule files in {relative or '.'}",
                                 f"版本 {revision} 的 {relative or '.'} 中没有规则文件"))
        return load_rulebook(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _relative(rules_dir: Path) -> tuple[Path, str]:
    """(repository root, the rules folder relative to it, '' for the root itself)."""
    here = rules_dir.resolve()
    top = Path(_git(here, "rev-parse", "--show-toplevel", missing=Say(
        f"{rules_dir} is not inside a git repository: give --base a folder of rule files",
        f"{rules_dir} 不在 git 仓库中:请给 --base 一个规则文件夹")).strip()).resolve()
    relative = here.relative_to(top).as_posix()
    return top, "" if relative == "." else relative


def _not_a_revision(revision: str) -> Say:
    return Say(f"--base {revision!r} is neither a folder nor a git revision (a commit, branch or tag such as HEAD~1)",
               f"--base “{revision}”既不是文件夹,也不是 git 版本(提交、分支或标签,例如 HEAD~1)")


def _git(cwd: Path, *args: str, missing: Say | None = None) -> str:
    return _git_bytes(cwd, *args, missing=missing).decode("utf-8", errors="surrogateescape")


def _git_bytes(cwd: Path, *args: str, missing: Say | None = None) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False, timeout=60)
    except FileNotFoundError:
        raise UsageError(Say("git is not installed: give --base a folder of rule files",
                             "没有安装 git:请给 --base 一个规则文件夹")) from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise UsageError(missing or Say(f"git {args[0]} failed: {detail[-1] if detail else done.returncode}",
                                        f"git {args[0]} 失败:{detail[-1] if detail else done.returncode}"))
    return done.stdout
