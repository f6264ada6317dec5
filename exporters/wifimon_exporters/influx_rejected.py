"""Batches the InfluxDB server refused for good, parked on disk for the operator.

A 400 (malformed line protocol) or 422 (a field type conflict, InfluxDB 2)
will be answered the same way however often the batch is sent, so it is not
retried: its exact lines go to ``<folder>/<UTC time>-<n>.lp`` (written
atomically: temp file, fsync, rename) and the exporter moves on. The folder
is bounded: past ``max_files`` files or ``max_bytes`` bytes the oldest files
are removed (the newest is always kept) and their points counted.
Not thread-safe: each channel's writer thread owns its own store and folder.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from wifimon_exporters.influx_files import remove_stale_temp_files, write_atomically

SUFFIX = ".lp"
MAX_REJECTED_FILES = 1000
MAX_REJECTED_BYTES = 64 << 20


def _number(path: Path) -> int | None:
    """``n`` of ``<timestamp>-<n>.lp``; None for a file that is not ours."""
    _, _, number = path.stem.rpartition("-")
    return int(number) if number.isdigit() else None


class RejectedStore:
    """``park`` writes one batch; ``pruned_points`` counts what the bound removed."""

    def __init__(
        self,
        directory: Path,
        *,
        max_files: int = MAX_REJECTED_FILES,
        max_bytes: int = MAX_REJECTED_BYTES,
    ) -> None:
        self.directory = directory
        self.max_files, self.max_bytes = max_files, max_bytes
        self._next: int | None = None  # found on first use: most daemons never need it

    def files(self) -> list[Path]:
        """Parked files, oldest first."""
        if not self.directory.is_dir():
            return []
        numbered = [
            (number, path)
            for path in self.directory.glob(f"*{SUFFIX}")
            if (number := _number(path)) is not None
        ]
        return [path for _, path in sorted(numbered)]

    def park(self, body: bytes, now: float | None = None) -> tuple[Path, int]:
        """Write ``body`` (lines joined by newlines) as a new file; raises OSError.

        Returns the file and the points its bound then removed from older files."""
        if self._next is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            remove_stale_temp_files(self.directory)
            self._next = max((_number(path) or 0 for path in self.files()), default=0) + 1
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
        path = self.directory / f"{stamp}-{self._next:06d}{SUFFIX}"
        self._next += 1
        write_atomically(path, body if body.endswith(b"\n") else body + b"\n")
        return path, self._prune()

    def _prune(self) -> int:
        files = self.files()
        sizes = {path: path.stat().st_size for path in files}
        total = sum(sizes.values())
        pruned = 0
        while len(files) > 1 and (len(files) > self.max_files or total > self.max_bytes):
            oldest = files.pop(0)
            with contextlib.suppress(OSError):
                points = oldest.read_bytes().count(b"\n")
                oldest.unlink()
                pruned += points
            total -= sizes[oldest]
        return pruned
