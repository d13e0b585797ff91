"""The layout docs/architecture.md describes: each subpackage imports only the layers below it, the
public API resolves from `engine`, and cli.py stays a file of thin commands."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import engine

REPO = Path(__file__).resolve().parent.parent
CROSS_CUTTING = {"errors", "messages", "bundled", "limits"}
# What each room may import besides the cross-cutting modules (docs/architecture.md, the __init__ docstrings).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "messages": set(),
    "bundled": set(),
    "limits": set(),
    "workspace": set(),
    "rules": set(),
    "backends": {"rules"},
    "io": {"rules"},
    "features": {"rules", "io"},
    "evaluation": {"rules", "backends", "io"},
    "analysis": {"rules", "backends", "io", "evaluation"},
    "plans": {"rules", "backends", "io", "evaluation", "analysis", "features"},
    "spark": {"rules", "backends", "io", "evaluation", "features"},
    "console": {"rules", "backends", "io", "evaluation", "analysis", "features", "plans", "workspace", "spark"},
}


def room(module: str) -> str:
    """engine.rules.loader -> rules; engine.errors -> errors."""
    return module.split(".")[1]


def engine_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("engine."):
            found.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.module == "engine":
            found.update(f"engine.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("engine."))
    return found


MODULES = sorted(p for p in (REPO / "engine").rglob("*.py") if "_bundled" not in p.parts)


@pytest.mark.parametrize("path", [p for p in MODULES if p.name != "__init__.py" or p.parent.name != "engine"],
                         ids=lambda p: str(p.relative_to(REPO)))
def test_a_module_imports_only_its_own_room_and_the_rooms_below(path: Path):
    here = path.relative_to(REPO / "engine").parts[0].removesuffix(".py")
    allowed = ALLOWED[here] | CROSS_CUTTING | {here}
    upward = sorted(m for m in engine_imports(path) if room(m) not in allowed)
    assert not upward, f"{path.relative_to(REPO)} imports a higher layer: {upward}"


def test_every_room_says_what_lives_there_and_what_it_may_import():
    for package in sorted((REPO / "engine").glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(package.read_text(encoding="utf-8")))
        assert doc and "import" in doc.lower(), f"{package.relative_to(REPO)}: say what it may import"


def test_the_public_api_resolves_from_engine():
    for name in engine.__all__:
        assert getattr(engine, name) is not None, name
    with pytest.raises(AttributeError):
        engine.no_such_name  # noqa: B018


def test_importing_engine_loads_no_subpackage():
    # `kece --help` and scripts that need one function should not pay for pandas, jinja or durable_rules.
    code = "import sys, engine; print(sorted(m for m in sys.modules if m.startswith('engine.')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert loaded.stdout.strip() == "[]"


def test_pyspark_is_imported_only_inside_functions_of_engine_spark():
    # `kece --help` and users without the spark extra never load pyspark (issue 17).
    for path in MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
        names = [alias.name for node in top if isinstance(node, ast.Import) for alias in node.names]
        names += [node.module or "" for node in top if isinstance(node, ast.ImportFrom)]
        assert not [n for n in names if n.split(".")[0] == "pyspark"], f"{path.relative_to(REPO)} imports pyspark"


def test_cli_holds_only_commands():
    tree = ast.parse((REPO / "cli.py").read_text(encoding="utf-8"))
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    helpers = [f.name for f in functions if not any(
        isinstance(d, ast.Call) and getattr(d.func, "attr", "") in ("command", "callback") for d in f.decorator_list)]
    assert helpers == ["main"], f"cli.py helpers belong in engine/console/: {helpers}"
    assert not [node for node in tree.body if isinstance(node, ast.ClassDef)]
