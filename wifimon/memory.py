"""Give freed heap memory back to the operating system.

CPython hands big and short-lived buffers (a rendered exposition, the JSON
of the state file, a poll's decoded replies) to the C allocator. glibc keeps
what they freed inside its heaps and per-thread arenas, so the resident
size grows to the sum of every thread's biggest moment and stays there
(measured: a 10,000-AP fleet held ~585 MB of RSS for ~250 MB of live
objects). ``malloc_trim(0)`` returns the free pages, all arenas included;
it takes milliseconds and runs with the GIL released. Elsewhere than glibc
it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from collections.abc import Callable

log = logging.getLogger("wifimon.memory")


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
