"""The temporary files of kece's atomic writes: one naming pattern for every writer (tables,
plans, task lists), and the removal of ones an interrupted run left behind.

A write goes to `.NAME.kece-TOKEN.tmp` beside NAME and is renamed into place when complete; a
failing write removes it. A run killed outright (SIGKILL, a power cut, a closed laptop) cannot, so
each later write into the folder removes such files older than an hour: long past any running
write (a streaming writer touches its file every chunk), and never a file kece did not name.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

MARK = ".kece-"
STALE_SECONDS = 3600
# mkstemp's tokens are [a-z0-9_]; ours are a process id and hex digits joined by "-".
_OURS = re.compile(r"\..+\.kece-[0-9a-z_-]+\.tmp")


def temporary_name(name: str, token: str) -> str:
    """The name of a temporary beside file `name`, for a writer that picks its own `token`."""
    return f".{name}{MARK}{token}.tmp"


def make_temporary(path: Path) -> Path:
    """A new empty temporary beside `path` (private to the user until published, as mkstemp makes it)."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}{MARK}", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(name)


def remove_stale_temporaries(folder: Path, max_age: float = STALE_SECONDS) -> int:
    """Remove kece's temporaries in `folder` last written more than `max_age` seconds ago; how many.
    Best effort: a folder that cannot be listed, or a file another run removed first, is no error."""
    removed, now = 0, time.time()
    try:
        entries = os.scandir(folder)
    except OSError:
        return 0
    with entries:
        for entry in entries:
            if not (entry.name.endswith(".tmp") and MARK in entry.name and _OURS.fullmatch(entry.name)):
                continue
            try:
                if entry.is_file(follow_symlinks=False) and \
                        now - entry.stat(follow_symlinks=False).st_mtime > max_age:
                    os.unlink(entry.path)
                    removed += 1
            except OSError:
                continue
    return removed
