"""Every rule-file example in README.md and docs/rules.md loads: a business user copies them."""

from __future__ import annotations

import re

import pytest

from engine.rules.loader import load_scheme_text
from tests.conftest import REPO

EXAMPLES = [(path, match.group(1)) for path in ("README.md", "docs/rules.md")
            for match in re.finditer(r"```yaml\n(id: .*?)```", (REPO / path).read_text(encoding="utf-8"), re.S)]


def test_the_docs_have_examples():
    assert {path for path, _ in EXAMPLES} == {"README.md", "docs/rules.md"}


@pytest.mark.parametrize(("path", "text"), EXAMPLES, ids=[f"{p}:{i}" for i, (p, _) in enumerate(EXAMPLES)])
def test_a_rule_file_example_loads(path: str, text: str):
    scheme = load_scheme_text(text, f"{path} example")
    assert scheme.rules
