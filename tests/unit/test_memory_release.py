"""Freed heap memory goes back to the OS (``wifimon.memory``).

The daemon tunes the garbage collector once started, and calls
``release_free_memory`` after every round and the
Prometheus renderer after every render: glibc otherwise keeps the pages
big transient buffers freed, and the daemon's RSS stays at its peak.
"""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from wifimon.memory import GC_THRESHOLDS, release_free_memory, tune_garbage_collector


def rss_bytes() -> int:
    status = Path("/proc/self/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    assert match is not None
    return int(match.group(1)) * 1024


def test_pages_freed_in_the_middle_of_the_heap_are_given_back() -> None:
    # 1 KiB objects come from malloc's heap (pymalloc keeps <= 512 bytes);
    # the last one stays alive, so the heap cannot shrink from its top alone.
    chunks = [bytes(1024) + bytes([n % 256]) for n in range(100_000)]
    pinned = chunks[-1]
    del chunks[:-1]
    before = rss_bytes()
    assert release_free_memory()  # this machine runs glibc
    after = rss_bytes()
    assert before - after > 50 * 2**20, (before, after)
    assert pinned[-1] == 99_999 % 256


def test_the_collector_leaves_the_loaded_objects_alone_and_runs_less_often() -> None:
    thresholds = gc.get_threshold()
    try:
        tune_garbage_collector()
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > 1000  # at least this interpreter's modules
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_a_daemon_without_districts_or_3des_loads_neither_shapely_nor_pysnmp() -> None:
    """shapely/numpy/pyproj (~40 MB of RSS) and pysnmp (~30 MB) are imported
    on first use: a district map, a 3DES user, a v3 diagnosis."""
    probe = (
        "import sys, wifimon.cli, wifimon.daemon, wifimon_exporters.prometheus\n"
        "heavy = ('shapely', 'numpy', 'pyproj', 'pysnmp', 'pyasn1')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert run.stdout.strip() == "[]", run.stdout


@pytest.mark.parametrize(
    ("environment", "expected"), [({}, "True"), ({"MALLOC_ARENA_MAX": "4"}, "False")]
)
def test_the_malloc_arenas_are_capped_unless_the_operator_chose(
    environment: dict[str, str], expected: str
) -> None:
    """In a process of its own: the cap is process-wide."""
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | environment
    probe = "from wifimon.memory import limit_malloc_arenas\nprint(limit_malloc_arenas())"
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    )
    assert run.stdout.strip() == expected
