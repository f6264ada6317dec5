"""Durable small files for the InfluxDB exporter's state under ``state_dir``.

A crash or power loss must leave the old or the new content, never half of
it: write a temp file in the same folder, fsync it, rename it over the
target, fsync the folder (the rename is durable only once its directory
entry is on disk).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``; raises OSError, leaving the old file intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    fsync_directory(path.parent)


def remove_stale_temp_files(directory: Path) -> None:
    """Temp files a crash left mid-write; the files they were for are intact."""
    for stale in directory.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()
