"""The InfluxDB spool on a real full disk (a test tmpfs), and a failed segment start.

A full disk must not cost a record that was already spooled, nor leave half
of one behind: appends fail with the kernel's ENOSPC, and once space
returns, new appends work and every record spooled before and after comes
back in order. A new segment whose directory entry cannot be made durable
must not become the tail, or later records would be indexed in the wrong file.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.mounts import fill, free, tmpfs
from wifimon_exporters import influx_spool
from wifimon_exporters.influx_spool import MIN_SEGMENT_BYTES, Spool

MIB = 1 << 20


def lines(first: int, count: int) -> list[str]:
    # Numbers that do not compress away: each record takes real space.
    return [
        f"m,t=x v={n * 7919 % 104729}i,n={n}i {1_700_000_000 + n}"
        for n in range(first, first + count)
    ]


def drain(spool: Spool) -> list[str]:
    got: list[str] = []
    while (read := spool.peek(10_000)) is not None:
        got += read.body.decode().split("\n")
        assert spool.ack(read)
    return got


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "spool", size_kib=512) as mount_point:
        yield mount_point


def spool_through_a_full_disk(directory: Path) -> tuple[Spool, list[str]]:
    """Spool 100 lines, fill the disk, try 20 more appends, free the disk,
    spool 100 more; the spool and every line it holds, in order."""
    spool = Spool(directory / "influxdb", 64 * MIB)
    spool.open()
    spool.append(lines(0, 100))
    kept = lines(0, 100)
    filler = fill(directory)
    refused: list[int | None] = []
    for first in range(100, 2100, 100):
        try:
            spool.append(lines(first, 100))
        except OSError as error:
            refused.append(error.errno)
        else:
            kept += lines(first, 100)
    assert refused
    assert set(refused) == {errno.ENOSPC}
    free(filler)
    spool.append(lines(5000, 100))
    return spool, [*kept, *lines(5000, 100)]


def test_a_full_disk_fails_appends_cleanly_and_replay_reads_exactly_what_was_kept(
    mounted: Path,
) -> None:
    spool, kept = spool_through_a_full_disk(mounted)
    assert spool.points == len(kept)
    assert drain(spool) == kept
    assert spool.corrupt_points == 0


def test_after_a_full_disk_a_restart_finds_exactly_what_was_kept(mounted: Path) -> None:
    spool, kept = spool_through_a_full_disk(mounted)
    spool.close()
    reopened = Spool(mounted / "influxdb", 64 * MIB)
    reopened.open()
    assert reopened.points == len(kept)
    assert drain(reopened) == kept
    assert reopened.corrupt_points == 0


def test_a_segment_whose_start_fails_never_becomes_the_tail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = Spool(tmp_path, MIN_SEGMENT_BYTES * 16)
    spool.open()
    spool.append(lines(0, 10))
    first_segment = spool.segments[0]
    # Fill the first segment so the next append starts a new one.
    first_segment.size = spool.segment_bytes

    def fsync_fails(directory: Path) -> None:
        raise OSError(errno.EIO, "Input/output error")

    with monkeypatch.context() as patched:
        patched.setattr(influx_spool, "fsync_directory", fsync_fails)
        with pytest.raises(OSError, match="Input/output"):
            spool.append(lines(10, 10))
    first_segment.size = (tmp_path / first_segment.path.name).stat().st_size
    spool.append(lines(20, 10))
    assert drain(spool) == lines(0, 10) + lines(20, 10)
