"""Memory of a long-running daemon: freed pages back to the OS, and a
garbage collector tuned for millions of long-lived objects.

CPython hands big and short-lived buffers (a rendered exposition, the JSON
of the state file, a poll's decoded replies) to the C allocator. glibc keeps
what they freed inside its heaps and per-thread arenas, so the resident
size grows to the sum of every thread's biggest moment and stays there
(measured: a 10,000-AP fleet held ~585 MB of RSS for ~250 MB of live
objects). ``malloc_trim(0)`` returns the free pages, all arenas included;
it takes milliseconds and runs with the GIL released. Elsewhere than glibc
it does nothing.

A city's daemon holds millions of long-lived objects (inventory, profiles,
the current snapshot, counter state) and makes about as many short-lived
ones per round. With CPython's default thresholds (700, 10, 10) a full
collection, which walks them all (~0.35 s at 10,000 APs), ran about five
times a round: 9.2 s of collection over 4 rounds in bench/memory.py, 2.0 s
with GC_THRESHOLDS. Our data has few reference cycles, so collecting
young objects less often costs little memory.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Callable


def _find_malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_malloc_trim = _find_malloc_trim()


def release_free_memory() -> bool:
    """Return the C allocator's free pages to the OS; False when it cannot."""
    if _malloc_trim is None:
        return False
    _malloc_trim(0)
    return True


GC_THRESHOLDS = (50_000, 20, 10)


def tune_garbage_collector() -> None:
    """Once the configuration and state are loaded: keep what exists now out
    of every later collection (``gc.freeze``), and collect less often."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
