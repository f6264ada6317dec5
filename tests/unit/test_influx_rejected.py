"""rejected/: refused batches kept whole, written atomically, the folder bounded."""

from __future__ import annotations

from pathlib import Path

from wifimon_exporters.influx_rejected import RejectedStore


def test_each_batch_is_one_file_with_its_lines_numbered_on_across_restarts(tmp_path: Path) -> None:
    store = RejectedStore(tmp_path / "rejected")
    assert store.files() == []
    first, pruned = store.park(b"m v=1i 1\nm v=2i 2", now=0.0)
    assert pruned == 0
    assert first.name == "19700101T000000Z-000001.lp"
    assert first.read_bytes() == b"m v=1i 1\nm v=2i 2\n"
    (tmp_path / "rejected" / ".x.lp.123.tmp").write_bytes(b"half")  # a crash mid-write
    again = RejectedStore(tmp_path / "rejected")
    second, _ = again.park(b"m v=3i 3\n", now=60.0)
    assert second.name == "19700101T000100Z-000002.lp"
    assert again.files() == [first, second]
    assert not list((tmp_path / "rejected").glob(".*"))


def test_past_its_bound_the_oldest_files_go_and_their_points_are_counted(tmp_path: Path) -> None:
    store = RejectedStore(tmp_path, max_files=2, max_bytes=1 << 20)
    store.park(b"m v=1i 1\nm v=2i 2")
    store.park(b"m v=3i 3")
    _, pruned = store.park(b"m v=4i 4")
    assert pruned == 2
    assert [path.read_text() for path in store.files()] == ["m v=3i 3\n", "m v=4i 4\n"]
    tiny = RejectedStore(tmp_path / "tiny", max_bytes=10)
    tiny.park(b"m v=5i 5")
    newest, pruned = tiny.park(b"m v=6i 6 and more than ten bytes")
    assert (pruned, tiny.files()) == (1, [newest]), "the newest is always kept"
