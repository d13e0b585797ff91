"""A plain (non-editable) install carries the engine, the CLI and the bundled rules and playbooks."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO


def test_wheel_contains_cli_engine_and_bundled_packs(tmp_path: Path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path), str(REPO)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("kece-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "cli.py" in names and "engine/rules/loader.py" in names
    bundled = {name for name in names if name.startswith("engine/_bundled/rules/")}
    expected = {f"engine/_bundled/rules/{p.name}" for p in (REPO / "rules").glob("*.yaml")}
    assert expected and expected <= bundled
    assert "engine/_bundled/samples/customers.csv" in names  # for kece init from an installed kece
    assert "engine/analysis/templates/report.html" in names
    assert not any(name.startswith(("tests/", "bench/")) for name in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "kece = cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
