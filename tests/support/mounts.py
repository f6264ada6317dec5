"""Small real file systems for disk-full and read-only tests (needs root).

Tests run as root, which chmod cannot stop, so a full or read-only
``state_dir`` is made for real: a tmpfs of a few hundred KiB mounted on a
folder of the test (filled up with ``fill``), remounted read-only and back
with ``set_read_only``. The kernel then returns the real ENOSPC and EROFS.
Every mount is unmounted when the context exits.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

FILLER = "filler.bin"


def _run(*args: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr}")


@contextlib.contextmanager
def tmpfs(mount_point: Path, size_kib: int) -> Iterator[Path]:
    """A tmpfs of ``size_kib`` KiB on ``mount_point`` (created if needed)."""
    mount_point.mkdir(parents=True, exist_ok=True)
    _run("mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0755", "tmpfs", str(mount_point))
    try:
        yield mount_point
    finally:
        # Lazy: a daemon killed by a failed test may still hold files open.
        _run("umount", "-l", str(mount_point))


def fill(mount_point: Path) -> Path:
    """Write a filler file until the file system is full; its path."""
    filler = mount_point / FILLER
    chunk = b"\0" * 4096
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for _ in range(1 << 20):  # bounded: 4 GiB, far more than any test tmpfs
            try:
                if os.write(fd, chunk) < len(chunk):
                    break
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
                break
    finally:
        os.close(fd)
    return filler


def free(filler: Path) -> None:
    filler.unlink()


def set_read_only(mount_point: Path, read_only: bool) -> None:
    """Remount read-only or back. The kernel refuses (EBUSY) while a file is
    open for writing there, e.g. a spool segment or a save in progress: a
    save takes milliseconds, so a few tries are enough."""
    args = ("mount", "-o", f"remount,{'ro' if read_only else 'rw'}", str(mount_point))
    for _ in range(50):
        if subprocess.run(args, capture_output=True, check=False).returncode == 0:
            return
        time.sleep(0.05)
    _run(*args)
