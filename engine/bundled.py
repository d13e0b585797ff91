"""Where the rule packs and playbooks that ship with kece live, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGED = Path(__file__).parent / "_bundled"
_CHECKOUT = Path(__file__).resolve().parent.parent


def bundled_dir(kind: str) -> Path:
    """`kind` is 'rules' or 'playbooks'. A wheel carries them inside the package; a source
    checkout (and an editable install) has them at the top of the repository."""
    packaged = _PACKAGED / kind
    return packaged if packaged.is_dir() else _CHECKOUT / kind


def default_rules_dir(cwd: Path | None = None) -> tuple[Path, bool]:
    """(folder, is_bundled): ./rules when the working folder has one, else the bundled packs."""
    local = (cwd or Path.cwd()) / "rules"
    if local.is_dir() and local.resolve() != bundled_dir("rules").resolve():
        return local, False
    return bundled_dir("rules"), True
