"""The disk spool: line protocol waiting for InfluxDB, in order, across restarts.

A folder of append-only segment files ``<seq>.seg`` (seq grows forever).
Each record is one batch: a header (magic, payload length, CRC-32, points)
and the zlib-compressed lines. Every append is fsync'd before it counts as
spooled. ``head.json`` names the first record not yet accepted by the
server; it is rewritten atomically after each acknowledged replay, so a
restart resumes exactly there (a crash between a write and its
acknowledgement may send that one batch twice, which InfluxDB absorbs: the
same series, time and values overwrite themselves).

The folder may take ``max_bytes``: past that, whole segments are dropped,
oldest first, and their points counted. Segments are 1/16 of the bound, so
a drop loses at most that share. A record torn by a crash (the tail of the
last segment) is cut off at recovery; one whose CRC no longer matches is
skipped and counted when it is read. Not thread-safe: the outbox serialises
every call under its lock.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import logging
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from wifimon_exporters.influx_files import fsync_directory, write_atomically

log = logging.getLogger("wifimon.exporters.influxdb")

MAGIC = b"WSR1"
HEADER = struct.Struct(">4sIII")  # magic, payload bytes, crc32(payload), points
HEAD_FILE = "head.json"
SUFFIX = ".seg"
MIN_SEGMENT_BYTES = 64 << 10
MAX_SEGMENT_BYTES = 64 << 20
# Compression level 1: line protocol shrinks ~10x at a fraction of level 9's cost.
ZLIB_LEVEL = 1


@dataclass(slots=True)
class _Segment:
    seq: int
    path: Path
    size: int = 0
    records: list[tuple[int, int]] = field(default_factory=list)  # (offset, points)
    first: int = 0  # index of the first record not yet acknowledged

    def pending_points(self) -> int:
        return sum(points for _, points in self.records[self.first :])


@dataclass(frozen=True, slots=True)
class SpoolRead:
    """Consecutive records of one segment, ready to send as one request."""

    seq: int
    offset: int
    count: int
    points: int
    body: bytes


@dataclass(slots=True)
class DropReport:
    """What enforcing the bound removed: points and the segments they were in."""

    points: int = 0
    segments: list[int] = field(default_factory=list)


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` until all of ``data`` is written; raises OSError (e.g. ENOSPC)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.ENOSPC, "no progress writing the spool")
        view = view[written:]


def encode_record(lines: list[str]) -> bytes:
    payload = zlib.compress("\n".join(lines).encode("utf-8"), ZLIB_LEVEL)
    return HEADER.pack(MAGIC, len(payload), zlib.crc32(payload), len(lines)) + payload


class Spool:
    """Segments under ``directory``; ``points`` and ``bytes`` say what waits."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.segment_bytes = max(MIN_SEGMENT_BYTES, min(MAX_SEGMENT_BYTES, max_bytes // 16))
        self.segments: list[_Segment] = []
        self.points = 0
        self.corrupt_points = 0  # skipped records, for the caller to count
        self._tail: io.FileIO | None = None
        self._next_seq = 1

    @property
    def bytes(self) -> int:
        return sum(segment.size for segment in self.segments)

    @property
    def empty(self) -> bool:
        return self.points == 0

    # --- recovery --------------------------------------------------------

    def open(self) -> None:
        """Index what a previous run left, cutting torn tails; never raises on content."""
        self.directory.mkdir(parents=True, exist_ok=True)
        head_seq, head_offset = self._read_head()
        found = sorted(
            (int(path.stem), path)
            for path in self.directory.glob(f"*{SUFFIX}")
            if path.stem.isdigit()
        )
        self._next_seq = max([seq for seq, _ in found] + [head_seq]) + 1
        for seq, path in found:
            if seq < head_seq:
                path.unlink()  # acknowledged before a crash could delete it
                continue
            segment = self._index(seq, path)
            if seq == head_seq:
                segment.first = sum(offset < head_offset for offset, _ in segment.records)
            if segment.first < len(segment.records):
                self.segments.append(segment)
            else:
                path.unlink()
        self.points = sum(segment.pending_points() for segment in self.segments)
        if not self.segments:
            self._reset()

    def _read_head(self) -> tuple[int, int]:
        try:
            head = json.loads((self.directory / HEAD_FILE).read_bytes())
            return int(head["seq"]), int(head["offset"])
        except FileNotFoundError:
            return 0, 0
        except (OSError, ValueError, TypeError, KeyError) as error:
            # Replaying from the oldest segment may resend some points; losing
            # the pointer must not lose the data.
            log.error("spool head pointer unreadable (%s); replaying all segments", error)
            return 0, 0

    def _index(self, seq: int, path: Path) -> _Segment:
        segment = _Segment(seq, path)
        with path.open("rb") as source:
            data = source.read()
        offset = 0
        while offset + HEADER.size <= len(data):
            magic, length, _, points = HEADER.unpack_from(data, offset)
            end = offset + HEADER.size + length
            if magic != MAGIC or end > len(data):
                break
            segment.records.append((offset, points))
            offset = end
        if offset < len(data):
            log.warning("spool segment %s: cutting %d torn bytes", path.name, len(data) - offset)
            with path.open("r+b") as target:
                target.truncate(offset)
                os.fsync(target.fileno())
        segment.size = offset
        return segment

    # --- writing ---------------------------------------------------------

    def append(self, lines: list[str]) -> tuple[int, int, DropReport]:
        """Append one record (fsync'd), then enforce the bound; raises OSError.

        Returns the record's segment and offset, and what the bound dropped."""
        record = encode_record(lines)
        segment = self._tail_for(len(record))
        assert self._tail is not None
        try:
            _write_all(self._tail.fileno(), record)
            os.fsync(self._tail.fileno())
        except OSError:
            self._cut_tail(segment)
            raise
        offset = segment.size
        segment.records.append((offset, len(lines)))
        segment.size += len(record)
        self.points += len(lines)
        return segment.seq, offset, self._enforce_bound()

    def _cut_tail(self, segment: _Segment) -> None:
        """Leave no partial record behind for the next append to follow (e.g.
        half a record written when the disk filled up)."""
        assert self._tail is not None
        try:
            os.ftruncate(self._tail.fileno(), segment.size)
        except OSError:
            # The next append starts a new segment; the junk after this one's
            # last indexed record is never read, and cut at the next start.
            self._close_tail()

    def _tail_for(self, size: int) -> _Segment:
        tail = self.segments[-1] if self.segments and self._tail is not None else None
        if tail is not None and (tail.size + size <= self.segment_bytes or not tail.records):
            return tail
        self._close_tail()
        seq, self._next_seq = self._next_seq, self._next_seq + 1
        segment = _Segment(seq, self.directory / f"{seq:020d}{SUFFIX}")
        # Unbuffered: a failed write must not leave bytes in a buffer that a
        # later write or truncate would flush behind the index's back.
        opened = segment.path.open("ab", buffering=0)
        try:
            fsync_directory(self.directory)
        except OSError:
            # Not a segment yet: had it stayed the open tail, the next append
            # would go into this file but be indexed in the previous segment.
            opened.close()
            with contextlib.suppress(OSError):
                segment.path.unlink()
            raise
        self._tail = opened
        self.segments.append(segment)
        return segment

    def _enforce_bound(self) -> DropReport:
        report = DropReport()
        while self.segments and self.bytes > self.max_bytes:
            segment = self.segments.pop(0)
            if not self.segments:
                self._close_tail()
            pending = segment.pending_points()
            report.points += pending
            report.segments.append(segment.seq)
            self.points -= pending
            with contextlib.suppress(FileNotFoundError):
                segment.path.unlink()
        if not self.segments:
            self._reset()
        elif report.segments:
            self._save_head()
        return report

    # --- replaying -------------------------------------------------------

    def peek(self, max_points: int) -> SpoolRead | None:
        """The oldest records of the head segment, up to ``max_points`` (at least
        one record); records whose CRC fails are skipped and counted."""
        while self.segments:
            segment = self.segments[0]
            if segment.first >= len(segment.records):
                return None  # only the open tail remains, and it is all sent
            read = self._read(segment, max_points)
            if read is not None:
                return read
        return None

    def _read(self, segment: _Segment, max_points: int) -> SpoolRead | None:
        chosen = segment.records[segment.first : segment.first + 1]
        total = chosen[0][1]
        for record in segment.records[segment.first + 1 :]:
            total += record[1]
            if total > max_points:
                break
            chosen.append(record)
        start = chosen[0][0]
        end = self._record_end(segment, segment.first + len(chosen) - 1)
        with segment.path.open("rb") as source:
            source.seek(start)
            data = source.read(end - start)
        bodies: list[bytes] = []
        offset = 0
        for _ in chosen:
            _, length, crc, _ = HEADER.unpack_from(data, offset)
            payload = data[offset + HEADER.size : offset + HEADER.size + length]
            if zlib.crc32(payload) != crc:
                break
            bodies.append(zlib.decompress(payload))
            offset += HEADER.size + length
        if not bodies:
            self._skip_corrupt(segment)
            return None
        points = sum(points for _, points in chosen[: len(bodies)])
        return SpoolRead(segment.seq, start, len(bodies), points, b"\n".join(bodies))

    def _record_end(self, segment: _Segment, index: int) -> int:
        return segment.records[index + 1][0] if index + 1 < len(segment.records) else segment.size

    def _skip_corrupt(self, segment: _Segment) -> None:
        points = segment.records[segment.first][1]
        log.error(
            "spool segment %s: a record of %d points is corrupt, skipped", segment.path.name, points
        )
        self.corrupt_points += points
        self._advance(segment, 1, points)

    def ack(self, read: SpoolRead) -> bool:
        """Mark ``read`` as accepted by the server; False if it was dropped meanwhile."""
        if not self.segments or self.segments[0].seq != read.seq:
            return False
        segment = self.segments[0]
        if segment.records[segment.first][0] != read.offset:
            return False
        self._advance(segment, read.count, read.points)
        return True

    def _advance(self, segment: _Segment, count: int, points: int) -> None:
        segment.first += count
        self.points -= points
        if self.points == 0:
            self._remove_all()
            return
        if segment.first >= len(segment.records) and len(self.segments) > 1:
            self.segments.pop(0)
            segment.path.unlink()
        self._save_head()

    # --- bookkeeping -----------------------------------------------------

    def _save_head(self) -> None:
        if not self.segments:
            return
        head = self.segments[0]
        offset = head.records[head.first][0] if head.first < len(head.records) else head.size
        document = json.dumps({"seq": head.seq, "offset": offset}).encode()
        write_atomically(self.directory / HEAD_FILE, document)

    def _remove_all(self) -> None:
        """Everything was sent: start the next outage with an empty folder."""
        self._close_tail()
        for segment in self.segments:
            with contextlib.suppress(FileNotFoundError):
                segment.path.unlink()
        self.segments = []
        self._reset()

    def _reset(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.directory / HEAD_FILE).unlink()
        fsync_directory(self.directory)

    def _close_tail(self) -> None:
        if self._tail is not None:
            self._tail.close()
            self._tail = None

    def close(self) -> None:
        self._close_tail()
