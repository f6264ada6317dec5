"""The state file: round trip, corrupt files, unwritable directories, atomic saves."""

from __future__ import annotations

import errno
import json
import logging
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wifimon import state as state_module
from wifimon.counters import CounterReconciler
from wifimon.state import STATE_FILE, PersistedState, StateStore, dumps_sliced

OLD = PersistedState({"old": {"last_seen": 1.0}})


def example_state() -> PersistedState:
    counters = CounterReconciler()
    counters.observe(("ap-1", "rx"), 4_294_967_000, 32, 100.0, 60.0)
    museum: dict[str, object] = {
        "last_seen": 1_717_171_717.5,
        "site": "old-town",
        "district": "Centre",
        "name": "AP-Museum-1",
        "controller": "wlc-centre",
        "mac": "00:11:22:33:44:55",
        "note": 'quote " and ünïcode',
    }
    return PersistedState({"ap-1": museum, "ap-2": {"last_seen": 0.0}}, counters.export_state())


def state_logs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "wifimon.state"]


def temp_files(directory: Path) -> list[Path]:
    return [path for path in directory.iterdir() if path.name.endswith(".tmp")]


def test_saved_state_loads_back_equal(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    assert store.save(example_state()) is True
    assert StateStore(tmp_path).load() == example_state()
    assert temp_files(tmp_path) == []


def test_loaded_counter_state_continues_the_counters(tmp_path: Path) -> None:
    StateStore(tmp_path).save(example_state())
    counters = CounterReconciler()
    counters.import_state(StateStore(tmp_path).load().counters)
    # 4_294_967_000 then 704 after a restart: a wrap, not a reset.
    assert counters.observe(("ap-1", "rx"), 704, 32, 160.0, 60.0) == 2**32 + 704


def test_a_missing_file_or_directory_is_empty_state(tmp_path: Path) -> None:
    assert StateStore(tmp_path).load() == PersistedState()
    assert StateStore(tmp_path / "not-yet").load() == PersistedState()


def test_save_creates_the_state_directory(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "var" / "lib" / "wifimon")
    assert store.save(example_state())
    assert store.load() == example_state()


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe binary",
        b'{"version": 2, "known_aps": {}}',
        b'{"version": 1, "known_aps": [], "counters": {}}',
        b"[]",
    ],
)
def test_a_corrupt_file_is_set_aside_logged_once_and_empty(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes
) -> None:
    (tmp_path / STATE_FILE).write_bytes(content)
    store = StateStore(tmp_path)
    assert store.load() == PersistedState()
    assert len(state_logs(caplog)) == 1
    (aside,) = tmp_path.glob(f"{STATE_FILE}.corrupt-*")
    assert aside.read_bytes() == content
    assert not (tmp_path / STATE_FILE).exists()
    assert store.save(example_state())  # and the next save works normally
    assert store.load() == example_state()


def test_unusable_ap_entries_and_fields_are_dropped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    document = {
        "version": 1,
        "known_aps": {
            "ap-1": {"last_seen": 5, "site": "s", "clients": 7, "tags": ["x"]},
            "ap-2": {"last_seen": "yesterday"},
            "ap-3": "not an object",
        },
        "counters": {},
    }
    (tmp_path / STATE_FILE).write_text(json.dumps(document))
    assert StateStore(tmp_path).load().known_aps == {"ap-1": {"last_seen": 5.0, "site": "s"}}
    assert "skipped 2 known APs" in caplog.text


def test_an_unwritable_directory_counts_errors_logs_once_and_never_raises(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Tests run as root, which chmod cannot stop: a directory under a regular
    # file cannot be created by anyone.
    (tmp_path / "a-file").write_text("")
    store = StateStore(tmp_path / "a-file" / "state")
    for _ in range(3):
        assert store.save(example_state()) is False
    assert store.write_errors == 3
    assert len(state_logs(caplog)) == 1


def test_a_full_disk_keeps_the_old_file_and_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="wifimon.state")
    store = StateStore(tmp_path)
    store.save(OLD)

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(os, "fsync", no_space)
        assert store.save(example_state()) is False
        assert store.save(example_state()) is False
    assert store.write_errors == 2
    assert store.load() == OLD
    assert temp_files(tmp_path) == []
    assert store.save(example_state()) is True
    assert [record.levelname for record in state_logs(caplog)] == ["ERROR", "INFO"]


@pytest.mark.parametrize("bad_value", [float("nan"), object()])
def test_state_that_is_not_json_is_a_counted_error(tmp_path: Path, bad_value: object) -> None:
    store = StateStore(tmp_path)
    assert store.save(PersistedState({"ap": {"last_seen": bad_value}})) is False
    assert store.write_errors == 1
    assert temp_files(tmp_path) == []


class Crash(BaseException):
    """The process dies: nothing after this point runs."""


def test_a_crash_between_write_and_rename_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = StateStore(tmp_path)
    store.save(OLD)
    before = (tmp_path / STATE_FILE).read_bytes()

    def crash(source: str, destination: str) -> None:
        assert Path(source).read_bytes() == state_module.encode(example_state())
        raise Crash

    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", crash)
        with pytest.raises(Crash):
            store.save(example_state())
    assert (tmp_path / STATE_FILE).read_bytes() == before
    assert StateStore(tmp_path).load() == OLD


def test_temp_files_left_by_a_killed_process_are_ignored_and_removed(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.save(example_state())
    leftover = tmp_path / f".{STATE_FILE}.k2j3h4.tmp"
    leftover.write_bytes(b'{"version": 1, "known_aps": {"half')
    assert store.load() == example_state()
    assert not leftover.exists()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=6)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, entries=st.integers(0, 5_000))
def test_the_sliced_encoding_is_json_dumps_text(value: object, entries: int) -> None:
    """Same text as one json.dumps (NaN refused the same way), also for
    mappings big enough to be encoded a slice at a time."""
    document = {"big": {f"key-{n:05d}": [n, value] for n in range(entries)}, "small": value}
    for candidate in (value, document):
        try:
            expected = json.dumps(candidate, allow_nan=False, sort_keys=True)
        except ValueError:
            with pytest.raises(ValueError, match="not JSON compliant"):
                dumps_sliced(candidate)
            continue
        assert dumps_sliced(candidate) == expected
