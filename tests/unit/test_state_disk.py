"""The state file on a real full or read-only file system (a test tmpfs).

The kernel's own ENOSPC and EROFS, not simulated ones: a failed save keeps
the previous file, is counted under its reason, logged once for the whole
run of failures, and the first save after space returns logs the recovery.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.mounts import fill, free, set_read_only, tmpfs
from wifimon.state import PersistedState, StateStore, write_error_reason

OLD = PersistedState({"ap-old": {"last_seen": 1.0, "site": "old"}})
# About 40 KiB of JSON: more than a full tmpfs has left, less than an empty one.
NEW = PersistedState(
    {f"ap-{n:05d}": {"last_seen": 2.0, "site": "new-site-" * 4} for n in range(600)}
)


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "state", size_kib=256) as mount_point:
        yield mount_point


def state_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.levelname for r in caplog.records if r.name == "wifimon.state"]


def test_a_full_file_system_is_counted_as_full_and_recovers(
    mounted: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wifimon.state")
    store = StateStore(mounted)
    assert store.save(OLD)
    filler = fill(mounted)
    for _ in range(3):
        assert store.save(NEW) is False
    assert store.write_errors_by_reason == {"full": 3, "read_only": 0, "other": 0}
    assert StateStore(mounted).load() == OLD  # the previous file is intact
    assert [p.name for p in mounted.iterdir() if p.name.endswith(".tmp")] == []
    free(filler)
    assert store.save(NEW) is True
    assert StateStore(mounted).load() == NEW
    assert state_logs(caplog) == ["ERROR", "INFO"]
    assert "(full: " in caplog.text


def test_a_read_only_file_system_is_counted_as_read_only_and_recovers(
    mounted: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wifimon.state")
    store = StateStore(mounted)
    assert store.save(OLD)
    set_read_only(mounted, True)
    try:
        assert store.save(NEW) is False
        assert store.save(NEW) is False
        assert store.load() == OLD
    finally:
        set_read_only(mounted, False)
    assert store.write_errors_by_reason == {"full": 0, "read_only": 2, "other": 0}
    assert store.save(NEW) is True
    assert store.load() == NEW
    assert state_logs(caplog) == ["ERROR", "INFO"]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (OSError(errno.ENOSPC, "full"), "full"),
        (OSError(errno.EDQUOT, "quota"), "full"),
        (OSError(errno.EROFS, "ro"), "read_only"),
        (OSError(errno.EACCES, "denied"), "read_only"),
        (OSError(errno.EIO, "io"), "other"),
        (ValueError("Out of range float values are not JSON compliant"), "other"),
    ],
)
def test_write_errors_fall_into_a_closed_set_of_reasons(error: Exception, reason: str) -> None:
    assert write_error_reason(error) == reason


def test_an_unreadable_state_file_is_counted_and_the_daemon_starts_empty(tmp_path: Path) -> None:
    (tmp_path / "state.json").mkdir()  # reading a directory fails with EISDIR
    store = StateStore(tmp_path)
    assert store.load() == PersistedState()
    assert store.load_errors_by_reason == {"corrupt": 0, "unreadable": 1}


def test_a_corrupt_state_file_is_counted_and_never_overwrites_an_earlier_copy(
    tmp_path: Path,
) -> None:
    store = StateStore(tmp_path)
    for content in (b"{torn", b"\x00\x00\x00"):
        (tmp_path / "state.json").write_bytes(content)
        assert store.load() == PersistedState()
    assert store.load_errors_by_reason == {"corrupt": 2, "unreadable": 0}
    kept = sorted(path.read_bytes() for path in tmp_path.glob("state.json.corrupt-*"))
    assert kept == [b"\x00\x00\x00", b"{torn"]


@pytest.mark.parametrize(
    "content",
    [b"[" * 100_000 + b"]" * 100_000, b'{"version": 1, "known_aps": {"a": {"last_seen": 1e999}}}'],
    ids=["deeply-nested", "infinite-last-seen"],
)
def test_hostile_state_content_never_stops_the_start(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "state.json").write_bytes(content)
    store = StateStore(tmp_path)
    loaded = store.load()
    assert loaded.known_aps == {}
    assert store.save(loaded)  # and what was loaded can be saved again
