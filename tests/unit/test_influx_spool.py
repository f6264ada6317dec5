"""The disk spool: in order, exactly where it stopped after a restart, bounded, crash-safe."""

from __future__ import annotations

from pathlib import Path

from wifimon_exporters.influx_spool import HEAD_FILE, MIN_SEGMENT_BYTES, Spool, SpoolRead

MIB = 1 << 20


def lines(first: int, count: int) -> list[str]:
    return [f"m,t=x v={n}i {1_700_000_000 + n}" for n in range(first, first + count)]


def drain(spool: Spool, batch: int = 1000) -> list[str]:
    """Read and acknowledge everything, as a healthy server would take it."""
    got: list[str] = []
    while (read := spool.peek(batch)) is not None:
        got += read.body.decode().split("\n")
        assert spool.ack(read)
    return got


def opened(directory: Path, max_bytes: int = 64 * MIB) -> Spool:
    spool = Spool(directory, max_bytes)
    spool.open()
    return spool


def test_records_come_back_in_order_and_coalesced_up_to_the_batch_size(tmp_path: Path) -> None:
    spool = opened(tmp_path)
    for first in range(0, 50, 10):
        spool.append(lines(first, 10))
    read = spool.peek(25)
    assert read is not None
    assert (read.count, read.points) == (2, 20)  # whole records only, never above 25
    assert spool.ack(read)
    assert drain(spool) == lines(20, 30)
    assert spool.empty
    assert not list(tmp_path.iterdir()), "an emptied spool leaves no files behind"


def test_a_restart_resumes_exactly_after_the_last_acknowledged_record(tmp_path: Path) -> None:
    spool = opened(tmp_path)
    for first in range(0, 40, 10):
        spool.append(lines(first, 10))
    read = spool.peek(10)
    assert read is not None
    spool.ack(read)
    spool.close()

    again = opened(tmp_path)
    assert again.points == 30
    again.append(lines(40, 5))
    assert drain(again) == lines(10, 35)


def test_a_torn_last_record_is_cut_and_the_rest_kept(tmp_path: Path) -> None:
    spool = opened(tmp_path)
    spool.append(lines(0, 10))
    spool.append(lines(10, 10))
    spool.close()
    (segment,) = tmp_path.glob("*.seg")
    data = segment.read_bytes()
    segment.write_bytes(data[:-7])  # power lost in the middle of the second append

    again = opened(tmp_path)
    assert again.points == 10
    assert drain(again) == lines(0, 10)


def test_a_corrupt_record_is_skipped_and_counted_not_sent(tmp_path: Path) -> None:
    spool = opened(tmp_path)
    spool.append(lines(0, 10))
    spool.append(lines(10, 10))
    spool.close()
    (segment,) = tmp_path.glob("*.seg")
    data = bytearray(segment.read_bytes())
    data[30] ^= 0xFF  # a flipped bit inside the first record's payload
    segment.write_bytes(bytes(data))

    again = opened(tmp_path)
    assert drain(again) == lines(10, 10)
    assert again.corrupt_points == 10


def test_the_bound_drops_whole_oldest_segments_and_reports_their_points(tmp_path: Path) -> None:
    spool = opened(tmp_path, max_bytes=MIB)
    assert spool.segment_bytes == MIN_SEGMENT_BYTES
    dropped = appended = 0
    for first in range(0, 400_000, 2000):
        # Distinct numbers compress poorly enough to fill segments quickly.
        batch = [f"m,t=x v={n * 7919 % 1_000_003}i {n}" for n in range(first, first + 2000)]
        _, _, report = spool.append(batch)
        dropped += report.points
        appended += len(batch)
        assert spool.bytes <= MIB
    assert dropped > 0
    pending = spool.points
    assert pending + dropped == appended
    kept = drain(spool, batch=5000)
    assert len(kept) == pending
    stamps = [int(line.rsplit(" ", 1)[1]) for line in kept]
    assert stamps == list(range(appended - len(kept), appended)), "the newest survive, in order"


def test_an_acknowledgement_for_a_dropped_segment_is_refused(tmp_path: Path) -> None:
    spool = opened(tmp_path, max_bytes=MIB)
    spool.append(lines(0, 10))
    read = spool.peek(10)
    assert read is not None
    for first in range(10, 300_000, 3000):
        spool.append([f"m v={n * 7919 % 1_000_003}i {n}" for n in range(first, first + 3000)])
    assert not spool.ack(read)
    assert not spool.ack(SpoolRead(read.seq, read.offset, 1, 10, b""))


def test_a_lost_head_pointer_replays_everything_rather_than_nothing(tmp_path: Path) -> None:
    spool = opened(tmp_path)
    spool.append(lines(0, 10))
    spool.append(lines(10, 10))
    read = spool.peek(10)
    assert read is not None
    spool.ack(read)
    spool.close()
    (tmp_path / HEAD_FILE).write_text("{not json")
    assert drain(opened(tmp_path)) == lines(0, 20)
