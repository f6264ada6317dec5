"""Freed heap memory goes back to the OS (``wifimon.memory``).

The daemon calls ``release_free_memory`` after every round and the
Prometheus renderer after every render: glibc otherwise keeps the pages
big transient buffers freed, and the daemon's RSS stays at its peak.
"""

from __future__ import annotations

import re
from pathlib import Path

from wifimon.memory import release_free_memory


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
