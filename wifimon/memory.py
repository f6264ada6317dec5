"""Memory of a long-running daemon: freed pages back to the OS, and a
garbage collector tuned for millions of long-lived objects.

CPython hands big and short-lived buffers (a rendered exposition, the JSON
of the state file, a poll's decoded replies) to the C allocator. glibc keeps
what they freed inside its heaps and per-thread arenas, so the resident
size grows to the sum of every thread's biggest moment and stays there
(measured: a 10,000-AP fleet held ~585 MB of RSS for ~250 MB of live
objects). ``malloc_trim(0)`` returns the free pages, all arenas included;
it takes milliseconds and runs with the GIL released; capping the malloc
arenas at MALLOC_ARENAS keeps threads from each holding their own. Elsewhere
than glibc both do nothing.

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
import functools
import gc
import os
from collections.abc import Callable
from typing import Any, cast

# glibc's mallopt parameter for the number of malloc arenas (malloc.h).
_M_ARENA_MAX = -8
# Arenas for the whole process. glibc's default is 8 per core: every thread
# that ever allocated (renderer, scrape handlers, the state writer) keeps an
# arena of its own holding what it freed. With 2, a 10,000-AP fleet + SCG
# measured 325 MB RSS (peak 354) instead of 410-435 (peak 444-500), for
# ~10 % more CPU (bench/fleet.py --agent snmpd).
MALLOC_ARENAS = 2


@functools.cache
def _glibc_function(name: str) -> Any:
    """``name`` from the C library the process already runs on (dlopen of
    the program itself: no ``ldconfig`` run, as ``find_library`` does),
    or None where it has none (musl, macOS)."""
    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None


def _find_malloc_trim() -> Callable[[int], int] | None:
    trim = _glibc_function("malloc_trim")
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return cast(Callable[[int], int], trim)


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas (call before threads start); True when set.
    An operator's own ``MALLOC_ARENA_MAX`` wins."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    mallopt = _glibc_function("mallopt")
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, arenas))


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
