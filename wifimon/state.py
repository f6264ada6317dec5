"""What survives a daemon restart: known APs and counter state, in ``state_dir``.

METRICS.md keeps ``wifimon_ap_up`` at 0 for every AP ever seen on a
controller, and ``wifimon_ap_last_seen_timestamp_seconds`` across restarts;
counters continue without a false reset. Both need this file.

The file is ``<state_dir>/state.json``, written atomically (temp file in the
same directory, fsync, rename, fsync of the directory), so a crash or power
loss leaves the old or the new file, never half of one. Neither a bad file
nor a full disk stops the daemon: monitoring matters more than its memory.
A failed save is counted by reason (``full``, ``read_only``, ``other``) and
logged once per run of failures; a corrupt file is moved aside, logged once
and counted, and the daemon starts with empty state.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("wifimon.state")

STATE_FILE = "state.json"
FORMAT_VERSION = 1
_TEMP_PREFIX = f".{STATE_FILE}."
_TEMP_SUFFIX = ".tmp"

# Closed label sets of wifimon_state_write_errors_total{reason} and
# wifimon_state_load_errors_total{reason}.
WRITE_ERROR_REASONS = ("full", "read_only", "other")
LOAD_ERROR_REASONS = ("corrupt", "unreadable")
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_READ_ONLY = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def write_error_reason(error: BaseException) -> str:
    """``full`` (ENOSPC, quota), ``read_only`` (EROFS, permissions) or ``other``."""
    code = error.errno if isinstance(error, OSError) else None
    if code in _FULL:
        return "full"
    if code in _READ_ONLY:
        return "read_only"
    return "other"


@dataclass(slots=True)
class PersistedState:
    """What the daemon remembers; empty when nothing was saved.

    ``known_aps``: AP id → plain fields, ``last_seen`` (Unix time in seconds,
    e.g. ``1717171717.5``) plus strings such as ``site``, ``district``,
    ``name``, ``controller``, ``mac``, e.g. ``{"last_seen": 1717171717.5,
    "site": "old-town", "mac": "00:11:22:33:44:55"}``.
    ``counters``: opaque to this module, e.g. ``CounterReconciler.export_state()``.
    """

    known_aps: dict[str, dict[str, object]] = field(default_factory=dict)
    counters: dict[str, object] = field(default_factory=dict)


def _known_ap_from_json(entry: object) -> dict[str, object] | None:
    """An AP entry with a numeric ``last_seen`` and its string fields, else None."""
    if not isinstance(entry, dict):
        return None
    last_seen = entry.get("last_seen")
    if not isinstance(last_seen, int | float) or isinstance(last_seen, bool):
        return None
    # 1e999 parses as infinity, which the next save could not write back.
    if not math.isfinite(last_seen):
        return None
    fields: dict[str, object] = {k: v for k, v in entry.items() if isinstance(v, str)}
    fields["last_seen"] = float(last_seen)
    return fields


def encode(state: PersistedState) -> bytes:
    """The file's bytes: ``{"version": 1, "known_aps": {...}, "counters": {...}}``."""
    document = {"version": FORMAT_VERSION, "known_aps": state.known_aps, "counters": state.counters}
    return dumps_sliced(document).encode("utf-8")


# json.dumps holds the GIL from the first byte to the last: for the state of
# 10,000 APs that was 0.3 s in which no scrape was answered and the event
# loop stood still. Big mappings are encoded this many entries at a time.
_SLICE = 2_000


def dumps_sliced(value: object) -> str:
    """``json.dumps(value, allow_nan=False, sort_keys=True)``, the same text,
    but a mapping of more than _SLICE entries is encoded a slice at a time,
    so other threads run in between. NaN is not JSON (the file would be
    unreadable): ValueError, as json.dumps says."""
    if not isinstance(value, dict) or not all(type(key) is str for key in value):
        return json.dumps(value, allow_nan=False, sort_keys=True)
    items = sorted(value.items(), key=lambda item: item[0])
    if len(items) <= _SLICE:
        pairs = (f"{json.dumps(key)}: {dumps_sliced(item)}" for key, item in items)
        return "{" + ", ".join(pairs) + "}"
    slices = (
        json.dumps(dict(items[start : start + _SLICE]), allow_nan=False, sort_keys=True)[1:-1]
        for start in range(0, len(items), _SLICE)
    )
    return "{" + ", ".join(slices) + "}"


def decode(raw: bytes) -> PersistedState:
    """Parse the file; raises ValueError unless it is a version-1 state (also
    for nesting too deep to parse).

    AP entries without a numeric ``last_seen`` are skipped (and logged), and
    fields other than ``last_seen`` that are not strings are dropped.
    """
    try:
        document = json.loads(raw)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
        raise ValueError("not a wifimon state file of version 1")
    aps, counters = document.get("known_aps", {}), document.get("counters", {})
    if not isinstance(aps, dict) or not isinstance(counters, dict):
        raise ValueError("known_aps and counters must be objects")
    known = {ap_id: _known_ap_from_json(entry) for ap_id, entry in aps.items()}
    valid = {ap_id: entry for ap_id, entry in known.items() if entry is not None}
    if len(valid) < len(known):
        log.warning("skipped %d known APs without a numeric last_seen", len(known) - len(valid))
    return PersistedState(valid, counters)


class StateStore:
    """Loads and saves ``PersistedState`` in ``state_dir``; never raises on I/O.

    ``write_errors_by_reason`` counts failed saves by reason, e.g.
    ``{"full": 3, "read_only": 0, "other": 0}``; only the first failure of a
    run of failures is logged, not one per poll, and so is the recovery.
    ``load_errors_by_reason`` counts state files that could not be used,
    e.g. ``{"corrupt": 1, "unreadable": 0}``.
    """

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / STATE_FILE
        self.write_errors_by_reason = dict.fromkeys(WRITE_ERROR_REASONS, 0)
        self.load_errors_by_reason = dict.fromkeys(LOAD_ERROR_REASONS, 0)
        self._failing = False

    @property
    def write_errors(self) -> int:
        """Failed saves of every reason."""
        return sum(self.write_errors_by_reason.values())

    def load(self) -> PersistedState:
        """The saved state; empty if there is none or it is unreadable."""
        self._remove_stale_temp_files()
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return PersistedState()
        except OSError as error:
            self.load_errors_by_reason["unreadable"] += 1
            log.error("cannot read %s, starting with empty state: %s", self.path, error)
            return PersistedState()
        try:
            return decode(raw)
        except (ValueError, UnicodeDecodeError) as error:
            self.load_errors_by_reason["corrupt"] += 1
            self._set_aside(error)
            return PersistedState()

    def save(self, state: PersistedState) -> bool:
        """Write ``state`` atomically; True on success. Failures are counted, not raised."""
        try:
            self._write_atomically(encode(state))
        except (OSError, ValueError, TypeError) as error:
            reason = write_error_reason(error)
            self.write_errors_by_reason[reason] += 1
            if not self._failing:
                log.error(
                    "cannot save state to %s (%s: %s); polling goes on, will keep trying",
                    self.path,
                    reason,
                    error,
                )
            self._failing = True
            return False
        if self._failing:
            log.info("saving state to %s works again", self.path)
        self._failing = False
        return True

    def _write_atomically(self, data: bytes) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(
            dir=self.state_dir, prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX
        )
        try:
            with os.fdopen(fd, "wb") as temp:
                temp.write(data)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise
        self._fsync_directory()

    def _fsync_directory(self) -> None:
        # The rename is durable only once the directory entry is on disk.
        fd = os.open(self.state_dir, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _set_aside(self, error: Exception) -> None:
        """Keep a corrupt file for inspection, out of the way of the next save."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        aside = self.path.with_name(f"{STATE_FILE}.corrupt-{stamp}")
        for number in range(1, 1000):  # never overwrite an earlier copy
            if not aside.exists():
                break
            aside = self.path.with_name(f"{STATE_FILE}.corrupt-{stamp}-{number}")
        try:
            os.replace(self.path, aside)
        except OSError as rename_error:
            log.error("%s is corrupt (%s) and cannot be moved: %s", self.path, error, rename_error)
            return
        log.error("%s is corrupt (%s); moved to %s, starting empty", self.path, error, aside)

    def _remove_stale_temp_files(self) -> None:
        """Temp files left by a crash mid-save; the real file is intact."""
        for stale in self.state_dir.glob(f"{_TEMP_PREFIX}*{_TEMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                stale.unlink()
