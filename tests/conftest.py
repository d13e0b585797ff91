from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

# Stable rich output: fixed width, no colour codes, whatever terminal runs the tests.
os.environ["COLUMNS"] = "120"
os.environ["NO_COLOR"] = "1"
os.environ["TERM"] = "dumb"
os.environ.pop("KECE_LANG", None)

REPO = Path(__file__).resolve().parent.parent
SOURCE_MATERIAL = REPO.parent / "shared" / "source-material"


@pytest.fixture
def rules_dir(tmp_path: Path):
    """Write rule files into a fresh folder: rules_dir({'a.yaml': '...'}) -> folder."""

    def write(files: dict[str, str]) -> Path:
        folder = tmp_path / "rules"
        folder.mkdir(exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return folder

    return write


BANK = """
id: bank_tier
title: {zh: 银行客户等级, en: Bank customer grade}
hit_policy: first
inputs:
  assets:       {type: number, title: {zh: 资产规模, en: Assets}, unit: CNY}
  credit_score: {type: integer, title: {zh: 信用评分, en: Credit score}}
  statements:   {type: enum, values: [complete, partial, none]}
rules:
  - id: A
    label: {zh: A类客户, en: Grade A}
    when: {assets: ">= 5000000", credit_score: ">= 750", statements: complete}
  - id: B
    label: {zh: B类客户, en: Grade B}
    when: {assets: "[1000000..5000000)", statements: [complete, partial]}
  - id: D
    label: {zh: D类客户, en: Grade D}
    when: {}
examples:
  - given: {assets: 5000000, credit_score: 750, statements: complete}
    expect: A
  - given: {assets: 4999999.99, credit_score: 800, statements: partial}
    expect: B
""".lstrip()


@pytest.fixture
def bank_rules(rules_dir) -> Path:
    """A folder with the small bank_tier pack above (BANK)."""
    return rules_dir({"bank_tier.yaml": BANK})


def spark_unavailable() -> str | None:
    """Why the Spark tests cannot run here (no pyspark, no Java 17+), or None when they can."""
    import importlib.util

    if importlib.util.find_spec("pyspark") is None:
        return "Spark tests skipped: pyspark is not installed (pip install -e '.[spark]'; .ci/run installs it)"
    from engine.spark.session import JAVA_MIN, find_java, java_version

    java = find_java()
    version = java_version(java) if java else None
    if version is None or version < JAVA_MIN:
        return f"Spark tests skipped: no Java {JAVA_MIN}+ (apt-get install openjdk-17-jre-headless)"
    return None
